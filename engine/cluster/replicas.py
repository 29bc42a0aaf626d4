"""Training on a cluster with TensorFlow's own distributed runtime (tf.compat.v1): a gRPC server per task
(tf.distribute.Server), variables on the parameter servers (tf.train.replica_device_setter), synchronous
replicas with tf.train.SyncReplicasOptimizer and its session hook, sessions on the server targets created by
tf.train.SessionManager (the chief initializes or restores; the other workers wait until it has).

What this module adds around them:
- every wait is bounded by --cluster_timeout_secs and says what it waits for;
- gRPC calls fail fast (GRPC_FAIL_FAST=true): a stopped server gives an error at once instead of a session
  that waits for it forever;
- the parameter servers exit by themselves: each worker that reaches the last step puts its index in a
  queue on every ps (`done_queue_N`), and a ps stops once every worker has, or when no unfinished worker
  has been reachable for --cluster_timeout_secs.
"""
import os
import re
import socket
import time

from core import signals
from core.compat import tf
from core.errors import UserError, first_line
from core.progress import say, warn
from engine.cluster import listening

# A blocked step (sync mode: waiting for the other replicas' gradients) is retried after this many
# seconds, so that signals, the end of training and the timeout are checked meanwhile.
STEP_WAIT_SECS = 10.0
FIRST_STEP_WAIT_SECS = 60.0  # the first step also sets up the graph on every task
PROBE_SECS = 2.0  # how often a ps checks that the unfinished workers are still there
POLL_SECS = 0.1  # how often a ps looks for finished workers in its queue
DONE_QUEUE = "done_queue_%d"
# A server of the cluster stopped (connection refused or reset, session gone on the other side).
LOST_ERRORS = (tf.errors.UnavailableError, tf.errors.AbortedError)
_TASK = re.compile(r"/job:(ps|worker)/replica:\d+/task:(\d+)")
_REMOTE = re.compile(r"remote target /job:(ps|worker)/replica:\d+/task:(\d+)")
_GRPC_MESSAGE = re.compile(r'grpc_message:"([^"]+)"')
_ADDRESS = re.compile(r"ipv[46]:(\S+?):(\d+)\b")


def start_server(cluster):
    """This task's tf.distribute.Server, started; None in --master mode (the server is there already)."""
    if cluster.master:
        return None
    # The runtime's calls then fail at once when a server is down (rather than wait for it to come back
    # with no time limit), and this module's loops retry with their timeouts.
    os.environ["GRPC_FAIL_FAST"] = "true"
    try:
        server = tf.distribute.Server(tf.train.ClusterSpec(cluster.spec()), job_name=cluster.job_name,
                                      task_index=cluster.task_index, start=True)
    except (tf.errors.OpError, ValueError, RuntimeError) as error:
        raise UserError("cannot start the server of %s at %s (%s): run this task on the machine of that "
                        "address, with the port free (is another process using it?)"
                        % (cluster.describe(), cluster.address, first_line(error)))
    warn("%s at %s: %s" % (cluster.describe(), cluster.address,
                           listening.exposure(int(cluster.address.rpartition(":")[2]))))
    return server


def device_scope(cluster):
    """Variables on the parameter servers (round robin), everything else on this worker."""
    setter = tf.train.replica_device_setter(ps_tasks=cluster.num_ps, cluster=cluster.spec(),
                                            worker_device="/job:worker/task:%d" % cluster.task_index)
    return tf.device(setter)


def wrap_optimizer(optimizer, cluster):
    """tf.train.SyncReplicasOptimizer around `optimizer` in sync mode, else `optimizer`."""
    if cluster is None or not cluster.sync:
        return optimizer
    return tf.train.SyncReplicasOptimizer(optimizer, replicas_to_aggregate=cluster.replicas_to_aggregate,
                                          total_num_replicas=cluster.num_workers)


def task_name(cluster, job, index):
    hosts = cluster.ps if job == "ps" else cluster.workers
    address = hosts[index] if index < len(hosts) and hosts[index] else None
    return "%s %d%s" % (job, index, " at %s" % address if address else "")


def _remote_task(cluster, error):
    """The task an error of the runtime names as the remote end ("ps 0 at host:port"), or None."""
    text = str(error)
    match = _REMOTE.search(text) or _TASK.search(text)
    return task_name(cluster, match.group(1), int(match.group(2))) if match else None


def _reason(error):
    """What gRPC said (`Connection refused`, `Socket closed`), else the error's first line."""
    match = _GRPC_MESSAGE.search(str(error))
    return match.group(1).rsplit(": ", 1)[-1] if match else first_line(error)


def lost(cluster, error):
    """The UserError for a server of the cluster that stopped answering."""
    who = _remote_task(cluster, error) or (
        "the server at --master %s" % cluster.master if cluster.master else "a parameter server")
    return UserError("%s: lost the connection to %s (%s). A parameter server that stops loses the variables it "
                     "held: stop every process of the cluster and start them again with the same commands; the "
                     "chief resumes from its last checkpoint in --train_dir"
                     % (cluster.describe(), who, _reason(error)))


def reachable(address, timeout=1.0):
    """Whether a TCP connection to `address` (host:port) opens."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except OSError:
        return False


class Runtime:
    """The cluster parts of a worker's training graph and session. Build it in the training graph, before the
    graph is finalized; `session()` then opens the session on the server."""

    def __init__(self, cluster, server, sync_optimizer=None):
        self.cluster = cluster
        self.target = cluster.master or server.target
        self.config = tf.ConfigProto(device_filters=["/job:ps", "/job:worker/task:%d" % cluster.task_index])
        if cluster.master:  # the first call to a remote master retries until this deadline
            self.config.operation_timeout_in_ms = int(cluster.timeout_secs * 1000)
        self.global_init = tf.global_variables_initializer()
        self.local_init = tf.local_variables_initializer()
        self.ready = tf.report_uninitialized_variables()
        self.ready_for_local_init = tf.report_uninitialized_variables(tf.global_variables())
        for op in (self.ready, self.ready_for_local_init):  # run by the SessionManager, if a session opens
            op.mark_used()
        self.sync_hook = self.release_tokens = None
        if sync_optimizer is not None:
            self.sync_hook = sync_optimizer.make_session_run_hook(cluster.is_chief)
            self.sync_hook.begin()
            if cluster.is_chief:
                # At the end, tokens for the replicas still waiting for one, so that they see the last step.
                self.release_tokens = sync_optimizer.get_init_tokens_op(cluster.num_workers)
        self.signal_done = []
        for index in range(cluster.num_ps):
            with tf.device("/job:ps/task:%d" % index):
                queue = tf.FIFOQueue(cluster.num_workers, tf.int32, shapes=[], shared_name=DONE_QUEUE % index,
                                     name="done_queue_%d" % index)
                self.signal_done.append(queue.enqueue(cluster.task_index))
        self.coordinator = tf.train.Coordinator()

    def session(self, graph, initialize=None):
        """The session of this worker, ready to train: the chief runs the variables' initializers then
        `initialize(session)` (restore or fine-tune); the other workers wait until the chief has done so."""
        cluster = self.cluster
        manager = tf.train.SessionManager(local_init_op=self.local_init, ready_op=self.ready,
                                          ready_for_local_init_op=self.ready_for_local_init, graph=graph,
                                          recovery_wait_secs=1)
        start = time.monotonic()
        told = set()
        with signals.interrupts(deferred=True) as stop:  # a signal inside a TensorFlow call would garble it
            session = self._open(manager, initialize, start, told, stop)
        try:
            if self.sync_hook is not None:
                self.sync_hook.after_create_session(session, self.coordinator)
        except LOST_ERRORS as error:
            raise lost(cluster, error)
        return session

    def _open(self, manager, initialize, start, told, stop):
        cluster = self.cluster
        while True:
            stop.check()
            remaining = cluster.timeout_secs - (time.monotonic() - start)
            try:
                if cluster.master:
                    self._check_master()
                if cluster.is_chief:
                    session = manager.prepare_session(self.target, init_op=self.global_init, init_fn=initialize,
                                                      config=self.config)
                else:
                    session = manager.wait_for_session(self.target, config=self.config,
                                                       max_wait_secs=max(1.0, min(STEP_WAIT_SECS, remaining)))
                return session
            except tf.errors.DeadlineExceededError as error:
                waiting = ("the chief (worker 0) to initialize the variables" if not cluster.master else
                           "the server at --master %s (%s)" % (cluster.master, first_line(error)))
            except LOST_ERRORS as error:
                waiting = self._unreachable(error)
            if remaining <= 0:
                raise UserError("%s: gave up after %g s waiting for %s. Start every task of the cluster (%s), check "
                                "their addresses and that the ports are open between the machines; "
                                "--cluster_timeout_secs sets how long to wait"
                                % (cluster.describe(), cluster.timeout_secs, waiting, cluster.source))
            if waiting not in told:
                told.add(waiting)
                say("%s: waiting for %s (up to %g s)" % (cluster.describe(), waiting, cluster.timeout_secs))
            time.sleep(1.0)

    def _unreachable(self, error):
        who = _remote_task(self.cluster, error)
        address = _ADDRESS.search(str(error))
        if who is None and address:
            who = "the server at %s:%s" % address.groups()
        return "%s (%s)" % (who or "the cluster's servers", _reason(error))

    def _check_master(self):
        """--num_ps_tasks against the parameter servers the server at --master knows."""
        with tf.Session(self.target, graph=tf.Graph(), config=self.config) as session:
            devices = session.list_devices()
        tasks = {int(m.group(2)) for d in devices for m in [_TASK.search(d.name)] if m and m.group(1) == "ps"}
        if len(tasks) != self.cluster.num_ps:
            raise UserError("--num_ps_tasks %d contradicts the cluster of --master %s, which has %d parameter "
                            "server(s)" % (self.cluster.num_ps, self.cluster.master, len(tasks)))

    def finish(self, session):
        """After the last step: releases the replicas waiting for a token (chief, sync mode) and tells every
        ps that this worker is done."""
        options = tf.RunOptions(timeout_in_ms=int(STEP_WAIT_SECS * 1000))
        try:
            if self.release_tokens is not None:
                session.run(self.release_tokens, options=options)
            for signal in self.signal_done:
                session.run(signal, options=options)
        except (tf.errors.OpError, RuntimeError) as error:
            warn("%s: could not tell the parameter servers that it finished (%s); they stop after "
                 "--cluster_timeout_secs without a worker" % (self.cluster.describe(), first_line(error)))

    @staticmethod
    def close(session):
        try:
            session.close()
        except (tf.errors.OpError, RuntimeError):
            pass  # a server of the cluster is gone: there is nothing left to release on it


class NullWriter:
    """The events writer of a non-chief worker: only the chief writes summaries."""

    def add_summary(self, summary, step):
        pass

    def close(self):
        pass


def _take_all(session, queued, dequeue, count):
    """The worker indexes in a ps's queue now, taken out. Polled, never a dequeue left waiting with a time limit:
    such a dequeue loses the index that arrives as its deadline passes (TensorFlow takes it from the queue and
    returns DeadlineExceeded: 7 of 500 lost at 5 ms, measured), and the ps then waits for a finished worker."""
    ready = int(session.run(queued))
    return [int(worker) for worker in session.run(dequeue, {count: ready})] if ready else []


def serve(cluster, server=None):
    """A parameter server: serves the variables until every worker has finished (returns 0), or until no
    unfinished worker has been reachable for --cluster_timeout_secs (UserError)."""
    server = server or start_server(cluster)
    index, total = cluster.task_index, cluster.num_workers
    say("%s serving the variables at %s for %d worker(s); it stops when they have finished"
        % (cluster.describe(), cluster.address, total))
    graph = tf.Graph()
    with graph.as_default(), tf.device("/job:ps/task:%d" % index):
        queue = tf.FIFOQueue(total, tf.int32, shapes=[], shared_name=DONE_QUEUE % index, name="done_queue")
        queued = queue.size()
        count = tf.placeholder(tf.int32, [])
        dequeue = queue.dequeue_many(count)
    config = tf.ConfigProto(device_filters=["/job:ps/task:%d" % index])
    finished = set()
    last_seen = {worker: time.monotonic() for worker in range(total)}
    last_probe = time.monotonic()
    with tf.Session(server.target, graph=graph, config=config) as session, \
            signals.interrupts(deferred=True) as stop:  # a signal inside a TensorFlow call would garble it
        while len(finished) < total:
            stop.check()
            for worker in _take_all(session, queued, dequeue, count):
                if worker not in finished:
                    finished.add(worker)
                    say("%s: worker %d finished (%d of %d)" % (cluster.describe(), worker, len(finished), total))
            if len(finished) == total:
                break
            now = time.monotonic()
            if now - last_probe < PROBE_SECS:
                time.sleep(POLL_SECS)
                continue
            last_probe = now
            waiting = [worker for worker in range(total) if worker not in finished]
            for worker in waiting:
                if reachable(cluster.workers[worker]):
                    last_seen[worker] = now
            if all(now - last_seen[worker] > cluster.timeout_secs for worker in waiting):
                raise UserError("%s: no unfinished worker has been reachable for %g s (%s): the parameter server "
                                "stops. Start the workers with the same command, or raise --cluster_timeout_secs"
                                % (cluster.describe(), cluster.timeout_secs,
                                   ", ".join(task_name(cluster, "worker", w) for w in waiting)))
    say("%s: all %d worker(s) finished; stopping" % (cluster.describe(), total))
    return 0
