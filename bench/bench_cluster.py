"""Cluster benchmark: images/s of training with 1 and 2 local workers (and 1 ps, `python -m engine.cluster`)
against the same training in one process, and the time of a synchronous global step (2 workers, 2 gradients
per step) against one process's step. Same model, image size, batch and data on every side.

    python -m bench.bench_cluster            # cifarnet at 32 px, batch 32, 2 rounds
    python -m bench.bench_cluster --smoke    # lenet at 28 px, a few steps, 1 round

Each side runs as real processes (TensorFlow's gRPC servers on 127.0.0.1), the sides alternate round by
round, and each figure is the best round. A rate is measured on the chief's progress lines, as they arrive,
between the first line at or after the warm-up step and the last line before the target: process start,
graph building, the first steps and the final save are left out. Async: a global step is one worker's batch;
sync: a global step applies 2 batches (one per worker).

On a 2-core machine the workers share the cores the single process has to itself: the figures measure what
the cluster costs (gRPC transfers of every variable and gradient through the ps, at every step), not the
speed-up of machines of their own.
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
SMOKE = dict(model_name="lenet", image_size=28, batch_size=8, images=40, face_size=64, steps=14, warmup=4, rounds=1)
SIDES = ("one_process", "cluster_1_worker", "cluster_2_workers_async", "cluster_2_workers_sync")
_STEP = re.compile(r"^(?:\[worker 0\] worker 0 \(chief, \w+\): )?step (\d+)/\d+: ")


def _command(side, flags):
    script = [sys.executable, os.path.join(common.ROOT, "train_image_classifier.py")]
    launcher = [sys.executable, "-m", "engine.cluster", "--ps", "1", "--workers"]
    if side == "one_process":
        return script + flags
    if side == "cluster_1_worker":
        return launcher + ["1", "--"] + flags
    return launcher + ["2", "--"] + flags + (["--sync_replicas"] if side.endswith("sync") else [])


def timed_steps(command, timeout=900):
    """[(seconds since start, global step)] of the chief's progress lines, timed as they arrive."""
    start = time.monotonic()
    process = subprocess.Popen(command, cwd=common.ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=dict(os.environ, PYTHONUNBUFFERED="1"))
    steps, lines = [], []
    try:
        for line in process.stdout:
            lines.append(line)
            match = _STEP.match(line)
            if match:
                steps.append((time.monotonic() - start, int(match.group(1))))
        code = process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if code != 0:
        raise RuntimeError("%s exited with %d: %s" % (" ".join(command[:4]), code, "".join(lines[-20:])))
    return steps


def step_seconds(steps, warmup, target):
    """Seconds per global step between the first line at or after `warmup` and the last one before `target`."""
    window = [(t, step) for t, step in steps if warmup <= step < target]
    (t0, s0), (t1, s1) = window[0], window[-1]
    if s1 <= s0:
        raise RuntimeError("too few progress lines between steps %d and %d" % (warmup, target))
    return (t1 - t0) / (s1 - s0)


def run(smoke=False, **overrides):
    config = dict(SMOKE if smoke else FULL, **overrides)
    model, size, batch = config["model_name"], config["image_size"], config["batch_size"]
    seconds = {side: [] for side in SIDES}
    with common.face_tfrecord(config["images"], config["face_size"]) as tfrecord:
        for _ in range(config["rounds"]):
            for side in SIDES:
                with tempfile.TemporaryDirectory(prefix="bench_cluster_") as train_dir:
                    flags = ["--model_name", model, "--train_image_size", str(size), "--batch_size", str(batch),
                             "--max_number_of_steps", str(config["steps"]), "--tfrecord_file", tfrecord,
                             "--chemin_liste_labels", common.CLASSES_FILE, "--train_dir", train_dir,
                             "--optimizer", "sgd", "--log_every_n_steps", "1", "--save_summaries_secs", "100000",
                             "--save_interval_secs", "100000"]
                    steps = timed_steps(_command(side, flags))
                    seconds[side].append(step_seconds(steps, config["warmup"], config["steps"]))
    best = {side: min(values) for side, values in seconds.items()}
    images_per_step = {side: batch * (2 if side.endswith("sync") else 1) for side in SIDES}
    rate = {side: images_per_step[side] / best[side] for side in SIDES}
    cores = os.cpu_count()
    what = "%s %dpx batch %d, %d CPU cores" % (model, size, batch, cores)
    overhead = "overhead, not speed-up: the workers share the %d cores" % cores
    rows = [
        common.row("cluster", "1 worker + 1 ps (local) vs one process (%s)" % what, rate["cluster_1_worker"],
                   rate["one_process"], note="the cost of the ps: every step sends the variables and gradients "
                   "through gRPC"),
        common.row("cluster", "2 async workers + 1 ps (local) vs one process", rate["cluster_2_workers_async"],
                   rate["one_process"], note=overhead),
        common.row("cluster", "2 sync workers + 1 ps (local) vs one process", rate["cluster_2_workers_sync"],
                   rate["one_process"], note=overhead),
        common.row("cluster", "sync global step (2 workers, 2 batches) vs one process's step", best[
            "cluster_2_workers_sync"], best["one_process"], unit="s/step", note="a sync step applies twice the "
                   "images of a one-process step"),
    ]
    return {
        "config": config, "cpu_count": cores,
        "seconds_per_step": {side: round(value, 4) for side, value in best.items()},
        "rounds_seconds_per_step": {side: [round(v, 4) for v in values] for side, values in seconds.items()},
        "images_per_s": {side: round(value, 2) for side, value in rate.items()},
        "rows": rows,
    }


def main(argv=None):
    return common.smoke_main(run, __doc__, "lenet and a few steps, one round", argv)


if __name__ == "__main__":
    sys.exit(main())
