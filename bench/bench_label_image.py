"""label_image benchmark: a frozen inception_v3 (299 px) against keras.applications.InceptionV3 on the
same machine, the Keras side at its best: compiled (`predict_on_batch`, or `model(x)` inside a
`tf.function`, whichever is faster), never an eager call.

    python -m bench.bench_label_image            # inception_v3 at 299 px, random weights, 11 classes
    python -m bench.bench_label_image --smoke    # lenet at 28 px against a small Keras CNN, to check it runs

Both sides are timed in alternating rounds after warm-up, in this one process, with the same threads;
each figure is the median of its rounds. Figures:
- graph latency for one preprocessed image, without process start:
  engine.inference.labeling.FrozenGraphClassifier.predict
  (what label_image.py runs) against the compiled Keras call;
- per-image time on a folder of face images (250 px JPEGs): label_image's path (decode and evaluation
  preprocessing by ImageReader, then Classifier.predict in batches of 32, as label_image.py does for a
  folder) against a Keras 3 script doing the same (PIL decode, resize, scale to [-1, 1], predict_on_batch in
  batches of 32), in float32, and ours in bf16 where the CPU runs it natively (engine/model/mixed_precision.py's
  oneDNN bfloat16 rewrite of the frozen float32 graph), with the top-1 agreement of bf16 with float32;
- whole-process time for one image: `python label_image.py --image ... --graph ...` against a small Keras
  script that loads the saved Keras model (.keras) and predicts the same image (processes alternate too).
Ratios are ours / Keras for times (below 1: label_image is faster).
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

from bench import common
from core.compat import tf
from datasets import demo_faces
from engine.export import inference_graph
from engine.inference import labeling, runtimes
from engine.model import inputs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

KERAS_SCRIPT = '''\
import sys
import numpy as np
import keras
from PIL import Image

model = keras.models.load_model(sys.argv[1])
size = model.input_shape[1]
image = Image.open(sys.argv[2]).convert("RGB").resize((size, size), Image.BILINEAR)
x = np.asarray(image, np.float32)[None] / 127.5 - 1.0
scores = np.asarray(model.predict_on_batch(x))[0]
for index in np.argsort(-scores)[:5]:
    print("%d (score = %.5f)" % (index, scores[index]))
'''


def _frozen_graph(model_name, image_size, path):
    """A frozen graph of `model_name` with random weights written at `path` (no checkpoint needed to time it)."""
    frozen, _meta = common.random_frozen_graph(model_name, image_size)
    inference_graph.write_graph(frozen, path)
    return path


def _keras_model(smoke, image_size):
    import keras  # Keras 3, the comparison; imported here so the module loads without it

    if not smoke:
        return keras.applications.InceptionV3(weights=None, input_shape=(image_size, image_size, 3),
                                              classes=len(common.CLASSES))
    return keras.Sequential([
        keras.Input((image_size, image_size, 3)),
        keras.layers.Conv2D(32, 5, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(64, 5, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(1024, activation="relu"),
        keras.layers.Dense(len(common.CLASSES), activation="softmax"),
    ])


def _compiled_keras_call(model):
    """The faster of the two compiled ways of calling `model` on a batch: predict_on_batch or a tf.function."""
    function = tf.function(lambda x: model(x, training=False))
    return {"predict_on_batch": model.predict_on_batch, "tf.function": lambda x: function(x)}


def _keras_read(path, image_size):
    from PIL import Image

    image = Image.open(path).convert("RGB").resize((image_size, image_size), Image.BILINEAR)
    return np.asarray(image, np.float32) / 127.5 - 1.0


def _folder_labeling(paths, read, predict, batch_size=32):
    """Reads and predicts every image of `paths` in batches, as label_image.py does for a folder."""
    for start in range(0, len(paths), batch_size):
        predict(np.stack([read(path) for path in paths[start:start + batch_size]]))


def _run_process(command):
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("%s failed: %s" % (command[:3], result.stderr[-2000:]))


def run(smoke=False, rounds=None, batch_size=32):
    """Returns the figures as a dict (see the module docstring)."""
    from engine.model import mixed_precision

    model_name, image_size = ("lenet", 28) if smoke else ("inception_v3", 299)
    rounds = rounds or (2 if smoke else 7)
    folder_size, warmup, process_rounds = (8, 1, 1) if smoke else (64, 2, 3)
    bf16_supported, bf16_reason = mixed_precision.check_support("bf16")
    with tempfile.TemporaryDirectory(prefix="bench label_image ") as root:
        demo_faces.generate(root, folder_size, size=250, seed=0, log=lambda _line: None)
        image_dir = os.path.join(root, demo_faces.IMAGES_DIR)
        paths = sorted(os.path.join(image_dir, name) for name in os.listdir(image_dir))
        graph_path = _frozen_graph(model_name, image_size, os.path.join(root, "frozen.pb"))
        _kind, graph_def = runtimes.detect_format(graph_path)
        meta = labeling.graph_metadata(graph_def, graph_path)
        nodes = (graph_def, meta["input_node"], meta["output_node"], graph_path)
        classifiers = {"fp32": labeling.FrozenGraphClassifier(*nodes)}
        if bf16_supported:
            classifiers["bf16"] = labeling.FrozenGraphClassifier(
                *nodes, config=mixed_precision.session_config("bf16", "grappler"))
        reader = labeling.ImageReader(inputs.input_options(meta, classifiers["fp32"].input_dims))
        one = reader.read(paths[0])[None]

        model = _keras_model(smoke, image_size)
        keras_calls = _compiled_keras_call(model)
        single = {"ours_" + name: (lambda c=classifier: c.predict(one)) for name, classifier in classifiers.items()}
        single.update({"keras_" + name: (lambda f=call: f(one)) for name, call in keras_calls.items()})
        latency, latency_rounds = common.alternating_medians(single, rounds, warmup, repeats=5 if not smoke else 1)
        keras_call = min(keras_calls, key=lambda name: latency["keras_" + name])

        folder = {"ours_" + name: (lambda c=classifier: _folder_labeling(paths, reader.read, c.predict))
                  for name, classifier in classifiers.items()}
        folder["keras_" + keras_call] = lambda: _folder_labeling(
            paths, lambda path: _keras_read(path, image_size), keras_calls[keras_call])
        per_folder, folder_rounds = common.alternating_medians(folder, rounds, 1)
        agreement = None
        if bf16_supported:
            images = np.stack([reader.read(path) for path in paths])
            top = {name: np.argmax(classifier.predict(images), axis=1) for name, classifier in classifiers.items()}
            agreement = float(np.mean(top["bf16"] == top["fp32"]))
        for classifier in classifiers.values():
            classifier.close()
        reader.close()

        keras_path = os.path.join(root, "model.keras")
        model.save(keras_path)
        script = os.path.join(root, "keras_label.py")
        with open(script, "w") as handle:
            handle.write(KERAS_SCRIPT)
        processes, process_times = common.alternating_medians({
            "ours": lambda: _run_process([sys.executable, os.path.join(ROOT, "label_image.py"), "--image",
                                          paths[0], "--graph", graph_path]),
            "keras": lambda: _run_process([sys.executable, script, keras_path, paths[0]]),
        }, process_rounds, 0)

    per_image = {name: seconds / len(paths) for name, seconds in per_folder.items()}
    keras_per_image = per_image["keras_" + keras_call]
    what = "%s %dpx" % (model_name, image_size)
    rows = [
        common.row("label_image", "graph latency, one image, vs Keras %s (%s)" % (keras_call, what),
                   latency["ours_fp32"] * 1e3, latency["keras_" + keras_call] * 1e3, unit="ms", target=0.8,
                   at_most=True),
        common.row("label_image", "per image on a folder of %d faces, fp32, vs a Keras script with %s in batches "
                   "of %d" % (len(paths), keras_call, batch_size), per_image["ours_fp32"] * 1e3,
                   keras_per_image * 1e3, unit="ms"),
    ]
    if bf16_supported:
        rows.append(common.row("label_image", "per image on the folder, ours bf16 vs the Keras script fp32",
                               per_image["ours_bf16"] * 1e3, keras_per_image * 1e3, unit="ms", target=0.7,
                               at_most=True, note="top-1 agreement with fp32: %.3f" % agreement))
    else:
        rows.append(common.row("label_image", "per image on the folder, ours bf16 vs the Keras script fp32", None,
                               keras_per_image * 1e3, unit="ms", target=0.7, at_most=True,
                               note="not run: %s" % bf16_reason.split(";")[0]))
    rows.append(common.row("label_image", "whole process for one image vs a Keras load-and-predict script",
                           processes["ours"], processes["keras"], unit="s", target=1.0, at_most=True))
    return {
        "model": model_name, "image_size": image_size, "cpu_count": os.cpu_count(),
        "keras_model": "keras.applications.InceptionV3(weights=None)" if not smoke else "small Keras CNN",
        "keras_compiled_call": keras_call, "bf16_supported": bf16_supported, "bf16_top1_agreement": agreement,
        "latency_ms": {name: round(value * 1e3, 2) for name, value in latency.items()},
        "per_image_ms": {name: round(value * 1e3, 2) for name, value in per_image.items()},
        "process_s": {name: round(value, 2) for name, value in processes.items()},
        "rounds": {"latency_s": latency_rounds, "folder_s": folder_rounds, "process_s": process_times},
        "rows": rows,
    }


def main(argv=None):
    return common.smoke_main(run, __doc__, "lenet at 28 px against a small Keras CNN", argv)


if __name__ == "__main__":
    sys.exit(main())
