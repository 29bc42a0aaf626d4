"""Inception v3 (Szegedy et al., 2015) as research/slim builds it.

Stem 'Conv2d_1a_3x3' (stride 2) ... 'MaxPool_5a_3x3' with VALID padding, then the modules
'Mixed_5b'-'Mixed_5d' (35x35), reduction 'Mixed_6a', 'Mixed_6b'-'Mixed_6e' (17x17, factorized 7x7),
reduction 'Mixed_7a', 'Mixed_7b', 'Mixed_7c' (8x8, 2048 channels). The auxiliary head 'AuxLogits'
reads Mixed_6e; the head 'Logits' averages over 8x8 or less ('AvgPool_1a'), drops out ('PreLogits')
and applies the 1x1 'Conv2d_1c_1x1'. The logits are 'InceptionV3/Logits/SpatialSqueeze', the softmax
'InceptionV3/Predictions'.

Arguments are research/slim's: `inception_v3_base(inputs, final_endpoint, min_depth, depth_multiplier,
scope)` and `inception_v3(inputs, num_classes, is_training, dropout_keep_prob, min_depth,
depth_multiplier, prediction_fn, spatial_squeeze, reuse, create_aux_logits, scope, global_pool)`.
Every layer has max(int(depth * depth_multiplier), min_depth) channels. Scope names keep research/
slim's irregular ones ('Mixed_5c/Branch_1/Conv_1_0c_5x5', 'Mixed_6a/Branch_0/Conv2d_1a_1x1' for a
3x3), which its checkpoints hold.
"""
from core.compat import slim, tf
from nets.catalog import get_spec
from nets.inception_utils import (
    avg_pool,
    conv,
    inception_arg_scope,
    logits_head,
    max_pool,
    module,
    reduced_kernel_size_for_small_input,
    split,
)

_REDUCE = {"stride": 2, "padding": "VALID"}


def _stem(depth):
    """(end point, fn(net, name)) of the VALID layers before the first module."""
    def conv_layer(channels, kernel, **kwargs):
        return lambda net, name: slim.conv2d(net, depth(channels), kernel, scope=name, **kwargs)

    return [
        ("Conv2d_1a_3x3", conv_layer(32, [3, 3], stride=2)),
        ("Conv2d_2a_3x3", conv_layer(32, [3, 3])),
        ("Conv2d_2b_3x3", conv_layer(64, [3, 3], padding="SAME")),
        ("MaxPool_3a_3x3", lambda net, name: slim.max_pool2d(net, [3, 3], stride=2, scope=name)),
        ("Conv2d_3b_1x1", conv_layer(80, [1, 1])),
        ("Conv2d_4a_3x3", conv_layer(192, [3, 3])),
        ("MaxPool_5a_3x3", lambda net, name: slim.max_pool2d(net, [3, 3], stride=2, scope=name)),
    ]


def _module_35(depth, pool_depth, branch_1_scopes=("Conv2d_0a_1x1", "Conv2d_0b_5x5")):
    return [
        [conv(depth(64), [1, 1], "Conv2d_0a_1x1")],
        [conv(depth(48), [1, 1], branch_1_scopes[0]), conv(depth(64), [5, 5], branch_1_scopes[1])],
        [conv(depth(64), [1, 1], "Conv2d_0a_1x1"), conv(depth(96), [3, 3], "Conv2d_0b_3x3"),
         conv(depth(96), [3, 3], "Conv2d_0c_3x3")],
        [avg_pool([3, 3], "AvgPool_0a_3x3"), conv(depth(pool_depth), [1, 1], "Conv2d_0b_1x1")],
    ]


def _module_17(depth, inner):
    """Factorized 7x7 module; `inner` is the depth of the 1x7 / 7x1 layers before the last."""
    return [
        [conv(depth(192), [1, 1], "Conv2d_0a_1x1")],
        [conv(depth(inner), [1, 1], "Conv2d_0a_1x1"), conv(depth(inner), [1, 7], "Conv2d_0b_1x7"),
         conv(depth(192), [7, 1], "Conv2d_0c_7x1")],
        [conv(depth(inner), [1, 1], "Conv2d_0a_1x1"), conv(depth(inner), [7, 1], "Conv2d_0b_7x1"),
         conv(depth(inner), [1, 7], "Conv2d_0c_1x7"), conv(depth(inner), [7, 1], "Conv2d_0d_7x1"),
         conv(depth(192), [1, 7], "Conv2d_0e_1x7")],
        [avg_pool([3, 3], "AvgPool_0a_3x3"), conv(depth(192), [1, 1], "Conv2d_0b_1x1")],
    ]


def _module_8(depth, branch_1_second_scope):
    """Expanded-filter-bank module; research/slim names Mixed_7b's 3x1 'Conv2d_0b_3x1', Mixed_7c's
    'Conv2d_0c_3x1'."""
    return [
        [conv(depth(320), [1, 1], "Conv2d_0a_1x1")],
        [conv(depth(384), [1, 1], "Conv2d_0a_1x1"),
         split(conv(depth(384), [1, 3], "Conv2d_0b_1x3"), conv(depth(384), [3, 1], branch_1_second_scope))],
        [conv(depth(448), [1, 1], "Conv2d_0a_1x1"), conv(depth(384), [3, 3], "Conv2d_0b_3x3"),
         split(conv(depth(384), [1, 3], "Conv2d_0c_1x3"), conv(depth(384), [3, 1], "Conv2d_0d_3x1"))],
        [avg_pool([3, 3], "AvgPool_0a_3x3"), conv(depth(192), [1, 1], "Conv2d_0b_1x1")],
    ]


def _modules(depth):
    """(end point, branch steps) of the modules, in order."""
    return [
        ("Mixed_5b", _module_35(depth, 32)),
        ("Mixed_5c", _module_35(depth, 64, ("Conv2d_0b_1x1", "Conv_1_0c_5x5"))),
        ("Mixed_5d", _module_35(depth, 64)),
        ("Mixed_6a", [
            [conv(depth(384), [3, 3], "Conv2d_1a_1x1", **_REDUCE)],
            [conv(depth(64), [1, 1], "Conv2d_0a_1x1"), conv(depth(96), [3, 3], "Conv2d_0b_3x3"),
             conv(depth(96), [3, 3], "Conv2d_1a_1x1", **_REDUCE)],
            [max_pool([3, 3], "MaxPool_1a_3x3", **_REDUCE)]]),
        ("Mixed_6b", _module_17(depth, 128)),
        ("Mixed_6c", _module_17(depth, 160)),
        ("Mixed_6d", _module_17(depth, 160)),
        ("Mixed_6e", _module_17(depth, 192)),
        ("Mixed_7a", [
            [conv(depth(192), [1, 1], "Conv2d_0a_1x1"), conv(depth(320), [3, 3], "Conv2d_1a_3x3", **_REDUCE)],
            [conv(depth(192), [1, 1], "Conv2d_0a_1x1"), conv(depth(192), [1, 7], "Conv2d_0b_1x7"),
             conv(depth(192), [7, 1], "Conv2d_0c_7x1"), conv(depth(192), [3, 3], "Conv2d_1a_3x3", **_REDUCE)],
            [max_pool([3, 3], "MaxPool_1a_3x3", **_REDUCE)]]),
        ("Mixed_7b", _module_8(depth, "Conv2d_0b_3x1")),
        ("Mixed_7c", _module_8(depth, "Conv2d_0c_3x1")),
    ]


def inception_v3_base(inputs, final_endpoint="Mixed_7c", min_depth=16, depth_multiplier=1.0, scope=None):
    """The network up to `final_endpoint`; returns (net, end_points)."""
    if depth_multiplier <= 0:
        raise ValueError("depth_multiplier is not greater than zero.")

    def depth(channels):
        return max(int(channels * depth_multiplier), min_depth)

    end_points = {}
    with tf.variable_scope(scope, "InceptionV3", [inputs]):
        net = inputs
        with slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d], stride=1, padding="VALID"):
            for name, layer in _stem(depth):
                net = end_points[name] = layer(net, name)
                if name == final_endpoint:
                    return net, end_points
        with slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d], stride=1, padding="SAME"):
            for name, steps in _modules(depth):
                net = end_points[name] = module(name, net, steps)
                if name == final_endpoint:
                    return net, end_points
    raise ValueError("Unknown final endpoint %s" % final_endpoint)


def _aux_logits(net, num_classes, depth, spatial_squeeze):
    with tf.variable_scope("AuxLogits"):
        net = slim.avg_pool2d(net, [5, 5], stride=3, padding="VALID", scope="AvgPool_1a_5x5")
        net = slim.conv2d(net, depth(128), [1, 1], scope="Conv2d_1b_1x1")
        kernel = reduced_kernel_size_for_small_input(net, [5, 5])
        net = slim.conv2d(net, depth(768), kernel, weights_initializer=tf.truncated_normal_initializer(0.0, 0.01),
                          padding="VALID", scope="Conv2d_2a_{}x{}".format(*kernel))
        net = slim.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                          weights_initializer=tf.truncated_normal_initializer(0.0, 0.001),
                          scope="Conv2d_2b_1x1")
        if spatial_squeeze:
            net = tf.squeeze(net, [1, 2], name="SpatialSqueeze")
        return net


def inception_v3(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.8, min_depth=16,
                 depth_multiplier=1.0, prediction_fn=slim.softmax, spatial_squeeze=True, reuse=None,
                 create_aux_logits=True, scope="InceptionV3", global_pool=False):
    """Returns (logits [batch, num_classes], end_points); with no `num_classes`, the pooled features.

    `create_aux_logits=False` leaves out the auxiliary head (and its variables). `global_pool=True`
    averages any input size down to 1x1; otherwise an 8x8 average pool (smaller on small inputs)
    keeps a map on inputs larger than 299.
    """
    if depth_multiplier <= 0:
        raise ValueError("depth_multiplier is not greater than zero.")

    def depth(channels):
        return max(int(channels * depth_multiplier), min_depth)

    with tf.variable_scope(scope, "InceptionV3", [inputs], reuse=reuse) as net_scope:
        with slim.arg_scope([slim.batch_norm, slim.dropout], is_training=is_training):
            net, end_points = inception_v3_base(inputs, scope=net_scope, min_depth=min_depth,
                                                depth_multiplier=depth_multiplier)
            if create_aux_logits and num_classes:
                with slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d], stride=1,
                                    padding="SAME"):
                    end_points["AuxLogits"] = _aux_logits(end_points["Mixed_6e"], num_classes, depth,
                                                          spatial_squeeze)
            return logits_head(net, end_points, num_classes, global_pool, "GlobalPool", [8, 8],
                               dropout_keep_prob, spatial_squeeze, prediction_fn)


inception_v3.default_image_size = get_spec("inception_v3").default_image_size
inception_v3_arg_scope = inception_arg_scope
