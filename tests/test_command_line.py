"""The five scripts' command lines: --help and --version answer without loading TensorFlow, every option
shows its default, the model names are listed, the example commands read as written, and research/slim
flags that do nothing say so."""
import argparse
import importlib
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tomllib

import pytest

from nets.catalog import MODEL_NAMES
from tests.conftest import ROOT

SCRIPTS = ("download_and_convert_data", "train_image_classifier", "eval_image_classifier",
           "export_inference_graph", "label_image")

# Runs a script as `python SCRIPT ARGS` would, then says which heavy modules the process loaded.
CHILD = """
import json, runpy, sys
sys.argv = sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit as exit:
    code = exit.code
sys.stderr.write("\\nLOADED " + json.dumps({"code": code, "modules": sorted(
    name for name in ("tensorflow", "pandas", "tf_slim", "tf_keras") if name in sys.modules)}))
"""


def run_script(script, *args):
    result = subprocess.run([sys.executable, "-c", CHILD, os.path.join(ROOT, script + ".py")] + list(args),
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    report = json.loads(result.stderr.rsplit("LOADED ", 1)[1])
    return result.stdout, report


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_and_version_answer_without_loading_tensorflow_or_pandas(script):
    # Before: --help of the conversion, export and label_image imported TensorFlow (4 to 5 s on 2 cores).
    out, report = run_script(script, "--help")
    assert report == {"code": 0, "modules": []} and out.startswith("usage: %s.py" % script)
    out, report = run_script(script, "--version")
    assert report == {"code": 0, "modules": []}
    tensorflow = importlib.metadata.version("tensorflow-cpu")
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as handle:
        version = tomllib.load(handle)["project"]["version"]  # the one place the suite's version is written
    assert out.strip().startswith("%s.py %s " % (script, version)) and "tensorflow-cpu %s" % tensorflow in out


def parser_of(script):
    return importlib.import_module(script).build_parser()


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_option_of_help_shows_its_default(script):
    parser = parser_of(script)
    formatter = parser._get_formatter()
    missing = []
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or action.required or isinstance(
                action, (argparse._HelpAction, argparse._VersionAction)):
            continue
        # "default:" or "(default)", not any word holding "default" (serving_default)
        if not re.search(r"\bdefault:|\(default\)", formatter._expand_help(action)):
            missing.append(action.option_strings[0])
    assert not missing, "options whose --help says no default: %s" % missing


@pytest.mark.parametrize("script", ["train_image_classifier", "eval_image_classifier", "export_inference_graph"])
def test_help_lists_every_model_name(script):
    text = " ".join(parser_of(script).format_help().split())
    listed = re.search(r"one of: ([a-z0-9_, ]+)", text).group(1).replace(" ", "").split(",")
    assert listed == list(MODEL_NAMES)


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_commands_of_help_keep_their_line_breaks(script):
    # Before: docstrings with `\` line continuations in non-raw strings, which Python joins: the examples read
    # "--train_dir output/         --max_number_of_steps 100".
    text = parser_of(script).format_help()
    assert not re.search(r"\S {4,}--", text), text
    lines = text.splitlines()
    assert any(line.lstrip().startswith("python ") for line in lines)
    for line, following in zip(lines, lines[1:]):
        if line.endswith("\\"):
            assert following.startswith("        "), (line, following)


@pytest.mark.parametrize("script, flags", [
    ("train_image_classifier", ["--quantize_delay", "5", "--dataset_name", "imagenet", "--dataset_dir", "d"]),
    ("eval_image_classifier", ["--quantize", "--dataset_name", "imagenet", "--dataset_dir", "d"]),
    ("export_inference_graph", ["--quantize", "--dataset_name", "imagenet", "--is_video_model", "--num_frames", "4"]),
])
def test_research_slim_flags_that_do_nothing_are_accepted(script, flags):
    args = parser_of(script).parse_args(flags)
    assert all(getattr(args, flag[2:]) is not None for flag in flags if flag.startswith("--"))
