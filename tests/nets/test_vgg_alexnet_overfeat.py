"""VGG, AlexNet v2 and OverFeat: research/slim's arguments (num_classes=0, global_pool, spatial_squeeze,
fc_conv_padding) give research/slim's documented shapes."""
import pytest

from core.compat import tf
from nets import alexnet, overfeat, vgg
from tests.nets.support import build

NETWORKS = [
    # (function, arg scope, default size, fc7 spatial size on an input 64 pixels larger)
    (vgg.vgg_a, vgg.vgg_arg_scope(), 224, 3),
    (vgg.vgg_16, vgg.vgg_arg_scope(), 224, 3),
    (alexnet.alexnet_v2, alexnet.alexnet_v2_arg_scope(), 224, 3),
    (overfeat.overfeat, overfeat.overfeat_arg_scope(), 231, 3),
]
IDS = [network[0].__name__ for network in NETWORKS]


@pytest.mark.parametrize("network_fn, arg_scope, size, _", NETWORKS, ids=IDS)
def test_num_classes_zero_returns_the_fc7_features(network_fn, arg_scope, size, _):
    built = build(network_fn, [2, size, size, 3], arg_scope, num_classes=0)
    name = network_fn.__name__
    assert built.output.op.name.startswith(name + "/fc7/")
    assert built.output.shape.as_list() == [2, 1, 1, 4096]
    assert built.count(name + "/fc8") == 0 and name + "/fc8" not in built.end_points


@pytest.mark.parametrize("network_fn, arg_scope, size, larger_map", NETWORKS, ids=IDS)
def test_global_pool_classifies_larger_images(network_fn, arg_scope, size, larger_map):
    name = network_fn.__name__
    built = build(network_fn, [1, size + 64, size + 64, 3], arg_scope, num_classes=5, global_pool=True)
    assert built.shapes[name + "/fc7"] == [1, larger_map, larger_map, 4096]
    assert built.shapes["global_pool"] == [1, 1, 1, 4096]
    assert built.output.shape.as_list() == [1, 5]
    assert built.output.op.name == name + "/fc8/squeezed"


@pytest.mark.parametrize("network_fn, arg_scope, size, larger_map", NETWORKS, ids=IDS)
def test_without_spatial_squeeze_larger_images_give_a_map_of_logits(network_fn, arg_scope, size, larger_map):
    name = network_fn.__name__
    built = build(network_fn, [1, size + 64, size + 64, 3], arg_scope, num_classes=5, spatial_squeeze=False)
    assert built.output.shape.as_list() == [1, larger_map, larger_map, 5]
    assert built.end_points[name + "/fc8"] is built.output


def test_vgg_fc_conv_padding_same_gives_logits_downsampled_32_times():
    built = build(vgg.vgg_16, [1, 256, 320, 3], vgg.vgg_arg_scope(), num_classes=5,
                  fc_conv_padding="SAME", spatial_squeeze=False)
    assert built.shapes["vgg_16/fc6"] == [1, 8, 10, 4096]
    assert built.output.shape.as_list() == [1, 8, 10, 5]


def test_vgg_end_points_are_named_after_research_slims_scopes():
    built = build(vgg.vgg_19, [1, 224, 224, 3], vgg.vgg_arg_scope(), num_classes=5, scope="my_vgg")
    expected = ["my_vgg/conv%d/conv%d_%d" % (block, block, index)
                for block, repeats in zip(range(1, 6), (2, 2, 4, 4, 4)) for index in range(1, repeats + 1)]
    expected += ["my_vgg/pool%d" % block for block in range(1, 6)]
    expected += ["my_vgg/fc6", "my_vgg/fc7", "my_vgg/fc8"]
    assert sorted(built.end_points) == sorted(expected)
    assert built.shapes["my_vgg/pool5"] == [1, 7, 7, 512]
    assert built.count("my_vgg/") == 2 * 19  # weights and biases of 16 convolutions and 3 fc layers


def test_vgg_reuse_shares_variables():
    with tf.Graph().as_default():
        images = tf.zeros([1, 224, 224, 3])
        vgg.vgg_a(images, num_classes=3)
        count = len(tf.global_variables())
        vgg.vgg_a(images, num_classes=3, reuse=True)
        assert len(tf.global_variables()) == count


def test_alexnet_and_overfeat_keep_research_slims_initializers_for_fc_layers():
    """fc6-fc8 weights start from a truncated normal of stddev 0.005, as research/slim's."""
    for network_fn, arg_scope, size, _ in NETWORKS[2:]:
        built = build(network_fn, [1, size, size, 3], arg_scope, num_classes=5)
        name = network_fn.__name__
        initializer = built.graph.get_operation_by_name(name + "/fc6/weights/Initializer/truncated_normal/mul")
        stddev = initializer.inputs[1].op.get_attr("value").float_val[0]
        assert stddev == pytest.approx(0.005)
