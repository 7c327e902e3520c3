"""The chaos run's own stack: PostgreSQL, a KRaft cluster, the SMTP sink and every service
as `replicas` processes, all on free ports under <state>/<name> (made anew each run).

Services read a policy whose every target is `target` on a 24x7 calendar, so first-response
deadlines fall due during the run instead of a business day later."""

from __future__ import annotations

import asyncio
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from aiokafka.errors import KafkaError

from tidekit.kafka.connection import KafkaConnection
from tidekit.kafka.topics import create_all
from tidemark_devstack.common import DevstackError, free_port, progress, state_dir
from tidemark_devstack.kafka import install_jars
from tidemark_devstack.kafka_cluster import KafkaCluster
from tidemark_devstack.postgres import PostgresServer
from tidemark_devstack.services import SERVICES, Endpoints, ServiceProcess, create_api_key
from tidemark_devstack.smtp_sink import SmtpSink

DATABASE = "tidemark"
STAFF_INBOX = "staff-alerts@example.com"  # where breach and warning mails go
POLICY_PREFIX = {  # the services that read the policy, and their settings' prefixes
    "intake": "TIDEMARK_INTAKE_",
    "classifier": "TIDEMARK_CLASSIFIER_",
    "sla-timer": "TIDEMARK_SLA_TIMER_",
    "escalation": "TIDEMARK_ESCALATION_",
}
DEFAULT_POLICY = Path(__file__).resolve().parents[2] / "shared/src/tidekit/sla/default_policy.yaml"


def write_policy(path: Path, target: str) -> Path:
    """The shipped policy with every level's and severity's target `target`, round the clock."""
    data = yaml.safe_load(DEFAULT_POLICY.read_text())
    data["version"] = f"chaos-{target}"
    for table in ("levels", "severities"):
        for rule in data[table].values():
            rule["max_response"], rule["calendar"] = target, "24x7"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@dataclass
class Keys:
    frontend: str  # web channel
    agent: str  # staff replies and status changes
    service: str  # the services' own key


@dataclass
class ChaosStack:
    root: Path
    brokers: int = 3
    replicas: int = 2
    target: str = "2m"
    postgres: PostgresServer = field(init=False)
    kafka: KafkaCluster = field(init=False)
    sink: SmtpSink = field(init=False)
    services: dict[str, list[ServiceProcess]] = field(default_factory=dict)
    keys: Keys | None = None

    @classmethod
    def fresh(cls, name: str, brokers: int, replicas: int, target: str) -> ChaosStack:
        root = state_dir() / name
        previous = root.with_name(name + ".previous")  # the last run's logs, for a post-mortem
        shutil.rmtree(previous, ignore_errors=True)
        if root.exists():
            root.rename(previous)
        root.mkdir(parents=True)
        return cls(root, brokers, replicas, target)

    def __post_init__(self) -> None:
        self.postgres = PostgresServer(self.root / "postgres", free_port())
        self.kafka = KafkaCluster(self.root / "kafka", state_dir() / "kafka" / "libs", self.brokers)
        self.sink = SmtpSink(self.root / "mail", free_port())
        self.policy_file = write_policy(self.root / "policy.yaml", self.target)

    @property
    def database_url(self) -> str:
        return self.postgres.url(DATABASE)

    @property
    def intake_urls(self) -> list[str]:
        return [p.url for p in self.services["intake"]]

    def start(self) -> None:
        install_jars(state_dir() / "kafka" / "libs", quiet=True)
        progress(f"chaos stack in {self.root}: PostgreSQL, {self.brokers} Kafka node(s), sink")
        self.postgres.start()
        self.postgres.create_database(DATABASE)
        self.kafka.start()
        self._create_topics()
        self.sink.start()
        url = self.database_url
        self.keys = Keys(
            frontend=create_api_key(url, "--name", "chaos-frontend", "--channels", "web"),
            agent=create_api_key(url, "--name", "chaos-agent", "--role", "agent"),
            service=create_api_key(url, "--name", "chaos-services", "--service"),
        )
        progress(f"starting {self.replicas} replica(s) of each service…")
        for name in SERVICES:
            self.services[name] = [
                ServiceProcess(name, free_port(), self._env(name), self._log(name, i)).start()
                for i in range(self.replicas)
            ]
        for proc in self.processes():
            proc.wait_healthy(120, path="/readyz")

    def _create_topics(self, limit: float = 60.0) -> None:
        """Every topic and DLQ with the cluster's replication. Just after start not every
        node may have registered (too few for the factor) or the new topics may not be
        listed yet: asked again until they are."""
        kafka, deadline = KafkaConnection.of(self.kafka.bootstrap), time.monotonic() + limit
        while True:
            try:
                missing = asyncio.run(create_all(kafka, "", 3, min(self.brokers, 3)))
            except KafkaError as exc:
                missing = [repr(exc)]
            if not missing:
                return
            if time.monotonic() > deadline:
                raise DevstackError(f"topics not created within {limit:.0f}s: {missing}")
            time.sleep(1)

    def _log(self, name: str, index: int) -> Path:
        return self.root / "logs" / f"{name}-{index + 1}.log"

    def _env(self, name: str) -> dict[str, str]:
        assert self.keys is not None
        first_intake = self.services.get("intake", [None])[0]
        endpoints = Endpoints(
            self.database_url, self.kafka.bootstrap, "127.0.0.1", self.sink.port,
            first_intake.url if first_intake else None, self.keys.service,
        )  # fmt: skip
        env = endpoints.env()
        env.update(
            TIDEMARK_LOG_LEVEL="WARNING",
            TIDEMARK_INTAKE_SMTP_PORT="0",  # no inbound mail listener: replicas would clash
            TIDEMARK_NOTIFIER_QUEUE_EMAILS=f'{{"*": "{STAFF_INBOX}"}}',
            # A killed notifier's claimed messages wait out its lease: shorter than the
            # default 60 s (still above twice the 10 s SMTP timeout) so the run drains sooner.
            TIDEMARK_NOTIFIER_SEND_LEASE_SECONDS="25",
        )
        if name in POLICY_PREFIX:
            env[f"{POLICY_PREFIX[name]}POLICY_FILE"] = str(self.policy_file)
        return env

    def processes(self) -> list[ServiceProcess]:
        return [proc for procs in self.services.values() for proc in procs]

    def stop_services(self) -> None:
        for proc in self.processes():
            proc.terminate()

    def stop(self) -> None:
        self.stop_services()
        self.sink.stop()
        self.kafka.stop()
        self.postgres.stop()
