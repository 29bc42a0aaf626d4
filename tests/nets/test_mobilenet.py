"""MobileNet v1 and v2: research/slim's arguments give its documented behaviour."""
import pytest

from core.compat import slim, tf
from nets import mobilenet_v1, mobilenet_v2
from nets.mobilenet_conv_blocks import expand_input_by_factor, expanded_conv
from tests.nets.support import REFERENCE, build

V1_SCOPE = mobilenet_v1.mobilenet_v1_arg_scope()


def _paddings(built):
    """The padding of every convolution, depthwise ones included."""
    return {op.get_attr("padding").decode() for op in built.graph.get_operations()
            if op.type in ("Conv2D", "DepthwiseConv2dNative")}


@pytest.mark.parametrize("output_stride, size", [(16, 14), (8, 28)])
def test_v1_output_stride_keeps_features_at_that_stride(output_stride, size):
    built = build(mobilenet_v1.mobilenet_v1_base, [1, 224, 224, 3], V1_SCOPE, output_stride=output_stride)
    assert built.shapes["Conv2d_13_pointwise"] == [1, size, size, 1024]
    assert REFERENCE["mobilenet_v1"]["end_points"]["Conv2d_13_pointwise"] == [1, 7, 7, 1024]
    reference = REFERENCE["mobilenet_v1"]["variables"]
    assert built.variables == {name: shape for name, shape in reference.items() if "/Logits/" not in name}
    assert built.dilated("MobilenetV1/Conv2d_13_depthwise") == (output_stride < 32)
    assert built.dilated("MobilenetV1/Conv2d_11_depthwise") == (output_stride == 8)


def test_v1_output_stride_must_be_8_16_or_32():
    with pytest.raises(ValueError, match="Only allowed output_stride values are 8, 16, 32"):
        build(mobilenet_v1.mobilenet_v1_base, [1, 224, 224, 3], output_stride=4)


def test_v1_explicit_padding_keeps_the_shapes_with_valid_convolutions():
    explicit = build(mobilenet_v1.mobilenet_v1_base, [1, 224, 224, 3], V1_SCOPE, use_explicit_padding=True)
    assert explicit.shapes == {name: shape for name, shape in REFERENCE["mobilenet_v1"]["end_points"].items()
                               if name.startswith("Conv2d_")}
    assert _paddings(explicit) == {"VALID"}
    assert sum(op.type == "Pad" for op in explicit.graph.get_operations()) == 14  # each 3x3 layer
    dense = build(mobilenet_v1.mobilenet_v1_base, [1, 224, 224, 3], V1_SCOPE, output_stride=16,
                  use_explicit_padding=True)
    assert dense.shapes["Conv2d_13_pointwise"] == [1, 14, 14, 1024]


def test_v1_conv_defs_define_the_layers():
    conv_defs = [mobilenet_v1.Conv(kernel=[3, 3], stride=2, depth=32),
                 mobilenet_v1.DepthSepConv(kernel=[3, 3], stride=1, depth=64),
                 mobilenet_v1.DepthSepConv(kernel=[3, 3], stride=2, depth=128),
                 mobilenet_v1.DepthSepConv(kernel=[5, 5], stride=1, depth=512)]
    built = build(mobilenet_v1.mobilenet_v1_base, [1, 224, 224, 3], V1_SCOPE, conv_defs=conv_defs,
                  final_endpoint="Conv2d_3_pointwise")
    assert sorted(built.end_points) == sorted(["Conv2d_0", "Conv2d_1_depthwise", "Conv2d_1_pointwise",
                                               "Conv2d_2_depthwise", "Conv2d_2_pointwise",
                                               "Conv2d_3_depthwise", "Conv2d_3_pointwise"])
    assert built.output.shape.as_list() == [1, 56, 56, 512]
    assert built.variables["MobilenetV1/Conv2d_3_depthwise/depthwise_weights"] == [5, 5, 128, 1]


def test_v1_global_pool_pools_any_input_to_1x1_and_features_come_without_classes():
    pooled = build(mobilenet_v1.mobilenet_v1, [1, 320, 320, 3], V1_SCOPE, num_classes=5, global_pool=True)
    assert pooled.shapes["global_pool"] == [1, 1, 1, 1024] and pooled.output.shape.as_list() == [1, 5]
    fixed = build(mobilenet_v1.mobilenet_v1, [1, 320, 320, 3], V1_SCOPE, num_classes=0)
    # 7x7, stride 2 and fixed.output is fixed.end_points["AvgPool_1a"]
    assert fixed.shapes["AvgPool_1a"] == [1, 2, 2, 1024]
    assert fixed.count("MobilenetV1/Logits") == 0
    small = build(mobilenet_v1.mobilenet_v1, [1, 64, 64, 3], V1_SCOPE, num_classes=5, spatial_squeeze=False)
    assert small.shapes["AvgPool_1a"] == [1, 1, 1, 1024] and small.output.shape.as_list() == [1, 1, 1, 5]


def test_v1_depth_multiplier_and_min_depth():
    built = build(mobilenet_v1.mobilenet_v1, [1, 96, 96, 3], V1_SCOPE, num_classes=5, depth_multiplier=0.25,
                  min_depth=16)
    assert built.shapes["Conv2d_0"][3] == 16  # max(int(32 * 0.25), 16)
    assert built.shapes["Conv2d_13_pointwise"][3] == 256
    with pytest.raises(ValueError, match="depth_multiplier is not greater than zero"):
        build(mobilenet_v1.mobilenet_v1, [1, 96, 96, 3], V1_SCOPE, depth_multiplier=-1)


def test_v1_arg_scope_with_is_training_none_leaves_batch_norm_mode_unset():
    batch_norm = slim.arg_scope_func_key(slim.batch_norm)
    assert "is_training" not in mobilenet_v1.mobilenet_v1_arg_scope(is_training=None)[batch_norm]
    for is_training in (True, False):
        assert mobilenet_v1.mobilenet_v1_arg_scope(is_training=is_training)[batch_norm]["is_training"] \
            is is_training


def test_v2_depth_multiplier_rounds_to_multiples_of_8_and_finegrain_keeps_1280():
    half = build(mobilenet_v2.mobilenet, [1, 96, 96, 3], mobilenet_v2.training_scope(), num_classes=5,
                 depth_multiplier=0.5)
    assert [half.shapes["layer_%d" % n][3] for n in (1, 2, 3, 19)] == [16, 8, 16, 640]
    # research/slim's mobilenet_v2_050: depth_multiplier=0.5, finegrain_classification_mode=True.
    fine = build(mobilenet_v2.mobilenet_v2_050, [1, 96, 96, 3], mobilenet_v2.training_scope(), num_classes=5)
    assert fine.shapes["layer_19"][3] == 1280 and fine.shapes["layer_18"][3] == 160
    # mobilenet_v2_140 and _035 are the factory's, checked against the reference.
    assert REFERENCE["mobilenet_v2_140"]["end_points"]["layer_19"][3] == 1792
    assert REFERENCE["mobilenet_v2_035"]["end_points"]["layer_19"][3] == 1280


def test_v2_min_depth_and_divisible_by():
    built = build(mobilenet_v2.mobilenet, [1, 96, 96, 3], mobilenet_v2.training_scope(), num_classes=5,
                  depth_multiplier=0.1, min_depth=16, divisible_by=4)
    # 32 * 0.1 and 16 * 0.1 round to 4 at most, below min_depth; 320 * 0.1 = 32; 1280 * 0.1 = 128.
    assert [built.shapes["layer_%d" % n][3] for n in (1, 2, 18, 19)] == [16, 16, 32, 128]


def test_v2_conv_defs_form_builds_a_custom_network():
    conv_defs = dict(defaults=mobilenet_v2.V2_DEF["defaults"], spec=[
        mobilenet_v2.op(slim.conv2d, stride=2, num_outputs=24, kernel_size=[3, 3]),
        mobilenet_v2.op(expanded_conv, stride=2, num_outputs=32, expansion_size=expand_input_by_factor(4)),
        mobilenet_v2.op(expanded_conv, stride=1, num_outputs=32, kernel_size=[5, 5]),
        mobilenet_v2.op(slim.conv2d, stride=1, kernel_size=[1, 1], num_outputs=320),
    ])
    built = build(mobilenet_v2.mobilenet, [1, 64, 64, 3], mobilenet_v2.training_scope(), num_classes=5,
                  conv_defs=conv_defs)
    assert [built.shapes["layer_%d" % n] for n in range(1, 5)] == [
        [1, 32, 32, 24], [1, 16, 16, 32], [1, 16, 16, 32], [1, 16, 16, 320]]
    assert built.variables["MobilenetV2/expanded_conv/expand/weights"] == [1, 1, 24, 96]
    assert built.variables["MobilenetV2/expanded_conv_1/depthwise/depthwise_weights"] == [5, 5, 192, 1]
    assert built.shapes["layer_3/expansion_output"] == [1, 16, 16, 192]  # the default factor 6
    # A block's end point is its 'output' op; its inner outputs are end points too.
    assert built.end_points["layer_2/output"] is built.end_points["layer_2"]
    assert sorted(name for name in built.end_points if name.startswith("layer_2/")) == [
        "layer_2/depthwise_output", "layer_2/expansion_output", "layer_2/output"]


def test_v2_base_output_stride_and_explicit_padding():
    built = build(mobilenet_v2.mobilenet_base, [1, 224, 224, 3], mobilenet_v2.training_scope(),
                  output_stride=16)
    assert built.shapes["layer_19"] == [1, 14, 14, 1280]
    assert built.output is built.end_points["layer_19"] and built.count("MobilenetV2/Logits") == 0
    assert built.dilated("MobilenetV2/expanded_conv_16/depthwise")
    assert not built.dilated("MobilenetV2/expanded_conv_13/depthwise")
    padded = build(mobilenet_v2.mobilenet_base, [1, 224, 224, 3], mobilenet_v2.training_scope(),
                   output_stride=16, use_explicit_padding=True)
    assert padded.shapes == built.shapes and _paddings(padded) == {"VALID"}
    with pytest.raises(ValueError, match="Output stride must be None, 1 or a multiple of 2"):
        build(mobilenet_v2.mobilenet_base, [1, 224, 224, 3], output_stride=3)


def test_v2_training_scope_with_is_training_none_leaves_it_unset():
    batch_norm, dropout = slim.arg_scope_func_key(slim.batch_norm), slim.arg_scope_func_key(slim.dropout)
    unset = mobilenet_v2.training_scope(is_training=None)
    assert "is_training" not in unset[batch_norm] and "is_training" not in unset[dropout]
    assert unset[dropout]["keep_prob"] == 0.8 and unset[batch_norm]["decay"] == 0.997
    assert mobilenet_v2.training_scope(is_training=False)[batch_norm]["is_training"] is False
    # Inside a training scope, is_training reaches the network: no batch norm updates in inference.
    features = build(mobilenet_v2.mobilenet, [1, 64, 64, 3], mobilenet_v2.training_scope(is_training=False),
                     num_classes=0)
    assert features.graph.get_collection(tf.GraphKeys.UPDATE_OPS) == []
    assert features.output.shape.as_list() == [1, 1, 1, 1280] and "Logits" not in features.end_points
    with pytest.raises(ValueError, match="depth_multiplier"):
        build(mobilenet_v2.mobilenet, [1, 96, 96, 3], multiplier=2)
