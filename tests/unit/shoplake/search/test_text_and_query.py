"""Plural folding, synonym rewrites and the request bodies built for Elasticsearch."""

from __future__ import annotations

from shoplake.search.query import SearchParams, SearchSort, search_body, suggest_body
from shoplake.search.text import expand, fold, singular


def test_singular_folds_common_plurals_and_keeps_the_rest() -> None:
    cases = {
        "boots": "boot",
        "watches": "watch",
        "batteries": "battery",
        "glasses": "glass",
        "shoes": "shoe",
        "gps": "gps",
        "45l": "45l",
    }
    assert {word: singular(word) for word in cases} == cases


def test_fold_lowercases_tokenises_and_singularises() -> None:
    assert fold("Waterproof Hiking-Boots, 2x") == "waterproof hiking boot 2x"


def test_expand_rewrites_single_and_multi_word_synonyms() -> None:
    assert expand(fold("red sneakers")) == ["red sneaker", "red running shoe", "red trail runner"]
    assert "cast iron pan" in expand(fold("frying pan"))
    assert expand("tent") == ["tent"]


def test_facet_filters_go_to_the_post_filter_and_not_their_own_facet() -> None:
    body = search_body(
        SearchParams(q="jacket", brands=("Summit",), attributes={"color": ("navy",)})
    )
    post = body["post_filter"]["bool"]["filter"]
    assert len(post) == 2
    brand_facet = body["aggs"]["brand"]["filter"]["bool"]["filter"]
    assert brand_facet == [{"terms": {"facets.color": ["navy"]}}]
    color_facet = body["aggs"]["attr.color"]["filter"]["bool"]["filter"]
    assert len(color_facet) == 1 and "bool" in color_facet[0]  # the brand filter only
    assert body["query"]["function_score"]["query"]["bool"]["filter"] == [
        {"term": {"status": "active"}}
    ]


def test_no_query_text_matches_everything_active_and_pages() -> None:
    body = search_body(SearchParams(page=3, size=10, sort=SearchSort.PRICE_ASC, in_stock=True))
    query = body["query"]["function_score"]["query"]["bool"]
    assert "must" not in query
    assert {"term": {"in_stock": True}} in query["filter"]
    assert (body["from"], body["size"]) == (20, 10)
    assert body["sort"][0] == {"price_cents": "asc"}
    assert "post_filter" not in body


def test_filters_recorded_for_the_behaviour_event() -> None:
    params = SearchParams(q="x", category="shoes", price_max=5000, attributes={"size": ("42",)})
    assert params.filters() == {"category": "shoes", "price_max": 5000, "attr.size": ["42"]}


def test_suggest_is_fuzzy_only_from_four_characters() -> None:
    assert "fuzzy" not in suggest_body("tra")["suggest"]["products"]["completion"]
    assert "fuzzy" in suggest_body("trai")["suggest"]["products"]["completion"]
