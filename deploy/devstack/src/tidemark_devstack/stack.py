"""The whole local stack: Postgres, Kafka, the SMTP sink and the services, in one state folder.

Layout of a state folder (the same for `run` and, under <state>/test, for pytest):
  kafka/libs/            broker jars (installed once, shared by the test stack)
  kafka/data/            KRaft log dir, formatted once; kafka/cluster-id keeps its id
  kafka/logs/server.log  broker log (log4j2); kafka/server.properties is regenerated per start
  postgres/data/         the cluster; postgres/postgres.log its log; postgres/run/ its socket
  mail/new/*.eml         every message the SMTP sink received
  logs/<service>.log     each service's stdout/stderr
  run/*.pid              pid files that `tidemark-devstack stop` uses
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tidemark_devstack.common import (
    DevstackError,
    free_port,
    progress,
    read_pidfile,
    state_dir,
    stop_pid,
)
from tidemark_devstack.kafka import KafkaServer, install_jars
from tidemark_devstack.postgres import DEFAULT_DATABASE, PostgresServer
from tidemark_devstack.services import (
    SERVICES,
    Endpoints,
    ServiceProcess,
    create_api_key,
    service_env,
)
from tidemark_devstack.smtp_sink import SmtpSink


@dataclass
class Ports:
    kafka: int
    kafka_controller: int
    postgres: int
    smtp_sink: int
    intake_smtp: int
    services: dict[str, int] = field(default_factory=dict)


@dataclass
class Stack:
    root: Path
    ports: Ports
    libs_dir: Path | None = None
    database: str = DEFAULT_DATABASE
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    _service_key: str | None = field(default=None, repr=False)

    @classmethod
    def private(
        cls, name: str, services: Iterable[str] = (), database: str = DEFAULT_DATABASE
    ) -> Stack:
        """A stack of its own under <state>/<name> on free ports, sharing the Kafka jars
        `make run` installed: the test session's and each benchmark's."""
        ports = Ports(
            kafka=free_port(),
            kafka_controller=free_port(),
            postgres=free_port(),
            smtp_sink=free_port(),
            intake_smtp=free_port(),
            services={service: free_port() for service in services},
        )
        return cls(
            state_dir() / name, ports, libs_dir=state_dir() / "kafka" / "libs", database=database
        )

    def __post_init__(self) -> None:
        self.libs_dir = self.libs_dir or self.root / "kafka" / "libs"
        self.kafka = KafkaServer(
            self.root / "kafka", self.libs_dir, self.ports.kafka, self.ports.kafka_controller
        )
        self.postgres = PostgresServer(self.root / "postgres", self.ports.postgres)
        self._sink: SmtpSink | None = None

    @property
    def sink(self) -> SmtpSink:
        if self._sink is None:
            self._sink = SmtpSink(self.mail_dir, self.ports.smtp_sink)
        return self._sink

    @property
    def mail_dir(self) -> Path:
        return self.root / "mail"

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    @property
    def run_dir(self) -> Path:
        return self.root / "run"

    @property
    def database_url(self) -> str:
        return self.postgres.url(self.database)

    def endpoints(self) -> Endpoints:
        intake = f"http://127.0.0.1:{self.ports.services['intake']}"
        return Endpoints(
            self.database_url, self.kafka.bootstrap, "127.0.0.1", self.ports.smtp_sink, intake,
            self.service_key(),
        )  # fmt: skip

    def service_key(self) -> str:
        """The services' own key (they ask intake about callers' keys with it), made once
        per stack object with `tidemark-keys create --service`, which migrates intake's
        schema first, so it works before intake ever ran. Kept in memory only: each start
        of a dev stack makes a fresh one, never stale against a database made anew."""
        if self._service_key is None:
            self._service_key = create_api_key(
                self.database_url, "--name", "devstack-services", "--service"
            )
        return self._service_key

    def install(self) -> None:
        assert self.libs_dir is not None
        install_jars(self.libs_dir)

    def start_postgres(self, fresh: bool = False) -> None:
        """`fresh`: the stack's database made anew, empty (a benchmark's run, so its figures
        do not depend on how many runs the machine did before it)."""
        progress(f"starting PostgreSQL on 127.0.0.1:{self.ports.postgres}…")
        self.postgres.start()
        self.postgres.create_database(self.database, fresh=fresh)

    def start_kafka(self, fresh: bool = False) -> None:
        progress(f"starting Kafka on {self.kafka.bootstrap} (waiting for metadata)…")
        stale = read_pidfile(self.kafka.pidfile, expect="kafka.Kafka")
        if stale:  # left behind by a run or test session that died
            stop_pid(stale)
        self.kafka.start(fresh=fresh)

    def start_sink(self) -> None:
        self.sink.start()

    def start_infra(self, fresh_kafka: bool = False) -> None:
        self.install()
        self.start_postgres()
        self.start_kafka(fresh=fresh_kafka)
        self.start_sink()

    def start_service(
        self, name: str, port: int, intake_smtp_port: int, log_file: Path,
        extra_env: Mapping[str, str] | None = None,
    ) -> ServiceProcess:  # fmt: skip
        env = service_env(self.endpoints(), intake_smtp_port, extra_env)
        proc = ServiceProcess(name, port, env, log_file).start()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / f"{name}.pid").write_text(f"{proc.pid}\n")
        self.services[name] = proc
        return proc

    def start_services(self, names: Iterable[str] = SERVICES, timeout: float = 60.0
                       ) -> dict[str, str | None]:  # fmt: skip
        """Start services side by side; name -> None when healthy, else the error with log."""
        started = [
            self.start_service(name, self.ports.services[name], self.ports.intake_smtp,
                               self.log_dir / f"{name}.log")
            for name in names
        ]  # fmt: skip
        progress("waiting for the services' /healthz…")
        outcome: dict[str, str | None] = {}
        for proc in started:
            try:
                proc.wait_healthy(timeout)
                outcome[proc.name] = None
            except DevstackError as exc:
                outcome[proc.name] = str(exc)
        return outcome

    def stop_services(self) -> None:
        for name, proc in list(self.services.items()):
            proc.terminate()
            (self.run_dir / f"{name}.pid").unlink(missing_ok=True)
        self.services.clear()

    def stop(self) -> None:
        """Services first, then the sink and Kafka, then Postgres."""
        self.stop_services()
        if self._sink is not None:
            self._sink.stop()
        self.kafka.stop()
        self.postgres.stop()

    def stop_leftovers(self) -> list[str]:
        """Stop whatever pid files say still runs (a run that was killed). Names stopped."""
        stopped: list[str] = []
        for pidfile in sorted(self.run_dir.glob("*.pid")) if self.run_dir.exists() else []:
            pid = read_pidfile(pidfile, expect="uvicorn")
            if pid and pidfile.stem != "devstack":
                stop_pid(pid, 15)
                stopped.append(pidfile.stem)
            pidfile.unlink(missing_ok=True)
        if read_pidfile(self.kafka.pidfile, expect="kafka.Kafka"):
            self.kafka.stop()
            stopped.append("kafka")
        if self.postgres.initialised() and self.postgres.running():
            self.postgres.stop()
            stopped.append("postgres")
        return stopped
