"""Training benchmark: images/s of our training step (engine.training.build_train_graph) fed by the real
TFRecord pipeline and by in-memory tensors, in float32 and bf16, against Keras 3 `fit` of
keras.applications.InceptionV3 on the same in-memory images, with the same optimizer and loss kind.

    python -m bench.bench_training            # inception_v3 at 250, batch 8, generated faces
    python -m bench.bench_training --smoke    # mobilenet_v1_025 at 64, a few steps

The sides are timed in alternating rounds (after warm-up steps), so a change of machine load hits every
side alike, and each figure is the best of its rounds: the least disturbed by other processes on a shared
machine (bench_conversion and bench_label_image take the best too). Every round is kept in the result. Ratios: ours on TFRecord / Keras, ours bf16 /
Keras, and the input pipeline's overhead, 1 - (TFRecord images/s) / (in-memory images/s).
"""
import sys

from bench import common

FULL = dict(model_name="inception_v3", image_size=250, batch_size=8, images=200, steps=8, rounds=5,
            warmup=3)
SMOKE = dict(model_name="mobilenet_v1_025", image_size=64, batch_size=4, images=24, steps=2, rounds=1,
             warmup=1)
TARGET_BF16 = 1.6
TARGET_FP32 = 1.05
TARGET_PIPELINE_OVERHEAD = 0.03
# Where bf16 is refused (no AVX512_BF16/AMX), a convolution layer's forward and backward pass is timed in
# float32 and in TensorFlow's emulated bfloat16 instead of whole training steps, which take minutes.
PROBE_SHAPE = (8, 64, 64, 64)


class OurTraining:
    """A training graph and its session; `step()` runs one training step."""

    def __init__(self, settings, label_mode, num_images, batch_size, mixed_precision, arrays=None):
        from core.compat import tf
        from engine import training
        from engine.options import TrainOptions

        self.graph = tf.Graph()
        with self.graph.as_default():
            options = TrainOptions(train_dir="", batch_size=batch_size, mixed_precision=mixed_precision)
            if arrays is None:
                batch = training.input_batch(settings, options)
            else:
                images, labels = arrays
                dataset = tf.data.Dataset.from_tensor_slices({"images": images, "labels": labels})
                dataset = dataset.repeat().batch(batch_size, drop_remainder=True).prefetch(2)
                batch = tf.data.make_one_shot_iterator(dataset).get_next()
            self.ops = training.build_train_graph(settings, options, label_mode, num_images, batch)
            self.graph.finalize()
        self.session = tf.Session(graph=self.graph)
        self.session.run(self.ops.init_op)

    def step(self):
        return self.session.run(self.ops.train_op)

    def close(self):
        self.session.close()


class KerasTraining:
    """Keras 3 InceptionV3 (or MobileNet in smoke mode) `fit` on in-memory arrays."""

    def __init__(self, model_name, image_size, num_classes, label_mode, arrays, batch_size):
        self.keras = common.quiet_keras()
        self.model = common.keras_model(self.keras, model_name, image_size, num_classes, label_mode)
        self.images, self.labels = arrays
        self.batch_size = batch_size

    def rate(self, steps):
        clock = common.BatchClock(self.keras)
        count = (steps + 1) * self.batch_size
        images = common.take_cyclic(self.images, count)
        labels = common.take_cyclic(self.labels, count)
        self.model.fit(images, labels, batch_size=self.batch_size, epochs=1, shuffle=False, verbose=0,
                       callbacks=[clock])
        return common.keras_rate(clock.times, self.batch_size)


def bf16_conv_probe(repeats=3):
    """Seconds of a 3x3 convolution's forward and backward pass in float32 and in bfloat16 (median of
    `repeats`), on this machine's kernels: {"float32": s, "bfloat16": s, "bf16_slowdown": ratio}."""
    import numpy as np

    from core.compat import tf

    seconds = {}
    for dtype in (tf.float32, tf.bfloat16):
        with tf.Graph().as_default() as graph:
            rng = np.random.default_rng(0)
            images = tf.Variable(rng.uniform(-1, 1, PROBE_SHAPE).astype(np.float32))
            kernel = tf.Variable(rng.uniform(-0.1, 0.1, (3, 3, PROBE_SHAPE[-1], PROBE_SHAPE[-1])).astype(np.float32))
            output = tf.nn.conv2d(tf.cast(images, dtype), tf.cast(kernel, dtype), 1, "SAME")
            loss = tf.reduce_sum(tf.cast(output, tf.float32))
            fetches = [loss] + tf.gradients(loss, [images, kernel])
            graph.finalize()
        with tf.Session(graph=graph) as session:
            session.run([images.initializer, kernel.initializer])
            session.run(fetches)
            seconds[dtype.name] = common.median_seconds(lambda: session.run(fetches), repeats)
    return dict(seconds, bf16_slowdown=round(seconds["bfloat16"] / seconds["float32"], 2))


def _our_rate(training_run, steps, batch_size):
    rate, _ = common.rate_of_rounds(training_run.step, steps, 1, batch_size)
    return rate


def run(smoke=False, **overrides):
    from engine import mixed_precision

    config = dict(SMOKE if smoke else FULL, **overrides)
    model_name, size, batch_size = config["model_name"], config["image_size"], config["batch_size"]
    steps, rounds, warmup = config["steps"], config["rounds"], config["warmup"]
    bf16_supported, bf16_reason = mixed_precision.check_support("bf16")
    with common.face_tfrecord(config["images"], size) as tfrecord:
        label_mode, num_images = common.label_mode_of(tfrecord)
        settings = common.settings_for(model_name, size, tfrecord, label_mode=label_mode)
        arrays = common.preprocessed_arrays(settings, max(8 * batch_size, batch_size), is_training=True)
        sides = {
            "ours_tfrecord": OurTraining(settings, label_mode, num_images, batch_size, "none"),
            "ours_memory": OurTraining(settings, label_mode, num_images, batch_size, "none", arrays),
        }
        if bf16_supported:
            sides["ours_bf16_tfrecord"] = OurTraining(settings, label_mode, num_images, batch_size, "bf16")
        keras_side = KerasTraining(model_name, size, settings.num_classes, label_mode, arrays, batch_size)
        for side in sides.values():
            for _ in range(warmup):
                side.step()
        keras_side.rate(warmup)
        rates = {name: [] for name in list(sides) + ["keras_fit"]}
        for _ in range(rounds):
            for name, side in sides.items():
                rates[name].append(_our_rate(side, steps, batch_size))
            rates["keras_fit"].append(keras_side.rate(steps))
        for side in sides.values():
            side.close()
    probe = None if bf16_supported else bf16_conv_probe(1 if smoke else 3)

    best = {name: max(values) for name, values in rates.items()}  # the best round of each side
    keras_rate = best["keras_fit"]
    what = "%s %dpx batch %d" % (model_name, size, batch_size)
    rows = [
        common.row("training", "ours fp32, TFRecord input vs Keras 3 fit fp32 (%s)" % what,
                   best["ours_tfrecord"], keras_rate, target=TARGET_FP32),
        common.row("training", "ours fp32, in-memory input vs Keras 3 fit fp32", best["ours_memory"], keras_rate),
    ]
    if bf16_supported:
        rows.append(common.row("training", "ours bf16, TFRecord input vs Keras 3 fit fp32",
                               best["ours_bf16_tfrecord"], keras_rate, target=TARGET_BF16))
    else:
        rows.append(common.row("training", "ours bf16 vs Keras 3 fit fp32", None, keras_rate, target=TARGET_BF16,
                               note="not run: %s; a 3x3 conv layer (fwd+bwd) takes %.0fx longer in TF's "
                               "emulated bf16 than in fp32 here" % (bf16_reason.split(";")[0],
                                                                    probe["bf16_slowdown"])))
    overhead = 1.0 - best["ours_tfrecord"] / best["ours_memory"]
    rows.append(common.row("training", "input pipeline overhead: 1 - TFRecord / in-memory images/s",
                           100 * overhead, unit="%", target=100 * TARGET_PIPELINE_OVERHEAD, at_most=True))
    return {
        "config": config, "label_mode": label_mode, "bf16_supported": bf16_supported, "bf16_reason": bf16_reason,
        "images_per_s": {name: round(value, 2) for name, value in best.items()},
        "rounds_images_per_s": {name: [round(v, 2) for v in values] for name, values in rates.items()},
        "bf16_conv_probe_seconds": probe,
        "input_pipeline_overhead": round(overhead, 4),
        "rows": rows,
    }


def main(argv=None):
    return common.smoke_main(run, __doc__, "a tiny network and a few steps", argv)


if __name__ == "__main__":
    sys.exit(main())
