"""ResNet v1 and v2: research/slim's arguments (output_stride, store_non_strided_activations,
min_base_depth, depth_multiplier, global_pool, spatial_squeeze, is_training=None) and the generic
resnet_v1() / resnet_v2() builders with blocks give research/slim's documented behaviour.

The semantics live in the generic builders, so most checks run on small networks of research/slim's
blocks; the named networks are checked where their arguments differ, against the reference."""
import pytest

from core.compat import slim, tf
from nets import resnet_utils, resnet_v1, resnet_v2
from tests.nets.support import REFERENCE, build

SCOPE = resnet_utils.resnet_arg_scope()
VERSIONS = [(resnet_v1, "v1"), (resnet_v2, "v2")]
IDS = ["v1", "v2"]


def _small(module, version, input_shape=(1, 64, 64, 3), **kwargs):
    """The root block and four one-unit blocks striding like ResNet-50's (2, 2, 2, 1): stride 32."""
    block_fn = getattr(module, "resnet_%s_block" % version)
    blocks = [block_fn("block%d" % (index + 1), base_depth=4 * 2 ** index, num_units=1, stride=stride)
              for index, stride in enumerate((2, 2, 2, 1))]
    return build(getattr(module, "resnet_" + version), list(input_shape), SCOPE, blocks=blocks, scope="small",
                 **kwargs)


def test_output_stride_keeps_features_that_much_smaller_with_the_same_variables():
    built = build(resnet_v1.resnet_v1_50, [1, 224, 224, 3], SCOPE, num_classes=1001, global_pool=False,
                  spatial_squeeze=False, output_stride=8)
    assert built.shapes["resnet_v1_50/block4"] == [1, 28, 28, 2048]
    assert REFERENCE["resnet_v1_50"]["end_points"]["resnet_v1_50/block4"] == [1, 7, 7, 2048]  # stride 32
    assert built.variables == REFERENCE["resnet_v1_50"]["variables"]
    # Blocks 3 and 4 run dilated; blocks 1 and 2 stride as before.
    assert built.dilated("resnet_v1_50/block4/unit_1/bottleneck_v1/conv2")
    assert not built.dilated("resnet_v1_50/block2/unit_1/bottleneck_v1/conv2")
    for module, version in VERSIONS:
        for output_stride, size in ((32, 2), (16, 4), (8, 8), (4, 16)):
            small = _small(module, version, (1, 64, 64, 3), global_pool=False, output_stride=output_stride)
            assert small.output.shape.as_list() == [1, size, size, 128]
        with pytest.raises(ValueError, match="multiple of 4"):
            _small(module, version, output_stride=6)
        with pytest.raises(ValueError, match="cannot be reached"):
            _small(module, version, output_stride=64)


def test_store_non_strided_activations_keeps_block_end_points_before_their_stride():
    kept = build(resnet_v1.resnet_v1_50, [1, 224, 224, 3], SCOPE, num_classes=1001,
                 store_non_strided_activations=True)
    strided = REFERENCE["resnet_v1_50"]["end_points"]
    for block, (before, after) in enumerate(((56, 28), (28, 14), (14, 7)), start=1):
        name = "resnet_v1_50/block%d" % block
        assert strided[name][1] == after and kept.shapes[name][1] == before
    assert kept.output.shape.as_list() == [1, 1001]
    assert kept.variables == REFERENCE["resnet_v1_50"]["variables"]
    small = _small(resnet_v2, "v2", store_non_strided_activations=True)  # an extension on v2
    assert [small.shapes["small/block%d" % block][1] for block in (1, 2, 3, 4)] == [16, 8, 4, 2]


@pytest.mark.parametrize("module, version", VERSIONS, ids=IDS)
def test_depth_multiplier_and_min_base_depth_set_the_bottleneck_depths(module, version):
    built = build(getattr(module, "resnet_%s_50" % version), [1, 64, 64, 3], SCOPE, num_classes=5,
                  depth_multiplier=0.25, min_base_depth=32)
    unit = "resnet_%s_50/block%%d/unit_1/bottleneck_%s/conv1/weights" % (version, version)
    # Base depths max(int(depth * 0.25), 32): 32 (not 16) for block1, then 32, 64 and 128.
    assert [built.variables[unit % block][3] for block in (1, 2, 3, 4)] == [32, 32, 64, 128]
    assert built.shapes["resnet_%s_50/block4" % version] == [1, 2, 2, 512]


@pytest.mark.parametrize("module, version", VERSIONS, ids=IDS)
def test_features_without_logits_and_maps_without_global_pool_or_squeeze(module, version):
    features = _small(module, version, (2, 96, 96, 3))  # num_classes=None is research/slim's default
    assert features.output.shape.as_list() == [2, 1, 1, 128]
    assert features.end_points["global_pool"] is features.output
    assert "predictions" not in features.end_points and features.count("small/logits") == 0
    unsqueezed = _small(module, version, (2, 96, 96, 3), num_classes=5, spatial_squeeze=False)
    assert unsqueezed.output.shape.as_list() == [2, 1, 1, 5]
    assert unsqueezed.output.op.name == "small/logits/BiasAdd"
    assert unsqueezed.shapes["predictions"] == [2, 1, 1, 5] and "small/spatial_squeeze" not in unsqueezed.shapes
    dense = _small(module, version, (2, 96, 96, 3), num_classes=5, global_pool=False, spatial_squeeze=False)
    assert dense.output.shape.as_list() == [2, 3, 3, 5] and "global_pool" not in dense.end_points


@pytest.mark.parametrize("module, version", VERSIONS, ids=IDS)
def test_generic_builder_runs_the_given_blocks(module, version):
    block_fn = getattr(module, "resnet_%s_block" % version)
    blocks = [block_fn("block1", base_depth=4, num_units=2, stride=2),
              block_fn("block2", base_depth=8, num_units=1, stride=1)]
    built = build(getattr(module, "resnet_" + version), [1, 32, 32, 8], SCOPE, blocks=blocks, num_classes=3,
                  include_root_block=False, scope="tiny")
    unit = "tiny/block1/unit_1/bottleneck_%s" % version
    assert built.variables[unit + "/shortcut/weights"] == [1, 1, 8, 16]
    assert built.variables[unit + "/conv2/weights"] == [3, 3, 4, 4]
    assert "tiny/block1/unit_2/bottleneck_%s/shortcut/weights" % version not in built.variables  # same depth
    assert built.shapes["tiny/block1"] == [1, 16, 16, 16] and built.shapes["tiny/block2"] == [1, 16, 16, 32]
    assert built.output.shape.as_list() == [1, 3] and built.output.op.name == "tiny/SpatialSqueeze"
    assert "tiny/conv1/weights" not in built.variables


@pytest.mark.parametrize("module, version", VERSIONS, ids=IDS)
def test_is_training_none_leaves_batch_norm_mode_to_the_arg_scope(module, version):
    with slim.arg_scope(SCOPE), slim.arg_scope([slim.batch_norm], is_training=False) as scope:
        pass
    for is_training, updates in ((None, False), (True, True)):
        built = build(getattr(module, "resnet_" + version), [1, 64, 64, 3], scope, is_training=is_training,
                      blocks=[getattr(module, "resnet_%s_block" % version)("block1", 4, 1, 1)])
        # Batch norm in inference mode (the arg scope's) has no moving average updates.
        assert bool(built.graph.get_collection(tf.GraphKeys.UPDATE_OPS)) == updates


def test_resnet_v1_bounded_activations_use_relu6():
    with slim.arg_scope(SCOPE), slim.arg_scope([resnet_v1.bottleneck], use_bounded_activations=True) as scope:
        pass
    blocks = [resnet_v1.resnet_v1_block("block1", 4, 2, 2)]
    built = build(resnet_v1.resnet_v1, [1, 32, 32, 3], scope, blocks=blocks, scope="tiny")
    outputs = [op for op in built.graph.get_operations() if op.name.endswith("bottleneck_v1/Relu6")]
    clips = [op for op in built.graph.get_operations() if op.name.endswith("bottleneck_v1/clip_by_value")]
    assert len(outputs) == len(clips) == 2
    assert built.graph.get_operation_by_name("tiny/block1/unit_1/bottleneck_v1/shortcut/Relu6")
