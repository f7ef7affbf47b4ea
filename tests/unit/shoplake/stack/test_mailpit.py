"""How the stack runs Mailpit: where it listens, and the flags that keep it quiet and exact."""

from __future__ import annotations

from pathlib import Path

import pytest

from shoplake.config import Settings
from shoplake.stack.mailpit import MailpitService
from shoplake.stack.process import StackError


def _service(tmp_path: Path) -> MailpitService:
    settings = Settings(
        _env_file=None, state_dir=tmp_path, mailpit_port=26525, mailpit_http_port=26580
    )
    return MailpitService(settings)


def test_it_listens_where_the_settings_say_and_keeps_everything(tmp_path: Path) -> None:
    service = _service(tmp_path)
    argv, env = service.command()
    flags = list(argv)
    assert flags[0] == str(tmp_path / "bin" / "mailpit")
    assert flags[flags.index("--smtp") + 1] == "127.0.0.1:26525"
    assert flags[flags.index("--listen") + 1] == "127.0.0.1:26580"
    assert flags[flags.index("--max") + 1] == "0"  # the default prunes to 500 every minute
    assert flags[flags.index("--database") + 1] == str(tmp_path / "mailpit" / "mailpit.db")
    for flag in ("--disable-version-check", "--smtp-disable-rdns", "--ignore-duplicate-ids"):
        assert flag in flags
    assert service.ports == [26525, 26580]
    assert env["SHOPLAKE_STATE_DIR"] == str(tmp_path)


def test_a_missing_binary_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="make mailpit"):
        _service(tmp_path).prepare()


def test_a_relay_in_the_settings_makes_mailpit_external() -> None:
    relay = Settings(_env_file=None, smtp_host="smtp.example.com", smtp_port=2525)
    assert not relay.uses_local("mailpit")
    assert relay.smtp_endpoint == ("smtp.example.com", 2525)
    assert Settings(_env_file=None).uses_local("mailpit")
