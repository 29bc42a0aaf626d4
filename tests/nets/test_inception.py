"""Inception v1-v4 and Inception-ResNet v2: research/slim's arguments give its documented behaviour.

Where a default build is needed for comparison, it is research/slim's own, from the reference.
"""
import pytest

from core.compat import tf
from nets import inception_resnet_v2, inception_utils, inception_v1, inception_v2, inception_v3
from tests.nets.support import REFERENCE, build

SCOPE = inception_utils.inception_arg_scope()
IRV2_SCOPE = inception_resnet_v2.inception_resnet_v2_arg_scope()
V1_MODULES = ["Mixed_3b", "Mixed_3c", "MaxPool_4a_3x3", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e",
              "Mixed_4f", "MaxPool_5a_2x2", "Mixed_5b", "Mixed_5c"]
V2_MODULES = ["Mixed_3b", "Mixed_3c", "Mixed_4a", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_5a",
              "Mixed_5b", "Mixed_5c"]


def _reference_shapes(name, end_points):
    return {end_point: REFERENCE[name]["end_points"][end_point] for end_point in end_points}


def _count(variables, suffix):
    return sum(1 for name in variables if name.endswith(suffix))


def test_v1_without_root_block_starts_at_mixed_3b():
    built = build(inception_v1.inception_v1_base, [1, 28, 28, 192], SCOPE, include_root_block=False)
    assert built.shapes == _reference_shapes("inception_v1", V1_MODULES)
    assert built.count("InceptionV1/Conv2d_1a_7x7") == 0


def test_v1_global_pool_pools_larger_images_to_1x1():
    pooled = build(inception_v1.inception_v1, [1, 320, 320, 3], SCOPE, num_classes=5, global_pool=True)
    assert pooled.shapes["global_pool"] == [1, 1, 1, 1024] and "AvgPool_0a_7x7" not in pooled.end_points
    assert pooled.output.shape.as_list() == [1, 5]
    assert REFERENCE["inception_v1"]["end_points"]["AvgPool_0a_7x7"] == [1, 1, 1, 1024]  # at 224


def test_v1_fixed_pool_keeps_a_map_of_logits_on_larger_images_and_batch_norm_scale_adds_gammas():
    scaled = inception_utils.inception_arg_scope(batch_norm_scale=True)
    fixed = build(inception_v1.inception_v1, [1, 320, 320, 3], scaled, num_classes=5, spatial_squeeze=False)
    assert fixed.shapes["AvgPool_0a_7x7"] == [1, 4, 4, 1024]
    assert fixed.output.shape.as_list() == [1, 4, 4, 5]
    reference = REFERENCE["inception_v1"]["variables"]
    assert _count(reference, "BatchNorm/gamma") == 0
    assert _count(fixed.variables, "BatchNorm/gamma") == _count(reference, "BatchNorm/beta") == 57


def test_v2_without_separable_conv_keeps_the_shapes_with_a_plain_first_convolution():
    plain = build(inception_v2.inception_v2_base, [1, 224, 224, 3], SCOPE, use_separable_conv=False)
    assert plain.shapes == _reference_shapes("inception_v2", plain.end_points)
    assert plain.variables["InceptionV2/Conv2d_1a_7x7/weights"] == [7, 7, 3, 64]
    assert "InceptionV2/Conv2d_1a_7x7/depthwise_weights" not in plain.variables
    assert REFERENCE["inception_v2"]["variables"]["InceptionV2/Conv2d_1a_7x7/depthwise_weights"] == [7, 7, 3, 8]


def test_v2_nchw_end_points_are_the_transposed_nhwc_ones():
    nchw = build(inception_v2.inception_v2_base, [1, 3, 224, 224], SCOPE, use_separable_conv=False,
                 data_format="NCHW")
    for name, (batch, height, width, channels) in _reference_shapes("inception_v2", nchw.end_points).items():
        assert nchw.shapes[name] == [batch, channels, height, width], name
    # Batch norm follows the data format too: one offset per channel.
    assert nchw.variables["InceptionV2/Mixed_5c/Branch_0/Conv2d_0a_1x1/BatchNorm/beta"] == [352]
    with pytest.raises(ValueError, match="separable convolution only supports NHWC"):
        build(inception_v2.inception_v2_base, [1, 3, 224, 224], data_format="NCHW")
    with pytest.raises(ValueError, match="NHWC or NCHW"):
        build(inception_v2.inception_v2_base, [1, 3, 224, 224], data_format="NCWH")


def test_v2_without_root_block_starts_at_mixed_3b():
    built = build(inception_v2.inception_v2_base, [1, 28, 28, 192], SCOPE, include_root_block=False)
    assert built.shapes == _reference_shapes("inception_v2", V2_MODULES)


def test_v2_depth_multiplier_and_min_depth_set_every_layers_channels():
    # At 112 pixels, the 7x7 average pool shrinks to the 4x4 map.
    half = build(inception_v2.inception_v2, [1, 112, 112, 3], SCOPE, num_classes=5, depth_multiplier=0.5)
    assert half.shapes["Mixed_3b"] == [1, 14, 14, 128] and half.shapes["Mixed_5c"] == [1, 4, 4, 512]
    assert half.shapes["AvgPool_1a"] == half.shapes["PreLogits"] == [1, 1, 1, 512]
    # Each layer has max(int(depth * 0.1), min_depth) channels: with 16, Mixed_5c's branches (352,
    # 320, 224, 128) give 35 + 32 + 22 + 16; with 8, Mixed_3b's (64, 64, 96, 32) give 8 + 8 + 9 + 8.
    tenth = build(inception_v2.inception_v2_base, [1, 224, 224, 3], SCOPE, depth_multiplier=0.1)
    assert tenth.shapes["Mixed_3b"][3] == 4 * 16 and tenth.shapes["Mixed_5c"][3] == 35 + 32 + 22 + 16
    eight = build(inception_v2.inception_v2_base, [1, 224, 224, 3], SCOPE, depth_multiplier=0.1, min_depth=8,
                  final_endpoint="Mixed_3b")
    assert eight.shapes["Mixed_3b"][3] == 8 + 8 + 9 + 8
    with pytest.raises(ValueError, match="depth_multiplier is not greater than zero"):
        build(inception_v2.inception_v2, [1, 224, 224, 3], SCOPE, depth_multiplier=0)


def test_v3_depth_multiplier_and_small_inputs():
    built = build(inception_v3.inception_v3, [1, 150, 150, 3], SCOPE, num_classes=5, depth_multiplier=0.5)
    assert built.shapes["Mixed_5b"] == [1, 16, 16, 128] and built.shapes["Mixed_7c"] == [1, 3, 3, 1024]
    assert built.shapes["AvgPool_1a"] == built.shapes["PreLogits"] == [1, 1, 1, 1024]
    # The auxiliary head's convolution takes the size of the pooled Mixed_6e map: 1x1 here, 5x5 at 299.
    assert built.variables["InceptionV3/AuxLogits/Conv2d_2a_1x1/weights"] == [1, 1, 64, 384]
    assert REFERENCE["inception_v3"]["variables"]["InceptionV3/AuxLogits/Conv2d_2a_5x5/weights"] == \
        [5, 5, 128, 768]


def test_v3_without_aux_logits_and_with_global_pool():
    built = build(inception_v3.inception_v3, [1, 400, 400, 3], SCOPE, num_classes=5, create_aux_logits=False,
                  global_pool=True)
    assert "AuxLogits" not in built.end_points and built.count("InceptionV3/AuxLogits") == 0
    assert built.shapes["Mixed_7c"] == [1, 11, 11, 2048] and built.shapes["global_pool"] == [1, 1, 1, 2048]
    assert built.output.shape.as_list() == [1, 5]


def test_use_batch_norm_false_gives_convolutions_biases():
    built = build(inception_v1.inception_v1_base, [1, 224, 224, 3],
                  inception_utils.inception_arg_scope(use_batch_norm=False), final_endpoint="Mixed_3b")
    assert _count(built.variables, "BatchNorm/beta") == 0
    assert "InceptionV1/Mixed_3b/Branch_0/Conv2d_0a_1x1/biases" in built.variables


def test_inception_arg_scope_batch_norm_updates_collections():
    scope = inception_utils.inception_arg_scope(batch_norm_updates_collections="my_updates")
    built = build(inception_v1.inception_v1_base, [1, 224, 224, 3], scope, final_endpoint="Conv2d_2c_3x3")
    assert len(built.graph.get_collection("my_updates")) == 2 * 3  # mean and variance of 3 convolutions
    assert built.graph.get_collection(tf.GraphKeys.UPDATE_OPS) == []


def test_inception_resnet_v2_output_stride_8_dilates_the_17x17_blocks():
    built = build(inception_resnet_v2.inception_resnet_v2_base, [1, 299, 299, 3], IRV2_SCOPE,
                  final_endpoint="PreAuxLogits", output_stride=8)
    assert REFERENCE["inception_resnet_v2"]["end_points"]["PreAuxLogits"] == [1, 17, 17, 1088]
    assert built.shapes["PreAuxLogits"] == [1, 33, 33, 1088]
    reference = REFERENCE["inception_resnet_v2"]["variables"]
    assert all(reference[name] == shape for name, shape in built.variables.items())
    assert built.dilated("InceptionResnetV2/Repeat_1/block17_1/Branch_1/Conv2d_0b_1x7")
    assert not built.dilated("InceptionResnetV2/Repeat/block35_1/Branch_1/Conv2d_0b_3x3")
    with pytest.raises(ValueError, match="output_stride must be 8 or 16"):
        build(inception_resnet_v2.inception_resnet_v2_base, [1, 299, 299, 3], output_stride=32)


def test_inception_resnet_v2_align_feature_maps_pads_as_same():
    built = build(inception_resnet_v2.inception_resnet_v2_base, [1, 299, 299, 3], IRV2_SCOPE,
                  align_feature_maps=True, final_endpoint="Mixed_6a")
    # Every stride-2 layer halves the size rounding up (SAME padding); VALID gives 149, 147 ... 17.
    expected = {"Conv2d_1a_3x3": 150, "Conv2d_2a_3x3": 150, "MaxPool_3a_3x3": 75, "Conv2d_4a_3x3": 75,
                "MaxPool_5a_3x3": 38, "Mixed_5b": 38, "Mixed_6a": 19}
    assert {name: built.shapes[name][1] for name in expected} == expected
    assert REFERENCE["inception_resnet_v2"]["end_points"]["Mixed_6a"] == [1, 17, 17, 1088]


def test_inception_resnet_v2_relu6_clips_the_residuals():
    built = build(inception_resnet_v2.inception_resnet_v2_base, [1, 160, 160, 3],
                  inception_resnet_v2.inception_resnet_v2_arg_scope(activation_fn=tf.nn.relu6),
                  activation_fn=tf.nn.relu6, final_endpoint="Mixed_6a")
    assert "Relu" not in built.op_types() and "Relu6" in built.op_types()
    clips = [op for op in built.graph.get_operations() if op.name.endswith("/clip_by_value")]
    assert len(clips) == 10  # each block35
    plain = build(inception_resnet_v2.inception_resnet_v2_base, [1, 160, 160, 3], IRV2_SCOPE,
                  final_endpoint="Mixed_5b")
    assert "Relu6" not in plain.op_types()


def test_inception_resnet_v2_batch_norm_scale_gives_gammas():
    built = build(inception_resnet_v2.inception_resnet_v2_base, [1, 160, 160, 3],
                  inception_resnet_v2.inception_resnet_v2_arg_scope(batch_norm_scale=True),
                  final_endpoint="Mixed_5b")
    assert _count(built.variables, "BatchNorm/gamma") == _count(built.variables, "BatchNorm/beta") == 5 + 7
    assert _count(REFERENCE["inception_resnet_v2"]["variables"], "BatchNorm/gamma") == 0
