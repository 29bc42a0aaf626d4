"""Training images/s and single-image latency of several networks at their default sizes (our graphs only).

    python -m bench.bench_models            # mobilenet_v1, mobilenet_v2, inception_v3, resnet_v1_50
    python -m bench.bench_models --smoke    # mobilenet_v1_025 and mobilenet_v2_035 at 64 px

Training: build_train_graph on an in-memory batch of random images (batch 8), median of `rounds` rounds
after warm-up. Latency: the inference-mode network (is_training=False) on one image, median of `repeats`
runs after warm-up.
"""
import sys

import numpy as np

from bench import common
from bench.bench_training import OurTraining

FULL = dict(models=("mobilenet_v1", "mobilenet_v2", "inception_v3", "resnet_v1_50"), image_size=None,
            batch_size=8, steps=4, rounds=3, warmup=2, repeats=20)
SMOKE = dict(models=("mobilenet_v1_025", "mobilenet_v2_035"), image_size=64, batch_size=4, steps=2, rounds=1, warmup=1,
             repeats=3)
NUM_CLASSES = 11


def _latency(model_name, size, repeats, warmup):
    from core.compat import tf
    from nets import nets_factory

    with tf.Graph().as_default() as graph:
        image = tf.placeholder(tf.float32, [1, size, size, 3])
        logits, end_points = nets_factory.get_network_fn(model_name, NUM_CLASSES, is_training=False)(image)
        predictions = nets_factory.predictions_end_point(end_points)
        init = tf.global_variables_initializer()
        graph.finalize()
    value = np.random.default_rng(0).uniform(-1, 1, [1, size, size, 3]).astype(np.float32)
    with tf.Session(graph=graph) as session:
        session.run(init)
        for _ in range(warmup):
            session.run(predictions, {image: value})
        return common.median_seconds(lambda: session.run(predictions, {image: value}), repeats)


def run(smoke=False, **overrides):
    from nets import nets_factory

    config = dict(SMOKE if smoke else FULL, **overrides)
    batch = config["batch_size"]
    rows, figures = [], {}
    for model_name in config["models"]:
        size = config["image_size"] or nets_factory.get_spec(model_name).default_image_size
        settings = common.settings_for(model_name, size, tfrecord="unused", label_mode="multi")
        rng = np.random.default_rng(0)
        arrays = (rng.uniform(-1, 1, (2 * batch, size, size, 3)).astype(np.float32),
                  (rng.uniform(size=(2 * batch, settings.num_classes)) < 0.4).astype(np.float32))
        training_run = OurTraining(settings, "multi", 1000, batch, arrays=arrays)
        for _ in range(config["warmup"]):
            training_run.step()
        rate, _ = common.rate_of_rounds(training_run.step, config["steps"], config["rounds"], batch)
        training_run.close()
        latency = _latency(model_name, size, config["repeats"], config["warmup"])
        figures[model_name] = {"image_size": size, "train_images_per_s": round(rate, 2),
                               "latency_ms": round(1e3 * latency, 2)}
        rows.append(common.row("models", "%s %dpx: training images/s (batch %d, fp32)" % (model_name, size, batch),
                               rate))
        rows.append(common.row("models", "%s %dpx: single-image latency" % (model_name, size), 1e3 * latency,
                               unit="ms"))
    return {"config": dict(config, models=list(config["models"])), "models": figures, "rows": rows}


def main(argv=None):
    return common.smoke_main(run, __doc__, "tiny networks and sizes", argv)


if __name__ == "__main__":
    sys.exit(main())
