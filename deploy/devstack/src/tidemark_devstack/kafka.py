"""The real Apache Kafka broker (KRaft, one node) run from jars fetched with Maven."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import subprocess
import time
import uuid
from base64 import urlsafe_b64encode
from pathlib import Path
from typing import TYPE_CHECKING

from tidemark_devstack.common import (
    DEPLOY_DIR,
    DevstackError,
    log_tail,
    progress,
    read_pidfile,
    run_sync,
    stop_pid,
)

if TYPE_CHECKING:  # aiokafka and cryptography load only for a secured broker
    from tidemark_devstack.kafka_security import SecureListeners

POM = DEPLOY_DIR / "kafka" / "pom.xml"
LOG4J_CONFIG = DEPLOY_DIR / "kafka" / "log4j2.xml"


def kafka_version() -> str:
    """The broker version pinned in deploy/kafka/pom.xml."""
    match = re.search(r"<kafka.version>([^<]+)</kafka.version>", POM.read_text())
    if not match:
        raise DevstackError(f"no <kafka.version> in {POM}")
    return match.group(1).strip()


def install_jars(libs_dir: Path, quiet: bool = False) -> Path:
    """Copy the broker's runtime jars into `libs_dir` once (a marker records the version)."""
    version = kafka_version()
    marker = libs_dir / ".installed-version"
    if marker.exists() and marker.read_text().strip() == version:
        return libs_dir
    if shutil.which("mvn") is None:
        raise DevstackError("Maven (mvn) is missing: run `make setup` (deploy/bootstrap.sh)")
    if not quiet:
        progress(f"downloading Kafka {version} jars with Maven (first run only)…")
    staging = libs_dir.with_name(libs_dir.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    cmd = [
        "mvn", "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
        f"-DoutputDirectory={staging}", "-DincludeScope=runtime",
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DevstackError(f"mvn failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    shutil.rmtree(libs_dir, ignore_errors=True)
    staging.rename(libs_dir)
    marker.write_text(version + "\n")
    return libs_dir


class KafkaServer:
    """One KRaft node (broker + controller) whose data, config and logs live in `home`.

    Its PLAINTEXT listener is open to all; with `security`, the node also has the secured
    listeners (SASL_SSL, SSL) and enforces ACLs on them (kafka_security.py)."""

    def __init__(
        self, home: Path, libs_dir: Path, port: int, controller_port: int,
        security: SecureListeners | None = None,
    ) -> None:  # fmt: skip
        self.home = home
        self.libs_dir = libs_dir
        self.port = port
        self.controller_port = controller_port
        self.security = security
        self.data_dir = home / "data"
        self.log_dir = home / "logs"
        self.log_file = self.log_dir / "server.log"
        self.pidfile = home / "kafka.pid"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _java(self, *args: str) -> list[str]:
        return [
            "java", "-Xmx512m", "-Xms128m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG}", f"-Dkafka.logs.dir={self.log_dir}",
            "-cp", f"{self.libs_dir}/*", *args,
        ]  # fmt: skip

    def cluster_id(self) -> str:
        """A fixed cluster id per state folder, made once and stored."""
        path = self.home / "cluster-id"
        # An id starting with '-' never formatted any storage (see new_cluster_id): replace it.
        if not path.exists() or path.read_text().startswith("-"):
            path.write_text(new_cluster_id() + "\n")
        return path.read_text().strip()

    def write_config(self) -> Path:
        # listener name -> port; each listener's name is also its security protocol
        listeners = {"PLAINTEXT": self.port, **(self.security.listeners() if self.security else {})}
        advertised = ",".join(f"{name}://127.0.0.1:{port}" for name, port in listeners.items())
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": f"{advertised},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": advertised,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": ",".join(f"{name}:{name}" for name in listeners)
            + ",CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "3",
            "auto.create.topics.enable": "true",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "4",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "min.insync.replicas": "1",
            "group.initial.rebalance.delay.ms": "0",
            "log.retention.hours": "168",
            **(self.security.broker_properties() if self.security else {}),
        }
        path = self.home / "server.properties"
        path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        return path

    def format_storage(self, config: Path) -> None:
        if (self.data_dir / "meta.properties").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        scram = self.security.format_arguments() if self.security else []
        cmd = self._java("kafka.tools.StorageTool", "format", "--ignore-formatted",
                         "-t", self.cluster_id(), "-c", str(config), *scram)  # fmt: skip
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise DevstackError(f"Kafka storage format failed:\n{result.stdout}{result.stderr}")

    def start(self, timeout: float = 90.0, fresh: bool = False) -> None:
        """Format once, start the broker, return when it answers a metadata request (and,
        secured, once its ACLs are in force). A secured broker always starts empty: its
        SCRAM users are written when the storage is formatted."""
        if read_pidfile(self.pidfile, expect="kafka.Kafka"):
            raise DevstackError(f"Kafka already runs from {self.home} (pid file {self.pidfile})")
        if fresh or self.security:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if self.security:
            self.security.make_material()
        self._spawn()
        self.wait_ready(timeout)
        if self.security:
            run_sync(self.security.apply_acls(self.bootstrap))

    def _spawn(self) -> None:
        """Format the storage if new and start the JVM (not waiting for it); the pid file
        names it."""
        config = self.write_config()
        self.format_storage(config)
        out = (self.log_dir / "kafka.out").open("ab")
        self._proc = subprocess.Popen(
            self._java("kafka.Kafka", str(config)),
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=self.home, start_new_session=True,
        )  # fmt: skip
        out.close()
        self.pidfile.write_text(f"{self._proc.pid}\n")

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise DevstackError(
                    f"Kafka exited with code {self._proc.returncode} while starting\n"
                    + log_tail(self.log_file)
                )
            try:
                run_sync(_metadata_probe(self.bootstrap))
                return
            except Exception as exc:
                last = repr(exc)
            time.sleep(0.3)
        raise DevstackError(
            f"Kafka at {self.bootstrap} gave no metadata within {timeout:.0f}s ({last})\n"
            + log_tail(self.log_file)
        )

    def stop(self, timeout: float = 30.0) -> None:
        pid = self._proc.pid if self._proc and self._proc.poll() is None else None
        pid = pid or read_pidfile(self.pidfile, expect="kafka.Kafka")
        if pid:
            stop_pid(pid, timeout)
        if self._proc is not None:
            self._proc.wait()
            self._proc = None
        self.pidfile.unlink(missing_ok=True)


async def _metadata_probe(bootstrap: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    quiet = logging.getLogger("aiokafka")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # "Unable connect" while the broker boots is expected
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await asyncio.wait_for(admin.start(), 5)
        await asyncio.wait_for(admin.list_topics(), 5)
    finally:
        await admin.close()
        quiet.setLevel(level)


def java_available() -> bool:
    return shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))


def new_cluster_id() -> str:
    """A random KRaft cluster id (22 URL-safe base64 characters) that does not start with
    '-': `kafka-storage format -t <id>` would read such an id as an option and fail (about
    one random id in 64)."""
    while True:
        raw = urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not raw.startswith("-"):
            return raw
