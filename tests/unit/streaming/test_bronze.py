"""The bronze contract check: every way a record can be wrong has its own reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shoplake.events.user import UserRegistered
from streaming.bronze import (
    NOT_CLOUDEVENT,
    NOT_JSON,
    SCHEMA_MISMATCH,
    UNKNOWN_TYPE,
    VERDICT_FIELDS,
    classify,
    classify_series,
)

TIME = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)


def _valid() -> bytes:
    data = UserRegistered(user_id="u-1", email="a@example.com", role="customer")
    return data.to_event("/tests", event_id="e-1", time=TIME).to_json()


def _envelope(**changes: object) -> bytes:
    doc = json.loads(_valid())
    doc.update(changes)
    return json.dumps(doc).encode()


def test_a_valid_event_is_accepted_with_its_envelope() -> None:
    verdict = classify(_valid())
    assert verdict.reason is None
    assert (verdict.event_id, verdict.event_type, verdict.subject) == (
        "e-1",
        "shop.user.UserRegistered.v1",
        "u-1",
    )
    assert verdict.time is not None
    assert datetime.fromisoformat(verdict.time) == TIME


def test_a_valid_event_brings_its_data_as_json_text_for_bronze() -> None:
    verdict = classify(_valid())
    assert verdict.data is not None
    assert json.loads(verdict.data) == json.loads(_valid())["data"]


def test_a_bad_record_brings_no_data() -> None:
    verdict = classify(_envelope(data={"user_id": "u-1"}))
    assert verdict.reason == SCHEMA_MISMATCH
    assert verdict.data is None


@pytest.mark.parametrize(
    ("value", "reason", "event_id"),
    [
        (None, NOT_JSON, None),
        (b"{not json", NOT_JSON, None),
        (b"\xff\xfe", NOT_JSON, None),
        (b"[1, 2]", NOT_CLOUDEVENT, None),
        (_envelope(subject=""), NOT_CLOUDEVENT, "e-1"),
        (_envelope(extra="x"), NOT_CLOUDEVENT, "e-1"),
        (_envelope(type="shop.user.UserDeleted.v1"), UNKNOWN_TYPE, "e-1"),
        (_envelope(data={"user_id": "u-1"}), SCHEMA_MISMATCH, "e-1"),
        (
            _envelope(data={"user_id": "u-1", "email": "a@b", "role": "king"}),
            SCHEMA_MISMATCH,
            "e-1",
        ),
    ],
)
def test_a_bad_record_gets_its_reason(
    value: bytes | None, reason: str, event_id: str | None
) -> None:
    verdict = classify(value)
    assert verdict.reason == reason
    assert verdict.detail
    assert verdict.event_id == event_id


def test_the_udf_body_keeps_one_row_per_record_in_order() -> None:
    import pandas as pd

    frame = classify_series(pd.Series([_valid(), b"oops", None]))
    assert list(frame["reason"]) == [None, NOT_JSON, NOT_JSON]
    assert list(frame["event_id"]) == ["e-1", None, None]
    assert list(frame.columns) == list(VERDICT_FIELDS)
    assert frame["data"][0] is not None and frame["data"][1] is None
