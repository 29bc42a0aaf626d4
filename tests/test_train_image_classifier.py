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
    assert train(faces, tmp_path, 80) == 0
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


def test_single_label_data_trains_with_softmax(gender_faces, tmp_path, capsys):
    assert train(gender_faces, tmp_path, 3) == 0
    assert "single-label, 2 classes" in capsys.readouterr().out
    assert json.loads((tmp_path / "train_config.json").read_text())["label_mode"] == "single"


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
    assert os.path.exists(tmp_path / "model.ckpt-2.index")
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
    assert args.tfrecord_file == "a.tfrecord" and args.path_to_csv == "b.csv"


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


@pytest.mark.parametrize("extra, message", [
    (["--model_name", "inception_v9"], "unknown --model_name 'inception_v9'; available: alexnet_v2"),
    (["--tfrecord_file", "missing.tfrecord"], "download_and_convert_data.py"),
    (["--validation_percentage", "100"], "training split of"),
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


def test_exclusion_scopes_matching_nothing_warn(faces, tmp_path, capsys):
    assert train(faces, tmp_path / "source", 1) == 0
    assert train(faces, tmp_path / "target", 1, "--checkpoint_path", str(tmp_path / "source"),
                 "--checkpoint_exclude_scopes", "LeNet/fc4,NoSuch/Scope") == 0
    assert "'NoSuch/Scope' matches no variable" in capsys.readouterr().err
