"""Evaluation benchmark: images/s of engine.evaluation.Evaluator (TFRecord read, decode, eval preprocessing,
inference-mode network, metrics) against Keras 3 `evaluate` of the keras.applications counterpart on the
same images already preprocessed in memory.

    python -m bench.bench_evaluation            # inception_v3 at 250, batch 32, 256 images
    python -m bench.bench_evaluation --smoke    # mobilenet_v1_025 at 64, 32 images

Each side evaluates the whole set once to warm up, then `rounds` times alternately; the figure is the
best round (the least disturbed by other processes). Our rounds include restoring the checkpoint into the
evaluator's session, as eval_image_classifier.py does for each checkpoint of a training run it follows;
Keras likewise keeps its compiled evaluation function from one call to the next.
"""
import contextlib
import os
import sys
import tempfile
import time

from bench import common

FULL = dict(model_name="inception_v3", image_size=250, batch_size=32, images=256, rounds=5)
SMOKE = dict(model_name="mobilenet_v1_025", image_size=64, batch_size=16, images=32, rounds=1)
TARGET = 1.1


def _checkpoint(settings, label_mode, directory):
    """A freshly initialised checkpoint of the network (the figures do not depend on its values)."""
    from core.compat import tf
    from nets import nets_factory

    with tf.Graph().as_default():
        network_fn = nets_factory.get_network_fn(settings.model_name, settings.num_classes, is_training=False)
        network_fn(tf.zeros([1, settings.image_size, settings.image_size, 3]))
        tf.train.get_or_create_global_step()
        saver = tf.train.Saver()
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            return saver.save(session, os.path.join(directory, "model.ckpt"), global_step=0)


def run(smoke=False, **overrides):
    from engine.config.options import EvalOptions
    from engine.evaluation.evaluate import Evaluator

    config = dict(SMOKE if smoke else FULL, **overrides)
    model_name, size, batch_size = config["model_name"], config["image_size"], config["batch_size"]
    with common.face_tfrecord(config["images"], size) as tfrecord, \
            tempfile.TemporaryDirectory(prefix="bench_eval_") as directory, contextlib.ExitStack() as stack:
        label_mode, count = common.label_mode_of(tfrecord, "all")
        settings = common.settings_for(model_name, size, tfrecord, label_mode=label_mode)
        checkpoint = _checkpoint(settings, label_mode, directory)
        evaluator = stack.enter_context(Evaluator(settings, label_mode, EvalOptions(
            eval_dir=directory, split="all", batch_size=batch_size)))
        images, labels = common.preprocessed_arrays(settings, count, is_training=False)
        keras = common.quiet_keras()
        model = common.keras_model(keras, model_name, size, settings.num_classes, label_mode)

        def ours():
            evaluator.evaluate(checkpoint)

        def theirs():
            model.evaluate(images, labels, batch_size=batch_size, verbose=0)

        ours()
        theirs()
        times = {"ours": [], "keras": []}
        for _ in range(config["rounds"]):
            for name, function in (("ours", ours), ("keras", theirs)):
                start = time.perf_counter()
                function()
                times[name].append(time.perf_counter() - start)
    rate = {name: count / min(values) for name, values in times.items()}
    what = "%s %dpx batch %d, %d images" % (model_name, size, batch_size, count)
    return {
        "config": config, "images": count, "label_mode": label_mode,
        "images_per_s": {name: round(value, 2) for name, value in rate.items()},
        "rounds_seconds": {name: [round(value, 2) for value in values] for name, values in times.items()},
        "rows": [common.row("evaluation", "ours (TFRecord, decode, preprocess, metrics) vs Keras 3 evaluate "
                            "(in-memory) (%s)" % what, rate["ours"], rate["keras"], target=TARGET)],
    }


def main(argv=None):
    return common.smoke_main(run, __doc__, "a tiny network and a few images", argv)


if __name__ == "__main__":
    sys.exit(main())
