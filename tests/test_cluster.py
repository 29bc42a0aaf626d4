"""Training on a cluster: real clusters of separate processes (1 ps + 2 workers) on 127.0.0.1 only, lenet on
the generated faces. Both modes reach --max_number_of_steps with the global step counting what each mode says;
the chief's checkpoint evaluates, exports and resumes in one process (and a one-process checkpoint resumes
in a cluster); a killed worker rejoins, a restarted chief resumes, a killed ps stops the workers with a
message; the launcher stops everything on Ctrl-C; every process exits by itself, every wait is bounded."""
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

import eval_image_classifier
import export_inference_graph
import train_image_classifier
from core.cli import run_main
from core.compat import tf
from engine.cluster.launcher import free_ports
from tests.conftest import ROOT
from tests.faults import LENET, assert_no_traceback, checkpoint_step, latest_step

TIMEOUT = 240  # seconds any one cluster may take on a loaded 2-core machine
DONE = re.compile(r"^(?:\[worker (\d)\] )?worker (\d) \((chief, )?(sync|async)\): done: step (\d+),.*; (\d+) batches "
                  r"of this worker\)$", re.M)


def flags(data, train_dir, steps, *extra):
    return ["--tfrecord_file", data.tfrecord, "--chemin_liste_labels", data.classes, "--train_dir", str(train_dir),
            "--max_number_of_steps", str(steps)] + LENET + ["--cluster_timeout_secs", "60"] + [str(e) for e in extra]


def launcher(training_flags, workers=2, timeout=TIMEOUT):
    """Runs `python -m engine.cluster` to its end: (exit code, stdout, stderr)."""
    result = subprocess.run([sys.executable, "-m", "engine.cluster", "--workers", str(workers), "--ps", "1", "--"]
                            + training_flags, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout, result.stderr


def saved_step(train_dir):
    """The step the latest checkpoint of a cluster is named after, once every kept checkpoint reads whole. The other
    workers keep training while the chief reads the step and saves (as under research/slim's Supervisor), so a
    checkpoint may hold a global step past its name, by as many steps as they make during the save: 2 on a loaded
    2-core machine, 4 beside a CPU burner (measured), no bound in general. What holds whatever the load: no name is
    ahead of its weights, and each name is read after the previous save has ended, so it is at least the step that
    save holds. (A name counted by the chief alone lags by the other workers' steps: the tests' final checks on
    the last name, >= the target, catch it; tried.)"""
    state = tf.train.get_checkpoint_state(str(train_dir))
    assert state and state.all_model_checkpoint_paths, os.listdir(str(train_dir))
    paths = list(state.all_model_checkpoint_paths)
    named = [int(path.rsplit("-", 1)[1]) for path in paths]
    held = [checkpoint_step(path) for path in paths]
    assert all(name <= step for name, step in zip(named, held)), list(zip(paths, held))
    assert all(step <= name for step, name in zip(held, named[1:])), list(zip(paths, held))
    return named[-1]


def batches_by_worker(out):
    """{worker index: (mode, final step it saw, batches it ran)} from the workers' `done` lines."""
    return {int(m.group(2)): (m.group(4), int(m.group(5)), int(m.group(6))) for m in DONE.finditer(out)}


class Cluster:
    """A cluster's tasks started one by one with their TF_CONFIG, as on real machines."""

    def __init__(self, training_flags, workers=2, log_dir=None):
        ports = free_ports(1 + workers)
        self.spec = {"ps": ["127.0.0.1:%d" % ports[0]], "worker": ["127.0.0.1:%d" % p for p in ports[1:]]}
        self.flags, self.log_dir, self.tasks = training_flags, log_dir, {}

    def start(self, job, index, run=0):
        environment = dict(os.environ, TF_CONFIG=json.dumps({"cluster": self.spec,
                                                             "task": {"type": job, "index": index}}))
        log = open(os.path.join(str(self.log_dir), "%s%d.%d.log" % (job, index, run)), "w+")
        process = subprocess.Popen([sys.executable, os.path.join(ROOT, "train_image_classifier.py")] + self.flags,
                                   cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, text=True)
        self.tasks[(job, index)] = (process, log)
        return process

    def output(self, job, index):
        log = self.tasks[(job, index)][1]
        log.flush()
        with open(log.name) as handle:
            return handle.read()

    def wait_for(self, job, index, pattern, seconds=TIMEOUT):
        """Waits until the task's output matches `pattern`; the match."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            match = re.search(pattern, self.output(job, index), re.M)
            if match:
                return match
            assert self.tasks[(job, index)][0].poll() is None, self.output(job, index)[-3000:]
            time.sleep(0.2)
        raise AssertionError("%s %d never printed %r" % (job, index, pattern))

    def wait(self, job, index, seconds=TIMEOUT):
        return self.tasks[(job, index)][0].wait(timeout=seconds)

    def kill_all(self):
        for process, log in self.tasks.values():
            if process.poll() is None:
                process.kill()
                process.wait()
            log.close()


@pytest.fixture
def cluster_factory(tmp_path):
    made = []

    def make(training_flags, workers=2):
        made.append(Cluster(training_flags, workers, tmp_path))
        return made[-1]
    yield make
    for cluster in made:  # only after a failed assertion is anything still running
        cluster.kill_all()


def test_async_cluster_reaches_the_target_and_its_checkpoint_evaluates_exports_and_resumes_alone(
        faces, tmp_path, capsys):
    train_dir = tmp_path / "train"
    code, out, err = launcher(flags(faces, train_dir, 20))
    assert code == 0, out[-3000:] + err[-3000:]
    assert_no_traceback(err)
    assert "[ps 0] ps 0: all 2 worker(s) finished; stopping" in out and "cluster done" in out
    # Both workers' lines come back named. Worker 1 may join after the chief has run all 20 steps (its session
    # waits for the chief's initialization, polled each second), even after the target was reached: 0 batches
    # of it are then right, as under research/slim; the killed-worker tests below (150 steps) wait for worker
    # 1's own steps in both modes.
    assert re.search(r"^\[worker 1\] worker 1 \(async\): (done: step \d+|global step 2\d already reached "
                     r"--max_number_of_steps 20: nothing to do)", out, re.M), out[-3000:]
    assert re.search(r"^\[worker 0\] worker 0 \(chief, async\): step \d+/20: loss", out, re.M)
    done = batches_by_worker(out)
    assert 0 in done and set(done) <= {0, 1} and all(mode == "async" for mode, _, _ in done.values())
    total = sum(batches for _, _, batches in done.values())
    step = saved_step(train_dir)
    held = checkpoint_step(str(train_dir / ("model.ckpt-%d" % step)))
    # asynchronous: each batch of either worker is one global step
    assert 20 <= step <= held <= total <= 21 and done[0][2] > 0
    assert 'model_checkpoint_path: "model.ckpt-%d"' % step in (train_dir / "checkpoint").read_text()  # relative
    assert json.loads((train_dir / "train_config.json").read_text())["model_name"] == "lenet"
    assert any(name.startswith("events.out.tfevents") for name in os.listdir(train_dir))

    assert run_main(eval_image_classifier.main, ["--checkpoint_path", str(train_dir),
                                                 "--eval_dir", str(tmp_path / "eval")]) == 0
    assert json.loads((tmp_path / "eval" / "metrics.json").read_text())["global_step"] == held
    frozen = tmp_path / "frozen.pb"
    assert run_main(export_inference_graph.main, ["--checkpoint_path", str(train_dir), "--output_file",
                                                  str(tmp_path / "graph.pb"), "--frozen_graph", str(frozen)]) == 0
    assert frozen.stat().st_size > 0
    capsys.readouterr()
    assert run_main(train_image_classifier.main, flags(faces, train_dir, step + 3)) == 0
    output = capsys.readouterr().out
    assert "resuming from %s" % (train_dir / ("model.ckpt-%d" % step)) in output
    assert latest_step(train_dir) == step + 3


def test_sync_cluster_resumes_a_single_process_run_and_steps_once_per_two_gradients(faces, tmp_path, capsys):
    train_dir = tmp_path / "train"
    assert run_main(train_image_classifier.main, flags(faces, train_dir, 3)) == 0
    code, out, err = launcher(flags(faces, train_dir, 13, "--sync_replicas"))
    assert code == 0, out[-3000:] + err[-3000:]
    assert_no_traceback(err)
    assert "resuming from %s" % (train_dir / "model.ckpt-3") in out
    # Worker 1's lines come back named. Its gradients may all come too late to count (the chief's alone make the
    # steps when worker 1 starts late: 2 gradients of any workers make a step, as in research/slim), so any of
    # its ending lines will do; the killed-worker tests (150 steps) wait for worker 1's own steps.
    assert re.search(r"^\[worker 1\] worker 1 \(sync\): (step \d+/13: loss|done: step 1\d|global step 1\d already "
                     r"reached --max_number_of_steps 13: nothing to do)", out, re.M), out[-3000:]
    assert re.search(r"^\[worker 0\] worker 0 \(chief, sync\): step \d+/13: loss", out, re.M)
    assert "worker 0 (chief, sync) of 2 workers, 1 ps, 2 gradients per step" in out
    done = batches_by_worker(out)
    assert {mode for mode, _, _ in done.values()} == {"sync"} and {step for _, step, _ in done.values()} <= {13, 14}
    total = sum(batches for _, _, batches in done.values())
    # synchronous: 10 global steps took 2 gradients each (plus the first tokens TensorFlow hands out)
    assert 20 <= total <= 26, done
    assert 13 <= saved_step(train_dir) <= 14


def test_an_unreachable_cluster_stops_with_a_message_within_the_timeout(faces, tmp_path, cluster_factory):
    cluster = cluster_factory(flags(faces, tmp_path / "train", 5, "--cluster_timeout_secs", "3"))
    started = time.monotonic()
    ps = cluster.start("ps", 0)  # its workers never come
    cluster.spec["ps"] = ["127.0.0.1:%d" % free_ports(1)[0]]  # this worker's ps is nowhere
    worker = cluster.start("worker", 1)
    assert ps.wait(timeout=120) == 2 and worker.wait(timeout=120) == 2
    assert time.monotonic() - started < 120
    ps_out, worker_out = cluster.output("ps", 0), cluster.output("worker", 1)
    assert "no unfinished worker has been reachable for 3 s (worker 0 at 127.0.0.1:" in ps_out
    assert re.search(r"worker 1 \(async\): gave up after 3 s waiting for ps 0 at 127\.0\.0\.1:\d+ \(Connection "
                     r"refused\)", worker_out), worker_out
    assert_no_traceback(ps_out + worker_out)
    assert not (tmp_path / "train").exists() or not os.listdir(tmp_path / "train")


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["async", "sync"])
def test_a_killed_worker_rejoins_and_every_process_exits_by_itself(faces, tmp_path, cluster_factory, mode):
    cluster = cluster_factory(flags(faces, tmp_path / "train", 150, "--batch_size", "32", "--log_every_n_steps", "5",
                                    *(["--sync_replicas"] if mode == "sync" else [])))
    for job, index in (("ps", 0), ("worker", 0), ("worker", 1)):
        cluster.start(job, index)
    killed_at = int(cluster.wait_for("worker", 1, r"^worker 1 \(%s\): step (\d+)/150" % mode).group(1))
    # The chief is held (SIGSTOP) while worker 1 dies and starts again, so that it cannot reach the last step
    # alone however slow the restart is on a loaded machine; it goes on once worker 1's process is up.
    chief = cluster.tasks[("worker", 0)][0]
    chief.send_signal(signal.SIGSTOP)
    try:
        cluster.tasks[("worker", 1)][0].kill()
        cluster.wait("worker", 1)
        cluster.start("worker", 1, run=1)
        cluster.wait_for("worker", 1, r"^training lenet")
    finally:
        chief.send_signal(signal.SIGCONT)
    rejoined = int(cluster.wait_for("worker", 1, r"^worker 1 \(%s\): step (\d+)/150" % mode).group(1))
    assert killed_at < rejoined < 150
    assert [cluster.wait(job, index) for job, index in (("worker", 0), ("worker", 1), ("ps", 0))] == [0, 0, 0]
    assert re.search(r"^worker 1 \(%s\): done: step 15\d, the chief saves" % mode, cluster.output("worker", 1), re.M)
    assert "all 2 worker(s) finished; stopping" in cluster.output("ps", 0)
    assert saved_step(tmp_path / "train") >= 150


@pytest.mark.parametrize("mode", ["async", "sync"])
def test_a_worker_that_joins_after_the_target_says_so_and_exits(faces, tmp_path, cluster_factory, mode):
    # What a worker whose machine starts late meets: the chief has reached the target alone (in sync mode, with
    # two of its own gradients per step).
    cluster = cluster_factory(flags(faces, tmp_path / "train", 10, *(["--sync_replicas"] if mode == "sync" else [])))
    for job, index in (("ps", 0), ("worker", 0)):
        cluster.start(job, index)
    assert cluster.wait("worker", 0) == 0
    chief = cluster.output("worker", 0)
    assert re.search(r"^worker 0 \(chief, %s\): done: step 10, model\.ckpt-10 saved" % mode, chief, re.M), chief
    cluster.start("worker", 1)
    assert [cluster.wait(job, index) for job, index in (("worker", 1), ("ps", 0))] == [0, 0]
    late = cluster.output("worker", 1)
    assert re.search(r"^worker 1 \(%s\): global step 10 already reached --max_number_of_steps 10: nothing to do$"
                     % mode, late, re.M), late[-3000:]
    assert_no_traceback(late)
    assert "all 2 worker(s) finished; stopping" in cluster.output("ps", 0)
    assert saved_step(tmp_path / "train") == 10


@pytest.mark.slow
def test_a_restarted_chief_resumes_from_its_last_checkpoint(faces, tmp_path, cluster_factory):
    cluster = cluster_factory(flags(faces, tmp_path / "train", 150, "--save_interval_secs", "1"))
    for job, index in (("ps", 0), ("worker", 0), ("worker", 1)):
        cluster.start(job, index)
    cluster.wait_for("worker", 0, r"^worker 0 \(chief, async\): step ([3-9]\d|1[0-4]\d)/150")
    cluster.tasks[("worker", 0)][0].kill()
    cluster.wait("worker", 0)
    saved = saved_step(tmp_path / "train")
    assert saved > 0
    cluster.start("worker", 0, run=1)
    cluster.wait_for("worker", 0, r"^resuming from .*model\.ckpt-%d$" % saved)
    assert [cluster.wait(job, index) for job, index in (("worker", 0), ("worker", 1), ("ps", 0))] == [0, 0, 0]
    assert saved_step(tmp_path / "train") >= 150


@pytest.mark.slow
def test_a_killed_ps_stops_the_workers_with_a_message_and_the_cluster_resumes_when_restarted(
        faces, tmp_path, cluster_factory):
    training_flags = flags(faces, tmp_path / "train", 400, "--save_interval_secs", "1")
    cluster = cluster_factory(training_flags)
    for job, index in (("ps", 0), ("worker", 0), ("worker", 1)):
        cluster.start(job, index)
    cluster.wait_for("worker", 0, r"^worker 0 \(chief, async\): step ([3-9]\d|[1-3]\d\d)/400")
    cluster.tasks[("ps", 0)][0].kill()
    killed = time.monotonic()
    assert [cluster.wait("worker", 0, 60), cluster.wait("worker", 1, 60)] == [2, 2]
    assert time.monotonic() - killed < 60
    for index in (0, 1):
        out = cluster.output("worker", index)
        assert "lost the connection to ps 0 at %s" % cluster.spec["ps"][0] in out, out[-2000:]
        assert "start them again with the same commands" in out
        assert_no_traceback(out)
    saved = saved_step(tmp_path / "train")
    assert 0 < saved < 400
    code, out, err = launcher(training_flags)
    assert code == 0, out[-3000:] + err[-3000:]
    assert "[worker 0] resuming from %s" % (tmp_path / "train" / ("model.ckpt-%d" % saved)) in out
    assert saved_step(tmp_path / "train") >= 400


@pytest.mark.slow
def test_ctrl_c_on_the_launcher_stops_every_task_and_the_chief_saves(faces, tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "engine.cluster", "--workers", "2", "--ps", "1", "--"]
                               + flags(faces, tmp_path / "train", 100000), cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    lines, pids = [], []
    try:
        for line in process.stdout:
            lines.append(line)
            pids += [int(pid) for pid in re.findall(r"^started \w+ \d \(pid (\d+)\)", line)]
            step = re.match(r"\[worker 0\] worker 0 \(chief, async\): step (\d+)/", line)
            if step and int(step.group(1)) >= 5:
                break
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    out = "".join(lines) + out
    assert process.returncode == 130 and time.monotonic() - sent < 120
    assert len(pids) == 3
    for pid in pids:  # the launcher waited for each of them: gone, not left behind
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    saved = re.search(r"^\[worker 0\] worker 0 \(chief, async\): SIGINT received: saved (model\.ckpt-(\d+))", out,
                      re.M)
    assert saved, out[-3000:]
    # named after the step the chief read; worker 1 may have run one more batch before the variables were saved
    assert checkpoint_step(str(tmp_path / "train" / saved.group(1))) - int(saved.group(2)) in (0, 1)
    assert_no_traceback(err)


SERVERS = """
import sys, time
from core.compat import tf
spec = tf.train.ClusterSpec({"ps": [sys.argv[1]], "worker": [sys.argv[2]]})
servers = [tf.distribute.Server(spec, job_name=job, task_index=0) for job in ("ps", "worker")]
print("serving", flush=True)
time.sleep(float(sys.argv[3]))
"""


@pytest.mark.slow
def test_master_names_an_existing_server_as_in_research_slim(faces, tmp_path):
    ps, worker = ("127.0.0.1:%d" % port for port in free_ports(2))
    servers = subprocess.Popen([sys.executable, "-c", SERVERS, ps, worker, "200"], cwd=ROOT, stdout=subprocess.PIPE,
                               text=True)
    try:
        assert servers.stdout.readline().strip() == "serving"
        base = [sys.executable, os.path.join(ROOT, "train_image_classifier.py")]
        result = subprocess.run(base + flags(faces, tmp_path / "train", 4, "--master", "grpc://" + worker,
                                             "--num_ps_tasks", "1"), cwd=ROOT, capture_output=True, text=True,
                                timeout=TIMEOUT)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert "worker 0 (chief, async): done: step 4, model.ckpt-4 saved" in result.stdout
        result = subprocess.run(base + flags(faces, tmp_path / "other", 4, "--master", "grpc://" + worker,
                                             "--num_ps_tasks", "2"), cwd=ROOT, capture_output=True, text=True,
                                timeout=TIMEOUT)
        assert result.returncode == 2
        assert "--num_ps_tasks 2 contradicts the cluster of --master grpc://%s, which has 1" % worker in result.stderr
        # a task whose address is taken by another process
        environment = dict(os.environ, TF_CONFIG=json.dumps({"cluster": {"ps": [ps], "worker": [worker]},
                                                             "task": {"type": "worker", "index": 0}}))
        result = subprocess.run(base + flags(faces, tmp_path / "taken", 4), cwd=ROOT, capture_output=True, text=True,
                                timeout=TIMEOUT, env=environment)
        assert result.returncode == 2
        assert "cannot start the server of worker 0 (chief, async) at %s" % worker in result.stderr
        assert_no_traceback(result.stderr)
    finally:
        servers.kill()
        servers.wait()
