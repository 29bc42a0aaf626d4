"""nets/hparams.py: the NASNet and PNASNet configs answer research/slim's HParams calls, with its rules."""
import pytest

from nets import nasnet, pnasnet
from nets.hparams import HParams
from tests.nets.support import build


def test_values_and_attributes_keep_their_types():
    params = HParams(num_cells=18, rate=2.0, data_format="NHWC", bounded=False, sizes=[1, 2])
    assert params.num_cells == 18 and params.data_format == "NHWC"
    assert params.values() == {"num_cells": 18, "rate": 2.0, "data_format": "NHWC", "bounded": False, "sizes": [1, 2]}
    assert "rate" in params and "depth" not in params
    assert repr(params).startswith("HParams(num_cells=18, rate=2.0")


@pytest.mark.parametrize("name, value, expected", [
    ("num_cells", 6, 6),
    ("rate", 3, 3.0),  # an integer becomes a float
    ("data_format", "NCHW", "NCHW"),
    ("bounded", True, True),
    ("sizes", [3, 4], [3, 4]),
])
def test_set_hparam_converts_to_the_type(name, value, expected):
    params = HParams(num_cells=18, rate=2.0, data_format="NHWC", bounded=False, sizes=[1, 2])
    params.set_hparam(name, value)
    assert getattr(params, name) == expected and type(getattr(params, name)) is type(expected)


@pytest.mark.parametrize("name, value", [
    ("num_cells", 6.5),  # no float to an integer
    ("num_cells", True),  # no bool for a number
    ("bounded", 1),  # nor a number for a bool
    ("data_format", 1),  # nothing but text for text
    ("rate", "2.0"),
    ("num_cells", [6]),  # a list for a single value
    ("sizes", 3),  # one value for a list
    ("sizes", [3, 4.5]),
])
def test_set_hparam_refuses_another_type(name, value):
    params = HParams(num_cells=18, rate=2.0, data_format="NHWC", bounded=False, sizes=[1, 2])
    with pytest.raises(ValueError, match=name):
        params.set_hparam(name, value)


def test_unknown_names_and_taken_names():
    params = HParams(num_cells=18)
    with pytest.raises(KeyError):  # HParams' own error for an unknown name
        params.set_hparam("num_celss", 6)
    with pytest.raises(KeyError):
        params.override_from_dict({"num_cells": 6, "depth": 2})
    with pytest.raises(ValueError, match="taken"):
        params.add_hparam("num_cells", 6)
    with pytest.raises(ValueError, match="taken"):
        params.add_hparam("values", 6)  # a method's name
    with pytest.raises(ValueError, match="at least one value"):
        params.add_hparam("sizes", [])
    params.add_hparam("depth", 2)
    assert params.override_from_dict({"num_cells": 6, "depth": 3}) is params
    assert params.values() == {"num_cells": 6, "depth": 3}
    params.del_hparam("depth")
    params.del_hparam("absent")
    assert params.values() == {"num_cells": 6} and not hasattr(params, "depth")


def test_get_checks_the_default_against_the_type():
    params = HParams(num_cells=18)
    assert params.get("num_cells") == 18 and params.get("num_cells", 4) == 18
    assert params.get("depth") is None and params.get("depth", "x") == "x"
    with pytest.raises(ValueError, match="num_cells"):
        params.get("num_cells", "four")
    with pytest.raises(ValueError, match="num_cells"):
        params.get("num_cells", [4])


@pytest.mark.parametrize("config_fn, values", [
    (nasnet.cifar_config, {"num_cells": 18, "num_conv_filters": 32, "skip_reduction_layer_input": 0,
                           "total_training_steps": 937500, "drop_path_keep_prob": 0.6}),
    (nasnet.mobile_imagenet_config, {"num_cells": 12, "num_conv_filters": 44, "skip_reduction_layer_input": 0}),
    (nasnet.large_imagenet_config, {"num_cells": 18, "num_conv_filters": 168, "skip_reduction_layer_input": 1}),
    (pnasnet.large_imagenet_config, {"num_cells": 12, "num_conv_filters": 216, "drop_path_keep_prob": 0.6}),
    (pnasnet.mobile_imagenet_config, {"num_cells": 9, "num_conv_filters": 54, "skip_reduction_layer_input": 1}),
])
def test_configs_are_research_slims_and_new_at_each_call(config_fn, values):
    config = config_fn()
    assert isinstance(config, nasnet.NasNetConfig)
    assert {name: config.values()[name] for name in values} == values
    assert config.use_aux_head == 1 and type(config.use_aux_head) is int  # research/slim's int, not a bool
    assert len(config.values()) == 12
    config.set_hparam("num_cells", 2)
    assert config_fn().num_cells == values["num_cells"]


def test_research_slims_calls_reach_the_network_and_leave_the_config_unchanged():
    config = nasnet.cifar_config()
    config.set_hparam("use_aux_head", 0)
    config.set_hparam("num_cells", 2)
    built = build(nasnet.build_nasnet_cifar, [1, 32, 32, 3], nasnet.nasnet_cifar_arg_scope(), num_classes=10,
                  config=config, is_training=True)
    assert "AuxLogits" not in built.end_points and built.count("aux_") == 0
    assert built.count("cell_2/") == 0 and built.count("cell_1/") > 0
    # Evaluation turns drop path off in the network's own copy, as research/slim does in its deep copy.
    evaluated = nasnet.resolve_config(nasnet.cifar_config(), config, is_training=False)
    assert evaluated.drop_path_keep_prob == 1.0 and evaluated.num_cells == 2
    assert config.drop_path_keep_prob == 0.6
    with pytest.raises(TypeError, match="unknown NASNet config field 'num_cell'"):
        nasnet.resolve_config(nasnet.cifar_config(), overrides={"num_cell": 2})
