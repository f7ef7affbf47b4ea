"""Shared fixtures: settings for everyone; the real stack and one Spark session for the tests
under integration/ and e2e/ (unit/ needs no service)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pyspark.sql import SparkSession

from shoplake.config import Settings, get_settings
from shoplake.stack import Stack, StackError

if TYPE_CHECKING:
    from tests.support.histories import HistoryLake

SERVICE_DIRS = ("integration", "e2e", "faults")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.path)).parts
        if any(part in SERVICE_DIRS for part in parts):
            item.add_marker(pytest.mark.integration)
        if "faults" in parts:  # the fault-injection suite kills the stack's services
            item.add_marker(pytest.mark.stack_lifecycle)
    # Tests that stop and restart the stack run last, so the others share one running stack;
    # the fault-injection suite runs after everything else.
    items.sort(
        key=lambda item: (
            item.get_closest_marker("stack_lifecycle") is not None,
            "faults" in Path(str(item.path)).parts,
        )
    )


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def stack(settings: Settings) -> Stack:
    """The local stack, started once per run, or reused when it already runs."""
    stack = Stack(settings)
    try:
        stack.up(lambda _name, _message: None)
    except StackError as exc:
        pytest.fail(f"the local stack could not be started (see `shoplake stack up`):\n{exc}")
    return stack


@pytest.fixture(scope="session")
def spark(settings: Settings, stack: Stack) -> Iterator[SparkSession]:
    from shoplake.spark import get_spark

    session = get_spark(settings, app_name="shoplake-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def history_lake(
    settings: Settings, spark: SparkSession, tmp_path_factory: pytest.TempPathFactory
) -> HistoryLake:
    """One small simulated history, landed once for the models' tests and notebooks."""
    from tests.support.histories import simulated_lake

    return simulated_lake(settings, spark, tmp_path_factory.mktemp("history-lake"))


@pytest.fixture(autouse=True)
def _stack_for_service_tests(request: pytest.FixtureRequest) -> None:
    """Tests under integration/ and e2e/ get the running stack; unit tests never wait for it."""
    if request.node.get_closest_marker("integration") is not None:
        request.getfixturevalue("stack")


@pytest.fixture
def unique() -> str:
    """A short unique suffix for the topics, indices, keys and tables one test makes."""
    return uuid.uuid4().hex[:10]
