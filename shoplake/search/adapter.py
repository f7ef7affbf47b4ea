"""A thin adapter over the Elasticsearch client: one alias of versioned product indices.

Every method names the alias it works on, so tests and benchmarks use their own aliases and
never touch the real `products` one. Writes go to concrete indices: the alias's and, during a
reindex, the one being built (named by the `<alias>-building` alias).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from shoplake.config import Settings
from shoplake.search.documents import IndexedProduct
from shoplake.search.index import building_alias, index_body, new_index_name


def make_client(settings: Settings, timeout_s: float | None = None) -> Elasticsearch:
    """A client with a short timeout and no retries: callers decide what a failure means."""
    return Elasticsearch(
        settings.elasticsearch_endpoint,
        request_timeout=timeout_s if timeout_s is not None else settings.search_timeout_s,
        max_retries=0,
        retry_on_timeout=False,
    )


@dataclass(frozen=True)
class WriteResult:
    written: int
    conflicts: int  # an equal or newer version was already indexed: nothing to do
    rejected: dict[str, str]  # sku -> reason Elasticsearch gave


class ProductIndex:
    def __init__(self, client: Elasticsearch, alias: str) -> None:
        self.client = client
        self.alias = alias

    # --- indices and aliases -------------------------------------------------------------
    def indices(self, alias: str | None = None) -> list[str]:
        try:
            found = self.client.indices.get_alias(name=alias or self.alias)
        except NotFoundError:
            return []
        return sorted(found.body)

    def create_index(self, name: str | None = None) -> str:
        name = name or new_index_name(self.alias)
        self.client.indices.create(index=name, **index_body())
        return name

    def ensure(self) -> str:
        """The index behind the alias, created (with the alias) when there is none."""
        existing = self.indices()
        if existing:
            return existing[0]
        name = self.create_index()
        try:
            self.client.indices.update_aliases(
                actions=[{"add": {"index": name, "alias": self.alias}}]
            )
        except Exception:
            self.client.indices.delete(index=name, ignore_unavailable=True)
            raise
        return name

    def write_indices(self) -> list[str]:
        """Where changes go: the live index and the one being rebuilt, if any."""
        return sorted({*self.indices(), *self.indices(building_alias(self.alias))})

    def mark_building(self, index: str) -> None:
        self.client.indices.update_aliases(
            actions=[{"add": {"index": index, "alias": building_alias(self.alias)}}]
        )

    def swap(self, new_index: str) -> list[str]:
        """Point the alias at `new_index` in one atomic alias update; the indices it left."""
        old = self.indices()
        actions: list[dict[str, Any]] = [{"add": {"index": new_index, "alias": self.alias}}]
        actions += [{"remove": {"index": name, "alias": self.alias}} for name in old]
        actions.append({"remove": {"index": new_index, "alias": building_alias(self.alias)}})
        self.client.indices.update_aliases(actions=actions)
        return [name for name in old if name != new_index]

    def drop(self) -> None:
        """Delete every index behind the alias and its building alias (tests, benchmarks)."""
        for name in {*self.indices(), *self.indices(building_alias(self.alias))}:
            self.client.indices.delete(index=name, ignore_unavailable=True)

    def refresh(self, index: str | None = None) -> None:
        self.client.indices.refresh(index=index or self.alias)

    def count(self, index: str | None = None) -> int:
        return int(self.client.count(index=index or self.alias)["count"])

    # --- documents -----------------------------------------------------------------------
    def get_many(self, skus: Iterable[str]) -> dict[str, IndexedProduct]:
        ids = sorted(set(skus))
        if not ids:
            return {}
        found = self.client.mget(index=self.alias, ids=ids)
        return {
            doc["_id"]: IndexedProduct.from_document(doc["_source"])
            for doc in found["docs"]
            if doc.get("found")
        }

    def write(
        self,
        products: Iterable[IndexedProduct],
        indices: list[str],
        *,
        version_type: str = "external_gte",
        refresh: bool = False,
    ) -> WriteResult:
        """Bulk-index each product into each index, guarded by its product version.

        `external_gte` (the consumer) lets a stock change rewrite the same version;
        `external` (a reindex snapshot) never replaces what the consumer already wrote."""
        operations: list[dict[str, Any]] = []
        for product in products:
            doc = product.document()
            for index in indices:
                operations.append(
                    {
                        "index": {
                            "_index": index,
                            "_id": product.sku,
                            "version": product.version,
                            "version_type": version_type,
                        }
                    }
                )
                operations.append(doc)
        if not operations:
            return WriteResult(0, 0, {})
        answer = self.client.bulk(operations=operations, refresh=refresh)
        written = conflicts = 0
        rejected: dict[str, str] = {}
        for item in answer["items"]:
            result = item["index"]
            if result.get("status", 500) < 300:
                written += 1
            elif result.get("status") == 409:
                conflicts += 1
            else:
                error = result.get("error", {})
                rejected[result["_id"]] = f"{error.get('type')}: {error.get('reason')}"
        return WriteResult(written, conflicts, rejected)

    def search(self, body: dict[str, Any], index: str | None = None) -> dict[str, Any]:
        answer = self.client.search(index=index or self.alias, body=body)
        return dict(answer.body)

    def scan_ids(self, index: str, batch: int = 1000) -> Iterator[str]:
        """Every document id of an index (tests)."""
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {"size": batch, "sort": [{"sku": "asc"}], "_source": False}
            if after is not None:
                body["search_after"] = after
            hits = self.client.search(index=index, body=body)["hits"]["hits"]
            if not hits:
                return
            for hit in hits:
                yield hit["_id"]
            after = hits[-1]["sort"]
