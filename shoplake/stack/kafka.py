"""One Kafka broker in KRaft mode (broker and controller in one JVM), from Maven's jars."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from shoplake.stack.process import StackError, run_checked
from shoplake.stack.service import LocalService, java_executable

LOG4J2 = """\
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = info
logger.controller.name = state.change.logger
logger.controller.level = warn
"""


class KafkaService(LocalService):
    name = "kafka"

    @property
    def port(self) -> int:
        return self.settings.kafka_port

    @property
    def ports(self) -> list[int]:
        return [self.settings.kafka_port, self.settings.kafka_controller_port]

    @property
    def endpoint(self) -> str:
        return self.settings.kafka_bootstrap_servers

    @property
    def jars(self) -> Path:
        return self.settings.jvm_dir / "kafka"

    @property
    def config_file(self) -> Path:
        return self.home / "server.properties"

    def _server_properties(self) -> str:
        s = self.settings
        host = s.bind_host
        return "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@{host}:{s.kafka_controller_port}",
                f"listeners=PLAINTEXT://{host}:{s.kafka_port},CONTROLLER://{host}:{s.kafka_controller_port}",
                f"advertised.listeners=PLAINTEXT://{host}:{s.kafka_port}",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                f"log.dirs={self.home / 'data'}",
                "num.partitions=3",
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                # Topics are declared by shoplake.events; auto-creation keeps local runs forgiving.
                "auto.create.topics.enable=true",
                "log.retention.hours=168",
                "",
            ]
        )

    def _java(self, main_class: str, *args: str) -> list[str]:
        if not any(self.jars.glob("kafka_*.jar")):
            raise StackError(
                f"Kafka jars missing in {self.jars}: run `make jvm` (Maven copies them there)."
            )
        return [
            str(java_executable(self.settings)),
            f"-Xms{self.settings.kafka_heap}",
            f"-Xmx{self.settings.kafka_heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={self.home / 'logs'}",
            "-cp",
            f"{self.jars}/*",
            main_class,
            *args,
        ]

    def prepare(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "log4j2.properties").write_text(LOG4J2)
        self.config_file.write_text(self._server_properties())
        if (self.home / "data" / "meta.properties").exists():
            return
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        run_checked(
            self._java(
                "kafka.tools.StorageTool",
                "format",
                "--config",
                str(self.config_file),
                "--cluster-id",
                cluster_id,
                "--ignore-formatted",
            ),
            what="kafka storage format",
        )

    def command(self) -> tuple[Sequence[str], Mapping[str, str]]:
        return self._java("kafka.Kafka", str(self.config_file)), {}

    def healthy(self) -> bool:
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=self.endpoint,
                request_timeout_ms=2000,
                client_id="shoplake-stack-probe",
            )
        except KafkaError:
            return False
        try:
            cluster = admin.describe_cluster()
            return bool(cluster.get("brokers"))
        except KafkaError:
            return False
        finally:
            admin.close()

    def version(self) -> str | None:
        jar = next(iter(sorted(self.jars.glob("kafka_*.jar"))), None)
        return jar.stem.rsplit("-", 1)[-1] if jar else None
