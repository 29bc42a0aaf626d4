"""export_inference_graph.py: every network's node names, ref variables, the metadata that survives
freezing, both ways of freezing (TensorFlow's tool and --frozen_graph), the deployment formats' files and
printed commands, bad input."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import label_image
from core.cli import run_main
from core.compat import tf
from engine.export import inference_graph
from engine.model.graph_metadata import METADATA_NODE, metadata_path, read_metadata
from nets import nets_factory
from tests.conftest import CLASSES_FILE, ROOT, make_demo_data
from tests.export_support import export as run_export
from tests.export_support import lenet_multi, load_graph_def, random_images, run_graph, tf_freeze_graph, train

# Networks whose graphs take tens of seconds to build on a shared CPU: built only when
# EXPORT_TEST_ALL_NETWORKS=1 (their output nodes are listed in the README all the same).
HEAVY = ("inception_resnet_v2", "inception_v2", "inception_v3", "inception_v4", "mobilenet_v2", "nasnet",
         "pnasnet", "resnet_v1_101", "resnet_v1_152", "resnet_v1_200", "resnet_v2_101", "resnet_v2_152",
         "resnet_v2_200", "inception_v1", "resnet_v1_50", "resnet_v2_50")
ALL_NETWORKS = os.environ.get("EXPORT_TEST_ALL_NETWORKS") == "1"


def _heavy(name):
    return any(name.startswith(prefix) for prefix in HEAVY)


@pytest.fixture(scope="module")
def lenet_run(tmp_path_factory):
    """A multi-label lenet trained 2 steps on generated faces: its train_dir (with train_config.json)."""
    root = tmp_path_factory.mktemp("export_lenet")
    data = make_demo_data(root / "data", 12, 64)
    return train(data.tfrecord, data.classes, str(root / "train"), "lenet", 28)


def _nodes(graph_def):
    return {node.name: node for node in graph_def.node}


@pytest.mark.parametrize("model_name", nets_factory.list_models())
def test_every_network_exports_its_output_node_with_ref_variables(model_name):
    if _heavy(model_name) and not ALL_NETWORKS:
        pytest.skip("large graph: set EXPORT_TEST_ALL_NETWORKS=1 to build it")
    spec = nets_factory.get_spec(model_name)
    graph_def = inference_graph.build_inference_graph(
        inference_graph.ExportSpec(model_name, spec.min_image_size, ["a", "b", "c"]))
    nodes = _nodes(graph_def)
    placeholder = nodes["input"]
    assert placeholder.op == "Placeholder"
    assert [d.size for d in placeholder.attr["shape"].shape.dim] == [-1, spec.min_image_size,
                                                                     spec.min_image_size, 3]
    assert spec.output_node in nodes and "^" + METADATA_NODE in nodes[spec.output_node].input
    ops = {node.op for node in graph_def.node}
    assert "VariableV2" in ops and "VarHandleOp" not in ops  # freeze_graph cannot restore resource variables
    assert read_metadata(graph_def)["output_node"] == spec.output_node


@pytest.mark.parametrize("model_name", ["lenet", "cifarnet"])
def test_multi_label_graph_gives_sigmoids_under_the_same_output_node(model_name):
    spec = nets_factory.get_spec(model_name)
    classes = ["a", "b", "c", "d"]
    size = spec.default_image_size
    single = inference_graph.build_inference_graph(inference_graph.ExportSpec(model_name, size, classes))
    multi = inference_graph.build_inference_graph(inference_graph.ExportSpec(model_name, size, classes,
                                                                             label_mode="multi"))
    nodes = _nodes(multi)
    assert nodes[spec.output_node].op == "Sigmoid"
    assert not any(node.op == "Softmax" for node in multi.node)
    assert _nodes(single)[spec.output_node].op == "Reshape"
    assert read_metadata(multi)["label_mode"] == "multi"
    # Same weights, same logits: the multi-label graph's outputs are the sigmoids of the logits.
    images = random_images(2, spec.default_image_size)
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(multi, name="")
        logits_name = nodes[spec.output_node].input[0]
        with tf.Session(graph=graph) as session:
            session.run([op for op in graph.get_operations() if op.type == "Assign"])
            logits, probabilities = session.run([logits_name + ":0", spec.output_node + ":0"],
                                                {"input:0": images})
    np.testing.assert_allclose(probabilities, 1 / (1 + np.exp(-logits)), atol=1e-6)


def test_readme_flags_write_a_fixed_batch_graph_and_its_metadata(tmp_path, capsys):
    output = tmp_path / "lenet_inf_graph.pb"
    assert run_export("--output_file", output, "--batch_size", 8, "--csv_file", tmp_path / "absent.csv",
                      "--record_file", tmp_path / "absent.tfrecord", "--classes_file", CLASSES_FILE,
                      "--model_name", "lenet") == 0
    printed = capsys.readouterr().out
    assert "output node: Predictions/Reshape_1" in printed
    assert "python -m engine.export.freeze_graph" in printed
    nodes = _nodes(load_graph_def(output))
    assert [d.size for d in nodes["input"].attr["shape"].shape.dim] == [8, 28, 28, 3]
    assert nodes["input"].attr["dtype"].type == tf.float32.as_datatype_enum
    meta = json.loads((tmp_path / "lenet_inf_graph.json").read_text())
    assert meta == read_metadata(load_graph_def(output))
    assert meta["classes"][:2] == ["homme", "femme"] and len(meta["classes"]) == 11
    assert meta["label_mode"] == "single" and meta["image_size"] == 28 and meta["batch_size"] == 8
    assert meta["preprocessing"]["preprocessing"] == "lenet"
    assert not [name for name in os.listdir(tmp_path) if ".tmp" in name]


def test_labels_offset_drops_leading_classes(tmp_path):
    output = tmp_path / "g.pb"
    assert run_export("--output_file", output, "--classes_file", CLASSES_FILE, "--model_name", "lenet",
                      "--labels_offset", 1, "--image_size", 32) == 0
    meta = read_metadata(load_graph_def(output))
    assert meta["classes"][0] == "femme" and len(meta["classes"]) == 10 and meta["image_size"] == 32


def test_tf_freeze_graph_and_frozen_graph_flag_agree(lenet_run, tmp_path, capsys):
    graph = tmp_path / "lenet_inf_graph.pb"
    checkpoint = tf.train.latest_checkpoint(lenet_run)
    # The label mode, classes and image size come from the training run's config (multi-label here).
    assert run_export("--output_file", graph, "--checkpoint_path", lenet_run, "--model_name", "lenet") == 0
    tool = tf_freeze_graph(graph, checkpoint, tmp_path / "frozen_tool.pb", "Predictions/Reshape_1")
    ours = tmp_path / "frozen_ours.pb"
    assert run_export("--checkpoint_path", lenet_run, "--frozen_graph", ours) == 0
    assert "wrote frozen graph" in capsys.readouterr().out
    tool_def, our_def = load_graph_def(tool), load_graph_def(ours)
    for graph_def in (tool_def, our_def):
        assert not any(node.op.startswith("Variable") for node in graph_def.node)
        meta = read_metadata(graph_def)  # kept by freezing, as a control input of the output node
        assert meta["label_mode"] == "multi" and meta["model_name"] == "lenet" and len(meta["classes"]) == 11
        assert _nodes(graph_def)["Predictions/Reshape_1"].op == "Sigmoid"
    images = random_images(3, 28)
    from_tool = run_graph(tool_def, images, "Predictions/Reshape_1")
    from_ours = run_graph(our_def, images, "Predictions/Reshape_1")
    assert from_tool.shape == (3, 11)
    np.testing.assert_allclose(from_tool, from_ours, atol=1e-6)
    # The frozen weights are the checkpoint's.
    reader = tf.train.load_checkpoint(checkpoint)
    constant = _nodes(our_def)["LeNet/fc4/biases"]
    np.testing.assert_array_equal(tf.make_ndarray(constant.attr["value"].tensor),
                                  reader.get_tensor("LeNet/fc4/biases"))


def test_frozen_graph_restores_moving_averages_when_asked(lenet_run, tmp_path):
    checkpoint = tf.train.latest_checkpoint(lenet_run)
    reader = tf.train.load_checkpoint(checkpoint)
    averaged = tmp_path / "averaged"
    graph = tf.Graph()
    with graph.as_default():
        values = {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
                  if name.startswith("LeNet/")}
        saved = [tf.Variable(value, name=name) for name, value in values.items()]
        saved += [tf.Variable(np.full_like(values["LeNet/fc4/biases"], 7.0),
                              name="LeNet/fc4/biases/ExponentialMovingAverage")]
        with tf.Session(graph=graph) as session:
            session.run(tf.global_variables_initializer())
            tf.train.Saver(saved).save(session, str(averaged / "model.ckpt-1"), write_meta_graph=False)
    (averaged / "train_config.json").write_text((open(os.path.join(lenet_run, "train_config.json")).read()))
    plain, average = tmp_path / "plain.pb", tmp_path / "average.pb"
    assert run_export("--checkpoint_path", averaged, "--frozen_graph", plain) == 0
    assert run_export("--checkpoint_path", averaged, "--frozen_graph", average, "--moving_average_decay",
                      0.999) == 0
    biases = [tf.make_ndarray(_nodes(load_graph_def(path))["LeNet/fc4/biases"].attr["value"].tensor)
              for path in (plain, average)]
    np.testing.assert_array_equal(biases[0], values["LeNet/fc4/biases"])
    assert np.all(biases[1] == 7.0)


@pytest.mark.parametrize("argv, message", [
    ([], "nothing to write"),
    (["--frozen_graph", "{tmp}/f.pb"], "--frozen_graph needs the weights"),
    (["--output_file", "{tmp}/g.pb", "--model_name", "no_such_net"], "unknown --model_name 'no_such_net'"),
    (["--output_file", "{tmp}/g.pb", "--model_name", "lenet", "--image_size", "4"], "too small for lenet"),
    (["--output_file", "{tmp}/g.pb", "--model_name", "lenet", "--classes_file", "{tmp}/none.txt"],
     "does not exist"),
    (["--output_file", "{tmp}/g.pb", "--model_name", "lenet", "--batch_size", "0"], "at least 1"),
    (["--checkpoint_path", "{tmp}/nowhere", "--frozen_graph", "{tmp}/f.pb"], "does not exist"),
    (["--saved_model", "{tmp}/g.pb", "--model_name", "lenet"], "--saved_model/--tflite/--onnx needs the weights"),
    (["--tflite", "{tmp}/g.pb", "--model_name", "lenet"], "needs the weights"),
])
def test_bad_input_is_a_message_not_a_traceback(argv, message, tmp_path, capsys):
    argv = [arg.format(tmp=tmp_path) for arg in argv]
    assert run_export(*argv) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error
    assert not os.path.exists(tmp_path / "g.pb") and not os.path.exists(tmp_path / "f.pb")


def test_a_model_name_other_than_the_runs_is_refused(lenet_run, tmp_path, capsys):
    # Before: with --output_file, a cifarnet graph was written for a lenet run, and the freeze command it
    # printed then failed.
    for output in (["--frozen_graph", tmp_path / "f.pb"], ["--output_file", tmp_path / "g.pb"]):
        assert run_export("--checkpoint_path", lenet_run, "--model_name", "cifarnet", *output) == 2
        error = capsys.readouterr().err
        assert ("the run in %s trained lenet; --model_name cifarnet would not export it: drop the flag or pass "
                "another --checkpoint_path" % lenet_run) in error and "Traceback" not in error
    assert not os.path.exists(tmp_path / "f.pb") and not os.path.exists(tmp_path / "g.pb")


def test_a_checkpoint_without_its_run_config_is_still_checked_against_the_graph(lenet_run, tmp_path, capsys):
    import shutil

    bare = tmp_path / "bare"
    os.makedirs(bare)
    for name in os.listdir(lenet_run):
        if name.startswith("model.ckpt-") or name == "checkpoint":
            shutil.copy(os.path.join(lenet_run, name), bare / name)
    assert run_export("--checkpoint_path", bare, "--frozen_graph", tmp_path / "f.pb", "--model_name", "cifarnet",
                      "--classes_file", CLASSES_FILE) == 2
    error = capsys.readouterr().err
    assert "does not fit this graph" in error and "CifarNet/" in error


def test_dropping_the_softmax_keeps_variables_and_initializers_of_its_scope():
    """As in inception_v4 ('InceptionV4/Logits/Predictions') or NASNet ('final_layer/predictions'), where
    the logits' variables share the softmax's scope."""
    graph = tf.Graph()
    with graph.as_default():
        features = tf.placeholder(tf.float32, [None, 4], name="input")
        with tf.variable_scope("Net/Logits", use_resource=False):
            weights = tf.get_variable("weights", [4, 3])
            logits = tf.matmul(features, weights, name="logits")
            tf.nn.softmax(tf.identity(logits, name="before_softmax"), name="Predictions")
        tf.sigmoid(logits, name="sigmoid")
    nodes = inference_graph._drop_softmax(list(graph.as_graph_def().node), "Net/Logits/Predictions")
    names = {node.name for node in nodes}
    assert "Net/Logits/Predictions" not in names and "Net/Logits/before_softmax" not in names
    assert {"Net/Logits/weights", "Net/Logits/weights/Assign", "Net/Logits/logits", "sigmoid"} <= names
    assert len(names) == len(graph.as_graph_def().node) - 2


def test_deployment_formats_are_written_with_their_metadata_and_runnable_commands(tmp_path_factory, faces,
                                                                                    capsys):
    """One export writes the frozen graph, the SavedModel, TFLite and ONNX models, and prints for each a
    label_image command that runs as printed (with a real image in place of face.jpg)."""
    paths = lenet_multi(tmp_path_factory, faces)
    printed = paths["export_output"]
    saved = paths["saved_model"]
    assert "saved_model_cli show --dir %s --all" % saved in printed
    # <base>/<version> layout: the TensorFlow Serving command mounts the base folder.
    assert "-v %s:/models/serving -e MODEL_NAME=serving tensorflow/serving" % os.path.dirname(saved) in printed
    image = paths["images"][sorted(paths["images"])[0]]
    outputs = []
    for model in (saved, paths["tflite"]["none"], paths["onnx"]):
        command = "python label_image.py --graph %s --image face.jpg" % model
        assert command in printed
        argv = command.replace("face.jpg", image).split()[2:]
        capsys.readouterr()
        assert run_main(label_image.main, argv) == 0
        outputs.append(capsys.readouterr().out)
    assert all(len(output.splitlines()) == 5 for output in outputs)
    meta = read_metadata(load_graph_def(paths["frozen"]))
    for model in (paths["tflite"]["none"], paths["onnx"]):  # the sidecar JSON, beside the file
        sidecar = json.loads(open(metadata_path(model), encoding="utf-8").read())
        assert sidecar == dict(meta, batch_size=None)
    folder = os.path.dirname(paths["frozen"])
    assert not [name for name in os.listdir(folder) + os.listdir(os.path.dirname(saved)) if ".tmp" in name]


def test_saved_model_directory_is_replaced_whole_and_other_folders_are_refused(lenet_run, tmp_path, capsys):
    target = tmp_path / "serving" / "faces" / "1"
    assert run_export("--checkpoint_path", lenet_run, "--saved_model", target) == 0
    assert (target / "saved_model.pb").is_file() and (target / "variables").is_dir()
    (target / "stale_file").write_text("left by an older export")
    assert run_export("--checkpoint_path", lenet_run, "--saved_model", target) == 0
    assert (target / "saved_model.pb").is_file() and not (target / "stale_file").exists()
    assert os.listdir(target.parent) == ["1"]  # no temporary or old copy left beside it
    other = tmp_path / "photos"
    other.mkdir()
    (other / "holiday.jpg").write_bytes(b"not yours to delete")
    a_file = tmp_path / "model.bin"
    a_file.write_bytes(b"x")
    capsys.readouterr()
    for path, message in ((other, "holds something else than a SavedModel"), (a_file, "is a file")):
        assert run_export("--checkpoint_path", lenet_run, "--saved_model", path,
                          "--frozen_graph", tmp_path / "f.pb") == 2
        error = capsys.readouterr().err
        assert message in error and "Traceback" not in error
    assert os.listdir(other) == ["holiday.jpg"] and a_file.read_bytes() == b"x"
    assert not (tmp_path / "f.pb").exists()  # refused before anything was written


def test_onnx_without_tf2onnx_says_how_to_install_it(lenet_run, tmp_path):
    """A process where tf2onnx cannot be imported (as where requirements-onnx.txt was not installed)."""
    script = ("import sys\n"
              "sys.modules['tf2onnx'] = None  # import tf2onnx raises ImportError\n"
              "import export_inference_graph\n"
              "from core.cli import run_main\n"
              "sys.exit(run_main(export_inference_graph.main, sys.argv[1:]))\n")
    result = subprocess.run([sys.executable, "-c", script, "--checkpoint_path", lenet_run, "--onnx",
                             str(tmp_path / "m.onnx"), "--tflite", str(tmp_path / "m.tflite")],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "--onnx needs tf2onnx" in result.stderr and "pip install -r requirements-onnx.txt" in result.stderr
    assert "Traceback" not in result.stderr and os.listdir(tmp_path) == []

def test_the_printed_freeze_command_runs_quietly(lenet_run, tmp_path, capsys):
    # Before: TensorFlow's freeze_graph printed a page of start-up lines and deprecation notices.
    import shlex
    import subprocess

    from tests.conftest import ROOT

    graph = tmp_path / "lenet_inf_graph.pb"
    assert run_export("--checkpoint_path", lenet_run, "--output_file", graph) == 0
    hint = [line for line in capsys.readouterr().out.splitlines() if line.startswith("freeze it with: ")][0]
    command = shlex.split(hint[len("freeze it with: "):])
    assert command[:3] == ["python", "-m", "engine.export.freeze_graph"]
    environment = {name: value for name, value in os.environ.items() if name != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable] + command[1:], cwd=ROOT, env=environment, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "" and result.stderr.strip() == "", result.stderr[-3000:]
    assert os.path.getsize(tmp_path / "lenet_frozen_graph.pb") > 0
