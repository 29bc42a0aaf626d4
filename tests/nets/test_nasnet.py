"""NASNet and PNASNet: research/slim's configuration overrides and nasnet_utils helpers."""
import types

import pytest

from core.compat import slim, tf
from nets import nasnet, nasnet_utils, pnasnet
from tests.nets.support import REFERENCE, build


def _cifar(input_shape=(1, 32, 32, 3), **kwargs):
    return build(nasnet.build_nasnet_cifar, list(input_shape), nasnet.nasnet_cifar_arg_scope(), **kwargs)


def test_num_cells_and_use_aux_head_false():
    built = _cifar(num_classes=10, num_cells=3, use_aux_head=False)
    cells = sorted(name for name in built.end_points if name.startswith(("Cell_", "Reduction_Cell_")))
    assert cells == ["Cell_0", "Cell_1", "Cell_2", "Reduction_Cell_0", "Reduction_Cell_1"]
    assert nasnet_utils.calc_reduction_layers(3, 2) == [1, 2]
    assert built.shapes["Cell_0"] == [1, 32, 32, 192] and built.shapes["Cell_2"] == [1, 8, 8, 768]
    assert built.count("cell_3/") == 0
    assert "AuxLogits" not in built.end_points and built.count("aux_") == 0
    assert "aux_11/aux_logits/FC/weights" in REFERENCE["nasnet_cifar"]["variables"]  # research/slim's default


def _drop_path_ops(built):
    return [op for op in built.graph.get_operations() if op.type == "RandomUniform"]


def test_drop_path_and_aux_head_when_training_only():
    # CIFAR's drop path keep probability is 0.6; its schedule reads the global step, created when missing.
    training = build(nasnet.build_nasnet_cifar, [1, 32, 32, 3], nasnet.nasnet_cifar_arg_scope(),
                     global_step=False, num_classes=10, num_cells=2)
    assert _drop_path_ops(training) and training.variables["global_step"] == []
    assert training.shapes["AuxLogits"] == [1, 10]  # on cell 0, before the second reduction
    inference = _cifar(num_classes=10, num_cells=2, is_training=False)
    assert not _drop_path_ops(inference) and "AuxLogits" not in inference.end_points
    assert not _drop_path_ops(_cifar(num_classes=10, num_cells=2, drop_path_keep_prob=1.0,
                                     final_endpoint="Cell_0"))


@pytest.mark.parametrize("name, network_fn, arg_scope", [
    ("nasnet_cifar", nasnet.build_nasnet_cifar, nasnet.nasnet_cifar_arg_scope()),
    ("nasnet_mobile", nasnet.build_nasnet_mobile, nasnet.nasnet_mobile_arg_scope()),
    ("pnasnet_large", pnasnet.build_pnasnet_large, pnasnet.pnasnet_large_arg_scope()),
])
def test_nchw_data_format_gives_channels_first_end_points(name, network_fn, arg_scope):
    size = REFERENCE[name]["image_size"]
    nchw = build(network_fn, [2, size, size, 3], arg_scope, num_classes=10, final_endpoint="Stem",
                 data_format="NCHW")
    _, height, width, channels = REFERENCE[name]["end_points"]["Stem"]
    assert nchw.shapes["Stem"] == [2, channels, height, width]
    reference = REFERENCE[name]["variables"]
    assert all(reference[var] == shape for var, shape in nchw.variables.items())


def test_nchw_whole_network_gives_channels_first_cells_and_2d_logits():
    nchw = _cifar((2, 32, 32, 3), num_classes=10, num_cells=2, data_format="NCHW")
    assert nchw.shapes["Cell_1"] == [2, 768, 8, 8]
    assert nchw.shapes["Logits"] == nchw.shapes["AuxLogits"] == [2, 10]
    assert nchw.variables["aux_0/aux_logits/Conv/weights"] == [4, 4, 128, 768]  # the 16x16 map pooled
    with pytest.raises(ValueError, match="data_format"):
        _cifar(num_classes=10, num_cells=3, data_format="NWHC")


@pytest.mark.parametrize("network_fn, arg_scope, size", [
    (nasnet.build_nasnet_cifar, nasnet.nasnet_cifar_arg_scope(), 32),
    (pnasnet.build_pnasnet_mobile, pnasnet.pnasnet_mobile_arg_scope(), 96),
], ids=["nasnet_cifar", "pnasnet_mobile"])
def test_use_bounded_activation_replaces_relu_with_relu6(network_fn, arg_scope, size):
    bounded = build(network_fn, [1, size, size, 3], arg_scope, num_classes=10, num_cells=2,
                    use_bounded_activation=True)
    assert "Relu6" in bounded.op_types() and "Relu" not in bounded.op_types()
    assert any(op.name.endswith("/clip_by_value") for op in bounded.graph.get_operations())


def test_config_is_a_nasnet_config_or_any_object_with_its_fields():
    config = nasnet.NasNetConfig(num_cells=2, num_conv_filters=16, stem_multiplier=1.0, use_aux_head=False)
    overridden = _cifar(num_classes=0, config=config, num_conv_filters=8)  # one field overridden
    assert overridden.shapes["Stem"] == [1, 32, 32, 8] and overridden.shapes["Cell_1"] == [1, 8, 8, 192]
    assert overridden.count("aux_") == 0
    # Without classes, the pooled features of the last cell (NASNet's and PNASNet's shared head).
    assert overridden.output is overridden.end_points["global_pool"]
    assert overridden.output.shape.as_list() == [1, 192] and overridden.count("final_layer/") == 0
    hparams = types.SimpleNamespace(num_cells=2, num_conv_filters=16, stem_multiplier=1.0)  # like HParams
    built = _cifar(num_classes=10, config=hparams)  # the other fields: CIFAR's
    assert built.shapes["Stem"] == [1, 32, 32, 16] and built.shapes["Cell_1"] == [1, 8, 8, 384]
    assert built.count("aux_0/") > 0
    assert nasnet.cifar_config().num_cells == 18 and nasnet.large_imagenet_config().num_conv_filters == 168
    assert nasnet.mobile_imagenet_config().num_cells == 12
    assert pnasnet.large_imagenet_config().num_conv_filters == 216
    assert pnasnet.mobile_imagenet_config().num_cells == 9


def test_final_endpoint_stops_the_network_and_must_exist():
    built = build(pnasnet.build_pnasnet_mobile, [1, 96, 96, 3], pnasnet.pnasnet_mobile_arg_scope(),
                  num_classes=10, final_endpoint="Cell_1")
    assert built.output is built.end_points["Cell_1"] and built.count("cell_2/") == 0
    with pytest.raises(ValueError, match="unknown final_endpoint 'Cell_99'"):
        _cifar(num_classes=10, num_cells=1, final_endpoint="Cell_99")


def test_pnasnet_without_skip_reduction_layer_input_reuses_the_previous_input_at_reductions():
    keep = build(pnasnet.build_pnasnet_mobile, [1, 96, 96, 3], pnasnet.pnasnet_mobile_arg_scope(),
                 num_classes=10, num_cells=3, skip_reduction_layer_input=False, final_endpoint="Cell_1")
    # Cell 1 reduces. It reads the first stem cell's output, as cell 0 did, twice its resolution: a
    # factorized reduction brings it down. By default (research/slim's pnasnet_mobile, whose first
    # reducing cell is cell 3), a reducing cell reads the output two cells back, at its resolution.
    # cell_stem_0's output: 5 hidden states of int(54 / 4) = 13 filters (the Stem end point, cell_stem_1's
    # output, has 5 of 27).
    assert keep.variables["cell_1/path1_conv/weights"] == [1, 1, 5 * 13, 54]
    assert keep.shapes["Stem"] == [1, 12, 12, 5 * 27]
    assert "cell_1/prev_1x1/weights" not in keep.variables
    reference = REFERENCE["pnasnet_mobile"]["variables"]
    assert "cell_3/prev_1x1/weights" in reference and "cell_3/path1_conv/weights" not in reference


def test_channel_helpers_follow_the_data_format():
    assert nasnet_utils.get_channel_index("NHWC") == 3 and nasnet_utils.get_channel_index("NCHW") == 1
    assert nasnet_utils.get_channel_dim([10, 20, 30, 40], "NHWC") == 40
    assert nasnet_utils.get_channel_dim([10, 20, 30, 40], "NCHW") == 20
    with slim.arg_scope([nasnet_utils.get_channel_index, nasnet_utils.get_channel_dim], data_format="NCHW"):
        assert nasnet_utils.get_channel_index() == 1
        assert nasnet_utils.get_channel_dim([10, 20, 30, 40]) == 20
    with pytest.raises(ValueError, match="data_format"):
        nasnet_utils.get_channel_index("NWHC")


def test_global_avg_pool_and_factorized_reduction_follow_the_data_format():
    with tf.Graph().as_default():
        net = tf.placeholder(tf.float32, [5, 10, 20, 12])
        assert nasnet_utils.global_avg_pool(net, "NHWC").shape.as_list() == [5, 12]
        assert nasnet_utils.global_avg_pool(net, "NCHW").shape.as_list() == [5, 10]
        with slim.arg_scope(nasnet.nasnet_cifar_arg_scope()):
            with tf.variable_scope("nhwc_1"):
                same = nasnet_utils.factorized_reduction(net, 16, stride=1, data_format="NHWC")
            with tf.variable_scope("nhwc_2"):
                halved = nasnet_utils.factorized_reduction(net, 17, stride=2, data_format="NHWC")
            with tf.variable_scope("nchw_2"), slim.arg_scope([slim.conv2d, slim.batch_norm], data_format="NCHW"):
                channels_first = nasnet_utils.factorized_reduction(net, 16, stride=2, data_format="NCHW")
        assert same.shape.as_list() == [5, 10, 20, 16]
        assert halved.shape.as_list() == [5, 5, 10, 17]
        assert channels_first.shape.as_list() == [5, 16, 10, 6]
        shapes = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
    # Half the filters read the even pixels, the rest (one more when odd) the pixels shifted by one.
    assert shapes["nhwc_2/path1_conv/weights"] == [1, 1, 12, 8]
    assert shapes["nhwc_2/path2_conv/weights"] == [1, 1, 12, 9]
    assert shapes["nchw_2/path1_conv/weights"] == [1, 1, 10, 8]
