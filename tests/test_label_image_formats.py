"""label_image.py on the SavedModel, TFLite and ONNX models of one export: the same labels as the frozen graph,
the layer flags, models recognised by their content, and the runtimes each format needs."""
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.export_support import lenet_multi
from tests.label_support import TEXT_LINE, json_scores, label


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, faces):
    """The multi-label lenet of tests/export_support.py in every format, and the frozen graph's JSON scores."""
    return lenet_multi(tmp_path_factory, faces)


FORMATS = ("saved_model", "tflite", "tflite_dynamic", "tflite_float16", "onnx")


def _model_path(deployed, kind):
    if kind.startswith("tflite"):
        return deployed["tflite"][kind.partition("_")[2] or "none"]
    return deployed[kind]


@pytest.mark.parametrize("kind", FORMATS)
def test_every_format_prints_the_frozen_graph_labels(kind, deployed, capsys):
    from engine.export import tflite

    tolerance = {"tflite_dynamic": tflite.TOLERANCES["dynamic"], "tflite_float16": tflite.TOLERANCES["float16"]}
    tolerance = tolerance.get(kind, 1e-4)
    runs = {}
    for name, graph in (("frozen", deployed["frozen"]), (kind, _model_path(deployed, kind))):
        assert label("--image", deployed["folder"], "--graph", graph, "--json", "--top_k", 0) == 0
        runs[name] = json_scores(capsys.readouterr().out)
    assert set(runs[kind]) == set(runs["frozen"]) and len(runs[kind]) == len(deployed["images"])
    for image, scores in runs["frozen"].items():
        assert set(runs[kind][image]) == set(scores)
        assert max(abs(runs[kind][image][name] - score) for name, score in scores.items()) <= tolerance, image
    # Text mode, one image: best first, and the same labels as the frozen graph's (names matched through
    # their scores where two labels tie).
    image = sorted(deployed["images"].values())[0]
    expected = runs["frozen"][os.path.basename(image)]
    assert label("--image", image, "--graph", _model_path(deployed, kind), "--top_k", 3) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and all(TEXT_LINE.match(line) for line in lines)
    for line, best in zip(lines, sorted(expected.values(), reverse=True)):
        name, score = TEXT_LINE.match(line).groups()
        assert abs(float(score) - best) <= tolerance + 1e-5 and abs(expected[name] - best) <= 2 * tolerance + 1e-5


@pytest.mark.parametrize("kind", ["saved_model", "tflite", "onnx"])
def test_layer_flags_take_the_recorded_node_names_or_the_model_own(kind, deployed, capsys):
    """The README's --input_layer/--output_layer (the frozen graph's node names) work on every format, and
    so do the model's own names (images, probabilities); another name lists those there are."""
    image, graph = sorted(deployed["images"].values())[0], _model_path(deployed, kind)
    outputs = []
    for flags in ([], ["--input_layer", "input", "--output_layer", "Predictions/Reshape_1"],
                  ["--input_layer", "images", "--output_layer", "probabilities"]):
        assert label("--image", image, "--graph", graph, "--top_k", 0, *flags) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] == outputs[2]
    assert label("--image", image, "--graph", graph, "--output_layer", "logits") == 2
    error = capsys.readouterr().err
    assert "--output_layer 'logits' is not in" in error and "probabilities" in error


def _not_a_model_case(case, deployed, tmp_path):
    if case == "text_file":
        path = tmp_path / "model.onnx"
        path.write_text("name,score\nhomme,0.5\n")
    elif case == "jpeg_image":
        path = tmp_path / "model.tflite"
        path.write_bytes(open(sorted(deployed["images"].values())[0], "rb").read())
    elif case == "empty_file":
        path = tmp_path / "model.pb"
        path.write_bytes(b"")
    elif case == "folder_of_other_files":
        path = tmp_path / "saved"
        path.mkdir()
        (path / "notes.txt").write_text("x")
    elif case == "saved_model_pb_itself":
        path = os.path.join(deployed["saved_model"], "saved_model.pb")
    elif case == "truncated_tflite":
        path = tmp_path / "cut.tflite"
        path.write_bytes(open(deployed["tflite"]["none"], "rb").read()[:2000])
    return path


@pytest.mark.parametrize("case, message", [
    ("text_file", "is not a model label_image reads (not a binary GraphDef, nor a TFLite or ONNX model)"),
    ("jpeg_image", "not a binary GraphDef, nor a TFLite or ONNX model"),
    ("empty_file", "is not a model label_image reads (an empty file)"),
    ("folder_of_other_files", "a directory without saved_model.pb, so not a SavedModel"),
    ("saved_model_pb_itself", "the graph file of a SavedModel: pass its directory"),
    ("truncated_tflite", "LiteRT cannot load"),
])
def test_non_model_files_are_refused_by_content(case, message, deployed, tmp_path, capsys):
    path = _not_a_model_case(case, deployed, tmp_path)
    capsys.readouterr()
    assert label("--image", sorted(deployed["images"].values())[0], "--graph", path) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error
    assert "--graph" in error or "LiteRT" in error


def _process(script, *argv):
    return subprocess.run([sys.executable, "-c", script] + [str(arg) for arg in argv], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_onnx_model_without_onnxruntime_says_how_to_install_it(deployed):
    """A process where neither onnx nor onnxruntime can be imported."""
    script = ("import sys\n"
              "sys.modules['onnxruntime'] = sys.modules['onnx'] = None\n"
              "import label_image\n"
              "sys.exit(label_image.run_main(label_image.main, sys.argv[1:]))\n")
    result = _process(script, "--image", sorted(deployed["images"].values())[0], "--graph", deployed["onnx"])
    assert result.returncode == 2, result.stderr[-2000:]
    assert "onnxruntime is not installed" in result.stderr and "requirements-onnx.txt" in result.stderr


def test_tflite_runs_with_litert_not_the_deprecated_tf_lite_interpreter(deployed):
    from engine.inference import runtimes

    classifier, _ = runtimes.open_model(deployed["tflite"]["none"])
    assert type(classifier._interpreter).__module__ == "ai_edge_litert.interpreter"
    # A label_image process on the TFLite model builds no network and imports no export code.
    script = ("import sys, label_image\n"
              "code = label_image.run_main(label_image.main, sys.argv[1:])\n"
              "loaded = sorted(m for m in sys.modules if m in ('ai_edge_litert.interpreter', 'onnxruntime') "
              "or m.split('.')[0] == 'nets' and m not in ('nets', 'nets.catalog') "
              "or m.split('.')[:2] == ['engine', 'export'])\n"
              "print('imported:', loaded)\n"
              "sys.exit(code)\n")
    result = _process(script, "--image", sorted(deployed["images"].values())[0], "--graph",
                      deployed["tflite"]["none"], "--top_k", 1)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert TEXT_LINE.match(lines[0]) and lines[-1] == "imported: ['ai_edge_litert.interpreter']"
