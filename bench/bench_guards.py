"""What the guards of a training run cost (issue 22): the check that every variable is finite, run before each
checkpoint is saved (engine/model/finite.py), against the save itself; and the lock of --train_dir
(core/dir_lock.py), taken once per run. The loss check of each step compares one float already fetched: it
costs nothing measurable and is not timed.

    python -m bench.bench_guards            # inception_v3 at 250: 68 million values with RMSProp's slots, 270 MB
    python -m bench.bench_guards --smoke    # lenet at 28

The check and the save are timed in alternating rounds in one process, on the training graph of
engine.training.graph.build_train_graph fed by one batch in memory.
"""
import statistics
import sys
import tempfile
import time

import numpy as np

from bench import common

FULL = dict(model_name="inception_v3", image_size=250, batch_size=2, rounds=7, warmup=1)
SMOKE = dict(model_name="lenet", image_size=28, batch_size=2, rounds=2, warmup=1)
TARGET_CHECK_VS_SAVE = 0.05  # the check adds at most 5% to a save
LOCK_ROUNDS = 200


def _training_graph(model_name, image_size, batch_size):
    from core.compat import tf
    from engine.config.options import TrainOptions
    from engine.config.settings import Settings
    from engine.training import graph as training_graph

    settings = Settings(model_name, image_size, "inception", False, "unused.tfrecord", "unused.txt",
                        list(common.CLASSES), 25.0, 0, "multi")
    options = TrainOptions(train_dir="unused", batch_size=batch_size)
    graph = tf.Graph()
    with graph.as_default():
        rng = np.random.default_rng(0)
        batch = {"images": tf.constant(rng.uniform(-1, 1, [batch_size, image_size, image_size, 3]).astype(np.float32)),
                 "labels": tf.constant(rng.integers(0, 2, [batch_size, len(common.CLASSES)]).astype(np.float32))}
        ops = training_graph.build_train_graph(settings, options, "multi", 100, batch)
        weights = sum(int(np.prod(v.shape.as_list())) for v in tf.global_variables())
        graph.finalize()
    session = tf.Session(graph=graph)
    session.run(ops.init_op)
    return session, ops, weights


def _lock_seconds(directory):
    from core import dir_lock

    times = []
    for _ in range(LOCK_ROUNDS):
        start = time.perf_counter()
        with dir_lock.holding(directory, "--train_dir"):
            pass
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(smoke=False):
    config = SMOKE if smoke else FULL
    session, ops, weights = _training_graph(config["model_name"], config["image_size"], config["batch_size"])
    with tempfile.TemporaryDirectory(prefix="bench_guards_") as directory:
        saved = [0]

        def save():
            saved[0] += 1
            with session.graph.as_default():  # Saver.save outside its graph would run eagerly
                ops.saver.save(session, directory + "/model.ckpt", global_step=saved[0])

        def check():
            assert not ops.finite_check.non_finite(session)

        medians, times = common.alternating_medians({"check": check, "save": save}, config["rounds"],
                                                    config["warmup"])
        lock = _lock_seconds(directory)
    session.close()
    name = "%s at %d (%.1f M weights)" % (config["model_name"], config["image_size"], weights / 1e6)
    return {
        "config": config, "weights": weights, "seconds": medians, "times": times, "lock_seconds": lock,
        "rows": [
            common.row("guards", "finite-weights check vs a checkpoint save, %s" % name, medians["check"] * 1000,
                       medians["save"] * 1000, unit="ms", target=TARGET_CHECK_VS_SAVE, at_most=True),
            common.row("guards", "--train_dir lock, taken and released once per run", lock * 1000, unit="ms"),
        ],
    }


if __name__ == "__main__":
    sys.exit(common.smoke_main(run, __doc__, "lenet at 28, two rounds"))
