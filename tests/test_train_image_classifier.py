"""train_image_classifier.py on generated faces: learning, resume, fine-tuning, clones, signals, bad input."""
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import train_image_classifier
from core.cli import run_main
from core.compat import tf
from tests.conftest import ROOT
from tests.faults import file_digests

FAST = ["--model_name", "lenet", "--train_image_size", "28", "--batch_size", "8", "--optimizer", "adam",
        "--learning_rate", "0.002", "--opt_epsilon", "1e-8", "--log_every_n_steps", "1"]


def train(data, train_dir, steps, *extra):
    argv = ["--tfrecord_file", data.tfrecord, "--chemin_liste_labels", data.classes, "--train_dir",
            str(train_dir), "--max_number_of_steps", str(steps)] + FAST + list(extra)
    return run_main(train_image_classifier.main, argv)


def checkpoint_values(path):
    reader = tf.train.load_checkpoint(str(path))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def losses(text):
    return [float(value) for value in re.findall(r"loss ([0-9.]+)", text)]


def test_multi_label_training_lowers_the_loss_and_records_its_config(faces, tmp_path, capsys):
    assert train(faces, tmp_path, 80, "--label_mode", "multi") == 0
    output = capsys.readouterr().out
    values = losses(output)
    assert len(values) == 80  # a line after every step
    assert np.mean(values[-10:]) < 0.8 * np.mean(values[:5])
    assert os.path.exists(tmp_path / "model.ckpt-80.index")
    assert "multi-label" in output
    config = json.loads((tmp_path / "train_config.json").read_text())
    assert config["label_mode"] == "multi"
    assert config["model_name"] == "lenet" and config["image_size"] == 28
    assert config["classes"][0] == "homme" and len(config["classes"]) == 11
    assert int(checkpoint_values(tmp_path / "model.ckpt-80")["global_step"]) == 80
    assert any(name.startswith("events.out.tfevents") for name in os.listdir(tmp_path))


def loss_op_types(train_dir):
    """The cross-entropy op types of the training graph written into the event file of `train_dir`."""
    for name in os.listdir(train_dir):
        if name.startswith("events.out.tfevents"):
            for event in tf.train.summary_iterator(os.path.join(train_dir, name)):
                if event.graph_def:
                    graph_def = tf.GraphDef.FromString(event.graph_def)
                    # tf.losses.sigmoid_cross_entropy computes log1p(exp(-|x|)); the softmax loss is one op.
                    return {node.op for node in graph_def.node
                            if node.op in ("SoftmaxCrossEntropyWithLogits", "Log1p")}
    raise AssertionError("no graph in the event files of %s" % train_dir)


def test_single_label_data_trains_with_softmax(gender_faces, tmp_path, capsys):
    assert train(gender_faces, tmp_path, 3) == 0
    assert "single-label, 2 classes" in capsys.readouterr().out
    assert json.loads((tmp_path / "train_config.json").read_text())["label_mode"] == "single"
    ops = loss_op_types(tmp_path)
    assert ops == {"SoftmaxCrossEntropyWithLogits"}


def test_multi_label_data_trains_with_a_sigmoid_per_label(faces, tmp_path):
    assert train(faces, tmp_path, 1, "--label_mode", "multi") == 0
    ops = loss_op_types(tmp_path)
    assert ops == {"Log1p"}


def test_faces_train_a_softmax_per_attribute_group_found_in_their_labels(faces, tmp_path, capsys):
    assert train(faces, tmp_path, 30, "--save_summaries_steps", "10") == 0
    out = capsys.readouterr().out
    assert "attribute groups found in the labels of" in out and "(grouped, a softmax for each of 5 attribute " \
        "groups, 11 classes)" in out
    config = json.loads((tmp_path / "train_config.json").read_text())
    assert config["label_mode"] == "grouped"
    assert [group["classes"] for group in config["label_groups"]] == [
        ["homme", "femme"], ["yeux_ronds", "yeux_amandes"], ["nez_rond", "nez_pointu"],
        ["visage_rond", "visage_carre"], ["jeune", "age_moyen", "vieux"]]
    assert loss_op_types(tmp_path) == {"SoftmaxCrossEntropyWithLogits"}
    steps = summary_steps(tmp_path)  # a loss curve per attribute
    assert {"losses/loss/homme_femme", "losses/loss/jeune_age_moyen_vieux", "total_loss"} <= set(steps)
    assert "losses/loss" not in steps


def test_resume_continues_the_step_count(faces, tmp_path, capsys):
    assert train(faces, tmp_path, 3) == 0
    assert train(faces, tmp_path, 5) == 0
    output = capsys.readouterr().out
    assert "resuming from" in output and "model.ckpt-3" in output
    assert "step 4/5" in output and "step 1/5" not in output.split("resuming")[1]
    assert int(checkpoint_values(tmp_path / "model.ckpt-5")["global_step"]) == 5
    assert train(faces, tmp_path, 5) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_resume_without_the_checkpoint_state_file_takes_the_newest_complete_checkpoint(faces, tmp_path, capsys):
    assert train(faces, tmp_path, 3, "--save_interval_secs", "0") == 0
    os.remove(tmp_path / "checkpoint")
    # A save killed halfway: the index of step 9 without its data file must not be taken.
    (tmp_path / "model.ckpt-9.index").write_bytes((tmp_path / "model.ckpt-3.index").read_bytes())
    assert train(faces, tmp_path, 5) == 0
    output = capsys.readouterr().out
    assert "resuming from" in output and "model.ckpt-3" in output.split("resuming from")[1].splitlines()[0]
    assert "step 4/5" in output.split("resuming")[1] and "step 1/5" not in output.split("resuming")[1]
    assert int(checkpoint_values(tmp_path / "model.ckpt-5")["global_step"]) == 5


def test_fine_tuning_restores_all_but_excluded_scopes_and_trains_only_the_trainable_ones(
        faces, gender_faces, tmp_path, capsys):
    source = tmp_path / "source"
    assert train(faces, source, 2) == 0
    before = checkpoint_values(source / "model.ckpt-2")
    target = tmp_path / "target"
    assert train(gender_faces, target, 3, "--checkpoint_path", str(source),
                 "--checkpoint_exclude_scopes", "LeNet/fc4", "--trainable_scopes", "LeNet/fc4") == 0
    assert "fine-tuning from" in capsys.readouterr().out
    after = checkpoint_values(target / "model.ckpt-3")
    model = [name for name in after if name.startswith("LeNet/") and "Adam" not in name]
    assert model
    for name in model:
        if name.startswith("LeNet/fc4"):
            assert after[name].shape[-1] == 2  # new 2-class head, trained
        else:
            np.testing.assert_array_equal(after[name], before[name], err_msg=name)


def test_two_clones_on_cpu_train(faces, tmp_path, capsys):
    assert train(faces, tmp_path, 2, "--num_clones", "2", "--clone_on_cpu", "True") == 0
    names = set(checkpoint_values(tmp_path / "model.ckpt-2"))
    assert "LeNet/conv1/weights" in names and not [name for name in names if "clone" in name]  # shared
    assert train(faces, tmp_path / "odd", 2, "--num_clones", "3", "--clone_on_cpu") == 2
    assert "multiple of --num_clones" in capsys.readouterr().err


def test_absl_boolean_spellings():
    parser = train_image_classifier.build_parser()
    assert parser.parse_args(["--clone_on_cpu"]).clone_on_cpu is True
    assert parser.parse_args(["--clone_on_cpu", "True"]).clone_on_cpu is True
    assert parser.parse_args(["--clone_on_cpu=false"]).clone_on_cpu is False
    assert parser.parse_args(["--noclone_on_cpu"]).clone_on_cpu is False
    assert parser.parse_args([]).clone_on_cpu is False
    args = parser.parse_args(["--chemin_tfrecords", "a.tfrecord", "--path_to_csv", "b.csv"])
    assert args.tfrecord_file == "a.tfrecord" and args.csv_file == "b.csv"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_saves_a_checkpoint_and_exits_within_seconds(faces, tmp_path, signum):
    command = [sys.executable, os.path.join(ROOT, "train_image_classifier.py"), "--tfrecord_file",
               faces.tfrecord, "--chemin_liste_labels", faces.classes, "--train_dir", str(tmp_path)] + FAST
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("step 5"):
            break
    sent = time.monotonic()
    process.send_signal(signum)
    out, err = process.communicate(timeout=60)
    assert time.monotonic() - sent < 20
    assert process.returncode == 130
    assert "Traceback" not in err
    assert "received: saved model.ckpt-" in out
    step = int(re.search(r"saved model.ckpt-(\d+)", out).group(1))
    assert step >= 5
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-%d" % step)
    # The curves end where the checkpoint is: summaries at the first step and at the interrupt's save.
    steps = summary_steps(tmp_path)["total_loss"]
    assert steps[0] == 1 and steps[-1] == step


@pytest.mark.parametrize("extra, message", [
    (["--model_name", "inception_v9"], "unknown --model_name 'inception_v9'; available: alexnet_v2"),
    (["--tfrecord_file", "missing.tfrecord"], "download_and_convert_data.py"),
    (["--validation_percentage", "100"],
     "--test_percentage 100 and --val_percentage 10 hold out more than every image"),
    (["--validation_percentage", "90", "--val_percentage", "10"], "training split of"),
    (["--validation_percentage", "-10"], "--test_percentage -10 is not a percentage: give a number from 0 to 100"),
    (["--model_name", "inception_v3", "--train_image_size", "64"], "too small for inception_v3"),
    (["--checkpoint_path", "no/such/model.ckpt"], "does not exist"),
])
def test_bad_input_gives_a_message_and_no_traceback(faces, tmp_path, capsys, extra, message):
    argv = ["--tfrecord_file", faces.tfrecord, "--chemin_liste_labels", faces.classes,
            "--train_dir", str(tmp_path), "--max_number_of_steps", "1"] + FAST + extra
    assert run_main(train_image_classifier.main, argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_checkpoint_of_other_shapes_names_the_variables_and_suggests_exclusions(
        faces, gender_faces, tmp_path, capsys):
    assert train(faces, tmp_path / "source", 1) == 0
    assert train(gender_faces, tmp_path / "target", 1, "--checkpoint_path", str(tmp_path / "source")) == 2
    err = capsys.readouterr().err
    assert "LeNet/fc4/weights" in err and "--checkpoint_exclude_scopes=LeNet/fc4" in err
    assert not (tmp_path / "target" / "train_config.json").exists()  # a failed run records nothing


def test_exclusion_scopes_matching_nothing_warn(faces, tmp_path, capsys):
    assert train(faces, tmp_path / "source", 1) == 0
    assert train(faces, tmp_path / "target", 1, "--checkpoint_path", str(tmp_path / "source"),
                 "--checkpoint_exclude_scopes", "LeNet/fc4,NoSuch/Scope") == 0
    assert "'NoSuch/Scope' matches no variable" in capsys.readouterr().err


def summary_steps(train_dir):
    """{tag: [global steps]} of the TensorBoard events training wrote in `train_dir`."""
    steps = {}
    for name in sorted(os.listdir(train_dir)):
        if name.startswith("events.out.tfevents"):
            for event in tf.train.summary_iterator(os.path.join(str(train_dir), name)):
                for value in event.summary.value:
                    steps.setdefault(value.tag, []).append(event.step)
    return steps


def test_summaries_come_at_the_first_step_on_the_cadence_and_at_the_last_with_plain_tags(faces, tmp_path):
    # Before: with --save_summaries_secs 600 a short run wrote step 1 only, under tags such as total_loss_1
    # and losses/loss/value.
    assert train(faces, tmp_path, 30, "--save_summaries_secs", "600", "--label_mode", "multi") == 0
    steps = summary_steps(tmp_path)
    assert steps["total_loss"] == [1, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30]  # a tenth of the run's 30 steps
    assert {"total_loss", "learning_rate", "losses/loss", "losses/regularization_loss"} <= set(steps)
    assert "images/image/0" in steps
    assert not [tag for tag in steps if re.search(r"_\d+$|/value$", tag)], sorted(steps)
    assert any(tag.startswith("sparsity/") for tag in steps) and any(tag.startswith("activations/") for tag in steps)
    assert train(faces, tmp_path, 36, "--save_summaries_steps", "5") == 0  # resumed: its first and last step
    assert summary_steps(tmp_path)["total_loss"][-3:] == [31, 35, 36]


@pytest.mark.parametrize("extra, message", [
    (["--train_image_size", "32"], "the run in {dir} trains at 28 px; --train_image_size 32 would not resume it: "
                                   "drop the flag or use another --train_dir"),
    (["--model_name", "cifarnet"], "the run in {dir} trains lenet; --model_name cifarnet would not resume it"),
    (["--optimizer", "rmsprop"], "trains with adam; --optimizer rmsprop would not resume it"),
    (["--chemin_liste_labels", "GENDER"], "trains with 11 classes (homme, femme, yeux_ronds, yeux_amandes, ...); "
                                          "--classes_file {gender} with 2 classes"),
    (["--label_mode", "single"], "trains with attribute groups; --label_mode single would not resume it"),
])
def test_a_mistaken_second_run_names_the_difference_and_changes_nothing(faces, gender_faces, tmp_path, capsys,
                                                                        extra, message):
    # Before: the second run rewrote train_config.json, then failed; evaluation, export and resume of the
    # good run failed afterwards.
    assert train(faces, tmp_path, 3) == 0
    before = file_digests(str(tmp_path))
    capsys.readouterr()
    extra = [gender_faces.classes if item == "GENDER" else item for item in extra]
    assert train(faces, tmp_path, 5, *extra) == 2
    err = capsys.readouterr().err
    assert message.format(dir=tmp_path, gender=gender_faces.classes) in err and "Traceback" not in err
    assert file_digests(str(tmp_path)) == before
    assert train(faces, tmp_path, 4) == 0  # the good run resumes


def test_a_classes_file_that_disagrees_with_the_records_is_refused(faces, gender_faces, tmp_path, capsys):
    # Before: a one-class or reordered classes file trained another task without a word.
    swapped = tmp_path / "swapped.txt"
    names = [line.split(":", 1)[1] for line in open(faces.classes, encoding="utf-8").read().split()]
    swapped.write_text("".join("%d:%s\n" % (i + 1, n) for i, n in enumerate([names[1], names[0]] + names[2:])))
    for classes, message in ((gender_faces.classes, "the records use 11 classes (up to 11:vieux), the classes "
                                                    "file has 2"),
                             (str(swapped), "class 1 is 'homme' in the records, 'femme' in the classes file")):
        argv = ["--tfrecord_file", faces.tfrecord, "--chemin_liste_labels", classes, "--train_dir",
                str(tmp_path / "run"), "--max_number_of_steps", "1"] + FAST
        assert run_main(train_image_classifier.main, argv) == 2
        err = capsys.readouterr().err
        assert "do not match the TFRecord" in err and message in err and "--rebuild_csv" in err
        assert not (tmp_path / "run").exists()
    extended = tmp_path / "extended.txt"  # the conversion's 11 classes and one no image has
    extended.write_text(open(faces.classes, encoding="utf-8").read().rstrip("\n") + "\n12:chauve\n")
    argv = ["--tfrecord_file", faces.tfrecord, "--chemin_liste_labels", str(extended), "--train_dir",
            str(tmp_path / "run"), "--max_number_of_steps", "1"] + FAST
    assert run_main(train_image_classifier.main, argv) == 0
    assert "1 of the 12 classes have no training image in faces.tfrecord: 12:chauve" in capsys.readouterr().err


def test_flags_that_do_nothing_get_one_warning_line_and_nothing_else_is_printed_to_stderr(faces, tmp_path):
    command = [sys.executable, os.path.join(ROOT, "train_image_classifier.py"), "--tfrecord_file", faces.tfrecord,
               "--chemin_liste_labels", faces.classes, "--train_dir", str(tmp_path), "--max_number_of_steps", "2",
               "--quantize_delay", "10", "--dataset_name", "imagenet", "--dataset_dir", "/data",
               "--chemin_csv", "labels.csv", "--model_name", "cifarnet", "--train_image_size", "32",
               "--optimizer", "adam", "--log_every_n_steps", "1"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    # Before: flags accepted in silence, and a tf.layers.flatten UserWarning on every cifarnet/lenet run.
    assert result.stderr.splitlines() == [
        "warning: ignored, as these flags do nothing here (accepted so that research/slim's and the original's "
        "commands run): --quantize_delay: quantization-aware training is not part of this suite; --dataset_name: "
        "the data is the TFRecord of --tfrecord_file; --dataset_dir: the data is the TFRecord of --tfrecord_file; "
        "--chemin_csv: the TFRecord holds the images and their labels"]


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    """240 circles and squares of 64 pixels (tests/shapes.py), centred: only their outline tells them apart."""
    from tests.shapes import make_shapes

    return make_shapes(tmp_path_factory.mktemp("shapes"), 240, 64)


@pytest.mark.slow
def test_adam_with_its_default_epsilon_trains_cifarnet_on_64px_shapes(shapes, tmp_path, capsys):
    # Before: --opt_epsilon defaulted to 1.0 (research/slim's, meant for RMSProp) and cifarnet's preprocessing
    # cropped the central 32x32 of the 64 px images (one colour): held-out accuracy stayed at chance (0.56 after
    # 200 steps). Now Adam gets its own 1e-8 and the images are shrunk to 32 px first.
    import eval_image_classifier

    argv = ["--tfrecord_file", shapes["tfrecord"], "--chemin_liste_labels", shapes["classes"], "--train_dir",
            str(tmp_path), "--model_name", "cifarnet", "--max_number_of_steps", "150", "--batch_size", "16",
            "--optimizer", "adam", "--learning_rate", "0.001", "--learning_rate_decay_type", "fixed",
            "--log_every_n_steps", "50", "--seed", "1"]
    assert run_main(train_image_classifier.main, argv) == 0
    config = json.loads((tmp_path / "train_config.json").read_text())
    assert (config["optimizer"], config["opt_epsilon"], config["image_size"]) == ("adam", 1e-8, 32)
    assert run_main(eval_image_classifier.main, ["--checkpoint_path", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert result["num_images"] > 40 and result["Accuracy"] > 0.85, capsys.readouterr().out[-3000:]
