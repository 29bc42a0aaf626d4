"""A grouped model (a softmax per attribute group, found in the faces' labels) through the original README's
commands: evaluation, export, TensorFlow's freeze_graph and label_image, one line per attribute; the exported
graph gives the evaluation's probabilities, and the SavedModel, TFLite and ONNX models the same labels."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import eval_image_classifier
from core.cli import run_main
from tests.conftest import CLASSES_FILE, ROOT
from tests.export_support import deployed_model, export
from tests.label_support import TEXT_LINE, label

OUTPUT_NODE = "Predictions/Reshape_1"  # lenet's


@pytest.fixture(scope="module")
def grouped(tmp_path_factory, faces):
    """Lenet trained 20 steps on the faces (grouped: their groups are found in their labels), in every format."""
    paths = deployed_model(tmp_path_factory, "lenet_grouped", faces, "lenet", 28, "--learning_rate", "0.001",
                           steps=20, quantizations=())
    config = json.loads(open(os.path.join(paths["train_dir"], "train_config.json"), encoding="utf-8").read())
    assert config["label_mode"] == "grouped"
    paths["groups"] = [[config["classes"].index(name) for name in group["classes"]] for group in config["label_groups"]]
    paths["classes"] = config["classes"]
    return paths


def evaluation_probabilities(train_dir):
    """{file name: probabilities} of every image of the faces, as eval_image_classifier.py computes them."""
    from engine.config import run_config
    from engine.config import settings as settings_module
    from engine.config.options import EvalOptions
    from engine.evaluation import evaluate

    args = eval_image_classifier.build_parser().parse_args(["--checkpoint_path", train_dir])
    settings = settings_module.resolve(args, run_config.read_config(train_dir))
    found = {}
    with evaluate.Evaluator(settings, "grouped", EvalOptions(eval_dir="unused", split="all", batch_size=8)) as ev:
        for values in ev.predictions(evaluate.find_checkpoint_once(train_dir)):
            for name, row in zip(values["filenames"], values["probabilities"]):
                found[os.path.basename(name.decode("utf-8"))] = row
    return found


def best_of_each_group(scores, classes, groups):
    return [(classes[indexes[int(np.argmax(scores[indexes]))]], float(np.max(scores[indexes]))) for indexes in groups]


def printed(text):
    return [(match.group(1), float(match.group(2))) for match in map(TEXT_LINE.match, text.strip().splitlines())]


@pytest.mark.slow
def test_the_original_readme_commands_run_on_a_grouped_model(grouped, tmp_path, capsys):
    train_dir = grouped["train_dir"]
    # Evaluation, the original's command: accuracy and confusion matrix per attribute, and exact match.
    assert run_main(eval_image_classifier.main, [
        "--model_name", "lenet", "--eval_dir", str(tmp_path / "output_eval"), "--checkpoint_path", train_dir,
        "--batch_size", "8", "--eval_image_size", "28"]) == 0
    metrics = json.loads((tmp_path / "output_eval" / "metrics.json").read_text())
    assert metrics["label_mode"] == "grouped" and len(metrics["per_group"]) == 5 and "exact_match" in metrics
    assert "confusion matrix of jeune|age_moyen|vieux" in capsys.readouterr().out
    # Export, the README's command, then TensorFlow's freeze_graph, run as the README says.
    graph = str(tmp_path / "lenet_inf_graph.pb")
    assert export("--output_file", graph, "--batch_size", 8, "--csv_file", "labels/labels.csv", "--record_file",
                  "labels/labels_records.tfrecord", "--classes_file", CLASSES_FILE, "--checkpoint_path", train_dir) == 0
    meta = json.loads((tmp_path / "lenet_inf_graph.json").read_text())
    assert meta["label_mode"] == "grouped" and meta["output_node"] == OUTPUT_NODE
    assert [group["indexes"] for group in meta["label_groups"]] == grouped["groups"]
    frozen = str(tmp_path / "lenet_frozen_graph.pb")
    checkpoint = os.path.join(train_dir, "model.ckpt-20")
    result = subprocess.run([sys.executable, "-m", "engine.export.freeze_graph", "--input_graph=%s" % graph,
                             "--input_binary=true", "--input_checkpoint=%s" % checkpoint,
                             "--output_graph=%s" % frozen, "--output_node_names=%s" % OUTPUT_NODE],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    capsys.readouterr()
    # The frozen graph's output, [batch, 11], is the evaluation's probabilities, image for image.
    expected = evaluation_probabilities(train_dir)
    names = sorted(grouped["images"])[:8]
    outputs = all_scores(frozen, [grouped["images"][name] for name in names], grouped["classes"], capsys)
    for name, scores in zip(names, outputs):
        np.testing.assert_allclose(scores, expected[name], atol=1e-4)
        for indexes in grouped["groups"]:  # a softmax per attribute
            assert scores[indexes].sum() == pytest.approx(1.0, abs=1e-5)
    # label_image, the original's command: one line per attribute, its best label, in label_image's format.
    image = grouped["images"][names[0]]
    assert label("--image=%s" % image, "--input_layer=input", "--output_layer=%s" % OUTPUT_NODE,
                 "--graph=%s" % frozen, "--labels=%s" % CLASSES_FILE) == 0
    lines = printed(capsys.readouterr().out)
    best = best_of_each_group(expected[names[0]], grouped["classes"], grouped["groups"])
    assert [line[0] for line in lines] == [name for name, _ in best]
    assert [line[1] for line in lines] == pytest.approx([score for _, score in best], abs=2e-5)


def all_scores(graph, images, classes, capsys):
    """[scores of the outputs, in class order] label_image prints for each of `images` with `graph`."""
    found = []
    for image in images:
        assert label("--image", image, "--graph", graph, "--json", "--top_k", 0) == 0
        predictions = json.loads(capsys.readouterr().out)["predictions"]
        scores = {prediction["label"]: prediction["score"] for prediction in predictions}
        found.append(np.array([scores[name] for name in classes]))
    return found


@pytest.mark.parametrize("kind", ["frozen", "saved_model", "tflite", "onnx"])
def test_every_format_prints_the_best_label_of_each_attribute(kind, grouped, capsys):
    graph = grouped["tflite"]["none"] if kind == "tflite" else grouped[kind]
    names = sorted(grouped["images"])[:4]
    images = [grouped["images"][name] for name in names]
    for image, scores in zip(images, all_scores(grouped["frozen"], images, grouped["classes"], capsys)):
        assert label("--image", image, "--graph", graph, "--json") == 0
        predictions = json.loads(capsys.readouterr().out)["predictions"]
        assert [prediction["group"] for prediction in predictions] == [
            "homme|femme", "yeux_ronds|yeux_amandes", "nez_rond|nez_pointu", "visage_rond|visage_carre",
            "jeune|age_moyen|vieux"]
        best = best_of_each_group(scores, grouped["classes"], grouped["groups"])
        assert [prediction["label"] for prediction in predictions] == [name for name, _ in best]
        assert [prediction["score"] for prediction in predictions] == pytest.approx([s for _, s in best], abs=1e-4)
    # --top_k as before: the best labels of all, best first, in label_image's format.
    assert label("--image", images[0], "--graph", graph, "--top_k", 3) == 0
    lines = printed(capsys.readouterr().out)
    assert len(lines) == 3 and [score for _, score in lines] == sorted((score for _, score in lines), reverse=True)
