"""docs/deployment.md ("Deploying the model") as written: its export and label_image commands run as processes,
and its LiteRT script (no TensorFlow in it) prints label_image's scores on PNG images."""
import io
import json
import os
import re
import shlex
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import label_image
from core.cli import run_main
from tests.conftest import ROOT
from tests.export_support import export, lenet_multi

TEXT_LINE = re.compile(r"^(\S+) \(score = (\d\.\d{5})\)$")


def _deployment_page():
    return open(os.path.join(ROOT, "docs", "deployment.md"), encoding="utf-8").read()


def _code_blocks(language):
    return re.findall(r"```%s\n(.*?)```" % language, _deployment_page(), re.S)


def _commands(block):
    """The command lines of a bash block, comments dropped."""
    return [shlex.split(line.split("#")[0]) for line in block.strip().splitlines() if line.split("#")[0].strip()]


def _scores(text):
    return {match.group(1): float(match.group(2)) for match in map(TEXT_LINE.match, text.strip().splitlines())
            if match}


@pytest.mark.slow
def test_readme_export_and_label_image_commands_run_as_written(tmp_path_factory, faces, tmp_path):
    paths = lenet_multi(tmp_path_factory, faces)
    face = tmp_path / "face.jpg"
    face.write_bytes(open(sorted(paths["images"].values())[0], "rb").read())
    blocks = [_commands(block) for block in _code_blocks("bash")[:2]]  # one command per format, then label_image
    exports = [argv for argv in blocks[0] if argv[1] == "export_inference_graph.py"]
    labels = [argv for argv in blocks[1] if argv[1] == "label_image.py"]
    assert len(exports) == 3 and len(labels) == 3
    for argv in exports:
        argv = [arg.replace("output/", paths["train_dir"]) for arg in argv]
        result = subprocess.run([sys.executable, os.path.join(ROOT, argv[1])] + argv[2:], cwd=tmp_path,
                                capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "label:   python label_image.py --graph" in result.stdout
    printed = []
    for argv in labels:
        result = subprocess.run([sys.executable, os.path.join(ROOT, argv[1])] + argv[2:], cwd=tmp_path,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-2000:]
        printed.append(_scores(result.stdout))
    assert len(printed[0]) == 5
    for other in printed[1:]:
        assert max(abs(other[name] - score) for name, score in printed[0].items() if name in other) < 2e-5


def _png(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def test_readme_litert_script_prints_label_image_scores_on_png(tmp_path_factory, faces, tmp_path, capsys):
    """The script applies the inception-family preprocessing by hand: the lenet model is exported with that
    preprocessing recorded, and the script's scores are compared with label_image's on a face re-encoded as
    PNG and on a non-square PNG (crop offsets differ on each side)."""
    script = [block for block in _code_blocks("python") if block.startswith("# label_tflite.py")]
    assert len(script) == 1 and "import tensorflow" not in script[0]
    (tmp_path / "label_tflite.py").write_text(script[0])
    paths = lenet_multi(tmp_path_factory, faces)
    model = tmp_path / "faces.tflite"
    assert export("--checkpoint_path", paths["train_dir"], "--tflite", model, "--preprocessing_name", "inception") == 0
    assert json.loads((tmp_path / "faces.json").read_text())["preprocessing"]["central_fraction"] == 0.875
    face = np.asarray(Image.open(sorted(paths["images"].values())[0]).convert("RGB"))
    odd = np.random.RandomState(5).randint(0, 256, (50, 37, 3)).astype(np.uint8)
    for name, pixels in (("face.png", face), ("odd.png", odd)):
        (tmp_path / name).write_bytes(_png(pixels))
        result = subprocess.run([sys.executable, "label_tflite.py", "faces.tflite", name], cwd=tmp_path,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        ours = _scores(result.stdout)
        capsys.readouterr()
        assert run_main(label_image.main, ["--graph", str(model), "--image", str(tmp_path / name), "--top_k", "0"]) == 0
        expected = _scores(capsys.readouterr().out)
        assert len(ours) == 5 and len(expected) == 11
        for label, score in ours.items():
            assert abs(expected[label] - score) <= 2e-5, (name, label, score, expected[label])
        assert sorted(ours.values(), reverse=True) == pytest.approx(sorted(expected.values(), reverse=True)[:5],
                                                                   abs=2e-5)
