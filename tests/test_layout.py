"""The floors of the project: nothing imports upward and the folders form no loop.

    core/                            imports nothing of the project
    datasets/ nets/ preprocessing/   import core/ only (and their own modules)
    engine/config/                   what a run is: flags, options, the recorded run (no TensorFlow)
    engine/model/                    what every job shares: checkpoints, precision, an exported model's format
    engine/cluster/                  TensorFlow's distributed runtime and the local launcher
    engine/evaluation/  engine/export/  engine/inference/   one job each, on the floors above
    engine/training/                 training, which validates itself with engine/evaluation/
    the five scripts, bench/         import anything

Read from the source with `ast`, imports inside functions included.
"""
import ast
import os

import pytest

from tests.conftest import ROOT

PACKAGES = ("core", "datasets", "nets", "preprocessing", "engine", "bench")
ENGINE_JOBS = ("config", "model", "cluster", "evaluation", "export", "inference", "training")
_BASE = {"core", "datasets", "nets", "preprocessing"}
ALLOWED = {
    "core": {"core"},
    "datasets": {"core", "datasets"},
    "nets": {"core", "nets"},
    "preprocessing": {"core", "preprocessing"},
    "engine.config": _BASE | {"engine.config"},
    "engine.model": _BASE | {"engine.config", "engine.model"},
    "engine.cluster": _BASE | {"engine.config", "engine.cluster"},
    "engine.evaluation": _BASE | {"engine.config", "engine.model", "engine.evaluation"},
    "engine.export": _BASE | {"engine.config", "engine.model", "engine.export"},
    "engine.inference": _BASE | {"engine.config", "engine.model", "engine.inference"},
    "engine.training": _BASE | {"engine.config", "engine.model", "engine.cluster", "engine.evaluation",
                                "engine.training"},
}


def _unit(name):
    """The floor a dotted module name belongs to: a top package, `engine.JOB`, or a top-level script."""
    parts = name.split(".")
    if parts[0] == "engine" and len(parts) > 1:
        return "engine." + parts[1]
    return parts[0]


def project_imports(path):
    """The floors (top packages, engine jobs, top-level scripts) that the module at `path` imports."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] if node.module != "engine" else ["engine." + a.name for a in node.names]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in PACKAGES or os.path.isfile(os.path.join(ROOT, top + ".py")):
                found.add(_unit(name))
    return found


def modules(unit):
    folder = os.path.join(ROOT, *unit.split("."))
    return sorted(os.path.join(directory, name) for directory, _, names in os.walk(folder)
                  for name in names if name.endswith(".py"))


@pytest.mark.parametrize("unit", sorted(ALLOWED))
def test_each_floor_imports_only_the_floors_below(unit):
    wrong = {os.path.relpath(path, ROOT): sorted(project_imports(path) - ALLOWED[unit]) for path in modules(unit)}
    assert not {path: names for path, names in wrong.items() if names}


def test_engine_is_only_its_job_folders():
    entries = sorted(os.listdir(os.path.join(ROOT, "engine")))
    assert [e for e in entries if e not in ENGINE_JOBS + ("__init__.py", "__pycache__")] == []
    assert set(ENGINE_JOBS) == {unit.split(".")[1] for unit in ALLOWED if unit.startswith("engine.")}


def test_the_checker_sees_an_upward_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from engine.training.trainer import train\n    import nets.nets_factory\n"
                      "    from engine import evaluation\n")
    assert project_imports(str(module)) == {"engine.training", "nets", "engine.evaluation"}


def test_no_source_file_is_over_400_lines():
    lengths = {}
    for directory, _, names in os.walk(ROOT):
        if any(part.startswith(".") for part in os.path.relpath(directory, ROOT).split(os.sep)):
            continue
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8") as handle:
                    lengths[os.path.relpath(path, ROOT)] = sum(1 for _ in handle)
    assert {path: n for path, n in lengths.items() if n > 400} == {}
