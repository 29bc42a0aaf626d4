"""The floors of the project: nothing imports upward and the folders form no loop.

    core/                       imports nothing of the project
    datasets/ nets/ preprocessing/   import core/ only (and their own modules)
    engine/                     imports the floors below
    the five scripts, bench/    import anything

Read from the source with `ast`, imports inside functions included.
"""
import ast
import os

import pytest

from tests.conftest import ROOT

PACKAGES = ("core", "datasets", "nets", "preprocessing", "engine", "bench")
ALLOWED = {
    "core": {"core"},
    "datasets": {"core", "datasets"},
    "nets": {"core", "nets"},
    "preprocessing": {"core", "preprocessing"},
    "engine": {"core", "datasets", "nets", "preprocessing", "engine"},
}


def project_imports(path):
    """The project packages (and top-level scripts) that the module at `path` imports."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in PACKAGES or os.path.isfile(os.path.join(ROOT, top + ".py")):
                found.add(top)
    return found


def modules(package):
    folder = os.path.join(ROOT, package)
    return sorted(os.path.join(folder, name) for name in os.listdir(folder) if name.endswith(".py"))


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_floor_imports_only_the_floors_below(package):
    wrong = {os.path.relpath(path, ROOT): sorted(project_imports(path) - ALLOWED[package])
             for path in modules(package)}
    assert not {path: names for path, names in wrong.items() if names}


def test_the_checker_sees_an_upward_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from engine.training import train\n    import nets.nets_factory\n")
    assert project_imports(str(module)) == {"engine", "nets"}


def test_training_is_split_in_files_of_one_job_each_under_about_300_lines():
    lengths = {name: sum(1 for _ in open(os.path.join(ROOT, "engine", name + ".py"), encoding="utf-8"))
               for name in ("training", "checkpoints", "optimization", "train_loop", "options")}
    assert {name: n for name, n in lengths.items() if n > 320} == {}
