"""label_image benchmark: a frozen inception_v3 (299 px) against keras.applications.InceptionV3 on the
same machine.

    python -m bench.bench_label_image            # inception_v3 at 299 px, random weights, 11 classes
    python -m bench.bench_label_image --smoke    # lenet at 28 px against a small Keras CNN, to check it runs

Figures (seconds are the best of `repeats` timed runs after warm-up runs, as bench_conversion does:
the least disturbed by other processes on a shared machine):
- graph latency for one image, without process start: engine.labeling.Classifier.predict on one
  preprocessed image (what label_image.py runs), next to the Keras model's `model(x)`;
- the same with the image file's decoding and preprocessing (label_image's ImageReader);
- batch-32 throughput in images/s, both ways;
- whole-process time for one image: `python label_image.py --image ... --graph ...` against a small Keras
  script that loads the saved Keras model (.keras) and predicts the same image.
Ratios are ours / Keras for times (below 1: label_image is faster) and for throughput (above 1: faster).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from core.compat import tf
from datasets import demo_faces
from engine import export, labeling

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLASSES = ["homme", "femme", "yeux_ronds", "yeux_amandes", "nez_rond", "nez_pointu", "visage_rond",
           "visage_carre", "jeune", "age_moyen", "vieux"]

KERAS_SCRIPT = '''\
import sys
import numpy as np
import keras
from PIL import Image

model = keras.models.load_model(sys.argv[1])
size = model.input_shape[1]
image = Image.open(sys.argv[2]).convert("RGB").resize((size, size), Image.BILINEAR)
x = np.asarray(image, np.float32)[None] / 127.5 - 1.0
scores = np.asarray(model(x, training=False))[0]
for index in np.argsort(-scores)[:5]:
    print("%d (score = %.5f)" % (index, scores[index]))
'''


def _best_seconds(function, repeats, warmup):
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def _frozen_graph(model_name, image_size, path):
    """A frozen graph of `model_name` with random weights (no checkpoint needed to time it)."""
    spec = export.ExportSpec(model_name, image_size, CLASSES)
    graph_def = export.build_inference_graph(spec)
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session(graph=graph) as session:
            session.run([op for op in graph.get_operations() if op.type == "Assign"])
            frozen = tf.graph_util.convert_variables_to_constants(session, graph_def, [spec.output_node])
    export.write_graph(frozen, path)
    return path


def _keras_model(smoke, image_size):
    import keras  # Keras 3, the comparison; imported here so the module loads without it

    if not smoke:
        return keras.applications.InceptionV3(weights=None, input_shape=(image_size, image_size, 3),
                                              classes=len(CLASSES))
    return keras.Sequential([
        keras.Input((image_size, image_size, 3)),
        keras.layers.Conv2D(32, 5, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(64, 5, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(1024, activation="relu"),
        keras.layers.Dense(len(CLASSES), activation="softmax"),
    ])


def _process_seconds(command, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise RuntimeError("%s failed: %s" % (command[:3], result.stderr[-2000:]))
    return min(times)


def run(smoke=False, repeats=None, batch_size=32):
    """Returns the figures as a dict (see the module docstring)."""
    model_name, image_size = ("lenet", 28) if smoke else ("inception_v3", 299)
    repeats = repeats or (3 if smoke else 20)
    batch_repeats, process_repeats, warmup = (1, 1, 1) if smoke else (5, 3, 3)
    with tempfile.TemporaryDirectory(prefix="bench label_image ") as root:
        demo_faces.generate(root, 1, size=250, seed=0, log=lambda _line: None)
        image_dir = os.path.join(root, demo_faces.IMAGES_DIR)
        image = os.path.join(image_dir, sorted(os.listdir(image_dir))[0])
        graph_path = _frozen_graph(model_name, image_size, os.path.join(root, "frozen.pb"))
        graph_def = labeling.load_graph_def(graph_path)
        meta = labeling.graph_metadata(graph_def, graph_path)
        classifier = labeling.Classifier(graph_def, meta["input_node"], meta["output_node"], graph_path)
        reader = labeling.ImageReader(labeling.input_options(meta, classifier.input_dims))
        one = reader.read(image)[None]
        batch = np.repeat(one, batch_size, axis=0)
        ours_latency = _best_seconds(lambda: classifier.predict(one), repeats, warmup)
        ours_file_latency = _best_seconds(lambda: classifier.predict(reader.read(image)[None]), repeats, warmup)
        ours_batch = _best_seconds(lambda: classifier.predict(batch), batch_repeats, 1)
        classifier.close()
        reader.close()

        model = _keras_model(smoke, image_size)
        keras_latency = _best_seconds(lambda: model(one, training=False), repeats, warmup)
        keras_batch = _best_seconds(lambda: model(batch, training=False), batch_repeats, 1)
        keras_path = os.path.join(root, "model.keras")
        model.save(keras_path)
        script = os.path.join(root, "keras_label.py")
        with open(script, "w") as handle:
            handle.write(KERAS_SCRIPT)
        ours_process = _process_seconds([sys.executable, os.path.join(ROOT, "label_image.py"), "--image", image,
                                         "--graph", graph_path], process_repeats)
        keras_process = _process_seconds([sys.executable, script, keras_path, image], process_repeats)
    return {
        "model": model_name,
        "image_size": image_size,
        "keras_model": "keras.applications.InceptionV3(weights=None)" if not smoke else "small Keras CNN",
        "cpu_count": os.cpu_count(),
        "label_image_graph_latency_ms": round(ours_latency * 1e3, 2),
        "label_image_file_latency_ms": round(ours_file_latency * 1e3, 2),
        "keras_call_latency_ms": round(keras_latency * 1e3, 2),
        "latency_ratio": round(ours_latency / keras_latency, 3),
        "batch_size": batch_size,
        "label_image_images_per_s": round(batch_size / ours_batch, 1),
        "keras_images_per_s": round(batch_size / keras_batch, 1),
        "throughput_ratio": round(keras_batch / ours_batch, 3),
        "label_image_process_s": round(ours_process, 2),
        "keras_process_s": round(keras_process, 2),
        "process_ratio": round(ours_process / keras_process, 3),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="lenet at 28 px against a small Keras CNN")
    parser.add_argument("--repeats", type=int, default=None, help="timed single-image runs (default 20)")
    args = parser.parse_args(argv)
    result = run(smoke=args.smoke, repeats=args.repeats)
    print(json.dumps(result, indent=2))
    print("one image: label_image graph %.1f ms vs Keras model(x) %.1f ms (ratio %.2f); batch %d: %.1f vs %.1f "
          "images/s (ratio %.2f); whole process %.1f s vs %.1f s (ratio %.2f)"
          % (result["label_image_graph_latency_ms"], result["keras_call_latency_ms"], result["latency_ratio"],
             result["batch_size"], result["label_image_images_per_s"], result["keras_images_per_s"],
             result["throughput_ratio"], result["label_image_process_s"], result["keras_process_s"],
             result["process_ratio"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
