"""Elasticsearch from the integration-test zip: one node, security off, on loopback."""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx

from shoplake.stack.process import StackError
from shoplake.stack.service import LocalService, java_executable


class ElasticsearchService(LocalService):
    name = "elasticsearch"

    @property
    def port(self) -> int:
        return self.settings.elasticsearch_port

    @property
    def ports(self) -> list[int]:
        return [self.settings.elasticsearch_port, self.settings.elasticsearch_transport_port]

    @property
    def endpoint(self) -> str:
        return self.settings.elasticsearch_endpoint

    def _zip(self) -> Path:
        zips = sorted((self.settings.jvm_dir / "elasticsearch").glob("elasticsearch-*.zip"))
        if not zips:
            raise StackError(
                f"Elasticsearch zip missing in {self.settings.jvm_dir / 'elasticsearch'}: "
                "run `make jvm` (Maven copies it there)."
            )
        return zips[-1]

    @property
    def dist_dir(self) -> Path:
        return self.home / self._zip().stem

    def _config_yml(self) -> str:
        s = self.settings
        return "\n".join(
            [
                "cluster.name: shoplake",
                "node.name: shoplake-1",
                f"path.data: {self.home / 'data'}",
                f"path.logs: {self.home / 'logs'}",
                f"network.host: {s.bind_host}",
                f"http.port: {s.elasticsearch_port}",
                f"transport.port: {s.elasticsearch_transport_port}",
                "discovery.type: single-node",
                # Loopback only: no users, no TLS. A managed cluster is reached by URL instead.
                "xpack.security.enabled: false",
                "action.destructive_requires_name: false",
                "cluster.routing.allocation.disk.threshold_enabled: false",
                "",
            ]
        )

    def prepare(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        if not (self.dist_dir / "bin" / "elasticsearch").exists():
            with zipfile.ZipFile(self._zip()) as archive:
                archive.extractall(self.home)
            for script in (self.dist_dir / "bin").iterdir():
                script.chmod(0o755)
        (self.dist_dir / "config" / "elasticsearch.yml").write_text(self._config_yml())
        for sub in ("data", "logs", "tmp"):
            (self.home / sub).mkdir(exist_ok=True)

    def command(self) -> tuple[Sequence[str], Mapping[str, str]]:
        java = java_executable(self.settings)
        heap = self.settings.elasticsearch_heap
        env = {
            "ES_JAVA_HOME": str(java.resolve().parent.parent),
            "ES_JAVA_OPTS": f"-Xms{heap} -Xmx{heap}",
            "ES_TMPDIR": str(self.home / "tmp"),
            "PATH": "/usr/bin:/bin",
        }
        argv = self.as_service_user(
            [str(self.dist_dir / "bin" / "elasticsearch")], owned=[self.home]
        )
        return argv, env

    def healthy(self) -> bool:
        try:
            response = httpx.get(
                f"{self.endpoint}/_cluster/health",
                params={"wait_for_status": "yellow", "timeout": "1s"},
                timeout=3.0,
            )
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and response.json().get("status") in {"green", "yellow"}

    def version(self) -> str | None:
        # The integration-test distribution has no root ("GET /") handler; ask the node instead.
        try:
            nodes = httpx.get(
                f"{self.endpoint}/_nodes/_local",
                params={"filter_path": "nodes.*.version"},
                timeout=3.0,
            ).json()["nodes"]
            return str(next(iter(nodes.values()))["version"])
        except (httpx.HTTPError, KeyError, ValueError, StopIteration):
            return None
