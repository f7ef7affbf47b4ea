"""The session's newest views re-rank a shopper's personal list: the items close to a view move
up and say so, and close items the published list does not hold come in on their closeness."""

from __future__ import annotations

from serving.recommendations.service import _rerank
from shoplake.recommendations import ListedItem, Reason


def _items(*skus: str, reason: Reason = Reason.FOR_YOU) -> list[ListedItem]:
    return [ListedItem(sku=sku, score=1.0, reason=reason) for sku in skus]


def test_without_views_the_personal_list_keeps_its_order() -> None:
    personal = _items("a", "b", "c")
    assert _rerank(personal, []) == personal


def test_an_item_close_to_a_view_moves_up_and_names_the_view() -> None:
    near = [("v", _items("c", reason=Reason.VIEWED_WITH))]
    ranked = _rerank(_items("a", "b", "c"), near)
    assert [i.sku for i in ranked] == ["c", "a", "b"]
    assert ranked[0].reason == Reason.BECAUSE_YOU_VIEWED and ranked[0].about == "v"
    assert {i.reason for i in ranked[1:]} == {Reason.FOR_YOU}


def test_close_items_the_list_lacks_come_in_after_the_boosted_ones() -> None:
    near = [("v", _items("c", "x", reason=Reason.VIEWED_WITH))]
    ranked = _rerank(_items("a", "b", "c"), near)
    skus = [i.sku for i in ranked]
    assert skus[0] == "c" and set(skus) == {"a", "b", "c", "x"}
    newcomer = next(i for i in ranked if i.sku == "x")
    assert newcomer.reason == Reason.BECAUSE_YOU_VIEWED and newcomer.about == "v"
    assert len(skus) == len(set(skus))  # nothing twice


def test_the_newest_view_counts_most() -> None:
    near = [("new", _items("b")), ("old", _items("c"))]
    ranked = _rerank(_items("a", "b", "c"), near)
    assert [i.sku for i in ranked][:2] == ["b", "c"]
    assert [i.about for i in ranked][:2] == ["new", "old"]
