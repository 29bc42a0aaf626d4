"""engine/evaluation/evaluate.py: the probabilities evaluation computes are the sigmoid (multi-label), the softmax
(single-label) or a softmax per attribute group (grouped) of the network's logits, and the metrics
eval_image_classifier.py writes follow from them. Checked with numpy on checkpoints trained one small step, so
the outputs are far from 0 and 1."""
import json

import numpy as np
import pytest

import eval_image_classifier
import train_image_classifier
from core.cli import run_main
from core.compat import tf
from engine.config import run_config
from engine.config import settings as settings_module
from engine.config.options import EvalOptions
from engine.evaluation import evaluate


def _train_one_small_step(data, train_dir, *extra):
    """A lenet checkpoint whose outputs are far from 0 and 1: trained one step, then its logits layer's
    weights scaled down (LeNet's initial logits are large enough to saturate)."""
    assert run_main(train_image_classifier.main, [
        "--tfrecord_file", data.tfrecord, "--chemin_liste_labels", data.classes, "--train_dir", str(train_dir),
        "--model_name", "lenet", "--train_image_size", "28", "--batch_size", "8", "--optimizer", "sgd",
        "--learning_rate", "0.001", "--max_number_of_steps", "1", "--seed", "1"] + list(extra)) == 0
    prefix = str(train_dir / "model.ckpt-1")
    reader = tf.train.load_checkpoint(prefix)
    with tf.Graph().as_default():
        variables = {name: tf.Variable(reader.get_tensor(name) * (0.1 if name.startswith("LeNet/fc4") else 1))
                     for name in reader.get_variable_to_shape_map()}
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            tf.train.Saver(variables).save(session, prefix, write_meta_graph=False)
    return str(train_dir)


def _predictions(train_dir, label_mode):
    args = eval_image_classifier.build_parser().parse_args(["--checkpoint_path", train_dir,
                                                            "--dataset_split_name", "all"])
    settings = settings_module.resolve(args, run_config.read_config(train_dir))
    options = EvalOptions(eval_dir="unused", split="all", batch_size=16)
    with evaluate.Evaluator(settings, label_mode, options) as evaluator:
        batches = list(evaluator.predictions(evaluate.find_checkpoint_once(train_dir)))
    return {key: np.concatenate([batch[key] for batch in batches]) for key in batches[0]}


@pytest.fixture(scope="module")
def multi_label_run(tmp_path_factory, faces):
    return _train_one_small_step(faces, tmp_path_factory.mktemp("multi"), "--label_mode", "multi")


def test_multi_label_probabilities_are_the_sigmoid_of_the_logits(multi_label_run):
    values = _predictions(multi_label_run, "multi")
    logits, probabilities = values["logits"].astype(np.float64), values["probabilities"]
    np.testing.assert_allclose(probabilities, 1.0 / (1.0 + np.exp(-logits)), atol=1e-6)
    unsaturated = np.mean((probabilities > 0.02) & (probabilities < 0.98))
    assert unsaturated > 0.8  # a softmax, or outputs clipped to 0 and 1, would differ on these
    assert np.abs(probabilities.sum(axis=1) - 1.0).min() > 0.5


def test_the_written_metrics_follow_from_thresholding_those_sigmoids(multi_label_run, tmp_path):
    values = _predictions(multi_label_run, "multi")
    assert run_main(eval_image_classifier.main, ["--checkpoint_path", multi_label_run, "--eval_dir", str(tmp_path),
                                                 "--dataset_split_name", "all", "--batch_size", "16",
                                                 "--threshold_criterion", "none"]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    sigmoid = 1.0 / (1.0 + np.exp(-values["logits"].astype(np.float64)))
    per_label = np.mean((sigmoid >= 0.5) == (values["labels"] >= 0.5), axis=0)
    assert metrics["num_images"] == len(values["labels"]) == 120
    assert metrics["Accuracy"] == pytest.approx(float(per_label.mean()), abs=1e-6)


def test_single_label_probabilities_are_the_softmax_of_the_logits(gender_faces, tmp_path):
    train_dir = _train_one_small_step(gender_faces, tmp_path / "single")
    values = _predictions(train_dir, "single")
    logits = values["logits"].astype(np.float64)
    softmax = np.exp(logits - logits.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(values["probabilities"], softmax, atol=1e-6)
    unsaturated = np.mean((values["probabilities"] > 0.02) & (values["probabilities"] < 0.98))
    assert unsaturated > 0.8


def test_grouped_probabilities_are_a_softmax_per_group_and_the_metrics_follow(faces, tmp_path):
    train_dir = _train_one_small_step(faces, tmp_path / "grouped")  # the faces' groups, found in their labels
    config = json.loads((tmp_path / "grouped" / "train_config.json").read_text())
    assert config["label_mode"] == "grouped"
    groups = {group["name"]: [config["classes"].index(name) for name in group["classes"]]
              for group in config["label_groups"]}
    values = _predictions(train_dir, "grouped")
    logits = values["logits"].astype(np.float64)
    expected = np.zeros_like(logits)
    for indexes in groups.values():
        exponentials = np.exp(logits[:, indexes] - logits[:, indexes].max(axis=1, keepdims=True))
        expected[:, indexes] = exponentials / exponentials.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(values["probabilities"], expected, atol=1e-6)
    assert np.mean((expected > 0.02) & (expected < 0.98)) > 0.8
    assert run_main(eval_image_classifier.main, ["--checkpoint_path", train_dir, "--eval_dir", str(tmp_path / "eval"),
                                                 "--dataset_split_name", "all", "--batch_size", "16"]) == 0
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    truth = values["labels"] >= 0.5
    rows, every = np.arange(len(truth)), np.ones(len(truth), bool)
    for name, indexes in groups.items():
        best = np.argmax(expected[:, indexes], axis=1)
        right = truth[:, indexes][rows, best]
        every &= right
        assert metrics["per_group"][name]["accuracy"] == pytest.approx(right.mean(), abs=1e-6)
        assert np.sum(metrics["per_group"][name]["confusion_matrix"]) == len(truth)
    assert metrics["exact_match"] == pytest.approx(every.mean(), abs=1e-6)
    assert metrics["label_mode"] == "grouped" and metrics["images_outside_groups"] == 0
