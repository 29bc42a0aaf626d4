"""A chief whose parameter server dies while it saves: the save reads the variables from the ps, so the error is
the cluster's (lost the connection to ps 0), not the folder's ("is the disk full?", as CI once printed), and the
previous checkpoint stays whole. Real processes: a ps server, killed; the chief's real session and saver."""
import os
import subprocess
import sys

from engine.cluster.launcher import free_ports
from tests.conftest import ROOT
from tests.faults import checkpoint_step

PS = """
import sys, time
ps_address, worker_address = sys.argv[1:3]
sys.argv = ["ps"]
from engine.cluster import replicas, topology
cluster = topology.Cluster(ps=[ps_address], workers=[worker_address], job_name="ps", task_index=0)
replicas.start_server(cluster)
print("serving", flush=True)
time.sleep(600)
"""

CHIEF = """
import os, sys, time, types
ps_address, worker_address, ps_pid, train_dir = sys.argv[1:5]
sys.argv = ["chief"]
from core.compat import tf
from core.errors import UserError
from engine.cluster import replicas, topology
from engine.training.step_loop import ReplicaLoop
cluster = topology.Cluster(ps=[ps_address], workers=[worker_address], job_name="worker", task_index=0)
server = replicas.start_server(cluster)
with tf.Graph().as_default():
    with tf.device("/job:ps/task:0"):
        weights = tf.Variable(tf.ones([64, 64]), name="weights")
    with tf.device("/job:worker/task:0"):  # read by the loop's current_step, which must still answer
        global_step = tf.train.get_or_create_global_step()
    saver = tf.train.Saver([weights, global_step], save_relative_paths=True)
    session = tf.Session(server.target)
    session.run(tf.global_variables_initializer())
    ops = types.SimpleNamespace(train_op=None, summaries=None, global_step=global_step, saver=saver, finite_check=None)
    loop = ReplicaLoop(session, ops, None, None, runtime=types.SimpleNamespace(cluster=cluster), target=10)
    print("saved", os.path.basename(loop.save(train_dir)), flush=True)
    session.run(global_step.assign(1))
    os.kill(int(ps_pid), 9)
    while replicas.reachable(ps_address):
        time.sleep(0.1)
    try:
        loop.save(train_dir)
        print("saved again")
    except UserError as error:
        print("error:", error)
"""


def test_a_ps_lost_during_a_save_is_named_and_the_previous_checkpoint_stays(tmp_path):
    ps_port, worker_port = free_ports(2)
    ps_address, worker_address = "127.0.0.1:%d" % ps_port, "127.0.0.1:%d" % worker_port
    ps = subprocess.Popen([sys.executable, "-c", PS, ps_address, worker_address], cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True)
    try:
        assert ps.stdout.readline() == "serving\n"
        train_dir = tmp_path / "train"
        train_dir.mkdir()
        chief = subprocess.run([sys.executable, "-c", CHIEF, ps_address, worker_address, str(ps.pid), str(train_dir)],
                               cwd=ROOT, capture_output=True, text=True, timeout=180)
    finally:
        ps.kill()
        ps.wait()
    out = chief.stdout
    assert chief.returncode == 0, chief.stderr[-3000:]
    assert "saved model.ckpt-0\n" in out, out
    assert ("error: worker 0 (chief, async): lost the connection to ps 0 at %s (" % ps_address) in out, out
    assert "disk full" not in out and "====" not in out, out
    names = sorted(os.listdir(train_dir))
    assert [name for name in names if "ckpt-1" in name] == [], names  # nothing of the failed save is left
    assert 'model_checkpoint_path: "model.ckpt-0"' in (train_dir / "checkpoint").read_text()
    assert checkpoint_step(str(train_dir / "model.ckpt-0")) == 0  # reads whole
