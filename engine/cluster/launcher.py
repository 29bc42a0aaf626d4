"""A training cluster on this machine, in one command: parameter servers and workers addressed as 127.0.0.1 on
free ports, each a train_image_classifier.py process with its own TF_CONFIG, their output relayed line by line
with the task's name in front. TensorFlow's servers listen on every network interface at those ports, not only on
127.0.0.1, with no authentication: the launcher and each task say so (docs/cluster.md#security).

    python -m engine.cluster --workers 2 --ps 1 -- --train_dir output/ --model_name lenet \
        --max_number_of_steps 1000 [--sync_replicas]

The flags after `--` go to every process unchanged, as on real machines. When the workers have finished the
parameter servers exit by themselves; if a task fails, the others are stopped. Ctrl-C stops the workers
first (the chief saves a checkpoint), then the parameter servers; a second Ctrl-C kills them at once.
No TensorFlow here.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from core.cli import run_main
from core.errors import UserError
from core.progress import say, warn
from engine.cluster import listening

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "train_image_classifier.py")
HOST = "127.0.0.1"
CLUSTER_FLAGS = ("--ps_hosts", "--worker_hosts", "--job_name", "--task", "--master")
MAX_TASKS = 32  # a TensorFlow process each: more would exhaust the memory of one machine
PS_EXIT_SECS = 60.0  # how long the parameter servers get to exit by themselves after the last worker
STOP_SECS = 60.0  # how long the tasks get to stop after a signal (the chief saves a checkpoint)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m engine.cluster", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="number of workers (default: %(default)s)")
    parser.add_argument("--ps", type=int, default=1, help="number of parameter servers (default: %(default)s)")
    return parser


def free_ports(count, host=HOST):
    """`count` distinct TCP ports free on `host` now (the servers bind them a moment later)."""
    sockets = []
    try:
        for _ in range(count):
            handle = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            handle.bind((host, 0))
            sockets.append(handle)
        return [handle.getsockname()[1] for handle in sockets]
    finally:
        for handle in sockets:
            handle.close()


def tf_config(cluster, job, index):
    return json.dumps({"cluster": cluster, "task": {"type": job, "index": index}})


class Task:
    """One process of the cluster, its output relayed with `[name] ` in front of each line."""

    def __init__(self, name, command, environment, lock):
        self.name = name
        self.process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, errors="replace",
                                        start_new_session=True)  # Ctrl-C reaches the launcher only
        self.threads = [threading.Thread(target=self._relay, args=(stream, target, lock), daemon=True)
                        for stream, target in ((self.process.stdout, sys.stdout), (self.process.stderr, sys.stderr))]
        for thread in self.threads:
            thread.start()

    def _relay(self, stream, target, lock):
        for line in stream:
            with lock:
                target.write("[%s] %s" % (self.name, line if line.endswith("\n") else line + "\n"))
                target.flush()

    @property
    def code(self):
        return self.process.poll()

    def signal(self, signum):
        if self.process.poll() is None:
            try:
                self.process.send_signal(signum)
            except ProcessLookupError:
                pass

    def finish(self):
        for thread in self.threads:
            thread.join(timeout=5)


def _wait(tasks, seconds):
    """Waits until every task of `tasks` has exited or `seconds` have passed; whether they all exited."""
    deadline = time.monotonic() + seconds
    while any(task.code is None for task in tasks):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _stop(workers, servers, signum=signal.SIGINT):
    """Stops the workers (with `signum`: the chief saves a checkpoint), then the parameter servers; kills
    those that do not stop within STOP_SECS, and all of them at a second interrupt."""
    try:
        for task in workers:
            task.signal(signum)
        if not _wait(workers, STOP_SECS):
            warn("a worker did not stop within %g s: killing it" % STOP_SECS)
        for task in servers:
            task.signal(signal.SIGTERM)
        _wait(servers, STOP_SECS)
    except KeyboardInterrupt:
        warn("interrupted again: killing every task")
    for task in workers + servers:
        task.signal(signal.SIGKILL)
    for task in workers + servers:
        task.process.wait()
        task.finish()


def launch(training_flags, num_workers=2, num_ps=1):
    """Runs the cluster until its workers have finished; returns the exit code (0, or the first failure's)."""
    if num_workers < 1 or num_ps < 1:
        raise UserError("--workers and --ps must be at least 1, got %d and %d" % (num_workers, num_ps))
    if num_workers + num_ps > MAX_TASKS:
        raise UserError("--workers %d and --ps %d would start %d TensorFlow processes on this machine, each with its "
                        "own memory: the launcher tries a cluster on one machine with up to %d tasks. Start the tasks "
                        "of a larger cluster on their own machines (docs/cluster.md)"
                        % (num_workers, num_ps, num_workers + num_ps, MAX_TASKS))
    given = [flag for flag in CLUSTER_FLAGS if any(arg == flag or arg.startswith(flag + "=") for arg in training_flags)]
    if given:
        raise UserError("%s: the launcher describes the cluster itself (TF_CONFIG of each process); drop %s"
                        % (", ".join(given), "it" if len(given) == 1 else "them"))
    ports = free_ports(num_ps + num_workers)
    cluster = {"ps": ["%s:%d" % (HOST, port) for port in ports[:num_ps]],
               "worker": ["%s:%d" % (HOST, port) for port in ports[num_ps:]]}
    say("cluster on this machine: ps at %s; workers at %s (worker 0 is the chief)"
        % (", ".join(cluster["ps"]), ", ".join(cluster["worker"])))
    warn("the tasks are given %s addresses, but TensorFlow's gRPC server listens on every network interface of "
         "this machine at each of these ports, and asks no authentication: anyone who reaches them can run code in "
         "the tasks. Keep this machine on a private network or behind a firewall while the cluster runs (%s)"
         % (HOST, listening.SECURITY_DOC))
    lock = threading.Lock()
    servers, workers = [], []
    try:
        for job, tasks, count in (("ps", servers, num_ps), ("worker", workers, num_workers)):
            for index in range(count):
                environment = dict(os.environ, TF_CONFIG=tf_config(cluster, job, index), PYTHONUNBUFFERED="1")
                tasks.append(Task("%s %d" % (job, index), [sys.executable, SCRIPT] + list(training_flags),
                                  environment, lock))
                say("started %s %d (pid %d)" % (job, index, tasks[-1].process.pid))
        failed = None
        while failed is None and any(task.code is None for task in workers):
            failed = next((task for task in workers + servers if task.code not in (None, 0)), None)
            time.sleep(0.2)
        if failed is not None:
            say("%s exited with code %d: stopping the cluster" % (failed.name, failed.code))
            _stop(workers, servers, signal.SIGTERM)
            return failed.code
        if not _wait(servers, PS_EXIT_SECS):
            warn("the parameter servers did not exit %g s after the last worker: stopping them" % PS_EXIT_SECS)
        _stop(workers, servers, signal.SIGTERM)
        failed = next((task for task in workers + servers if task.code != 0), None)
        say("cluster done%s" % ("" if failed is None else ": %s exited with code %d" % (failed.name, failed.code)))
        return 0 if failed is None else failed.code
    except KeyboardInterrupt:
        say("interrupted: stopping the workers (the chief saves a checkpoint), then the parameter servers")
        _stop(workers, servers)
        raise


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    own, training_flags = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv else (argv, [])
    args = build_parser().parse_args(own)
    return launch(training_flags, args.workers, args.ps)


if __name__ == "__main__":
    sys.exit(run_main(main))
