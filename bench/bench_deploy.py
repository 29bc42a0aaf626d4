"""Deployment formats benchmark: file size and single-image latency of the SavedModel, the TFLite models
(float, dynamic-range and float16 quantization) and the ONNX model against the frozen graph they are all
converted from.

    python -m bench.bench_deploy            # inception_v3 at 299 px and mobilenet_v1 at 224 px
    python -m bench.bench_deploy --smoke    # mobilenet_v1_025 at 64 px, to check that it runs

Each network is frozen with random weights (the figures do not depend on their values), then written in
every format by the export code (engine/export/saved_model.py, tflite.py, onnx_export.py). Each format runs
through label_image's runtime for it (engine/inference/runtimes.py): the frozen graph in a TensorFlow session, the
SavedModel's serving_default signature in TensorFlow, TFLite with LiteRT's interpreter (XNNPACK), ONNX with
onnxruntime, every one allowed all CPU cores. All are loaded at once and measured in alternating rounds
on the same preprocessed image; a round times `repeats` calls of each format in turn, after warm-up calls.
A format's latency is the best of its round medians (the least disturbed by other processes); every
round is kept in the JSON, with each format's largest probability difference to the frozen graph on that
image (random weights: a check that it runs the same network, not an accuracy figure; tests and the
README give those). Ratios are format / frozen graph (below 1: smaller or faster).
"""
import os
import statistics
import sys
import tempfile
import time

import numpy as np

from bench import common

FULL = dict(models=(("inception_v3", None), ("mobilenet_v1", None)), rounds=15, repeats=5, warmup=5)
SMOKE = dict(models=(("mobilenet_v1_025", 64),), rounds=2, repeats=3, warmup=2)
FORMATS = ("saved_model", "tflite", "tflite_dynamic", "tflite_float16", "onnx")


def _size(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(path) for name in names)
    return os.path.getsize(path)


def _write_formats(frozen, meta, folder):
    """{format: path} of every format written (ONNX left out, with the reason, when tf2onnx is missing)."""
    from core.errors import UserError
    from engine.export import inference_graph, onnx_export, saved_model, tflite

    paths = {"frozen": os.path.join(folder, "frozen.pb"), "saved_model": os.path.join(folder, "saved_model")}
    inference_graph.write_graph(frozen, paths["frozen"])
    saved_model.write_saved_model(frozen, meta, paths["saved_model"])
    for quantization in tflite.QUANTIZATIONS:
        name = "tflite" if quantization == "none" else "tflite_" + quantization
        paths[name] = os.path.join(folder, name + ".tflite")
        tflite.write_tflite(frozen, meta, paths[name], quantization)
    skipped = {}
    try:
        paths["onnx"] = os.path.join(folder, "model.onnx")
        onnx_export.write_onnx(frozen, meta, paths["onnx"])
    except UserError as error:
        skipped["onnx"] = str(error)
        del paths["onnx"]
    return paths, skipped


def _measure(classifiers, image, rounds, repeats, warmup):
    """{format: [median seconds of each round]}, the formats alternating within every round."""
    for classifier in classifiers.values():
        for _ in range(warmup):
            classifier.predict(image)
    medians = {name: [] for name in classifiers}
    for _ in range(rounds):
        for name, classifier in classifiers.items():
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                classifier.predict(image)
                times.append(time.perf_counter() - start)
            medians[name].append(statistics.median(times))
    return medians


def _one_model(model_name, image_size, config, folder):
    from engine.inference import runtimes

    frozen, meta = common.random_frozen_graph(model_name, image_size, "multi")
    paths, skipped = _write_formats(frozen, meta, folder)
    classifiers = {name: runtimes.open_model(path)[0] for name, path in paths.items()}
    image = np.random.default_rng(0).uniform(-1, 1, (1, image_size, image_size, 3)).astype(np.float32)
    medians = _measure(classifiers, image, config["rounds"], config["repeats"], config["warmup"])
    reference = classifiers["frozen"].predict(image)
    differences = {name: float(np.max(np.abs(classifier.predict(image) - reference)))
                   for name, classifier in classifiers.items()}
    for classifier in classifiers.values():
        classifier.close()
    return {"image_size": image_size, "bytes": {name: _size(path) for name, path in paths.items()},
            "latency_ms": {name: round(1e3 * min(values), 3) for name, values in medians.items()},
            "round_medians_ms": {name: [round(1e3 * value, 3) for value in values] for name, values in medians.items()},
            "max_abs_difference": differences, "skipped": skipped}


def rows_of(figures):
    rows = []
    for model_name, result in figures.items():
        what = "%s %dpx" % (model_name, result["image_size"])
        frozen_ms, frozen_mb = result["latency_ms"]["frozen"], result["bytes"]["frozen"] / 1e6
        for name in FORMATS:
            if name in result["skipped"]:
                rows.append(common.row("deploy", "%s: %s single-image latency vs frozen graph" % (what, name), None,
                                       frozen_ms, unit="ms", note="not run: %s" % result["skipped"][name]))
                continue
            rows.append(common.row("deploy", "%s: %s single-image latency vs frozen graph" % (what, name),
                                   result["latency_ms"][name], frozen_ms, unit="ms"))
            rows.append(common.row("deploy", "%s: %s file size vs frozen graph" % (what, name),
                                   result["bytes"][name] / 1e6, frozen_mb, unit="MB"))
    return rows


def run(smoke=False, **overrides):
    from nets import nets_factory

    config = dict(SMOKE if smoke else FULL, **overrides)
    figures = {}
    for model_name, image_size in config["models"]:
        size = image_size or nets_factory.get_spec(model_name).default_image_size
        with tempfile.TemporaryDirectory(prefix="bench_deploy_") as folder:
            figures[model_name] = _one_model(model_name, size, config, folder)
    return {"config": dict(config, models=[list(entry) for entry in config["models"]]), "cpu_count": os.cpu_count(),
            "models": figures, "rows": rows_of(figures)}


def main(argv=None):
    return common.smoke_main(run, __doc__, "mobilenet_v1_025 at 64 px, few rounds", argv)


if __name__ == "__main__":
    sys.exit(main())
