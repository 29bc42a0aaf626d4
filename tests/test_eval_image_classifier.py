"""eval_image_classifier.py on models trained briefly on generated faces."""
import json
import os
import re
import subprocess
import sys

import pytest

import eval_image_classifier
import train_image_classifier
from core.cli import run_main
from core.compat import tf
from datasets import tfrecord_stats
from tests.conftest import ROOT

TRAIN = ["--model_name", "lenet", "--train_image_size", "28", "--batch_size", "16", "--optimizer", "adam",
         "--learning_rate", "0.003", "--opt_epsilon", "1e-8", "--learning_rate_decay_type", "fixed",
         "--log_every_n_steps", "50"]


def train(data, train_dir, steps, *extra):
    argv = ["--tfrecord_file", data.tfrecord, "--chemin_liste_labels", data.classes, "--train_dir",
            str(train_dir), "--max_number_of_steps", str(steps)] + TRAIN + list(extra)
    assert run_main(train_image_classifier.main, argv) == 0


def evaluate(checkpoint, eval_dir, *extra):
    return run_main(eval_image_classifier.main,
                    ["--checkpoint_path", str(checkpoint), "--eval_dir", str(eval_dir)] + list(extra))


def read_metrics(eval_dir):
    with open(os.path.join(str(eval_dir), "metrics.json"), encoding="utf-8") as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def gender_model(gender_faces, tmp_path_factory):
    train_dir = tmp_path_factory.mktemp("gender_model")
    train(gender_faces, train_dir, 150)
    return train_dir


@pytest.fixture(scope="module")
def faces_model(faces, tmp_path_factory):
    train_dir = tmp_path_factory.mktemp("faces_model")
    train(faces, train_dir, 2, "--label_mode", "multi")
    return train_dir


def test_a_briefly_trained_model_evaluates_above_chance_on_held_out_images(gender_model, gender_faces,
                                                                          tmp_path, capsys):
    assert evaluate(gender_model, tmp_path, "--batch_size", "8") == 0
    result = read_metrics(tmp_path)
    held_out = tfrecord_stats.scan(gender_faces.tfrecord, "test", 25)["num_images"]
    assert result["num_images"] == held_out and held_out > 20
    assert result["label_mode"] == "single" and result["global_step"] == 150
    assert result["Accuracy"] > 0.75  # two classes: chance is 0.5
    assert sum(map(sum, result["confusion_matrix"])) == held_out
    out = capsys.readouterr().out
    assert "Accuracy" in out and "homme" in out and "femme" in out


def test_eval_defaults_come_from_the_training_config(faces_model, tmp_path, capsys):
    # Only the checkpoint and the eval dir: model lenet at 28, the 11 classes and multi-label come from
    # train_config.json; a wrong default would not restore.
    assert evaluate(faces_model / "model.ckpt-2", tmp_path) == 0
    result = read_metrics(tmp_path)
    assert result["label_mode"] == "multi"
    assert sorted(result["per_label"]) == sorted(json.loads(
        (faces_model / "train_config.json").read_text())["classes"])
    assert "eval/Accuracy" in capsys.readouterr().out


@pytest.mark.parametrize("batch_size", ["7", "64"])
def test_every_image_of_the_split_is_counted_once(faces_model, faces, tmp_path, batch_size):
    for split in ("test", "val", "train", "all"):
        eval_dir = tmp_path / split
        assert evaluate(faces_model, eval_dir, "--batch_size", batch_size, "--dataset_split_name", split) == 0
        expected = tfrecord_stats.scan(faces.tfrecord, split, 25, val_percentage=10)["num_images"]
        assert read_metrics(eval_dir)["num_images"] == expected
    sizes = [read_metrics(tmp_path / split)["num_images"] for split in ("test", "val", "train", "all")]
    assert sizes[0] + sizes[1] + sizes[2] == sizes[3] == 120 and min(sizes) > 0


def test_max_num_batches_limits_the_evaluation(faces_model, tmp_path):
    assert evaluate(faces_model, tmp_path, "--batch_size", "4", "--max_num_batches", "2") == 0
    assert read_metrics(tmp_path)["num_images"] == 8


def test_scalars_and_confusion_image_reach_tensorboard_at_the_checkpoint_step(gender_model, tmp_path):
    assert evaluate(gender_model, tmp_path) == 0
    tags, steps = {}, set()
    for name in os.listdir(tmp_path):
        if name.startswith("events.out.tfevents"):
            for event in tf.train.summary_iterator(str(tmp_path / name)):
                for value in event.summary.value:
                    tags[value.tag] = value
                    steps.add(event.step)
    assert steps == {150}
    assert tags["eval/Accuracy"].simple_value == pytest.approx(read_metrics(tmp_path)["Accuracy"])
    assert tags["eval/confusion_matrix"].image.encoded_image_string.startswith(b"\x89PNG")


def test_following_mode_picks_up_a_new_checkpoint(faces, tmp_path):
    train_dir, eval_dir = tmp_path / "train", tmp_path / "eval"
    train(faces, train_dir, 1)
    command = [sys.executable, os.path.join(ROOT, "eval_image_classifier.py"), "--checkpoint_path",
               str(train_dir), "--eval_dir", str(eval_dir), "--eval_interval_secs", "1", "--timeout", "25"]
    follower = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in follower.stdout:
            if line.startswith("eval/Accuracy") and "at step 1;" in line:
                break
        train(faces, train_dir, 3)
        out, err = follower.communicate(timeout=120)
    finally:
        follower.kill()
    assert "at step 3;" in out and "Traceback" not in err
    assert read_metrics(eval_dir)["global_step"] == 3


def test_one_evaluator_gives_each_checkpoint_the_results_of_a_fresh_one(faces, tmp_path):
    from engine.config import run_config
    from engine.config import settings as settings_module
    from engine.config.options import EvalOptions
    from engine.evaluation import evaluate

    train(faces, tmp_path / "short", 1)
    train(faces, tmp_path / "long", 30)
    first, last = str(tmp_path / "short" / "model.ckpt-1"), str(tmp_path / "long" / "model.ckpt-30")
    parser = eval_image_classifier.build_parser()
    settings = settings_module.resolve(parser.parse_args(["--checkpoint_path", first]),
                                       run_config.read_config(first))
    options = EvalOptions(eval_dir=str(tmp_path), split="all", batch_size=8)
    with evaluate.Evaluator(settings, "multi", options) as evaluator:
        shared = [evaluator.evaluate(path) for path in (first, last, first)]
    for path, result in zip((first, last, first), shared):
        with evaluate.Evaluator(settings, "multi", options) as fresh:
            assert result["mAP"] == pytest.approx(fresh.evaluate(path)["mAP"], abs=1e-6)
    assert shared[0]["mAP"] == pytest.approx(shared[2]["mAP"], abs=1e-6)
    assert shared[0]["mAP"] != pytest.approx(shared[1]["mAP"], abs=1e-3)


def test_following_waits_for_a_first_checkpoint_and_stops_after_the_timeout(tmp_path, capsys):
    os.makedirs(tmp_path / "empty")
    assert evaluate(tmp_path / "empty", tmp_path / "eval", "--eval_interval_secs", "1", "--timeout", "2") == 0
    out = capsys.readouterr().out
    assert "waiting for training" in out and "stopping after 0 evaluation(s)" in out
    assert os.path.isdir(tmp_path / "eval")


@pytest.mark.parametrize("extra, message", [
    (["--model_name", "cifarnet"], "trained lenet; --model_name cifarnet would not evaluate it: drop the flag or "
                                   "pass another --checkpoint_path"),
    (["--chemin_liste_labels", "GENDER"], "trained with 11 classes (homme, femme, yeux_ronds, yeux_amandes, ...); "
                                          "--classes_file GENDER with 2 classes (homme, femme) would not "
                                          "evaluate it"),
    (["--label_mode", "single"], "trained multi-label; --label_mode single would not evaluate it"),
    (["--validation_percentage", "-10"], "--test_percentage -10 is not a percentage"),
    (["--tfrecord_file", "missing.tfrecord"], "download_and_convert_data.py"),
    (["--validation_percentage", "0"], "split of"),
    (["--eval_image_size", "4"], "too small for lenet"),
])
def test_bad_input_gives_a_message_and_no_traceback(faces_model, gender_faces, tmp_path, capsys, extra, message):
    extra = [gender_faces.classes if item == "GENDER" else item for item in extra]
    assert evaluate(faces_model, tmp_path, *extra) == 2
    err = capsys.readouterr().err
    assert message.replace("GENDER", gender_faces.classes) in err and "Traceback" not in err


def test_no_checkpoint_yet_says_so(tmp_path, capsys):
    os.makedirs(tmp_path / "train")
    assert evaluate(tmp_path / "train", tmp_path / "eval", "--model_name", "lenet") == 2
    assert "no checkpoint in" in capsys.readouterr().err
    assert evaluate(tmp_path / "nowhere", tmp_path / "eval") == 2
    assert "does not exist" in capsys.readouterr().err


def event_values(eval_dir):
    values = {}
    for name in os.listdir(eval_dir):
        if name.startswith("events.out.tfevents"):
            for event in tf.train.summary_iterator(os.path.join(str(eval_dir), name)):
                for value in event.summary.value:
                    values[value.tag] = value
    return values


def test_single_label_evaluation_prints_per_class_scores_and_the_confusion_matrix(gender_model, tmp_path, capsys):
    # Before: per-class accuracy only; the confusion matrix was in metrics.json and a TensorBoard image.
    import pandas

    assert evaluate(gender_model, tmp_path) == 0
    out = capsys.readouterr().out
    result = read_metrics(tmp_path)
    assert re.search(r"class +precision +recall +f1 +images", out)
    for name in ("homme", "femme"):
        entry = result["per_class"][name]
        assert re.search(r"\n  %s +%.4f +%.4f +%.4f +%d\n" % (name, entry["precision"], entry["recall"], entry["f1"],
                                                             entry["count"]), out)
    matrix = out.split("confusion matrix")[1].splitlines()[2:4]
    assert [[int(v) for v in row.split()[1:]] for row in matrix] == result["confusion_matrix"]
    # metrics.csv beside metrics.json: the same per-class figures, one row each, read back with pandas.
    table = pandas.read_csv(tmp_path / "metrics.csv").set_index("class")
    for name, entry in result["per_class"].items():
        for key in ("precision", "recall", "f1", "count"):
            assert table.loc[name, key] == pytest.approx(entry[key], abs=1e-6)


def test_both_modes_write_precision_recall_curves_for_tensorboard(gender_model, faces_model, tmp_path):
    from tensorboard.plugins.pr_curve import metadata as pr_metadata

    for model, eval_dir in ((gender_model, tmp_path / "single"), (faces_model, tmp_path / "multi")):
        assert evaluate(model, eval_dir) == 0
        result = read_metrics(eval_dir)
        per_name = result.get("per_class") or result["per_label"]
        values = event_values(eval_dir)
        for name, entry in per_name.items():
            value = values["eval/pr_curve/%s/pr_curves" % name]
            assert value.metadata.plugin_data.plugin_name == pr_metadata.PLUGIN_NAME
            data = tf.make_ndarray(value.tensor)
            assert data.shape == (6, 101)  # tp, fp, tn, fn, precision, recall at 101 thresholds
            positives = entry.get("count", entry.get("positives"))
            assert data[0, 0] + data[3, 0] == positives  # threshold 0: every image of the class is a positive
            assert data[0, 0] + data[1, 0] == result["num_images"]


def test_the_default_eval_dir_is_inside_the_training_directory(faces, tmp_path, capsys):
    # Before: output_eval/, beside output/, which `tensorboard --logdir output/` does not show.
    train(faces, tmp_path / "train", 1)
    assert run_main(eval_image_classifier.main, ["--checkpoint_path", str(tmp_path / "train" / "model.ckpt-1")]) == 0
    assert read_metrics(tmp_path / "train" / "eval")["global_step"] == 1
    assert sorted(name for name in os.listdir(tmp_path / "train" / "eval") if not name.startswith("events.out")) == [
        "metrics.csv", "metrics.json"]
    assert "train/eval/metrics.json and metrics.csv written" in capsys.readouterr().out


def test_a_classes_file_that_disagrees_with_the_records_is_refused(faces_model, faces, tmp_path, capsys):
    # A checkpoint without train_config.json (a research/slim one): the classes file is all there is to go by.
    import shutil

    bare = tmp_path / "bare"
    os.makedirs(bare)
    for name in os.listdir(faces_model):
        if name.startswith("model.ckpt-2") or name == "checkpoint":
            shutil.copy(faces_model / name, bare / name)
    names = [line.split(":", 1)[1] for line in open(faces.classes, encoding="utf-8").read().split()]
    swapped = tmp_path / "swapped.txt"
    swapped.write_text("".join("%d:%s\n" % (i + 1, n) for i, n in enumerate(names[:2][::-1] + names[2:])))
    common = ["--model_name", "lenet", "--eval_image_size", "28", "--tfrecord_file", faces.tfrecord]
    assert evaluate(bare, tmp_path / "eval", "--chemin_liste_labels", str(swapped), *common) == 2
    err = capsys.readouterr().err
    assert "class 1 is 'homme' in the records, 'femme' in the classes file" in err and "Traceback" not in err
    assert evaluate(bare, tmp_path / "eval", "--chemin_liste_labels", faces.classes, *common) == 0


@pytest.mark.parametrize("extra, message", [
    (["--model_name", "cifarnet", "--eval_image_size", "32"], "does not fit cifarnet"),
    (["--model_name", "lenet", "--eval_image_size", "28", "--chemin_liste_labels", "GENDER"],
     "does not fit lenet with 2 classes"),
])
def test_a_checkpoint_without_its_training_config_is_checked_against_the_network(
        faces_model, gender_faces, tmp_path, capsys, extra, message):
    """A checkpoint copied without its train_config.json (a published one, say): nothing recorded says what it
    is, so the variables themselves are compared with the network's before anything is restored."""
    import shutil

    copy = tmp_path / "copied"
    copy.mkdir()
    for name in os.listdir(faces_model):
        if name.startswith("model.ckpt-2."):
            shutil.copy(os.path.join(str(faces_model), name), str(copy / name))
    extra = [gender_faces.classes if item == "GENDER" else item for item in extra]
    assert evaluate(copy / "model.ckpt-2", tmp_path / "eval", "--tfrecord_file", gender_faces.tfrecord, *extra) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_multi_label_thresholds_are_chosen_on_val_reported_on_test_and_used_by_label_image(faces_model, faces,
                                                                                           tmp_path, capsys):
    import numpy as np

    from engine.config import run_config
    from engine.config import settings as settings_module
    from engine.config.options import EvalOptions
    from engine.evaluation import metrics as metrics_module
    from engine.evaluation import thresholds
    from tests.export_support import export
    from tests.label_support import TEXT_LINE, label

    eval_dir = faces_model / "eval"  # the default, where export looks for them
    assert evaluate(faces_model, eval_dir) == 0
    assert "at the thresholds chosen on the val part (f1)" in capsys.readouterr().out
    result, chosen = read_metrics(eval_dir), json.loads((eval_dir / "thresholds.json").read_text())
    assert (chosen["split"], chosen["criterion"], chosen["global_step"]) == ("val", "f1", 2)
    # Chosen on the val images, the metrics at them reported on the test images.
    args = eval_image_classifier.build_parser().parse_args(["--checkpoint_path", str(faces_model)])
    settings = settings_module.resolve(args, run_config.read_config(str(faces_model)))
    checkpoint = str(faces_model / "model.ckpt-2")
    parts = {}
    with evaluate_module().Evaluator(settings, "multi", EvalOptions(eval_dir="unused")) as evaluator:
        for split in ("val", "test"):
            batches = list(evaluator.predictions(checkpoint, split))
            parts[split] = [np.concatenate([batch[key] for batch in batches]) for key in ("probabilities", "labels")]
    expected = thresholds.choose(*parts["val"])
    names = settings.outputs
    assert [chosen["thresholds"][name] for name in names] == pytest.approx(expected)
    assert chosen["num_images"] == len(parts["val"][0]) and result["num_images"] == len(parts["test"][0])
    at_thresholds = metrics_module.multi_label_metrics(*parts["test"], names, expected)
    assert result["at_thresholds"]["mean_f1"] == pytest.approx(at_thresholds["mean_f1"], abs=1e-6)
    assert result["Accuracy"] == pytest.approx(metrics_module.multi_label_metrics(*parts["test"], names)["Accuracy"],
                                               abs=1e-6)  # and at 0.5, as before
    # Export records them; label_image prints the labels at or above their threshold, best first.
    frozen = tmp_path / "frozen.pb"
    assert export("--checkpoint_path", faces_model, "--frozen_graph", frozen) == 0
    meta = json.loads((tmp_path / "frozen.json").read_text())
    assert meta["thresholds"] == pytest.approx(list(expected)) and meta["threshold_criterion"] == "f1"
    capsys.readouterr()
    assert label("--image", faces.images, "--graph", frozen, "--json", "--top_k", 0) == 0
    scores = {image: {p["label"]: p["score"] for p in record["predictions"]}
              for image, record in json_records(capsys.readouterr().out).items()}
    assert label("--image", faces.images, "--graph", frozen, "--json") == 0
    shown = json_records(capsys.readouterr().out)
    assert len(shown) == len(scores) == 120
    for image, record in shown.items():
        above = sorted((name for name in names if scores[image][name] >= meta["thresholds"][names.index(name)]),
                       key=lambda name: -scores[image][name])
        assert [p["label"] for p in record["predictions"]] == above
        assert all(p["threshold"] == pytest.approx(chosen["thresholds"][p["label"]]) for p in record["predictions"])
    # 0.5 would show other labels (the thresholds are not all 0.5 and some scores lie between)
    assert any(sorted(name for name, score in row.items() if score >= 0.5) != sorted(
        p["label"] for p in shown[image]["predictions"]) for image, row in scores.items())
    assert label("--image", os.path.join(faces.images, sorted(os.listdir(faces.images))[0]), "--graph", frozen) == 0
    assert all(TEXT_LINE.match(line) for line in capsys.readouterr().out.strip().splitlines())
    # Thresholds chosen for another checkpoint are not recorded: a warning says so.
    stale = dict(chosen, global_step=1)
    (tmp_path / "stale.json").write_text(json.dumps(stale))
    assert export("--checkpoint_path", faces_model, "--frozen_graph", frozen, "--thresholds_file",
                  tmp_path / "stale.json") == 0
    assert "were chosen for step 1, not for the exported step 2" in capsys.readouterr().err
    assert "thresholds" not in json.loads((tmp_path / "frozen.json").read_text())


def json_records(text):
    return {os.path.basename(record["image"]): record for record in map(json.loads, text.strip().splitlines())}


def evaluate_module():
    from engine.evaluation import evaluate as module

    return module
