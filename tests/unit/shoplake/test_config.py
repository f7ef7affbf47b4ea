"""Settings: env prefix, .env files, derived endpoints, secrets kept out of output."""

from __future__ import annotations

from pathlib import Path

import pytest

from shoplake.config import Settings, redact_url


def test_defaults_point_at_the_local_stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    s = Settings()
    assert s.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert s.elasticsearch_endpoint == "http://127.0.0.1:9200"
    assert s.redis_endpoint == "redis://127.0.0.1:6379/0"
    assert s.database_endpoint.startswith("postgresql+psycopg://shoplake:")
    assert s.lake_path == str(s.state_dir / "lake")
    assert s.jvm_dir == s.state_dir / "jvm"
    assert all(s.uses_local(name) for name in ("kafka", "elasticsearch", "redis", "postgres"))


def test_env_prefix_and_dotenv_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "SHOPLAKE_KAFKA_BOOTSTRAP=broker-1:9092,broker-2:9092\nSHOPLAKE_REDIS_PORT=7000\n"
    )
    monkeypatch.setenv("SHOPLAKE_REDIS_PORT", "7001")  # the environment beats .env
    monkeypatch.setenv("SHOPLAKE_LAKE_ROOT", "/data/lake")
    s = Settings()
    assert s.kafka_bootstrap_servers == "broker-1:9092,broker-2:9092"
    assert not s.uses_local("kafka")
    assert s.redis_port == 7001
    assert s.redis_endpoint == "redis://127.0.0.1:7001/0"
    assert s.lake_path == "/data/lake"


def test_database_url_setting_wins_and_stays_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPLAKE_DATABASE_URL", "postgresql+psycopg://app:s3cret@db.internal/shop")
    s = Settings()
    assert s.database_endpoint.endswith("@db.internal/shop")
    assert "s3cret" not in repr(s)
    assert not s.uses_local("postgres")


def test_redact_url_hides_only_the_password() -> None:
    assert redact_url("postgresql://u:pw@h:5432/d") == "postgresql://u:***@h:5432/d"
    assert redact_url("redis://h:6379/0") == "redis://h:6379/0"
