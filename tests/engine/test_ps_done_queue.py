"""A parameter server counts every worker that finishes, however the workers' indexes arrive. Real processes and
queues: a ps (engine.cluster.replicas.serve) with its server, and enqueues into its done queue made as a worker's
finish makes them. In CI once, a ps waited 60 s for a worker that had finished, then failed: the worker's index had
arrived as the ps's dequeue reached its time limit, and TensorFlow had taken it from the queue all the same."""
import subprocess
import sys

from engine.cluster.launcher import free_ports
from tests.conftest import ROOT

PS_AND_WORKERS = """
import random, sys, threading, time
ps_address, workers = sys.argv[1], sys.argv[2].split(",")
sys.argv = ["ps"]
from core.compat import tf
from engine.cluster import replicas, topology
# As often as the ps can: the timed dequeue of before lost 3 indexes of 300 here (measured).
replicas.PROBE_SECS = replicas.POLL_SECS = 0.005
cluster = topology.Cluster(ps=[ps_address], workers=workers, job_name="ps", task_index=0, timeout_secs=20)
server = replicas.start_server(cluster)

def finish_every_worker():
    graph = tf.Graph()
    with graph.as_default(), tf.device("/job:ps/task:0"):  # as replicas.ClusterRuntime's signal_done
        queue = tf.FIFOQueue(len(workers), tf.int32, shapes=[], shared_name=replicas.DONE_QUEUE % 0)
        index = tf.placeholder(tf.int32, [])
        enqueue = queue.enqueue(index)
    with tf.Session(server.target, graph=graph, config=tf.ConfigProto(device_filters=["/job:ps/task:0"])) as session:
        for worker in range(len(workers)):
            time.sleep(random.uniform(0, 0.008))
            session.run(enqueue, {index: worker})

threading.Thread(target=finish_every_worker, daemon=True).start()
sys.exit(replicas.serve(cluster, server))
"""


def test_a_ps_counts_every_worker_that_finishes_and_stops():
    workers = 300
    ps, *ports = free_ports(workers + 1)  # nothing listens on the workers' ports: the ps finds none reachable
    result = subprocess.run([sys.executable, "-c", PS_AND_WORKERS, "127.0.0.1:%d" % ps,
                             ",".join("127.0.0.1:%d" % port for port in ports)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    counted = [line for line in result.stdout.splitlines() if line.startswith("ps 0: worker ")]
    assert len(counted) == workers and counted[-1].endswith("finished (300 of 300)"), counted[-3:]
    assert result.stdout.splitlines()[-1] == "ps 0: all 300 worker(s) finished; stopping"
