"""Search rules: run the query through the circuit breaker, shape hits and facets, and record
every search as a SearchPerformed behaviour event."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError as EsApiError
from elasticsearch import BadRequestError

from serving.behaviour_publisher import BehaviourPublisher
from serving.errors import ApiError
from serving.search.schemas import (
    Facets,
    FacetValue,
    PriceBucket,
    SearchHit,
    SearchPage,
    Suggestions,
)
from shoplake.config import Settings
from shoplake.events.behaviour import SearchPerformed
from shoplake.resilience import CircuitBreaker
from shoplake.search.adapter import ProductIndex, make_client
from shoplake.search.facets import FACETABLE_ATTRIBUTES
from shoplake.search.query import SearchParams, search_body, suggest_body

log = logging.getLogger(__name__)

SOURCE = "/serving/search"
MAX_RESULT_WINDOW = 10_000  # Elasticsearch's index.max_result_window


class SearchError(StrEnum):
    UNAVAILABLE = "SEARCH_UNAVAILABLE"
    QUERY_REJECTED = "SEARCH_QUERY_REJECTED"
    PAGE_OUT_OF_RANGE = "SEARCH_PAGE_OUT_OF_RANGE"
    UNKNOWN_ATTRIBUTE = "SEARCH_UNKNOWN_ATTRIBUTE"


@dataclass
class SearchBackend:
    """What the search routes share for the app's lifetime: the index and its breaker."""

    index: ProductIndex
    breaker: CircuitBreaker

    @classmethod
    def from_settings(cls, settings: Settings) -> SearchBackend:
        client = make_client(settings)
        return cls(
            ProductIndex(client, settings.search_alias),
            CircuitBreaker(
                failures_to_open=settings.search_breaker_failures,
                cooldown_s=settings.search_breaker_open_s,
                name="search",
            ),
        )

    def close(self) -> None:
        self.index.client.close()


def _unavailable(details: str) -> ApiError:
    return ApiError(
        503,
        SearchError.UNAVAILABLE,
        "search is unavailable right now; try again shortly",
        details=details,
        headers={"Retry-After": "5"},
    )


def _run(backend: SearchBackend, body: dict[str, Any]) -> dict[str, Any]:
    if not backend.breaker.allow():
        raise _unavailable("circuit open")
    try:
        answer = backend.index.search(body)
    except BadRequestError as exc:
        backend.breaker.record_success()  # Elasticsearch answered: it is up
        log.warning("search: Elasticsearch rejected a query: %s", exc.message)
        raise ApiError(422, SearchError.QUERY_REJECTED, "the search could not be run") from exc
    except (TransportError, EsApiError) as exc:
        backend.breaker.record_failure()
        log.warning("search: Elasticsearch failed: %s", type(exc).__name__)
        raise _unavailable(type(exc).__name__) from exc
    backend.breaker.record_success()
    return answer


def check_attributes(names: list[str]) -> None:
    unknown = sorted(set(names) - set(FACETABLE_ATTRIBUTES))
    if unknown:
        raise ApiError(
            422,
            SearchError.UNKNOWN_ATTRIBUTE,
            "only facetable attributes can filter a search",
            details={"unknown": unknown, "facetable": list(FACETABLE_ATTRIBUTES)},
        )


def _hit(hit: dict[str, Any]) -> SearchHit:
    source = hit["_source"]
    images = source.get("image_urls") or []
    return SearchHit(
        sku=source["sku"],
        name=source["name"],
        brand=source["brand"],
        category_path=[p for p in source["category_path"].split("/") if p],
        price_cents=source["price_cents"],
        currency=source["currency"],
        in_stock=source["in_stock"],
        image_url=images[0] if images else None,
        score=hit.get("_score"),
    )


def _values(aggs: dict[str, Any], name: str) -> list[FacetValue]:
    buckets = aggs.get(name, {}).get("values", {}).get("buckets", [])
    return [FacetValue(value=str(b["key"]), count=b["doc_count"]) for b in buckets]


def _facets(aggs: dict[str, Any]) -> Facets:
    price = [
        PriceBucket(
            key=b["key"],
            from_cents=int(b["from"]) if "from" in b else None,
            to_cents=int(b["to"]) if "to" in b else None,
            count=b["doc_count"],
        )
        for b in aggs.get("price", {}).get("values", {}).get("buckets", [])
    ]
    attributes = {
        name: values for name in FACETABLE_ATTRIBUTES if (values := _values(aggs, f"attr.{name}"))
    }
    return Facets(
        brand=_values(aggs, "brand"),
        category=_values(aggs, "category"),
        price=price,
        attributes=attributes,
    )


def search(
    backend: SearchBackend,
    publisher: BehaviourPublisher,
    params: SearchParams,
    *,
    session_id: str,
    user_id: str | None,
) -> SearchPage:
    if params.page * params.size > MAX_RESULT_WINDOW:
        raise ApiError(
            422,
            SearchError.PAGE_OUT_OF_RANGE,
            f"results past the first {MAX_RESULT_WINDOW} are not served; refine the search",
        )
    answer = _run(backend, search_body(params))
    total = int(answer["hits"]["total"]["value"])
    page = SearchPage(
        query=params.q,
        total=total,
        page=params.page,
        size=params.size,
        items=[_hit(hit) for hit in answer["hits"]["hits"]],
        facets=_facets(answer.get("aggregations", {})),
    )
    event = SearchPerformed(
        session_id=session_id,
        user_id=user_id,
        query=params.q,
        filters=params.filters(),
        result_count=total,
        zero_results=total == 0,
    )
    publisher.publish(event.to_event(SOURCE))
    return page


def suggest(backend: SearchBackend, prefix: str) -> Suggestions:
    answer = _run(backend, suggest_body(prefix))
    options = answer.get("suggest", {}).get("products", [{}])[0].get("options", [])
    seen: dict[str, str] = {}  # case-insensitive: "Trail runner" and "trail runner" are one
    for option in options:
        seen.setdefault(option["text"].lower(), option["text"])
    return Suggestions(query=prefix, suggestions=list(seen.values()))
