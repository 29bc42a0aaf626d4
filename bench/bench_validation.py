"""Validation benchmark: what validating inside training (--eval_every_n_steps) costs at the demo's settings
(scripts/demo.sh: mobilenet_v1_050 at 128 px with cifarnet preprocessing, batch 16, 400 generated faces of 128
px, the val part's 10%).

    python -m bench.bench_validation            # the demo's settings, a validation every 100 steps
    python -m bench.bench_validation --smoke    # mobilenet_v1_025 at 64, a few steps

In one process, rounds alternate: training steps (our training graph fed by the TFRecord pipeline, each step timed),
then one validation as the step loop runs it (engine/training/validation.py: the checkpoint saved, restored into the
evaluator's session, the val part evaluated, metrics.json, metrics.csv and TensorBoard events written, the best
checkpoint kept). The overhead is the median validation over `eval_every_n_steps` median steps; the first
validation, which also builds the evaluator's session, is reported apart (once per training process).
"""
import dataclasses
import os
import statistics
import sys
import tempfile
import time

from bench import common

FULL = dict(model_name="mobilenet_v1_050", image_size=128, face_size=128, preprocessing="cifarnet", batch_size=16,
            images=400, eval_every_n_steps=100, steps=20, rounds=5, warmup=3)
SMOKE = dict(model_name="mobilenet_v1_025", image_size=64, face_size=64, preprocessing="inception", batch_size=4,
             images=40, eval_every_n_steps=10, steps=2, rounds=1, warmup=1)
TARGET_OVERHEAD = 5  # percent of the training time


def run(smoke=False, **overrides):
    from bench.bench_training import OurTraining
    from core.progress import say
    from datasets import tfrecord_stats
    from engine.config.options import TrainOptions, ValidationOptions
    from engine.model import checkpoints
    from engine.training.validation import Validator

    config = dict(SMOKE if smoke else FULL, **overrides)
    batch_size, every = config["batch_size"], config["eval_every_n_steps"]
    step_seconds, validation_seconds = [], []
    with common.face_tfrecord(config["images"], config["face_size"]) as tfrecord, \
            tempfile.TemporaryDirectory(prefix="bench_validation_") as train_dir:
        settings = dataclasses.replace(
            common.settings_for(config["model_name"], config["image_size"], tfrecord), val_percentage=10.0,
            preprocessing_name=config["preprocessing"])
        stats = tfrecord_stats.scan(tfrecord, "train", 25.0, val_percentage=10.0)
        val_images = tfrecord_stats.scan(tfrecord, "val", 25.0, val_percentage=10.0)["num_images"]
        label_mode = "multi" if stats["max_labels_per_image"] > 1 else "single"
        training = OurTraining(settings, label_mode, stats["num_images"], batch_size, seed=1)  # seeded, as the demo
        options = TrainOptions(train_dir=train_dir, batch_size=batch_size,
                               validation=ValidationOptions(eval_every_n_steps=every))
        validator = Validator(settings, label_mode, options)
        session, ops = training.session, training.ops

        def validate():
            with training.graph.as_default():
                path = checkpoints.save(session, ops.saver, train_dir, session.run(ops.global_step),
                                        write_meta_graph=False)
            validator.validate(path, int(session.run(ops.global_step)))

        for _ in range(config["warmup"]):
            training.step()
        started = time.perf_counter()
        validate()
        first = time.perf_counter() - started
        for _ in range(config["rounds"]):
            step_seconds.extend(common.step_seconds(training.step, config["steps"]))
            started = time.perf_counter()
            validate()
            validation_seconds.append(time.perf_counter() - started)
        validator.evaluator.close()
        training.close()
        say("validations: %s s" % ", ".join("%.2f" % value for value in validation_seconds))
    step, validation = statistics.median(step_seconds), statistics.median(validation_seconds)
    overhead = 100 * validation / (every * step)
    what = "%s %dpx batch %d, %d val images, every %d steps" % (config["model_name"], config["image_size"],
                                                                batch_size, val_images, every)
    return {
        "config": config, "val_images": val_images, "step_seconds": round(step, 4),
        "validation_seconds": [round(value, 3) for value in validation_seconds], "first_validation_seconds": first,
        "overhead_percent": round(overhead, 2),
        "rows": [
            common.row("validation", "validation inside training, overhead: one validation / the training steps "
                       "between two (%s)" % what, overhead, unit="%", target=TARGET_OVERHEAD, at_most=True,
                       note="validation %.2f s, step %.3f s" % (validation, step)),
            common.row("validation", "first validation of a training process (builds the evaluator's session)",
                       first, unit="s"),
        ],
    }


def main(argv=None):
    return common.smoke_main(run, __doc__, "a tiny network and a few steps", argv)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
