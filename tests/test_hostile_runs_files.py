"""Hostile and careless runs, part two (issue 22, part B): damaged checkpoints, training configurations of the
wrong shape, directories that are files, cluster descriptions of the wrong type, and where the cluster's servers
really listen. Each input gets a message naming what is wrong and what to do, exit code 2 and no traceback, and
every earlier output stays byte-identical; a damaged newest checkpoint is resumed around."""
import json
import os
import shutil
import socket
import subprocess
import sys

import pytest

import eval_image_classifier
import export_inference_graph
import train_image_classifier
from core import dir_lock
from core.cli import run_main
from engine.cluster import launcher, listening
from engine.config import run_config
from engine.config.run_config import CONFIG_NAME
from tests.conftest import ROOT
from tests.faults import STEP_LINE, assert_no_traceback, copy_run, file_digests, run_outputs, script, train_args

DATA_FILE = "model.ckpt-3.data-00000-of-00001"


def truncate(path, keep=0.5):
    with open(path, "r+b") as handle:
        handle.truncate(int(os.path.getsize(path) * keep))


# --- damaged checkpoints ------------------------------------------------------------------------------------------

def test_a_truncated_newest_checkpoint_is_resumed_around_and_named_by_evaluation_and_export(
        lenet_run, faces, tmp_path, capsys):
    train_dir = copy_run(lenet_run, tmp_path)
    truncate(train_dir / DATA_FILE)
    before = run_outputs(train_dir)
    eval_dir, frozen = tmp_path / "eval", tmp_path / "frozen.pb"
    advice = ("error: checkpoint %r cannot be read (Read less bytes than requested): its files were cut short, "
              "changed or removed after they were written, or it is no checkpoint. The newest intact checkpoint beside "
              "it is model.ckpt-2: "
              "pass --checkpoint_path %s" % (str(train_dir / "model.ckpt-3"), train_dir / "model.ckpt-2"))
    assert run_main(eval_image_classifier.main, ["--checkpoint_path", str(train_dir), "--eval_dir", str(eval_dir),
                                                 "--batch_size", "8"]) == 2
    out, err = capsys.readouterr()
    assert_no_traceback(err)
    assert advice in err and "Accuracy" not in out and not eval_dir.exists()
    assert run_main(export_inference_graph.main, ["--checkpoint_path", str(train_dir), "--frozen_graph",
                                                   str(frozen)]) == 2
    err = capsys.readouterr().err
    assert_no_traceback(err)
    assert advice in err and not frozen.exists()
    assert run_outputs(train_dir) == before
    # Resume: the newest intact checkpoint, said so; the damaged files are left as they are.
    assert run_main(train_image_classifier.main, train_args(faces, train_dir, 4)) == 0
    out, err = capsys.readouterr()
    assert_no_traceback(err)
    assert ("warning: model.ckpt-3 cannot be read (Read less bytes than requested); resuming from model.ckpt-2 "
            "instead, the newest intact checkpoint of %s" % train_dir) in err
    assert [int(m.group(1)) for m in map(STEP_LINE.match, out.splitlines()) if m] == [3, 4]
    after = run_outputs(train_dir)
    assert {name: after[name] for name in before if name.startswith("model.ckpt-")} == {
        name: digest for name, digest in before.items() if name.startswith("model.ckpt-")}


@pytest.mark.parametrize("damage", ["every data file cut short", "every index file emptied"])
def test_a_run_whose_every_checkpoint_is_damaged_is_not_restarted_from_scratch(lenet_run, faces, tmp_path, capsys,
                                                                               damage):
    train_dir = copy_run(lenet_run, tmp_path)
    for name in os.listdir(train_dir):
        if name.endswith(".data-00000-of-00001" if "data" in damage else ".index"):
            truncate(train_dir / name, 0.5 if "data" in damage else 0)
    before = run_outputs(train_dir)
    assert run_main(train_image_classifier.main, train_args(faces, train_dir, 5)) == 2
    err = capsys.readouterr().err
    assert_no_traceback(err)
    assert "error: no checkpoint of %s can be resumed: model.ckpt-3 cannot be read (" % train_dir in err
    assert "model.ckpt-1 cannot be read" in err and "Move them out of %s to train from the start" % train_dir in err
    assert run_outputs(train_dir) == before


# --- train_config.json of the wrong shape -------------------------------------------------------------------------

def _edited(config, **changes):
    edited = dict(config)
    for key, value in changes.items():
        if value is None:
            edited.pop(key)
        else:
            edited[key] = value
    return json.dumps(edited).encode("utf-8")


CONFIG_CASES = {
    "a list": (lambda config: b"[1, 2]", "holds a JSON list, not the object training writes"),
    "an empty object": (lambda config: b"{}", "lacks 'model_name'; lacks 'image_size'; lacks 'classes'"),
    "wrong types": (lambda config: _edited(config, image_size="abc", classes=5, labels_offset=-1),
                    "'image_size' is \"abc\", not a positive integer; 'classes' is 5, not a list of class names"),
    "an unknown model": (lambda config: _edited(config, model_name="resnet_9000"),
                         "'model_name' is \"resnet_9000\", not one of the model names of --model_name"),
    "a missing key": (lambda config: _edited(config, model_name=None), "lacks 'model_name'"),
    "NaN": (lambda config: json.dumps(dict(config, validation_percentage=float("nan"))).encode("utf-8"),
            "'validation_percentage' is NaN, not a number from 0 to 100"),
    "not UTF-8": (lambda config: b"\xff\xfe{}", "is not UTF-8 text (byte 0)"),
    "not JSON": (lambda config: b"model_name: lenet\n", "is not JSON (Expecting value: line 1 column 1"),
    "cut short": (lambda config: json.dumps(config).encode("utf-8")[:40], "is not JSON ("),
}


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_a_training_configuration_of_the_wrong_shape_is_named_and_nothing_is_written(lenet_run, faces, tmp_path,
                                                                                     capsys, case):
    make, shown = CONFIG_CASES[case]
    train_dir = tmp_path / "run"
    train_dir.mkdir()
    config = json.loads((lenet_run / CONFIG_NAME).read_text(encoding="utf-8"))
    (train_dir / CONFIG_NAME).write_bytes(make(config))
    before = file_digests(str(train_dir))
    assert run_main(train_image_classifier.main, train_args(faces, train_dir, 2)) == 2
    err = capsys.readouterr().err
    assert_no_traceback(err)
    assert "error: the training configuration %r " % str(train_dir / CONFIG_NAME) in err and shown in err
    assert "Restore it from a copy of the training directory" in err
    assert file_digests(str(train_dir)) == before


def test_a_training_configuration_that_is_no_regular_file_is_refused_without_blocking(lenet_run, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(lenet_run / "model.ckpt-3.index", run)
    shutil.copy(lenet_run / DATA_FILE, run)
    (run / CONFIG_NAME).mkdir()
    frozen = str(tmp_path / "f.pb")
    for main, argv in ((eval_image_classifier.main, ["--checkpoint_path", str(run)]),
                       (export_inference_graph.main, ["--checkpoint_path", str(run), "--frozen_graph", frozen])):
        assert run_main(main, argv) == 2
        err = capsys.readouterr().err
        assert_no_traceback(err)
        assert "error: the training configuration %r is not a regular file (a folder)" % str(
            run / CONFIG_NAME) in err
    # A FIFO with no writer blocks whoever opens it for reading: a real process, with a time limit.
    (run / CONFIG_NAME).rmdir()
    os.mkfifo(run / CONFIG_NAME)
    result = subprocess.run(script("eval_image_classifier.py") + ["--checkpoint_path", str(run)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    assert_no_traceback(result.stderr)
    assert "is not a regular file (a FIFO (named pipe))" in result.stderr
    assert sorted(os.listdir(run)) == sorted([CONFIG_NAME, "model.ckpt-3.index", DATA_FILE])
    # A configuration far larger than training writes is not read (a sparse file: nothing is on the disk).
    os.remove(run / CONFIG_NAME)
    with open(run / CONFIG_NAME, "wb") as handle:
        handle.truncate(run_config.MAX_CONFIG_BYTES + 1)
    assert run_main(eval_image_classifier.main, ["--checkpoint_path", str(run)]) == 2
    err = capsys.readouterr().err
    assert_no_traceback(err)
    assert "error: the training configuration %r is larger than %d MB, far more than training writes" % (
        str(run / CONFIG_NAME), run_config.MAX_CONFIG_BYTES >> 20) in err


# --- directories that are files -----------------------------------------------------------------------------------

@pytest.mark.parametrize("under", [False, True])
def test_a_train_dir_or_eval_dir_that_is_a_file_is_refused_and_the_file_kept(lenet_run, faces, tmp_path, capsys,
                                                                             under):
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me\n", encoding="utf-8")
    path = existing / "run" if under else existing
    shown = ("%r cannot be a directory: %r is a file" % (str(path), str(existing)) if under
             else "%r is a file, not a directory" % str(path))
    assert run_main(train_image_classifier.main, train_args(faces, path, 2)) == 2
    err = capsys.readouterr().err
    assert_no_traceback(err)
    assert "error: --train_dir " + shown in err
    before = file_digests(str(lenet_run))
    assert run_main(eval_image_classifier.main, ["--checkpoint_path", str(lenet_run), "--eval_dir", str(path),
                                                 "--batch_size", "8"]) == 2
    err = capsys.readouterr().err
    assert_no_traceback(err)
    assert "error: --eval_dir " + shown in err
    assert existing.read_text(encoding="utf-8") == "keep me\n" and file_digests(str(lenet_run)) == before


def test_a_lock_file_planted_as_a_symbolic_link_is_not_followed(faces, tmp_path, capsys):
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep me\n", encoding="utf-8")
    train_dir = tmp_path / "run"
    train_dir.mkdir()
    os.symlink(target, train_dir / dir_lock.LOCK_NAME)
    assert run_main(train_image_classifier.main, train_args(faces, train_dir, 1)) == 2
    err = capsys.readouterr().err
    assert_no_traceback(err)
    assert "the lock file is a symbolic link: remove it" in err
    assert target.read_text(encoding="utf-8") == "keep me\n"


# --- the cluster: descriptions of the wrong type, and where it listens --------------------------------------------

@pytest.mark.parametrize("argv, environ, shown", [
    ([], "[1, 2]", "TF_CONFIG has no \"cluster\" object"),
    ([], '{"cluster": {"worker": "h:1", "ps": ["h:2"]}, "task": {"type": "worker"}}',
     "TF_CONFIG's cluster job 'worker' must be a list of \"host:port\" strings"),
    ([], '{"cluster": {"worker": ["h:1"], "ps": ["h:2"]}, "task": {"type": "worker", "index": "0"}}',
     "TF_CONFIG's task index must be an integer"),
    ([], '{"cluster": {"worker": ["h:1"], "ps": ["h:2"]}, "task": []}', "TF_CONFIG has no \"task\""),
    ([], '{"cluster": {"worker": ["h:1"], "ps": ["h:2"]}, "task": {"type": 5}}', "task type 5 is not a job"),
    (["--master", "grpc://"], "", "--master: '' is not host:port"),
    (["--master", "garbage"], "", "--master: 'garbage' is not host:port"),
    (["--master", "grpc://h:22/x"], "", "is not host:port"),
    (["--num_ps_tasks", "-1"], "", "--num_ps_tasks -1: it must be at least 0"),
    (["--task", "-3"], "", "--task -3: it must be at least 0"),
    (["--worker_hosts", "h:1,h:3", "--ps_hosts", "h:2", "--job_name", "worker", "--sync_replicas",
      "--replicas_to_aggregate", "0"], "", "--replicas_to_aggregate 0: it must be at least 1"),
])
def test_a_cluster_description_of_the_wrong_type_is_refused_before_anything_starts(faces, tmp_path, monkeypatch,
                                                                                   capsys, argv, environ, shown):
    monkeypatch.setenv("TF_CONFIG", environ)
    train_dir = tmp_path / "run"
    assert run_main(train_image_classifier.main, train_args(faces, train_dir, 2, *argv)) == 2
    err = capsys.readouterr().err
    assert_no_traceback(err)
    assert shown in err
    assert not train_dir.exists()


def test_the_launcher_refuses_more_tasks_than_one_machine_can_hold(capsys):
    tasks = launcher.MAX_TASKS + 1
    assert run_main(launcher.main, ["--workers", str(tasks - 1), "--ps", "1", "--", "--max_number_of_steps", "1"]) == 2
    err = capsys.readouterr().err
    assert "would start %d TensorFlow processes on this machine" % tasks in err and "up to %d tasks" % (
        tasks - 1) in err


def test_the_kernel_says_where_a_port_listens(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as loopback, \
            socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as everywhere:
        loopback.bind(("127.0.0.1", 0))
        loopback.listen()
        everywhere.bind(("::", 0))
        everywhere.listen()
        local_port, any_port = loopback.getsockname()[1], everywhere.getsockname()[1]
        found = listening.listening(local_port)
        if found is None:
            pytest.skip("no /proc/net/tcp here")
        assert listening.describe(local_port, found) == "127.0.0.1:%d only" % local_port
        assert "authentication" not in listening.exposure(local_port)
        assert listening.describe(any_port, listening.listening(any_port)) == (
            "every network interface (*:%d, IPv4 and IPv6)" % any_port)
        assert "asks no authentication" in listening.exposure(any_port)


def test_a_cluster_task_says_that_its_server_listens_on_every_interface(tmp_path):
    # The server of a parameter server named 127.0.0.1: TensorFlow binds its port on every interface.
    port = launcher.free_ports(2)
    code = ("import sys; sys.argv = ['x']\n"
            "from engine.cluster import replicas, topology\n"
            "cluster = topology.Cluster(ps=['127.0.0.1:%d'], workers=['127.0.0.1:%d'], job_name='ps', task_index=0)\n"
            "replicas.start_server(cluster)\n" % tuple(port))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    if listening.listening(port[0]) is None:
        pytest.skip("no /proc/net/tcp here")
    assert ("warning: ps 0 at 127.0.0.1:%d: its server listens on every network interface (*:%d, IPv4 and IPv6), "
            "and TensorFlow's gRPC runtime asks no authentication" % (port[0], port[0])) in result.stderr
