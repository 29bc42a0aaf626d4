"""nets/catalog.py and preprocessing/catalog.py: the facts `--help` needs, without TensorFlow, each once."""
import subprocess
import sys

import pytest

from core.errors import UserError
from nets import catalog, nets_factory
from preprocessing import catalog as preprocessing_catalog
from preprocessing import preprocessing_factory
from tests.conftest import ROOT
from tests.nets.support import REFERENCE


def test_the_catalogs_import_nothing_heavy():
    # Run apart: this process has loaded TensorFlow already.
    code = ("import sys, nets.catalog, preprocessing.catalog; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('tensorflow', 'tf_slim', 'tf_keras', 'numpy', 'nets', 'preprocessing', 'core')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(["core", "core.errors", "nets", "nets.catalog", "preprocessing",
                                         "preprocessing.catalog"])


def test_one_spec_per_research_slim_model_name():
    assert catalog.MODEL_NAMES == tuple(sorted(REFERENCE))
    assert all(name == spec.name for name, spec in catalog.SPECS.items())


@pytest.mark.parametrize("name", catalog.MODEL_NAMES)
def test_each_spec_names_functions_that_exist(name):
    spec = catalog.get_spec(name)
    network = nets_factory.network_function(name)
    assert network is nets_factory.load(spec.network) and network is nets_factory.networks_map[name]
    assert network.default_image_size == spec.default_image_size == REFERENCE[name]["image_size"]
    assert nets_factory.arg_scope_function(name) is nets_factory.arg_scopes_map[name]
    assert "weight_decay" in nets_factory.arg_scope_function(name).__code__.co_varnames
    assert spec.preprocessing_name in preprocessing_catalog.NAMES


def test_research_slims_maps_are_views_of_the_catalog():
    assert list(nets_factory.networks_map) == list(nets_factory.arg_scopes_map) == list(catalog.MODEL_NAMES)
    assert len(nets_factory.networks_map) == 32 and "i3d" not in nets_factory.networks_map
    with pytest.raises(KeyError):
        nets_factory.networks_map["i3d"]


def test_unknown_names_and_small_sizes_say_what_is_valid():
    with pytest.raises(UserError, match="unknown --model_name 'resnet_v3'; available: alexnet_v2, cifarnet"):
        catalog.get_spec("resnet_v3")
    assert nets_factory.get_spec is catalog.get_spec and nets_factory.check_image_size is catalog.check_image_size
    catalog.check_image_size("overfeat", 231)
    with pytest.raises(UserError, match="image size 224 is too small for overfeat, which needs at least 231 pixels; "
                                        "pass a larger size .its default is 231."):
        catalog.check_image_size("overfeat", 224)


def test_the_preprocessing_names_are_the_catalogs():
    assert sorted(preprocessing_factory.FAMILIES) == list(preprocessing_catalog.NAMES) == \
        ["cifarnet", "inception", "lenet", "vgg"]
    assert preprocessing_factory.check_name is preprocessing_catalog.check_name
    assert preprocessing_factory.list_names() == list(preprocessing_catalog.NAMES)
    for name, module in preprocessing_catalog.MODULES.items():
        assert preprocessing_factory.FAMILIES[name].__name__ == module
    with pytest.raises(UserError, match="unknown preprocessing name 'resnet'; valid names: cifarnet, inception"):
        preprocessing_catalog.check_name("resnet")
