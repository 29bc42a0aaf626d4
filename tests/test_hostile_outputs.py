"""Hostile and careless input, the write side (issue 22): nothing already written is lost.

An output path equal to an input or to another output is refused before anything is written (conversion,
export, evaluation); a read-only disk is said to be one; a SavedModel replaced by an export killed at any
moment (a real SIGKILL, also at the very call that puts the new one in place) is the old one or the new
one, whole and loadable. Each refusal leaves every earlier file byte-identical."""
import os
import shutil
import signal
import subprocess
import time

import pytest

import download_and_convert_data
import eval_image_classifier
import export_inference_graph
from core.cli import run_main
from core.compat import tf
from nets import nets_factory
from tests import hostile
from tests.conftest import CLASSES_FILE, ROOT
from tests.faults import assert_no_traceback, script


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """A conversion's folders and outputs: {name: path}."""
    root = str(tmp_path_factory.mktemp("outputs"))
    images, annotations = os.path.join(root, "images"), os.path.join(root, "annotations")
    os.makedirs(images)
    os.makedirs(annotations)
    for index in range(4):
        with open(os.path.join(images, "face%d.png" % index), "wb") as handle:
            handle.write(hostile.png_bytes(16, 16, seed=index))
        with open(os.path.join(annotations, "face%d.txt" % index), "w", encoding="utf-8") as handle:
            handle.write("homme\n" if index % 2 else "femme\n")
    classes = os.path.join(root, "classes.txt")
    shutil.copy(CLASSES_FILE, classes)
    paths = dict(root=root, images=images, annotations=annotations, classes=classes,
                 csv=os.path.join(root, "labels.csv"), tfrecord=os.path.join(root, "faces.tfrecord"))
    assert convert(paths) == 0
    return paths


def convert(paths, **changed):
    paths = dict(paths, **changed)
    return run_main(download_and_convert_data.main, [
        "--image_dir", paths["images"], "--labels_dir", paths["annotations"], "--chemin_csv", paths["csv"],
        "--chemin_tfrecords", paths["tfrecord"], "--classes", paths["classes"], "--rebuild_csv"])


@pytest.mark.parametrize("changed, message", [
    (dict(csv="{tfrecord}"), "--csv_file '{tfrecord}' is the same file as --tfrecord_file '{tfrecord}': one would "
                             "overwrite the other"),
    (dict(csv="{classes}"), "--csv_file '{classes}' is the same file as --classes_file '{classes}', which this "
                            "command reads: writing it would destroy it"),
    (dict(tfrecord="{root}/link.txt"), "--tfrecord_file '{root}/link.txt' is the same file as --classes_file"),
    (dict(tfrecord="{images}/face1.png"), "--tfrecord_file '{images}/face1.png' is a file of --image_dir, which "
                                          "this command reads"),
    (dict(csv="{annotations}/face2.txt"), "--csv_file '{annotations}/face2.txt' is a file of --labels_dir"),
    (dict(csv="{images}"), "--csv_file '{images}' is the same file as --image_dir"),
])
def test_conversion_outputs_that_are_inputs_or_each_other_are_refused_before_any_write(converted, capsys, changed,
                                                                                      message):
    root = converted["root"]
    if not os.path.lexists(os.path.join(root, "link.txt")):
        os.symlink(converted["classes"], os.path.join(root, "link.txt"))
    before = hostile.tree_digests(root)
    changed = {key: value.format(**converted) for key, value in changed.items()}
    assert convert(converted, **changed) == 2
    err = capsys.readouterr().err
    assert_no_traceback(err)
    assert message.format(**converted) in err, err
    assert hostile.tree_digests(root) == before


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A lenet checkpoint of 11 classes (random weights), in a training directory of its own."""
    train_dir = str(tmp_path_factory.mktemp("train"))
    with tf.Graph().as_default():
        nets_factory.get_network_fn("lenet", 11)(tf.zeros([1, 28, 28, 3]))
        tf.train.get_or_create_global_step()
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            prefix = tf.train.Saver().save(session, os.path.join(train_dir, "model.ckpt"), global_step=1,
                                           write_meta_graph=False)
    return prefix


def export(checkpoint_path, *flags):
    return run_main(export_inference_graph.main, ["--checkpoint_path", checkpoint_path, "--model_name", "lenet",
                                                  "--image_size", "28", "--classes_file", CLASSES_FILE] + list(flags))


@pytest.mark.parametrize("flags, message", [
    (["--output_file", "{d}/g.pb", "--frozen_graph", "{d}/g.pb"], "--output_file '{d}/g.pb' is the same file as "
                                                                  "--frozen_graph '{d}/g.pb'"),
    (["--output_file", "{d}/m.pb", "--tflite", "{d}/m.json"], "--tflite '{d}/m.json' is the same file as the "
                                                              "metadata file of --output_file '{d}/m.json'"),
    (["--frozen_graph", "{d}/g.json"], "--frozen_graph '{d}/g.json' is the same file as the metadata file of "
                                       "--frozen_graph '{d}/g.json': one would overwrite the other; pass a "
                                       "different path for each (x.pb writes its metadata to x.json; "
                                       "--nometadata_json writes none)"),
    (["--output_file", "{ckpt}.index"], "--output_file '{ckpt}.index' is the same file as a file of "
                                        "--checkpoint_path '{ckpt}.index', which this command reads"),
    (["--frozen_graph", "{d}/checkpoint"], "is the same file as a file of --checkpoint_path '{d}/checkpoint'"),
    (["--saved_model", "{d}/sm", "--onnx", "{d}/sm/m.onnx"], "--onnx '{d}/sm/m.onnx' lies inside --saved_model"),
    (["--output_file", CLASSES_FILE], "is the same file as the classes file"),
])
def test_export_outputs_that_are_inputs_or_each_other_are_refused_before_any_write(checkpoint, capsys, flags,
                                                                                  message):
    folder = os.path.dirname(checkpoint)
    before = hostile.tree_digests(folder)
    labels_before = hostile.tree_digests(os.path.dirname(CLASSES_FILE))
    values = dict(d=folder, ckpt=checkpoint)
    assert export(checkpoint, *[flag.format(**values) for flag in flags]) == 2
    err = capsys.readouterr().err
    assert_no_traceback(err)
    assert message.format(**values) in err, err
    assert hostile.tree_digests(folder) == before
    assert hostile.tree_digests(os.path.dirname(CLASSES_FILE)) == labels_before


def test_evaluation_refuses_an_eval_dir_that_is_a_file_or_holds_its_inputs(converted, checkpoint, tmp_path, capsys):
    eval_dir = tmp_path / "eval"
    eval_dir.mkdir()
    shutil.copy(converted["tfrecord"], eval_dir / "metrics.json")  # a TFRecord where metrics.json goes
    before = hostile.tree_digests(str(tmp_path))
    argv = ["--checkpoint_path", checkpoint, "--model_name", "lenet", "--eval_image_size", "28", "--classes_file",
            CLASSES_FILE, "--dataset_split_name", "all", "--batch_size", "2"]
    for eval_dir_flag, tfrecord, message in (
            (str(eval_dir / "metrics.json"), converted["tfrecord"],
             "--eval_dir '%s' is a file" % (eval_dir / "metrics.json")),
            (str(eval_dir), str(eval_dir / "metrics.json"), "the metrics.json of --eval_dir '%s' is the same file as "
                                                            "--tfrecord_file" % (eval_dir / "metrics.json"))):
        code = run_main(eval_image_classifier.main, argv + ["--eval_dir", eval_dir_flag, "--tfrecord_file", tfrecord])
        err = capsys.readouterr().err
        assert code == 2 and message in err, err
        assert_no_traceback(err)
    assert hostile.tree_digests(str(tmp_path)) == before


def test_a_read_only_disk_is_said_to_be_one_and_keeps_the_previous_outputs(converted, tmp_path, capsys):
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "ro_test", str(disk)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root; tests/core/test_text.py checks the message on EROFS")
    try:
        paths = dict(converted, csv=str(disk / "labels.csv"), tfrecord=str(disk / "faces.tfrecord"))
        assert convert(paths) == 0
        capsys.readouterr()
        before = hostile.tree_digests(str(disk))
        assert subprocess.run(["mount", "-o", "remount,ro", str(disk)], capture_output=True).returncode == 0
        assert convert(paths) == 2
        err = capsys.readouterr().err
        assert_no_traceback(err)
        assert "Read-only file system" in err and "the file system is read-only" in err and "disk full" not in err, err
        assert hostile.tree_digests(str(disk)) == before
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


# --- the SavedModel replaced whole ------------------------------------------------------------------------

def saved_model_scores(path):
    """The serving_default signature's scores for one image: the SavedModel loads and runs."""
    loaded = tf.compat.v2.saved_model.load(path)
    return loaded.signatures["serving_default"](images=tf.compat.v2.zeros([1, 28, 28, 3]))["probabilities"].numpy()


# Runs a script with a Python audit hook that kills the process (a real SIGKILL) as it makes its Nth call
# that renames something to or from PATH, before the call runs: os.rename, os.replace and the swap of
# core/atomic_files.py (renameat2) raise the `os.rename` audit event.
KILL_AT_RENAME = """
import os, runpy, signal, sys
script, path, when = sys.argv[1], sys.argv[2], int(sys.argv[3])
calls = []
def hook(event, args):
    if event == "os.rename" and path in (os.path.abspath(os.fsdecode(arg)) for arg in args[:2]):
        calls.append(event)
        if len(calls) == when:
            os.kill(os.getpid(), signal.SIGKILL)
sys.addaudithook(hook)
sys.argv = [script] + sys.argv[4:]
runpy.run_path(script, run_name="__main__")
"""


def export_process(checkpoint, saved_model, kill_at_rename=None):
    arguments = ["--checkpoint_path", checkpoint, "--model_name", "lenet", "--image_size", "28", "--classes_file",
                 CLASSES_FILE, "--saved_model", saved_model]
    command = script("export_inference_graph.py")
    if kill_at_rename:
        command = [command[0], "-c", KILL_AT_RENAME, command[1], saved_model, str(kill_at_rename)]
    return subprocess.Popen(command + arguments, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def assert_whole(saved_model, digests):
    assert hostile.tree_digests(saved_model) == digests
    assert saved_model_scores(saved_model).shape == (1, 11)


@pytest.mark.slow
def test_a_saved_model_killed_at_any_moment_of_its_export_is_the_old_or_the_new_one(checkpoint, tmp_path):
    saved_model = str(tmp_path / "serving" / "1")
    assert export(checkpoint, "--saved_model", saved_model) == 0
    old = hostile.tree_digests(saved_model)
    # A kill while the new one is written: the temporary folder exists, the old one is in place.
    process = export_process(checkpoint, saved_model)
    deadline = time.monotonic() + 600
    while process.poll() is None and not [name for name in os.listdir(tmp_path / "serving") if name.startswith(".")]:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert_whole(saved_model, old)
    # A kill at each call that renames something to or from the SavedModel's path: the first is the swap,
    # which leaves the old one; there is no second, the new one is in place.
    scores = saved_model_scores(saved_model)
    process = export_process(checkpoint, saved_model, kill_at_rename=1)
    assert process.wait(timeout=600) == -signal.SIGKILL, process.stderr.read()
    assert_whole(saved_model, old)
    process = export_process(checkpoint, saved_model, kill_at_rename=2)
    assert process.wait(timeout=600) == 0, process.stderr.read()
    assert (saved_model_scores(saved_model) == scores).all()  # the new one, whole: the same weights, same scores
