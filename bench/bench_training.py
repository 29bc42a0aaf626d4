"""Training benchmark: seconds per step of our training step (engine.training.build_train_graph) fed by the
real TFRecord pipeline and by in-memory tensors, in float32 and in bf16 (each bf16 method of
engine/model/mixed_precision.py), against Keras 3 keras.applications.InceptionV3 at its fastest: one batch in
memory, compiled `train_on_batch`, in float32 and under the `mixed_bfloat16` policy, same optimizer and loss
kind.

    python -m bench.bench_training            # inception_v3 at 250, batch 8, generated faces
    python -m bench.bench_training --smoke    # mobilenet_v1_025 at 64, a few steps

The training command itself is also timed from outside, as a user sees it (`command_seconds_per_step`:
`train_image_classifier.py` in a child process, the mean of its progress lines from step 8 to 28, summaries
by time only, so at its first and last step), in float32 and in bf16, against the same Keras steps: what
the command adds around the step (input pipeline, summaries, progress) counts there.

Every side's steps are timed one by one in alternating rounds (after warm-up steps), so a change of machine
load hits every side alike; each figure is the median step over all rounds, converted to images/s. Every
step time is kept in the result. bf16 sides run only where engine.model.mixed_precision.check_support("bf16")
says the CPU runs bfloat16 natively (AVX512_BF16 or AMX); elsewhere a convolution probe says how slow the
emulated kernels are. Ratios: ours fp32 on TFRecord / Keras fp32; ours bf16 (fastest method) / Keras fp32
and / Keras mixed_bfloat16; the input pipeline's overhead, 1 - (TFRecord images/s) / (in-memory images/s).
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile

from bench import common

FULL = dict(model_name="inception_v3", image_size=250, batch_size=8, images=200, steps=8, rounds=5,
            warmup=3, command_steps=28, command_from=8)
SMOKE = dict(model_name="mobilenet_v1_025", image_size=64, batch_size=4, images=24, steps=2, rounds=1,
             warmup=1, command_steps=5, command_from=2)
TARGET_FP32 = 1.05
TARGET_BF16_VS_KERAS_FP32 = 1.9
TARGET_BF16_VS_KERAS_BF16 = 1.5
# Issue 25's targets for the command timed from outside, on a CPU with AMX.
TARGET_COMMAND_FP32 = 1.1
TARGET_COMMAND_BF16_VS_KERAS_FP32 = 2.0
TARGET_COMMAND_BF16_VS_KERAS_BF16 = 1.5
TARGET_PIPELINE_OVERHEAD = 0.03
# Where bf16 is refused (no AVX512_BF16/AMX), a convolution layer's forward and backward pass is timed in
# float32 and in TensorFlow's emulated bfloat16 instead of whole training steps, which take minutes.
PROBE_SHAPE = (8, 64, 64, 64)


class OurTraining:
    """A training graph and its session; `step()` runs one training step."""

    def __init__(self, settings, label_mode, num_images, batch_size, mixed_precision="none", bf16_method=None,
                 arrays=None, seed=None):
        from core.compat import tf
        from engine.config.options import TrainOptions
        from engine.model import mixed_precision as mp
        from engine.training import graph as training_graph

        self.graph = tf.Graph()
        with self.graph.as_default():
            options = TrainOptions(train_dir="", batch_size=batch_size, mixed_precision=mixed_precision, seed=seed)
            if seed is not None:
                tf.set_random_seed(seed)
            if arrays is None:
                batch = training_graph.input_batch(settings, options)
            else:
                images, labels = arrays
                dataset = tf.data.Dataset.from_tensor_slices({"images": images, "labels": labels})
                dataset = dataset.repeat().batch(batch_size, drop_remainder=True).prefetch(2)
                batch = tf.data.make_one_shot_iterator(dataset).get_next()
            self.ops = training_graph.build_train_graph(settings, options, label_mode, num_images, batch,
                                                  bf16_method=bf16_method)
            self.graph.finalize()
        self.session = tf.Session(graph=self.graph, config=mp.session_config(mixed_precision, bf16_method))
        self.session.run(self.ops.init_op)

    def step(self):
        return self.session.run(self.ops.train_op)

    def close(self):
        self.session.close()


class KerasTraining:
    """Keras 3 InceptionV3 (or MobileNet in smoke mode) `train_on_batch` on one batch held in memory, compiled
    (Keras's default jit_compile="auto"), under the float32 or the mixed_bfloat16 policy."""

    def __init__(self, model_name, image_size, num_classes, label_mode, arrays, batch_size, policy="float32"):
        self.keras = common.quiet_keras()
        previous = self.keras.mixed_precision.global_policy().name
        self.keras.mixed_precision.set_global_policy(policy)
        try:
            self.model = common.keras_model(self.keras, model_name, image_size, num_classes, label_mode)
        finally:
            self.keras.mixed_precision.set_global_policy(previous)
        self.images, self.labels = arrays[0][:batch_size], arrays[1][:batch_size]

    def step(self):
        return self.model.train_on_batch(self.images, self.labels)

    def close(self):
        pass


def command_seconds_per_step(config, tfrecord, mode):
    """Mean seconds per step of `train_image_classifier.py` on `tfrecord`, from its progress lines (one a step)
    after step `command_from` to step `command_steps`, summaries by time only (the first and last step)."""
    with tempfile.TemporaryDirectory(prefix="bench_command_") as train_dir:
        completed = subprocess.run([
            sys.executable, os.path.join(common.ROOT, "train_image_classifier.py"), "--model_name",
            config["model_name"], "--train_image_size", str(config["image_size"]), "--batch_size",
            str(config["batch_size"]), "--max_number_of_steps", str(config["command_steps"]), "--mixed_precision",
            mode, "--tfrecord_file", tfrecord, "--classes_file", common.CLASSES_FILE, "--train_dir", train_dir,
            "--log_every_n_steps", "1", "--save_summaries_steps", "0", "--save_interval_secs", "100000"],
            capture_output=True, text=True, cwd=common.ROOT, check=True)
    seconds = [float(value) for value in re.findall(r"\(([0-9.]+) sec/step", completed.stdout + completed.stderr)]
    return statistics.mean(seconds[config["command_from"]:config["command_steps"]])


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
            seconds[dtype.name] = common.median_seconds(lambda fetches=fetches: session.run(fetches), repeats)
    return dict(seconds, bf16_slowdown=round(seconds["bfloat16"] / seconds["float32"], 2))


def _command_rows(config, command_rate, rate):
    """The rows of the command timed from outside (`command_rate`: images/s by mode) against Keras's steps."""
    rows = [common.row("training", "the training command fp32, timed from outside (progress lines of steps %d to "
                       "%d) vs Keras 3 train_on_batch fp32" % (config["command_from"], config["command_steps"]),
                       command_rate["none"], rate["keras_fp32"], target=TARGET_COMMAND_FP32)]
    if "bf16" in command_rate:
        rows.append(common.row("training", "the training command bf16, timed from outside, vs Keras 3 fp32",
                               command_rate["bf16"], rate["keras_fp32"], target=TARGET_COMMAND_BF16_VS_KERAS_FP32))
        rows.append(common.row("training", "the training command bf16, timed from outside, vs Keras 3 "
                               "mixed_bfloat16", command_rate["bf16"], rate["keras_mixed_bfloat16"],
                               target=TARGET_COMMAND_BF16_VS_KERAS_BF16))
    return rows


def run(smoke=False, **overrides):
    from engine.model import mixed_precision

    config = dict(SMOKE if smoke else FULL, **overrides)
    model_name, size, batch_size = config["model_name"], config["image_size"], config["batch_size"]
    steps, rounds, warmup = config["steps"], config["rounds"], config["warmup"]
    bf16_supported, bf16_reason = mixed_precision.check_support("bf16")
    with common.face_tfrecord(config["images"], size) as tfrecord:
        label_mode, num_images = common.label_mode_of(tfrecord)
        settings = common.settings_for(model_name, size, tfrecord, label_mode=label_mode)
        arrays = common.preprocessed_arrays(settings, max(8 * batch_size, batch_size), is_training=True)
        keras_args = (model_name, size, settings.num_classes, label_mode, arrays, batch_size)
        sides = {
            "ours_tfrecord": OurTraining(settings, label_mode, num_images, batch_size),
            "ours_memory": OurTraining(settings, label_mode, num_images, batch_size, arrays=arrays),
            "keras_fp32": KerasTraining(*keras_args),
        }
        if bf16_supported:
            for method in mixed_precision.BF16_METHODS:
                sides["ours_bf16_" + method] = OurTraining(settings, label_mode, num_images, batch_size, "bf16",
                                                           method)
            sides["keras_mixed_bfloat16"] = KerasTraining(*keras_args, policy="mixed_bfloat16")
        for side in sides.values():
            for _ in range(warmup):
                side.step()
        seconds = {name: [] for name in sides}
        for _ in range(rounds):
            for name, side in sides.items():
                seconds[name].extend(common.step_seconds(side.step, steps))
        for side in sides.values():
            side.close()
        command = {mode: command_seconds_per_step(config, tfrecord, mode)
                   for mode in (("none", "bf16") if bf16_supported else ("none",))}
    probe = None if bf16_supported else bf16_conv_probe(1 if smoke else 3)

    rate = {name: batch_size / statistics.median(values) for name, values in seconds.items()}
    keras_fp32 = rate["keras_fp32"]
    what = "%s %dpx batch %d" % (model_name, size, batch_size)
    rows = [
        common.row("training", "ours fp32, TFRecord input vs Keras 3 train_on_batch fp32, one batch in memory "
                   "(%s)" % what, rate["ours_tfrecord"], keras_fp32, target=TARGET_FP32),
        common.row("training", "ours fp32, in-memory input vs Keras 3 train_on_batch fp32", rate["ours_memory"],
                   keras_fp32),
    ]
    best_method = None
    if bf16_supported:
        best_method = max(mixed_precision.BF16_METHODS, key=lambda method: rate["ours_bf16_" + method])
        for method in mixed_precision.BF16_METHODS:
            rows.append(common.row("training", "ours bf16 (%s method), TFRecord input vs ours fp32" % method,
                                   rate["ours_bf16_" + method], rate["ours_tfrecord"]))
        best = rate["ours_bf16_" + best_method]
        rows.append(common.row("training", "ours bf16 (%s, the fastest method) vs Keras 3 train_on_batch fp32"
                               % best_method, best, keras_fp32, target=TARGET_BF16_VS_KERAS_FP32))
        rows.append(common.row("training", "ours bf16 (%s) vs Keras 3 train_on_batch mixed_bfloat16" % best_method,
                               best, rate["keras_mixed_bfloat16"], target=TARGET_BF16_VS_KERAS_BF16))
    else:
        rows.append(common.row("training", "ours bf16 vs Keras 3 train_on_batch fp32", None, keras_fp32,
                               target=TARGET_BF16_VS_KERAS_FP32,
                               note="not run: %s; a 3x3 conv layer (fwd+bwd) takes %.0fx longer in TF's "
                               "emulated bf16 than in fp32 here" % (bf16_reason.split(";")[0],
                                                                    probe["bf16_slowdown"])))
    rows.extend(_command_rows(config, {mode: batch_size / value for mode, value in command.items()}, rate))
    overhead = 1.0 - rate["ours_tfrecord"] / rate["ours_memory"]
    rows.append(common.row("training", "input pipeline overhead: 1 - TFRecord / in-memory images/s",
                           100 * overhead, unit="%", target=100 * TARGET_PIPELINE_OVERHEAD, at_most=True))
    return {
        "config": config, "label_mode": label_mode, "bf16_supported": bf16_supported, "bf16_reason": bf16_reason,
        "fastest_bf16_method": best_method,
        "images_per_s": {name: round(value, 2) for name, value in rate.items()},
        "step_seconds": {name: [round(v, 4) for v in values] for name, values in seconds.items()},
        "bf16_conv_probe_seconds": probe,
        "input_pipeline_overhead": round(overhead, 4),
        "command_seconds_per_step": {mode: round(value, 4) for mode, value in command.items()},
        "rows": rows,
    }


def main(argv=None):
    return common.smoke_main(run, __doc__, "a tiny network and a few steps", argv)


if __name__ == "__main__":
    sys.exit(main())
