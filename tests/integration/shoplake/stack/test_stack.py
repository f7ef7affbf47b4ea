"""`shoplake stack`: status, idempotent up, clear failures, and down that frees every port."""

from __future__ import annotations

import socket
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sandbox.payment_gateway import APP_VERSION as SANDBOX_GATEWAY_VERSION
from shoplake.config import Settings
from shoplake.stack import Stack, StackError
from shoplake.stack.process import free_port, port_is_open
from shoplake.stack.redis import RedisService
from shoplake_cli.main import app

SERVICES = (
    "postgres",
    "redis",
    "kafka",
    "elasticsearch",
    "sandbox-gateway",
    "mlflow",
    "mailpit",
    "spark-sql",
    "dashboards",
)
runner = CliRunner()


def test_status_reports_each_service_running_with_port_pid_and_version(stack: Stack) -> None:
    result = runner.invoke(app, ["stack", "status"])
    assert result.exit_code == 0, result.output
    for row in stack.status():
        assert row.state == "running", row
        assert row.pid is not None and row.version
        line = next(line for line in result.output.splitlines() if f" {row.name} " in line)
        assert "running" in line and str(row.port) in line and str(row.pid) in line
        assert row.version in line


def test_versions_are_the_pinned_ones(stack: Stack) -> None:
    versions = {row.name: row.version or "" for row in stack.status()}
    assert versions["kafka"].startswith("4.")
    assert versions["elasticsearch"].startswith("8.19")
    assert versions["postgres"].split(".")[0].isdigit()
    assert versions["redis"].split(".")[0].isdigit()
    assert versions["sandbox-gateway"] == SANDBOX_GATEWAY_VERSION
    # MLflow's row says its version and the resident memory of its process tree.
    assert versions["mlflow"].startswith("3.17.2 (") and versions["mlflow"].endswith(" MiB)")
    assert versions["mailpit"] == "v1.33.1"  # the Makefile's MAILPIT_VERSION
    assert versions["spark-sql"] == "4.2.0"  # pyspark's own Thrift server
    assert versions["dashboards"].startswith("1.")  # Streamlit


def test_up_twice_leaves_running_services_alone(stack: Stack) -> None:
    pids_before = {row.name: row.pid for row in stack.status()}
    result = runner.invoke(app, ["stack", "up"])
    assert result.exit_code == 0, result.output
    for name in SERVICES:
        assert f"✓ {name} already running" in result.output
    assert {row.name: row.pid for row in stack.status()} == pids_before


def test_logs_shows_a_service_log(stack: Stack) -> None:
    result = runner.invoke(app, ["stack", "logs", "kafka", "-n", "200"])
    assert result.exit_code == 0
    assert "kafka.log" in result.output
    bad = runner.invoke(app, ["stack", "logs", "nosuch"])
    assert bad.exit_code == 2
    assert "unknown service" in bad.output


@pytest.fixture
def scratch_settings(settings: Settings, tmp_path: Path) -> Settings:
    """A throwaway state dir and port, so failure cases never touch the shared stack."""
    return settings.model_copy(
        update={
            "state_dir": tmp_path / "state",
            "redis_port": free_port(),
            "service_start_timeout_s": 20,
        }
    )


def test_a_taken_port_is_refused_with_a_clear_message(scratch_settings: Settings) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", scratch_settings.redis_port))
        squatter.listen()
        with pytest.raises(StackError, match=rf"port {scratch_settings.redis_port} .* taken"):
            RedisService(scratch_settings).start(lambda _m: None)


class BrokenRedis(RedisService):
    """A Redis whose command line it cannot parse: it dies at once."""

    def command(self) -> tuple[Sequence[str], Mapping[str, str]]:
        argv, env = super().command()
        return [*argv, "--no-such-option", "1"], env


def test_a_service_that_dies_during_start_shows_its_last_log_lines(
    scratch_settings: Settings,
) -> None:
    service = BrokenRedis(scratch_settings)
    with pytest.raises(StackError, match="exited during start") as failure:
        service.start(lambda _m: None)
    assert "no-such-option" in str(failure.value)  # redis-server's own complaint, from the log
    assert service.pid() is None
    assert not service.pid_file.exists()


@pytest.fixture
def restart_afterwards(stack: Stack) -> Iterator[Stack]:
    yield stack
    stack.up(lambda _n, _m: None)


@pytest.mark.stack_lifecycle
def test_down_stops_everything_and_frees_the_ports(restart_afterwards: Stack) -> None:
    stack = restart_afterwards
    result = runner.invoke(app, ["stack", "down"])
    assert result.exit_code == 0, result.output
    assert all(name in result.output for name in SERVICES)
    assert stack.ports_in_use() == []
    assert all(row.state == "stopped" for row in stack.status())
    status = runner.invoke(app, ["stack", "status"])
    assert status.exit_code == 1

    again = runner.invoke(app, ["stack", "down"])
    assert "nothing was running" in again.output

    started = stack.up(lambda _n, _m: None)
    assert all(result.started for result in started)
    assert all(row.state == "running" for row in stack.status())
    assert port_is_open(stack.settings.bind_host, stack.settings.kafka_port)
