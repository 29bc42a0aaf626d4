"""--moving_average_decay: evaluation and export use the averages a checkpoint holds, not the weights, when asked or
when the training run recorded it. The checkpoint here holds weights A and, under the averages' names, other values
B, so each side's predictions say which values were read."""
import json
import os

import numpy as np
import pytest

import eval_image_classifier
import export_inference_graph
import train_image_classifier
from core.cli import run_main
from core.compat import tf
from engine.model.checkpoints import AVERAGE_SUFFIX
from tests.export_support import load_graph_def

TRAIN = ["--model_name", "lenet", "--train_image_size", "28", "--batch_size", "8", "--optimizer", "adam",
         "--learning_rate", "0.003", "--opt_epsilon", "1e-8", "--learning_rate_decay_type", "fixed",
         "--log_every_n_steps", "10", "--seed", "1"]


def _save(directory, values, config):
    """A checkpoint model.ckpt-3 of `values` ({name: array}) in `directory`, with the run's train_config.json."""
    os.makedirs(directory)
    graph = tf.Graph()
    with graph.as_default():
        variables = [tf.Variable(value, name=name) for name, value in values.items()]
        with tf.Session(graph=graph) as session:
            session.run(tf.global_variables_initializer())
            tf.train.Saver(variables).save(session, os.path.join(directory, "model.ckpt-3"))
    with open(os.path.join(directory, "train_config.json"), "w", encoding="utf-8") as handle:
        json.dump(config, handle)


@pytest.fixture(scope="module")
def runs(faces, tmp_path_factory):
    """{"averaged": weights A with averages B, recording --moving_average_decay 0.9; "a": A alone; "b": B alone}."""
    root = tmp_path_factory.mktemp("averages")
    train_dir = str(root / "train")
    assert run_main(train_image_classifier.main, ["--tfrecord_file", faces.tfrecord, "--train_dir", train_dir,
                                                  "--max_number_of_steps", "3"] + TRAIN) == 0
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(train_dir))
    weights = {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
               if name.startswith("LeNet/") and "/Adam" not in name}
    rng = np.random.default_rng(0)
    averages = {name: (value + rng.normal(0, 0.05, value.shape)).astype(np.float32) for name, value in weights.items()}
    with open(os.path.join(train_dir, "train_config.json"), encoding="utf-8") as handle:
        config = json.load(handle)
    step = {"global_step": np.int64(3)}
    paths = {name: str(root / name) for name in ("averaged", "a", "b")}
    _save(paths["averaged"], dict(step, **weights, **{name + "/" + AVERAGE_SUFFIX: value
                                                      for name, value in averages.items()}),
          dict(config, moving_average_decay=0.9))
    _save(paths["a"], dict(step, **weights), config)
    _save(paths["b"], dict(step, **averages), config)
    return dict(paths, tfrecord=faces.tfrecord)


def _metrics(runs, name, tmp_path, *extra):
    eval_dir = str(tmp_path / ("eval_%s_%d" % (name, len(extra))))
    assert run_main(eval_image_classifier.main, ["--checkpoint_path", runs[name], "--eval_dir", eval_dir,
                                                 "--dataset_split_name", "all"] + list(extra)) == 0
    with open(os.path.join(eval_dir, "metrics.json"), encoding="utf-8") as handle:
        result = json.load(handle)
    return {key: result[key] for key in ("Accuracy", "mAP", "per_label")}


def test_evaluation_reads_the_averages_the_run_recorded_or_the_flag_names(runs, tmp_path):
    a, b = _metrics(runs, "a", tmp_path), _metrics(runs, "b", tmp_path)
    assert a != b  # the two sets of values predict differently
    assert _metrics(runs, "averaged", tmp_path) == b  # train_config.json records --moving_average_decay 0.9
    assert _metrics(runs, "averaged", tmp_path, "--moving_average_decay", "0.9") == b
    assert _metrics(runs, "averaged", tmp_path, "--moving_average_decay", "0") == a  # the weights themselves


def _frozen_biases(runs, name, tmp_path, *extra):
    path = str(tmp_path / ("%s_%d.pb" % (name, len(extra))))
    assert run_main(export_inference_graph.main, ["--checkpoint_path", runs[name], "--frozen_graph", path]
                    + list(extra)) == 0
    nodes = {node.name: node for node in load_graph_def(path).node}
    return tf.make_ndarray(nodes["LeNet/fc4/biases"].attr["value"].tensor)


def test_export_freezes_the_averages_the_run_recorded_or_the_flag_names(runs, tmp_path):
    biases = {name: tf.train.load_checkpoint(os.path.join(runs[name], "model.ckpt-3")).get_tensor("LeNet/fc4/biases")
              for name in ("a", "b")}
    assert not np.array_equal(biases["a"], biases["b"])
    np.testing.assert_array_equal(_frozen_biases(runs, "averaged", tmp_path), biases["b"])
    np.testing.assert_array_equal(_frozen_biases(runs, "averaged", tmp_path, "--moving_average_decay", "0"),
                                  biases["a"])
