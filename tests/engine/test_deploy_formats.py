"""The deployment formats against the frozen graph they are converted from, each run by its own runtime
(tf.saved_model.load, LiteRT's interpreter, onnxruntime, saved_model_cli as a process): the same
probabilities for the same images, the bytes signature equal to label_image's preprocessing, quantized
TFLite models within their documented tolerance, and label_image's runtimes recognising each by content."""
import io
import os
import shutil
import subprocess
import sys

import numpy as np
import onnxruntime
import pytest
from ai_edge_litert.interpreter import Interpreter
from PIL import Image

from core.compat import tf
from engine.export import saved_model, tflite
from engine.inference import labeling, runtimes
from engine.model import graph_metadata, inputs
from tests.export_support import lenet_multi, lenet_single

tf2 = tf.compat.v2
PARITY = 1e-4  # float formats against the frozen graph


@pytest.fixture(scope="module", params=["multi", "single"])
def model(request, tmp_path_factory):
    """A deployed model, its images preprocessed as label_image does, and the frozen graph's probabilities."""
    if request.param == "multi":
        paths = lenet_multi(tmp_path_factory, request.getfixturevalue("faces"))
    else:
        paths = lenet_single(tmp_path_factory, request.getfixturevalue("gender_faces"))
    frozen, meta = runtimes.open_model(paths["frozen"])
    reader = labeling.ImageReader(inputs.input_options(meta, frozen.input_dims))
    names = sorted(paths["images"])[:48]
    images = np.stack([reader.read(paths["images"][name]) for name in names])
    expected = frozen.predict(images)
    reader.close()
    frozen.close()
    assert meta["label_mode"] == request.param and expected.shape == (len(names), len(meta["classes"]))
    assert np.std(expected, axis=0).max() > 0.01  # the images get different scores: parity means something
    return dict(paths, mode=request.param, meta=meta, names=names, pixels=images, expected=expected)


def _saved_model_probabilities(path, images):
    loaded = tf2.saved_model.load(path)
    outputs = loaded.signatures["serving_default"](images=tf2.constant(images))
    return outputs["probabilities"].numpy(), outputs["classes"].numpy()


def _tflite_probabilities(path, images):
    runner = Interpreter(model_path=path).get_signature_runner("serving_default")
    return runner(images=images)["probabilities"]


def _onnx_probabilities(path, images):
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(["probabilities"], {"images": images})[0]


def test_saved_model_tflite_and_onnx_give_the_frozen_graph_probabilities(model):
    images, expected = model["pixels"], model["expected"]
    probabilities, classes = _saved_model_probabilities(model["saved_model"], images)
    found = {"saved_model": probabilities, "tflite": _tflite_probabilities(model["tflite"]["none"], images),
             "onnx": _onnx_probabilities(model["onnx"], images)}
    for name, values in found.items():
        assert values.shape == expected.shape, name
        difference = np.max(np.abs(values - expected))
        print("%s %s: max |p - frozen| = %.2e over %d images" % (model["mode"], name, difference, len(images)))
        assert difference < PARITY, (name, difference)
    assert [[name.decode() for name in row] for row in classes] == [model["meta"]["classes"]] * len(images)
    sums = expected.sum(axis=1)
    if model["mode"] == "single":
        np.testing.assert_allclose(sums, 1.0, atol=1e-5)
    else:  # a sigmoid per label, not a distribution
        assert np.abs(sums - 1.0).max() > 0.1


def _encoded(array, kind, **options):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, kind, **options)
    return buffer.getvalue()


def test_bytes_signature_equals_label_image_preprocessing(model, tmp_path):
    """The SavedModel decodes and preprocesses encoded images in the graph as label_image does on files:
    the record bytes of the faces, plus a grayscale PNG and a non-square JPEG of other sizes."""
    pixels = np.random.RandomState(3).randint(0, 256, (50, 37, 3)).astype(np.uint8)
    extra = {"gray.png": _encoded(pixels[:, :, 0], "PNG"), "wide.jpg": _encoded(pixels, "JPEG", quality=90)}
    files = {name: model["images"][name] for name in model["names"][:10]}
    for name, data in extra.items():
        (tmp_path / name).write_bytes(data)
        files[name] = str(tmp_path / name)
    frozen, meta = runtimes.open_model(model["frozen"])
    reader = labeling.ImageReader(inputs.input_options(meta, frozen.input_dims))
    expected = frozen.predict(np.stack([reader.read(path) for path in files.values()]))
    encoded = [open(path, "rb").read() for path in files.values()]
    loaded = tf2.saved_model.load(model["saved_model"])
    outputs = loaded.signatures["serving_bytes"](image_bytes=tf2.constant(encoded))
    difference = np.max(np.abs(outputs["probabilities"].numpy() - expected))
    print("%s serving_bytes: max |p - label_image| = %.2e" % (model["mode"], difference))
    assert difference < PARITY
    assert outputs["classes"].shape == expected.shape


def test_quantized_tflite_models_stay_within_their_documented_tolerance(tmp_path_factory, faces):
    paths = lenet_multi(tmp_path_factory, faces)
    frozen, meta = runtimes.open_model(paths["frozen"])
    reader = labeling.ImageReader(inputs.input_options(meta, frozen.input_dims))
    images = np.stack([reader.read(path) for _, path in sorted(paths["images"].items())])
    expected = frozen.predict(images)
    sizes = {name: os.path.getsize(path) for name, path in paths["tflite"].items()}
    for quantization in ("dynamic", "float16"):
        values = _tflite_probabilities(paths["tflite"][quantization], images)
        difference = np.max(np.abs(values - expected))
        agreement = np.mean(values.argmax(axis=1) == expected.argmax(axis=1))
        print("tflite %s: %d bytes (%.2f of float), max |p - frozen| = %.2e, top-1 agreement %.3f on %d faces"
              % (quantization, sizes[quantization], sizes[quantization] / sizes["none"], difference, agreement,
                 len(images)))
        assert difference <= tflite.TOLERANCES[quantization], quantization
        assert difference > 0  # the weights really were quantized
    assert sizes["dynamic"] < 0.35 * sizes["none"] and sizes["float16"] < 0.6 * sizes["none"]


def test_formats_are_recognised_by_content_not_by_name(model, tmp_path):
    """Each model copied under another format's name is still recognised and gives the same scores."""
    misnamed = {
        runtimes.TFLITE: shutil.copy(model["tflite"]["none"], tmp_path / "model.pb"),
        runtimes.ONNX: shutil.copy(model["onnx"], tmp_path / "model.tflite"),
        runtimes.GRAPH_DEF: shutil.copy(model["frozen"], tmp_path / "model.onnx"),
        runtimes.SAVED_MODEL: shutil.copytree(model["saved_model"], tmp_path / "model.tflite.d"),
    }
    for kind, path in misnamed.items():
        assert runtimes.detect_format(str(path))[0] == kind
        classifier, meta = runtimes.open_model(str(path))
        if kind in (runtimes.ONNX, runtimes.GRAPH_DEF, runtimes.SAVED_MODEL):  # recorded inside the model
            assert meta["classes"] == model["meta"]["classes"], kind
        assert classifier.input_dims[1:] == [28, 28, 3] and classifier.num_outputs == len(model["meta"]["classes"])
        assert np.max(np.abs(classifier.predict(model["pixels"]) - model["expected"])) < PARITY, kind
        classifier.close()


def test_saved_model_keeps_its_metadata_and_any_batch(model):
    meta = graph_metadata.read_metadata_json(os.path.join(model["saved_model"], saved_model.METADATA_FILE))
    assert meta == dict(model["meta"], batch_size=None)
    for batch in (1, 5):  # the frozen graph behind the formats takes any batch
        for kind in ("saved_model", "onnx"):
            classifier, _ = runtimes.open_model(model[kind])
            assert classifier.batch_size is None
            np.testing.assert_allclose(classifier.predict(model["pixels"][:batch]), model["expected"][:batch],
                                       atol=PARITY)
    runner = Interpreter(model_path=model["tflite"]["none"]).get_signature_runner("serving_default")
    assert list(runner.get_input_details()["images"]["shape_signature"]) == [-1, 28, 28, 3]


@pytest.mark.slow
def test_saved_model_cli_shows_and_runs_both_signatures(model, tmp_path):
    """TensorFlow's own command-line tool, as a process: `show --all` lists both signatures with their
    inputs and outputs; `run` on each gives the frozen graph's probabilities."""
    tool = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    shown = subprocess.run([tool, "show", "--dir", model["saved_model"], "--all"], capture_output=True, text=True,
                           timeout=600)
    assert shown.returncode == 0, shown.stderr[-2000:]
    text = shown.stdout
    for piece in ("signature_def['serving_default']", "signature_def['serving_bytes']", "inputs['images']",
                  "inputs['image_bytes']", "outputs['probabilities']", "outputs['classes']", "DT_STRING",
                  "shape: (-1, 28, 28, 3)", "shape: (-1, %d)" % len(model["meta"]["classes"])):
        assert piece in text, piece
    encoded = np.array([open(model["images"][name], "rb").read() for name in model["names"][:4]], dtype=object)
    np.save(tmp_path / "image_bytes.npy", encoded, allow_pickle=True)
    np.save(tmp_path / "images.npy", model["pixels"][:4])
    for signature, key in (("serving_default", "images"), ("serving_bytes", "image_bytes")):
        outdir = tmp_path / signature
        ran = subprocess.run([tool, "run", "--dir", model["saved_model"], "--tag_set", "serve", "--signature_def",
                              signature, "--inputs", "%s=%s" % (key, tmp_path / (key + ".npy")), "--outdir",
                              str(outdir)], capture_output=True, text=True, timeout=600)
        assert ran.returncode == 0, ran.stderr[-2000:]
        np.testing.assert_allclose(np.load(outdir / "probabilities.npy"), model["expected"][:4], atol=PARITY)
        classes = np.load(outdir / "classes.npy", allow_pickle=True)
        assert [name.decode() for name in classes[0]] == model["meta"]["classes"]
