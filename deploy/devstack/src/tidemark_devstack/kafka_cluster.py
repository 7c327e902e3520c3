"""A KRaft cluster of `size` nodes (each broker and controller) for fault-injection runs.

Default-off: `make run` and the test fixtures keep the single node of kafka.py; the chaos
run (tests/chaos) asks for this one. With three nodes: replication factor 3 and
`min.insync.replicas` 2, so one node may die without a write being refused or lost; each
node gets a 512 MB heap (kafka.py's JVM options). One node: factor 1, as `make run`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from tidemark_devstack.common import DevstackError, free_port, read_pidfile
from tidemark_devstack.kafka import KafkaServer


class ClusterNode(KafkaServer):
    """One node of a KafkaCluster: its own id, ports and folder, the cluster's voters."""

    def __init__(
        self, home: Path, libs_dir: Path, node_id: int, port: int, controller_port: int,
        voters: str, cluster_id: str, size: int,
    ) -> None:  # fmt: skip
        super().__init__(home, libs_dir, port, controller_port)
        self.node_id = node_id
        self.size = size
        self.voters = voters
        self._cluster_id = cluster_id

    def cluster_id(self) -> str:
        return self._cluster_id

    def write_config(self) -> Path:
        replicas, min_isr = str(min(self.size, 3)), str(min(self.size, 2))
        props = {
            "process.roles": "broker,controller",
            "node.id": str(self.node_id),
            "controller.quorum.voters": self.voters,
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},"
            f"CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "6",
            "default.replication.factor": replicas,
            "min.insync.replicas": min_isr,
            "unclean.leader.election.enable": "false",
            "auto.create.topics.enable": "true",
            "offsets.topic.replication.factor": replicas,
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": replicas,
            "transaction.state.log.min.isr": min_isr,
            "transaction.state.log.num.partitions": "4",
            "share.coordinator.state.topic.replication.factor": replicas,
            "share.coordinator.state.topic.min.isr": min_isr,
            "group.initial.rebalance.delay.ms": "0",
            "log.retention.hours": "168",
        }
        self.home.mkdir(parents=True, exist_ok=True)
        path = self.home / "server.properties"
        path.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        return path

    def launch(self) -> None:
        """Start the JVM without waiting: a lone node of three cannot answer metadata."""
        if read_pidfile(self.pidfile, expect="kafka.Kafka"):
            raise DevstackError(f"Kafka node {self.node_id} already runs from {self.home}")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._spawn()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc and self._proc.poll() is None else None

    def kill(self) -> None:
        """SIGKILL: no controlled shutdown, leadership moves only when the others notice."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGKILL)
            self._proc.wait()
        self._proc = None
        self.pidfile.unlink(missing_ok=True)


class KafkaCluster:
    """`size` nodes under `home`/node-<id> on free ports, one cluster id."""

    def __init__(self, home: Path, libs_dir: Path, size: int = 3) -> None:
        from tidemark_devstack.kafka import new_cluster_id

        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        ports = [(free_port(), free_port()) for _ in range(size)]
        voters = ",".join(f"{i + 1}@127.0.0.1:{c}" for i, (_, c) in enumerate(ports))
        cluster_id = new_cluster_id()
        self.nodes = [
            ClusterNode(home / f"node-{i + 1}", libs_dir, i + 1, p, c, voters, cluster_id, size)
            for i, (p, c) in enumerate(ports)
        ]

    @property
    def bootstrap(self) -> str:
        return ",".join(node.bootstrap for node in self.nodes)

    def node(self, node_id: int) -> ClusterNode:
        return next(n for n in self.nodes if n.node_id == node_id)

    def start(self, timeout: float = 120.0) -> None:
        for node in self.nodes:
            node.launch()
        for node in self.nodes:
            node.wait_ready(timeout)

    def start_node(self, node_id: int, timeout: float = 120.0) -> None:
        node = self.node(node_id)
        node.launch()
        node.wait_ready(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM every node at once (a controlled shutdown each), then wait for all."""
        pids = [node.pid for node in self.nodes if node.pid]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)  # all at once; waited for below
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            if node._proc is not None:
                try:
                    node._proc.wait(max(deadline - time.monotonic(), 0.1))
                except subprocess.TimeoutExpired:
                    node._proc.kill()
                    node._proc.wait()
            node._proc = None
            node.pidfile.unlink(missing_ok=True)
