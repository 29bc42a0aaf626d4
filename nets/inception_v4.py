"""Inception v4 (Szegedy et al., 2016) with research/slim's scope names.

Stem 'Conv2d_1a_3x3' ... 'Mixed_5a', then 4 Inception-A blocks 'Mixed_5b'-'Mixed_5e', Reduction-A
'Mixed_6a', 7 Inception-B blocks 'Mixed_6b'-'Mixed_6h', Reduction-B 'Mixed_7a' and 3 Inception-C
blocks 'Mixed_7b'-'Mixed_7d'. Heads: 'AuxLogits' on Mixed_6h and 'Logits' (average pool, dropout,
fully connected 'Logits/Logits'); the softmax output is 'InceptionV4/Logits/Predictions'.
"""
from core.compat import slim, tf
from nets.catalog import get_spec
from nets.inception_utils import (
    avg_pool,
    branches,
    conv,
    inception_arg_scope,
    max_pool,
    pool_whole_map,
    pooled_aux_logits,
    split,
)

_VALID = {"padding": "VALID"}
_REDUCE = {"stride": 2, "padding": "VALID"}


def inception_a(net, scope):
    with tf.variable_scope(scope):
        return branches(
            net,
            [conv(96, [1, 1], "Conv2d_0a_1x1")],
            [conv(64, [1, 1], "Conv2d_0a_1x1"), conv(96, [3, 3], "Conv2d_0b_3x3")],
            [conv(64, [1, 1], "Conv2d_0a_1x1"), conv(96, [3, 3], "Conv2d_0b_3x3"),
             conv(96, [3, 3], "Conv2d_0c_3x3")],
            [avg_pool([3, 3], "AvgPool_0a_3x3"), conv(96, [1, 1], "Conv2d_0b_1x1")])


def reduction_a(net, scope):
    with tf.variable_scope(scope):
        return branches(
            net,
            [conv(384, [3, 3], "Conv2d_1a_3x3", **_REDUCE)],
            [conv(192, [1, 1], "Conv2d_0a_1x1"), conv(224, [3, 3], "Conv2d_0b_3x3"),
             conv(256, [3, 3], "Conv2d_1a_3x3", **_REDUCE)],
            [max_pool([3, 3], "MaxPool_1a_3x3", **_REDUCE)])


def inception_b(net, scope):
    with tf.variable_scope(scope):
        return branches(
            net,
            [conv(384, [1, 1], "Conv2d_0a_1x1")],
            [conv(192, [1, 1], "Conv2d_0a_1x1"), conv(224, [1, 7], "Conv2d_0b_1x7"),
             conv(256, [7, 1], "Conv2d_0c_7x1")],
            [conv(192, [1, 1], "Conv2d_0a_1x1"), conv(192, [7, 1], "Conv2d_0b_7x1"),
             conv(224, [1, 7], "Conv2d_0c_1x7"), conv(224, [7, 1], "Conv2d_0d_7x1"),
             conv(256, [1, 7], "Conv2d_0e_1x7")],
            [avg_pool([3, 3], "AvgPool_0a_3x3"), conv(128, [1, 1], "Conv2d_0b_1x1")])


def reduction_b(net, scope):
    with tf.variable_scope(scope):
        return branches(
            net,
            [conv(192, [1, 1], "Conv2d_0a_1x1"), conv(192, [3, 3], "Conv2d_1a_3x3", **_REDUCE)],
            [conv(256, [1, 1], "Conv2d_0a_1x1"), conv(256, [1, 7], "Conv2d_0b_1x7"),
             conv(320, [7, 1], "Conv2d_0c_7x1"), conv(320, [3, 3], "Conv2d_1a_3x3", **_REDUCE)],
            [max_pool([3, 3], "MaxPool_1a_3x3", **_REDUCE)])


def inception_c(net, scope):
    with tf.variable_scope(scope):
        return branches(
            net,
            [conv(256, [1, 1], "Conv2d_0a_1x1")],
            [conv(384, [1, 1], "Conv2d_0a_1x1"),
             split(conv(256, [1, 3], "Conv2d_0b_1x3"), conv(256, [3, 1], "Conv2d_0c_3x1"))],
            [conv(384, [1, 1], "Conv2d_0a_1x1"), conv(448, [3, 1], "Conv2d_0b_3x1"),
             conv(512, [1, 3], "Conv2d_0c_1x3"),
             split(conv(256, [1, 3], "Conv2d_0d_1x3"), conv(256, [3, 1], "Conv2d_0e_3x1"))],
            [avg_pool([3, 3], "AvgPool_0a_3x3"), conv(256, [1, 1], "Conv2d_0b_1x1")])


def _layers():
    """(end point name, fn(net, name)) in order."""
    stem = [
        ("Conv2d_1a_3x3", lambda net, name: slim.conv2d(net, 32, [3, 3], scope=name, **_REDUCE)),
        ("Conv2d_2a_3x3", lambda net, name: slim.conv2d(net, 32, [3, 3], scope=name, **_VALID)),
        ("Conv2d_2b_3x3", lambda net, name: slim.conv2d(net, 64, [3, 3], scope=name)),
        ("Mixed_3a", lambda net, name: _in_scope(name, net, [
            [max_pool([3, 3], "MaxPool_0a_3x3", **_REDUCE)],
            [conv(96, [3, 3], "Conv2d_0a_3x3", **_REDUCE)]])),
        ("Mixed_4a", lambda net, name: _in_scope(name, net, [
            [conv(64, [1, 1], "Conv2d_0a_1x1"), conv(96, [3, 3], "Conv2d_1a_3x3", **_VALID)],
            [conv(64, [1, 1], "Conv2d_0a_1x1"), conv(64, [1, 7], "Conv2d_0b_1x7"),
             conv(64, [7, 1], "Conv2d_0c_7x1"), conv(96, [3, 3], "Conv2d_1a_3x3", **_VALID)]])),
        ("Mixed_5a", lambda net, name: _in_scope(name, net, [
            [conv(192, [3, 3], "Conv2d_1a_3x3", **_REDUCE)],
            [max_pool([3, 3], "MaxPool_1a_3x3", **_REDUCE)]])),
    ]
    return (stem
            + [("Mixed_5" + letter, inception_a) for letter in "bcde"]
            + [("Mixed_6a", reduction_a)]
            + [("Mixed_6" + letter, inception_b) for letter in "bcdefgh"]
            + [("Mixed_7a", reduction_b)]
            + [("Mixed_7" + letter, inception_c) for letter in "bcd"])


def _in_scope(name, net, branch_steps):
    with tf.variable_scope(name):
        return branches(net, *branch_steps)


def inception_v4_base(inputs, final_endpoint="Mixed_7d", scope=None):
    """The network up to `final_endpoint`; returns (net, end_points)."""
    end_points = {}
    with tf.variable_scope(scope, "InceptionV4", [inputs]):
        with slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d], stride=1, padding="SAME"):
            net = inputs
            for name, layer in _layers():
                net = end_points[name] = layer(net, name)
                if name == final_endpoint:
                    return net, end_points
    raise ValueError("unknown final_endpoint %r" % final_endpoint)


def inception_v4(inputs, num_classes=1001, is_training=True, dropout_keep_prob=0.8, reuse=None,
                 scope="InceptionV4", create_aux_logits=True):
    """Returns (logits [batch, num_classes], end_points); with no `num_classes`, the pooled features."""
    with tf.variable_scope(scope, "InceptionV4", [inputs], reuse=reuse) as net_scope:
        with slim.arg_scope([slim.batch_norm, slim.dropout], is_training=is_training):
            net, end_points = inception_v4_base(inputs, scope=net_scope)
            with slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d], stride=1,
                                padding="SAME"):
                if create_aux_logits and num_classes:
                    with tf.variable_scope("AuxLogits"):
                        end_points["AuxLogits"] = pooled_aux_logits(end_points["Mixed_6h"], num_classes,
                                                                    "AvgPool_1a_5x5", "Conv2d_2a", "Aux_logits")
                with tf.variable_scope("Logits"):
                    net = pool_whole_map(net, "AvgPool_1a")
                    end_points["global_pool"] = net
                    if not num_classes:
                        return net, end_points
                    net = slim.dropout(net, dropout_keep_prob, scope="Dropout_1b")
                    net = end_points["PreLogitsFlatten"] = slim.flatten(net, scope="PreLogitsFlatten")
                    logits = end_points["Logits"] = slim.fully_connected(
                        net, num_classes, activation_fn=None, scope="Logits")
                    end_points["Predictions"] = tf.nn.softmax(logits, name="Predictions")
    return logits, end_points


inception_v4.default_image_size = get_spec("inception_v4").default_image_size
inception_v4_arg_scope = inception_arg_scope
