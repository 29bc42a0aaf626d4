"""Training that validates itself on the val part: the best checkpoint kept in train_dir/best/ and taken by
evaluation, export and label_image; early stopping on a run whose metric is known to peak; seeded runs that
validation does not change; evaluation following a run on the val part; the flags' bad input."""
import json
import os

import numpy as np
import pytest

import eval_image_classifier
import train_image_classifier
from core.cli import run_main
from core.compat import tf
from datasets import tfrecord_stats
from tests.export_support import export
from tests.label_support import json_scores, label

# Multi-label runs (the faces' attribute groups would be found otherwise): the figures below are of a sigmoid per label.
LENET = ["--model_name", "lenet", "--train_image_size", "28", "--batch_size", "8", "--optimizer", "adam",
         "--opt_epsilon", "1e-8", "--log_every_n_steps", "10", "--seed", "1", "--label_mode", "multi"]
# A run known to peak: the learning rate climbs linearly from 0.005 towards 0.5 over 10 epochs of 84 images in steps
# of 8 (about 0.1 at step 20): the val metric climbs while the rate is small, then Adam's steps grow too large and
# it unlearns (a negative rate, which made gradient ascent, is refused since issue 22).
PEAKING = ["--learning_rate", "0.005", "--learning_rate_decay_type", "polynomial", "--end_learning_rate", "0.5",
           "--num_epochs_per_decay", "10"]


def train(data, train_dir, steps, *extra):
    return run_main(train_image_classifier.main, ["--tfrecord_file", data.tfrecord, "--train_dir", str(train_dir),
                                                  "--max_number_of_steps", str(steps)] + LENET + list(extra))


def curve(folder, tag="eval/mAP"):
    """{step: value} of a scalar in the TensorBoard events of `folder`."""
    found = {}
    for name in os.listdir(folder):
        if name.startswith("events.out.tfevents"):
            for event in tf.train.summary_iterator(os.path.join(folder, name)):
                for value in event.summary.value:
                    if value.tag == tag:
                        found[event.step] = value.simple_value
    return found


def variables(checkpoint):
    reader = tf.train.load_checkpoint(str(checkpoint))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


@pytest.fixture(scope="module")
def peaked(faces, tmp_path_factory):
    train_dir = tmp_path_factory.mktemp("peaked")
    assert train(faces, train_dir, 60, *PEAKING, "--eval_every_n_steps", "5", "--early_stopping_patience", "4",
                 "--best_metric", "mAP") == 0
    return str(train_dir)


def test_the_best_checkpoint_is_the_peak_of_the_val_curve_and_early_stopping_stops_after_patience(peaked):
    values = curve(os.path.join(peaked, "eval_val"))  # the TensorBoard run `eval_val`
    record = json.load(open(os.path.join(peaked, "best", "best.json"), encoding="utf-8"))
    peak = max(values, key=lambda step: (values[step], step))  # the last of the highest
    assert 10 <= peak <= 30  # before the rate passes 0.15
    assert (record["global_step"], record["metric"], record["split"]) == (peak, "mAP", "val")
    assert record["value"] == pytest.approx(values[peak], abs=1e-6)
    # It stopped 4 evaluations after the peak, with a final checkpoint, before --max_number_of_steps 60.
    stop = peak + 4 * 5
    assert sorted(values) == list(range(5, stop + 1, 5)) and stop < 60
    assert tf.train.latest_checkpoint(peaked).endswith("model.ckpt-%d" % stop)
    assert record["last"]["global_step"] == stop and record["stale_evaluations"] == 4
    # The kept checkpoint is the one trained at the peak; rotation keeps 5 in train_dir, best/ never loses it.
    best = tf.train.latest_checkpoint(os.path.join(peaked, "best"))
    assert best == os.path.join(peaked, "best", "model.ckpt-%d" % peak)
    if os.path.exists(os.path.join(peaked, "model.ckpt-%d.index" % peak)):
        kept, trained = variables(best), variables(os.path.join(peaked, "model.ckpt-%d" % peak))
        assert all(np.array_equal(kept[name], trained[name]) for name in trained)


def test_evaluation_export_and_label_image_take_best_as_a_training_directory(peaked, faces, tmp_path, capsys):
    record = json.load(open(os.path.join(peaked, "best", "best.json"), encoding="utf-8"))
    # Evaluation of best/ on the val part finds the value that chose it; its results go into best/eval_val/.
    assert run_main(eval_image_classifier.main, ["--checkpoint_path", os.path.join(peaked, "best"),
                                                 "--dataset_split_name", "val"]) == 0
    result = json.load(open(os.path.join(peaked, "best", "eval_val", "metrics.json"), encoding="utf-8"))
    assert result["global_step"] == record["global_step"] and result["mAP"] == pytest.approx(record["value"])
    frozen = str(tmp_path / "best.pb")
    assert export("--checkpoint_path", os.path.join(peaked, "best"), "--frozen_graph", frozen) == 0
    image = os.path.join(faces.images, sorted(os.listdir(faces.images))[0])
    capsys.readouterr()
    assert label("--graph", frozen, "--image", image, "--json", "--top_k", "0") == 0
    from_graph = json_scores(capsys.readouterr().out)
    assert label("--graph", os.path.join(peaked, "best"), "--image", image, "--json", "--top_k", "0") == 0
    assert json_scores(capsys.readouterr().out) == from_graph


def test_a_seeded_run_trains_the_same_weights_with_or_without_validation(faces, tmp_path, capsys):
    # Inception preprocessing: random crops, flips and colours, drawn in 4 threads.
    extra = ["--preprocessing_name", "inception", "--learning_rate", "0.01", "--num_preprocessing_threads", "4"]
    assert train(faces, tmp_path / "plain", 6, *extra) == 0
    assert train(faces, tmp_path / "validated", 6, *extra, "--eval_every_n_steps", "2") == 0
    assert "validation: Accuracy" in capsys.readouterr().out  # the default of multi-label runs
    plain = variables(tmp_path / "plain" / "model.ckpt-6")
    validated = variables(tmp_path / "validated" / "model.ckpt-6")
    assert set(plain) == set(validated)
    for name in plain:
        np.testing.assert_array_equal(plain[name], validated[name], err_msg=name)
    assert sorted(curve(str(tmp_path / "validated" / "eval_val"))) == [2, 4, 6]
    validated = json.load(open(tmp_path / "validated" / "eval_val" / "metrics.json", encoding="utf-8"))
    assert validated["num_images"] == tfrecord_stats.scan(faces.tfrecord, "val", 25.0, val_percentage=10.0)[
        "num_images"] > 0  # the images of the val part, not of the test part
    # Evaluation following the run keeps the best the same way on the val part, and never on the test part.
    assert run_main(eval_image_classifier.main, ["--checkpoint_path", str(tmp_path / "plain"), "--eval_interval_secs",
                                                 "0.5", "--timeout", "1"]) == 0
    assert os.path.isdir(tmp_path / "plain" / "eval") and not os.path.exists(tmp_path / "plain" / "best")
    assert run_main(eval_image_classifier.main, ["--checkpoint_path", str(tmp_path / "plain"), "--eval_interval_secs",
                                                 "0.5", "--timeout", "1", "--dataset_split_name", "val"]) == 0
    record = json.load(open(tmp_path / "plain" / "best" / "best.json", encoding="utf-8"))
    assert (record["global_step"], record["kept_by"], record["split"]) == (6, "eval_image_classifier.py", "val")
    assert "Accuracy" in capsys.readouterr().out


@pytest.mark.parametrize("extra, message", [
    (["--early_stopping_patience", "3"], "--early_stopping_patience works on the evaluations of the val part"),
    (["--eval_every_n_steps", "5", "--best_metric", "Recall_5"], "--best_metric Recall_5 is not a metric of "
                                                                  "multi-label models; use one of Accuracy, mAP,"),
    (["--eval_every_n_steps", "5", "--val_percentage", "0"], "validation reads the val part of the split, and "
                                                              "this run has none"),
    (["--learning_rate_decay_type", "cosine", "--max_number_of_steps", "0"], "cosine decays until the last step"),
    (["--eval_every_n_steps", "0"], "--eval_every_n_steps 0: it must be at least 1"),
])
def test_bad_validation_flags_give_a_message_and_write_nothing(faces, tmp_path, capsys, extra, message):
    argv = ["--tfrecord_file", faces.tfrecord, "--train_dir", str(tmp_path / "train")] + LENET + extra
    if "--max_number_of_steps" not in extra:
        argv += ["--max_number_of_steps", "2"]
    assert run_main(train_image_classifier.main, argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not os.path.exists(tmp_path / "train" / "train_config.json")


def test_best_metric_in_evaluation_needs_a_run_followed_on_the_val_part(peaked, capsys):
    assert run_main(eval_image_classifier.main, ["--checkpoint_path", peaked, "--best_metric", "mAP"]) == 2
    assert "add --eval_interval_secs N --dataset_split_name val" in capsys.readouterr().err
