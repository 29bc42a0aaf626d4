"""engine/cluster/topology.py: the cluster and this process's role from TF_CONFIG or the TF1 flags, research/slim's
replica flags checked against it, and a clear message for every misconfiguration (no process started here:
tests/test_cluster.py runs real clusters)."""
import json

import pytest

import train_image_classifier
from core.cli import run_main
from core.errors import UserError
from engine.cluster import topology
from engine.config.options import ClusterOptions, from_args

CLUSTER = {"ps": ["10.0.0.1:2222"], "worker": ["10.0.0.2:2222", "10.0.0.3:2222", "10.0.0.4:2222"]}


def options(*argv):
    return from_args(ClusterOptions, train_image_classifier.build_parser().parse_args(list(argv)))


def tf_config(task_type="worker", index=0, cluster=None):
    return {"TF_CONFIG": json.dumps({"cluster": cluster or CLUSTER, "task": {"type": task_type, "index": index}})}


def test_no_cluster_is_a_single_process_and_slims_single_process_values_are_accepted():
    assert topology.resolve(options(), {}) is None
    assert topology.resolve(options("--num_ps_tasks", "0", "--worker_replicas", "1", "--task", "0"), {}) is None
    assert topology.resolve(options(), {"TF_CONFIG": "{}"}) is None


def test_tf_config_gives_the_cluster_and_the_role_and_worker_0_is_the_chief():
    chief = topology.resolve(options(), tf_config("worker", 0))
    assert chief.is_chief and chief.num_workers == 3 and chief.num_ps == 1
    assert chief.spec() == CLUSTER and chief.address == "10.0.0.2:2222" and not chief.sync
    other = topology.resolve(options(), tf_config("worker", 2))
    assert not other.is_chief and other.describe() == "worker 2 (async)"
    ps = topology.resolve(options(), tf_config("ps", 0))
    assert ps.job_name == "ps" and ps.address == "10.0.0.1:2222" and not ps.is_chief


def test_the_tf1_flags_give_the_same_cluster_and_win_over_tf_config(capsys):
    argv = ("--ps_hosts", ",".join(CLUSTER["ps"]), "--worker_hosts", ",".join(CLUSTER["worker"]),
            "--job_name", "worker", "--task", "1")
    cluster = topology.resolve(options(*argv), tf_config("ps", 0, {"ps": ["a:1"], "worker": ["b:1"]}))
    assert cluster.spec() == CLUSTER and cluster.task_index == 1 and cluster.job_name == "worker"
    assert "TF_CONFIG is ignored" in capsys.readouterr().err


def test_sync_replicas_aggregates_one_gradient_per_worker_unless_told_otherwise():
    cluster = topology.resolve(options("--sync_replicas"), tf_config())
    assert cluster.sync and cluster.replicas_to_aggregate == 3
    assert cluster.describe() == "worker 0 (chief, sync)"
    cluster = topology.resolve(options("--sync_replicas", "--replicas_to_aggregate", "2"), tf_config())
    assert cluster.replicas_to_aggregate == 2


def test_slims_counts_are_checked_against_the_cluster():
    assert topology.resolve(options("--num_ps_tasks", "1", "--worker_replicas", "3"), tf_config()).num_ps == 1
    with pytest.raises(UserError, match="--num_ps_tasks 2 contradicts the cluster .TF_CONFIG., which has 1"):
        topology.resolve(options("--num_ps_tasks", "2"), tf_config())
    with pytest.raises(UserError, match="--worker_replicas 2 contradicts"):
        topology.resolve(options("--worker_replicas", "2"), tf_config())
    with pytest.raises(UserError, match="--task 1 contradicts TF_CONFIG's task index 0"):
        topology.resolve(options("--task", "1"), tf_config())


def test_master_alone_is_slims_existing_server():
    cluster = topology.resolve(options("--master", "127.0.0.1:2222", "--num_ps_tasks", "2",
                                             "--worker_replicas", "2", "--task", "1"), {})
    assert cluster.master == "grpc://127.0.0.1:2222" and cluster.num_ps == 2 and cluster.num_workers == 2
    assert cluster.task_index == 1 and not cluster.is_chief and cluster.spec() is None


@pytest.mark.parametrize("argv, environ, message", [
    ((), {"TF_CONFIG": "{cluster: ps}"}, "TF_CONFIG is not valid JSON"),
    ((), {"TF_CONFIG": '{"task": {"type": "worker"}}'}, "TF_CONFIG has no \"cluster\" object"),
    ((), {"TF_CONFIG": json.dumps({"cluster": CLUSTER})}, "TF_CONFIG has no \"task\""),
    ((), tf_config("worker", 3), "task index 3 is out of range: the cluster (TF_CONFIG) has 3 worker task(s)"),
    ((), tf_config("ps", 1), "task index 1 is out of range"),
    ((), tf_config("worker", -1), "task index -1 is out of range"),
    ((), tf_config("evaluator", 0), "task type 'evaluator' is not a job"),
    ((), tf_config(cluster=dict(CLUSTER, chief=["10.0.0.9:2222"])), "worker 0 is the chief"),
    ((), tf_config(cluster={"ps": ["10.0.0.1"], "worker": ["10.0.0.2:2222"]}), "'10.0.0.1' is not host:port"),
    ((), tf_config(cluster={"ps": [], "worker": ["10.0.0.2:2222"]}), "lists no parameter server"),
    ((), tf_config(cluster={"ps": ["h:1"], "worker": ["h:1"]}), "lists h:1 for several tasks"),
    (("--sync_replicas",), tf_config(cluster={"ps": ["h:1"], "worker": ["h:2"]}),
     "--sync_replicas with a single worker"),
    (("--sync_replicas",), {}, "need a cluster: set TF_CONFIG"),
    (("--num_ps_tasks", "1"), {}, "need a cluster"),
    (("--worker_hosts", "h:2"), {}, "needs --worker_hosts (and --ps_hosts) with --job_name"),
    (("--worker_hosts", "h:2,h:x", "--ps_hosts", "h:1", "--job_name", "worker"), {}, "'h:x' is not host:port"),
    (("--master", "http://h:2"), {}, "only grpc:// targets"),
    (("--cluster_timeout_secs", "0"), tf_config(), "--cluster_timeout_secs must be positive"),
])
def test_misconfigurations_are_refused_with_what_to_do(argv, environ, message):
    with pytest.raises(UserError) as raised:
        topology.resolve(options(*argv), environ)
    assert message in str(raised.value)


def test_the_script_exits_with_the_message_before_starting_anything(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": CLUSTER, "task": {"type": "worker", "index": 7}}))
    assert run_main(train_image_classifier.main, ["--train_dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "task index 7 is out of range" in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_the_replica_flags_are_visible_in_help(capsys):
    with pytest.raises(SystemExit):
        train_image_classifier.build_parser().parse_args(["--help"])
    text = capsys.readouterr().out
    for flag in ("--num_ps_tasks", "--worker_replicas", "--task", "--sync_replicas", "--replicas_to_aggregate",
                 "--master", "--ps_hosts", "--worker_hosts", "--job_name", "--cluster_timeout_secs"):
        assert flag in text
