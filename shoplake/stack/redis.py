"""Redis from Debian's redis-server, on a data dir under the state dir."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence

import redis

from shoplake.stack.process import StackError
from shoplake.stack.service import LocalService


class RedisService(LocalService):
    name = "redis"

    @property
    def port(self) -> int:
        return self.settings.redis_port

    @property
    def endpoint(self) -> str:
        return self.settings.redis_endpoint

    def prepare(self) -> None:
        (self.home / "data").mkdir(parents=True, exist_ok=True)

    def command(self) -> tuple[Sequence[str], Mapping[str, str]]:
        server = shutil.which("redis-server")
        if server is None:
            raise StackError(
                "redis-server is not installed: run `make setup` (apt-get install redis-server)."
            )
        argv = [
            server,
            "--bind",
            self.settings.bind_host,
            "--port",
            str(self.port),
            "--dir",
            str(self.home / "data"),
            "--daemonize",
            "no",
            # Carts live only in Redis: an append-only file, fsynced every second, so a crash
            # (kill -9) loses at most the last second of writes; snapshots beside it.
            "--save",
            "300 100",
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--maxmemory-policy",
            "noeviction",
        ]
        return argv, {}

    def _client(self) -> redis.Redis:
        return redis.Redis.from_url(self.endpoint, socket_timeout=1, socket_connect_timeout=1)

    def healthy(self) -> bool:
        try:
            with self._client() as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def version(self) -> str | None:
        try:
            with self._client() as client:
                return str(client.info("server")["redis_version"])
        except redis.RedisError:
            return None
