"""The mutation check's patches (tests/mutants/) stay usable: each names its bug and the tests that catch
it, those tests exist, and the patch still applies to the code (a patch that no longer applies would make
`python tests/mutants/run.py` report it instead of checking it)."""
import os

import pytest

from tests.conftest import ROOT
from tests.mutants import run as mutation

NAMES = mutation.mutants()


def test_there_are_mutants_for_the_promises():
    assert len(NAMES) >= 13


@pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, ".git")), reason="not a git checkout")
@pytest.mark.parametrize("name", NAMES)
def test_each_mutant_applies_and_names_existing_tests(name):
    info = mutation.header(name)
    assert info["bug"]
    paths = [argument.split("::")[0] for argument in info["tests"] if argument.startswith("tests/")]
    assert paths
    for path in paths:
        assert os.path.exists(os.path.join(ROOT, path)), path
    assert mutation.applies(name), "%s.patch no longer applies: update it to the code it breaks" % name
