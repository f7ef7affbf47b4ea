"""The load generator's mix carries every event type of the contract, each valid."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from demo.loadgen import STORY_TYPES, ShopStory, example_data
from shoplake.events import REGISTRY, parse_data


def test_every_registered_type_is_in_the_mix_and_valid() -> None:
    events = list(ShopStory(seed=3).events(20_000))
    types = Counter(event.type for event in events)
    assert set(types) == set(REGISTRY), sorted(set(REGISTRY) - set(types))
    for event in events:
        assert parse_data(event).key() == event.subject


def test_the_story_tells_most_of_the_mix_and_examples_fill_the_rest() -> None:
    types = Counter(event.type for event in ShopStory(seed=3).events(20_000))
    untold = sum(n for t, n in types.items() if t not in STORY_TYPES)
    assert 0 < untold < 0.02 * sum(types.values())


@pytest.mark.parametrize("event_type", sorted(REGISTRY))
def test_an_example_of_each_type_validates_and_honours_hints(event_type: str) -> None:
    model = REGISTRY[event_type]
    data = example_data(model, random.Random(1), {model.key_field: "KEY-1"})
    assert model.model_validate(data.model_dump(mode="json")) == data
    assert data.key() == "KEY-1"


def test_the_same_seed_tells_the_same_story() -> None:
    first = [e.id for e in ShopStory(seed=9).events(2_000)]
    assert first == [e.id for e in ShopStory(seed=9).events(2_000)]
    assert first != [e.id for e in ShopStory(seed=10).events(2_000)]
