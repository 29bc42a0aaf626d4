"""Helpers of test_export_inference_graph.py and test_label_image.py (no tests here): a tiny trained model, TFRecords
whose encoded bytes are also written as files, and the probabilities evaluation computes (through its own code)."""
import os
import subprocess
import sys

import numpy as np

import export_inference_graph
import train_image_classifier
from core.cli import run_main
from core.compat import tf
from datasets import tfrecord_format as fmt
from nets import nets_factory
from tests.conftest import ROOT


def export(*argv):
    return run_main(export_inference_graph.main, [str(arg) for arg in argv])


def train(tfrecord, classes, train_dir, model_name, image_size, *extra, steps=2):
    """Trains through train_image_classifier.py, seeded: a model the tests check for spread-out scores
    must not saturate on an unlucky initialisation (unseeded, 1 single-label lenet in about 10 did)."""
    argv = ["--tfrecord_file", tfrecord, "--chemin_liste_labels", classes, "--train_dir", train_dir,
            "--max_number_of_steps", steps, "--model_name", model_name, "--train_image_size", image_size,
            "--batch_size", 4, "--optimizer", "adam", "--learning_rate", "0.01", "--log_every_n_steps", 100,
            "--seed", 1]
    assert run_main(train_image_classifier.main, [str(arg) for arg in list(argv) + list(extra)]) == 0
    return str(train_dir)


def tf_freeze_graph(input_graph, checkpoint, output_graph, output_node):
    """TensorFlow's own tool, python -m tensorflow.python.tools.freeze_graph (pip TensorFlow, no Bazel build)."""
    command = [sys.executable, "-m", "tensorflow.python.tools.freeze_graph", "--input_graph=%s" % input_graph,
               "--input_binary=true", "--input_checkpoint=%s" % checkpoint,
               "--output_graph=%s" % output_graph, "--output_node_names=%s" % output_node]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return output_graph


def load_graph_def(path):
    graph_def = tf.GraphDef()
    with open(path, "rb") as handle:
        graph_def.ParseFromString(handle.read())
    return graph_def


def run_graph(graph_def, images, output_node, input_node="input"):
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
    with tf.Session(graph=graph) as session:
        return session.run(output_node + ":0", {input_node + ":0": images})


def records_to_files(tfrecord, folder):
    """Writes each record's encoded image under its filename in `folder`: the exact bytes evaluation
    decodes. Returns {filename: path}."""
    os.makedirs(folder, exist_ok=True)
    paths = {}
    for serialized in tf.data.TFRecordDataset([tfrecord]).as_numpy_iterator():
        example = tf.train.Example.FromString(serialized)
        feature = example.features.feature
        name = os.path.basename(feature[fmt.FILENAME].bytes_list.value[0].decode("utf-8"))
        path = os.path.join(folder, name)
        with open(path, "wb") as handle:
            handle.write(feature[fmt.ENCODED].bytes_list.value[0])
        paths[name] = path
    return paths


def write_tfrecord(path, images):
    """A TFRecord of `images` ({filename: encoded bytes}), label 0 each."""
    with tf.io.TFRecordWriter(path) as writer:
        for name, encoded in images.items():
            writer.write(fmt.make_example(encoded, "jpeg", 0, 0, name, [0], ["x"]))
    return path


def eval_probabilities(tfrecord, model_name, num_classes, image_size, label_mode, checkpoint,
                       save_random=False, preprocessing_name=None):
    """{filename: probabilities} as eval_image_classifier.py computes them: engine.evaluation.Evaluator over
    every record of `tfrecord`, the network restored from `checkpoint`; with `save_random`, the network's
    random initial weights are saved there first."""
    from engine.config.options import EvalOptions
    from engine.config.settings import Settings
    from engine.evaluation import evaluate

    spec = nets_factory.get_spec(model_name)
    if save_random:
        with tf.Graph().as_default():
            nets_factory.get_network_fn(model_name, num_classes)(tf.zeros([1, image_size, image_size, 3]))
            with tf.Session() as session:
                session.run(tf.global_variables_initializer())
                tf.train.Saver().save(session, checkpoint, write_meta_graph=False)
    settings = Settings(model_name, image_size, preprocessing_name or spec.preprocessing_name, False, tfrecord,
                        "unused.txt", ["c%d" % i for i in range(num_classes)], 25.0, 0, label_mode)
    found = {}
    with evaluate.Evaluator(settings, label_mode, EvalOptions(eval_dir="unused", split="all",
                                                                batch_size=4)) as evaluator:
        for values in evaluator.predictions(checkpoint):
            for name, row in zip(values["filenames"], values["probabilities"]):
                found[os.path.basename(name.decode("utf-8"))] = row
    return found


def random_images(batch, size, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, (batch, size, size, 3)).astype(np.float32)


_DEPLOYED = {}


def deployed_model(tmp_path_factory, name, data, model_name, image_size, *extra_training, steps=2,
                   quantizations=("dynamic", "float16")):
    """A model trained `steps` steps on `data` (DemoData) and exported through export_inference_graph.py
    in every format: {"train_dir", "frozen", "saved_model", "tflite": {quantization: path}, "onnx",
    "images": {filename: path of the record's bytes}, "export_output": what the first export printed}.
    Built once per test session for each `name`, whichever test module asks first."""
    if name in _DEPLOYED:
        return _DEPLOYED[name]
    import contextlib
    import io

    root = tmp_path_factory.mktemp("deploy_" + name)
    train_dir = train(data.tfrecord, data.classes, str(root / "train"), model_name, image_size, *extra_training,
                      steps=steps)
    paths = {"train_dir": train_dir, "frozen": str(root / "frozen.pb"), "saved_model": str(root / "serving" / "1"),
             "tflite": {"none": str(root / "model.tflite")}, "onnx": str(root / "model.onnx")}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert export("--checkpoint_path", train_dir, "--frozen_graph", paths["frozen"], "--saved_model",
                      paths["saved_model"], "--tflite", paths["tflite"]["none"], "--onnx", paths["onnx"]) == 0
    paths["export_output"] = printed.getvalue()
    for quantization in quantizations:
        paths["tflite"][quantization] = str(root / ("model_%s.tflite" % quantization))
        assert export("--checkpoint_path", train_dir, "--tflite", paths["tflite"][quantization],
                      "--tflite_quantize", quantization) == 0
    paths["images"] = records_to_files(data.tfrecord, str(root / "images"))
    paths["folder"] = str(root / "images")
    _DEPLOYED[name] = paths
    return paths


def lenet_multi(tmp_path_factory, faces):
    """Multi-label lenet on the `faces` fixture, 20 steps at a small learning rate (scores spread between 0
    and 1), in every format (see deployed_model)."""
    return deployed_model(tmp_path_factory, "lenet_multi", faces, "lenet", 28, "--learning_rate", "0.001",
                          "--label_mode", "multi", steps=20)


def lenet_single(tmp_path_factory, gender_faces):
    """Single-label (softmax) lenet over homme/femme (the `gender_faces` fixture); no quantized models."""
    return deployed_model(tmp_path_factory, "lenet_single", gender_faces, "lenet", 28, "--learning_rate", "0.001",
                          steps=10, quantizations=())
