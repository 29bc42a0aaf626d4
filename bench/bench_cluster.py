"""Cluster benchmark: training with 1 and 2 local workers (and 1 ps, `python -m engine.cluster`) against the
same training in one process: images/s, the CPU time each image costs, and the time of a synchronous global
step (2 workers, 2 gradients per step) against one process's step. Same model, image size, batch and data on
every side.

    python -m bench.bench_cluster            # cifarnet at 32 px, batch 32, 2 rounds
    python -m bench.bench_cluster --smoke    # lenet at 28 px, a few steps, 1 round

Each side runs as real processes (TensorFlow's gRPC servers on 127.0.0.1), the sides alternate round by
round, and each figure is the best round. The figures are taken on the workers' progress lines (each names the
global step, which counts every worker's batches: in async mode either worker may run most steps), as they
arrive, between the first line at or after the warm-up step and the last line before the target (process
start, graph building, the first steps and the final save are left out): wall seconds, and the CPU seconds
(user + system, read from /proc) of the training processes (ps and workers, not the launcher). Async: a
global step is one worker's batch; sync: a global step applies 2 batches (one per worker).

On one machine the workers share its cores: images/s shows how the cluster behaves there, not the speed-up
of machines of their own, and on a machine shared with other jobs more processes also get a larger share of
the cores. CPU seconds per image are what the cluster costs (every variable and gradient goes through the
ps by gRPC at every step), and depend much less on the other jobs.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

from bench import common

FULL = dict(model_name="cifarnet", image_size=32, batch_size=32, images=400, face_size=64, steps=120, warmup=20,
            rounds=2)
SMOKE = dict(model_name="lenet", image_size=28, batch_size=8, images=40, face_size=64, steps=12, warmup=2, rounds=1)
SIDES = ("one_process", "cluster_1_worker", "cluster_2_workers_async", "cluster_2_workers_sync")
_STEP = re.compile(r"^(?:\[worker \d+\] worker \d+ \([\w, ]+\): )?step (\d+)/\d+: ")
_STARTED = re.compile(r"^started (?:ps|worker) \d+ \(pid (\d+)\)")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _command(side, flags):
    script = [sys.executable, os.path.join(common.ROOT, "train_image_classifier.py")]
    launcher = [sys.executable, "-m", "engine.cluster", "--ps", "1", "--workers"]
    if side == "one_process":
        return script + flags
    if side == "cluster_1_worker":
        return launcher + ["1", "--"] + flags
    return launcher + ["2", "--"] + flags + (["--sync_replicas"] if side.endswith("sync") else [])


def cpu_seconds(pids):
    """User + system CPU seconds used so far by the processes `pids` (None where /proc cannot tell)."""
    total = 0.0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    return total


def timed_steps(command, timeout=900):
    """[(wall seconds, CPU seconds of the training processes, global step)] at each progress line of a worker,
    as they arrive."""
    start = time.monotonic()
    process = subprocess.Popen(command, cwd=common.ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=dict(os.environ, PYTHONUNBUFFERED="1"))
    is_launcher = "engine.cluster" in command
    pids = [] if is_launcher else [process.pid]
    steps, lines = [], []
    try:
        for line in process.stdout:
            lines.append(line)
            started = _STARTED.match(line) if is_launcher else None
            if started:
                pids.append(int(started.group(1)))
            match = _STEP.match(line)
            if match:
                steps.append((time.monotonic() - start, cpu_seconds(pids), int(match.group(1))))
        code = process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if code != 0:
        raise RuntimeError("%s exited with %d: %s" % (" ".join(command[:4]), code, "".join(lines[-20:])))
    return steps


def per_step(steps, warmup, target):
    """(wall seconds, CPU seconds or None) per global step between the first progress line at or after `warmup`
    and the last one up to `target`; all of the lines when fewer than two fall in between."""
    window = [entry for entry in steps if warmup <= entry[2] <= target]
    if len(window) < 2:
        window = steps
    if len(window) < 2 or window[-1][2] <= window[0][2]:
        raise RuntimeError("too few progress lines between steps %d and %d (%s)"
                           % (warmup, target, ", ".join(str(entry[2]) for entry in steps) or "none"))
    (t0, c0, s0), (t1, c1, s1) = window[0], window[-1]
    return (t1 - t0) / (s1 - s0), None if c0 is None or c1 is None else (c1 - c0) / (s1 - s0)


def run(smoke=False, **overrides):
    config = dict(SMOKE if smoke else FULL, **overrides)
    model, size, batch = config["model_name"], config["image_size"], config["batch_size"]
    seconds = {side: [] for side in SIDES}
    cpu = {side: [] for side in SIDES}
    load_before = os.getloadavg()
    with common.face_tfrecord(config["images"], config["face_size"]) as tfrecord:
        for _ in range(config["rounds"]):
            for side in SIDES:
                with tempfile.TemporaryDirectory(prefix="bench_cluster_") as train_dir:
                    flags = ["--model_name", model, "--train_image_size", str(size), "--batch_size", str(batch),
                             "--max_number_of_steps", str(config["steps"]), "--tfrecord_file", tfrecord,
                             "--chemin_liste_labels", common.CLASSES_FILE, "--train_dir", train_dir,
                             "--optimizer", "sgd", "--log_every_n_steps", "1", "--save_summaries_secs", "100000",
                             "--save_interval_secs", "100000"]
                    wall, cpu_time = per_step(timed_steps(_command(side, flags)), config["warmup"], config["steps"])
                    seconds[side].append(wall)
                    cpu[side].append(cpu_time)
    images_per_step = {side: batch * (2 if side.endswith("sync") else 1) for side in SIDES}
    best = {side: min(values) for side, values in seconds.items()}
    rate = {side: images_per_step[side] / best[side] for side in SIDES}
    cpu_ms = {side: (1000 * min(values) / images_per_step[side] if None not in values else None)
              for side, values in cpu.items()}
    cores = os.cpu_count()
    what = "%s %dpx batch %d, %d CPU cores" % (model, size, batch, cores)
    shared = "the workers share this machine's %d cores: not the speed-up of separate machines" % cores
    rows = [
        common.row("cluster", "1 worker + 1 ps (local) vs one process (%s)" % what, rate["cluster_1_worker"],
                   rate["one_process"], note="every step sends the variables and gradients through the ps (gRPC)"),
        common.row("cluster", "2 async workers + 1 ps (local) vs one process", rate["cluster_2_workers_async"],
                   rate["one_process"], note=shared),
        common.row("cluster", "2 sync workers + 1 ps (local) vs one process", rate["cluster_2_workers_sync"],
                   rate["one_process"], note=shared),
        common.row("cluster", "sync global step (2 workers, 2 batches) vs one process's step", best[
            "cluster_2_workers_sync"], best["one_process"], unit="s/step", note="a sync step applies twice the "
                   "images of a one-process step"),
    ]
    for side, label in (("cluster_1_worker", "1 worker + 1 ps"), ("cluster_2_workers_async", "2 async workers + 1 ps"),
                        ("cluster_2_workers_sync", "2 sync workers + 1 ps")):
        rows.append(common.row("cluster", "CPU time per image, %s vs one process" % label, cpu_ms[side],
                               cpu_ms["one_process"], unit="ms", note="user + system, all training processes"))
    return {
        "config": config, "cpu_count": cores,
        "load_average": {"before": list(load_before), "after": list(os.getloadavg())},
        "seconds_per_step": {side: round(value, 4) for side, value in best.items()},
        "rounds_seconds_per_step": {side: [round(v, 4) for v in values] for side, values in seconds.items()},
        "images_per_s": {side: round(value, 2) for side, value in rate.items()},
        "cpu_ms_per_image": {side: None if value is None else round(value, 2) for side, value in cpu_ms.items()},
        "rounds_cpu_seconds_per_step": {side: [None if v is None else round(v, 4) for v in values]
                                        for side, values in cpu.items()},
        "rows": rows,
    }


def main(argv=None):
    return common.smoke_main(run, __doc__, "lenet and a few steps, one round", argv)


if __name__ == "__main__":
    sys.exit(main())
