"""Peak memory of training: the largest resident set (ru_maxrss) of a child process running
train_image_classifier.py on the generated-face TFRecord, against a child running Keras 3 `fit` of the
keras.applications counterpart for as many steps, and a child that only imports TensorFlow.

    python -m bench.bench_memory            # inception_v3 at 250, batch 8, 6 steps
    python -m bench.bench_memory --smoke    # mobilenet_v1_025 at 64, 2 steps
"""
import sys
import tempfile

from bench import common

FULL = dict(model_name="inception_v3", image_size=250, batch_size=8, images=64, steps=6)
SMOKE = dict(model_name="mobilenet_v1_025", image_size=64, batch_size=4, images=16, steps=2)

KERAS_SCRIPT = """\
import sys
import numpy as np
from bench import common

model_name, size, batch, steps, classes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), 11
keras = common.quiet_keras()
model = common.keras_model(keras, model_name, size, classes, "multi")
rng = np.random.default_rng(0)
images = rng.uniform(-1, 1, (2 * batch, size, size, 3)).astype(np.float32)
labels = (rng.uniform(size=(2 * batch, classes)) < 0.4).astype(np.float32)
model.fit(images, labels, batch_size=batch, epochs=max(1, steps // 2), verbose=0)
"""


def run(smoke=False, **overrides):
    config = dict(SMOKE if smoke else FULL, **overrides)
    model_name, size, batch, steps = (config["model_name"], config["image_size"], config["batch_size"],
                                      config["steps"])
    with common.face_tfrecord(config["images"], size) as tfrecord, \
            tempfile.TemporaryDirectory(prefix="bench_memory_") as directory:
        _, ours, ours_s = common.child_peak_memory([
            "train_image_classifier.py", "--model_name", model_name, "--train_image_size", str(size),
            "--batch_size", str(batch), "--max_number_of_steps", str(steps), "--tfrecord_file", tfrecord,
            "--chemin_liste_labels", common.CLASSES_FILE, "--train_dir", directory,
            "--save_summaries_secs", "100000", "--save_interval_secs", "100000"])
        _, keras, keras_s = common.child_peak_memory(
            ["-c", KERAS_SCRIPT, model_name, str(size), str(batch), str(steps)])
        _, bare, _ = common.child_peak_memory(["-c", "import core.compat"])
    what = "%s %dpx batch %d, %d steps" % (model_name, size, batch, steps)
    return {
        "config": config,
        "peak_rss_mib": {"ours": round(ours, 1), "keras": round(keras, 1), "tensorflow_import_only": round(bare, 1)},
        "process_seconds": {"ours": round(ours_s, 1), "keras": round(keras_s, 1)},
        "rows": [common.row("memory", "peak RSS of a training process, ours vs Keras 3 fit (%s)" % what,
                            ours, keras, unit="MiB",
                            note="importing TensorFlow alone: %.0f MiB" % bare)],
    }


def main(argv=None):
    return common.smoke_main(run, __doc__, "a tiny network and two steps", argv)


if __name__ == "__main__":
    sys.exit(main())
