"""The chaos run's KRaft cluster configuration (tidemark_devstack.kafka_cluster): three
voters, replication that survives one node, one cluster id; a single node as `make run`."""

from __future__ import annotations

from pathlib import Path

from tidemark_devstack.kafka_cluster import KafkaCluster


def properties(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def test_three_nodes_share_the_voters_and_replicate_three_times_with_two_in_sync(
    tmp_path: Path,
) -> None:
    cluster = KafkaCluster(tmp_path, tmp_path / "libs", 3)
    configs = [properties(node.write_config()) for node in cluster.nodes]
    assert [c["node.id"] for c in configs] == ["1", "2", "3"]
    assert len({c["controller.quorum.voters"] for c in configs}) == 1
    assert configs[0]["controller.quorum.voters"].count("@127.0.0.1:") == 3
    for config in configs:
        assert config["default.replication.factor"] == "3"
        assert config["min.insync.replicas"] == "2"
        assert config["offsets.topic.replication.factor"] == "3"
        assert config["unclean.leader.election.enable"] == "false"
    assert len({node.cluster_id() for node in cluster.nodes}) == 1
    assert cluster.bootstrap.count(",") == 2


def test_one_node_replicates_once(tmp_path: Path) -> None:
    (node,) = KafkaCluster(tmp_path, tmp_path / "libs", 1).nodes
    config = properties(node.write_config())
    assert (config["default.replication.factor"], config["min.insync.replicas"]) == ("1", "1")
