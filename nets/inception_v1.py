"""Inception v1 / GoogLeNet (Szegedy et al., 2014) as research/slim builds it.

Root block 'Conv2d_1a_7x7' (stride 2), 'MaxPool_2a_3x3', 'Conv2d_2b_1x1', 'Conv2d_2c_3x3',
'MaxPool_3a_3x3'; modules 'Mixed_3b', 'Mixed_3c', 'MaxPool_4a_3x3', 'Mixed_4b'-'Mixed_4f',
'MaxPool_5a_2x2', 'Mixed_5b', 'Mixed_5c' (1024 channels, stride 32). The head 'Logits' averages over
7x7 ('AvgPool_0a_7x7'), drops out ('Dropout_0b') and applies the 1x1 'Conv2d_0c_1x1'; the logits are
'InceptionV1/Logits/SpatialSqueeze' and the softmax 'InceptionV1/Logits/Predictions'.

Arguments are research/slim's: `inception_v1_base(inputs, final_endpoint, include_root_block, scope)`
and `inception_v1(inputs, num_classes, is_training, dropout_keep_prob, prediction_fn, spatial_squeeze,
reuse, scope, global_pool)`; `num_classes=0` (or None) returns the pooled features.
"""
from core.compat import slim, tf
from nets.catalog import get_spec
from nets.inception_utils import conv, inception_arg_scope, max_pool, module

_ROOT_END_POINTS = ("Conv2d_1a_7x7", "MaxPool_2a_3x3", "Conv2d_2b_1x1", "Conv2d_2c_3x3", "MaxPool_3a_3x3")


def _mixed(depth_0, depth_1a, depth_1b, depth_2a, depth_2b, depth_3, scope_2b="Conv2d_0b_3x3"):
    """A module: 1x1 | 1x1 then 3x3 | 1x1 then 3x3 | 3x3 max pool then 1x1."""
    return [
        [conv(depth_0, [1, 1], "Conv2d_0a_1x1")],
        [conv(depth_1a, [1, 1], "Conv2d_0a_1x1"), conv(depth_1b, [3, 3], "Conv2d_0b_3x3")],
        [conv(depth_2a, [1, 1], "Conv2d_0a_1x1"), conv(depth_2b, [3, 3], scope_2b)],
        [max_pool([3, 3], "MaxPool_0a_3x3"), conv(depth_3, [1, 1], "Conv2d_0b_1x1")],
    ]


def _layers():
    """(end point, fn(net, name)) in order, root block first."""
    def mixed(*depths, **kwargs):
        steps = _mixed(*depths, **kwargs)
        return lambda net, name: module(name, net, steps)

    return [
        ("Conv2d_1a_7x7", lambda net, name: slim.conv2d(net, 64, [7, 7], stride=2, scope=name)),
        ("MaxPool_2a_3x3", lambda net, name: slim.max_pool2d(net, [3, 3], stride=2, scope=name)),
        ("Conv2d_2b_1x1", lambda net, name: slim.conv2d(net, 64, [1, 1], scope=name)),
        ("Conv2d_2c_3x3", lambda net, name: slim.conv2d(net, 192, [3, 3], scope=name)),
        ("MaxPool_3a_3x3", lambda net, name: slim.max_pool2d(net, [3, 3], stride=2, scope=name)),
        ("Mixed_3b", mixed(64, 96, 128, 16, 32, 32)),
        ("Mixed_3c", mixed(128, 128, 192, 32, 96, 64)),
        ("MaxPool_4a_3x3", lambda net, name: slim.max_pool2d(net, [3, 3], stride=2, scope=name)),
        ("Mixed_4b", mixed(192, 96, 208, 16, 48, 64)),
        ("Mixed_4c", mixed(160, 112, 224, 24, 64, 64)),
        ("Mixed_4d", mixed(128, 128, 256, 24, 64, 64)),
        ("Mixed_4e", mixed(112, 144, 288, 32, 64, 64)),
        ("Mixed_4f", mixed(256, 160, 320, 32, 128, 128)),
        ("MaxPool_5a_2x2", lambda net, name: slim.max_pool2d(net, [2, 2], stride=2, scope=name)),
        # research/slim names this module's second 3x3 'Conv2d_0a_3x3'; checkpoints hold that name.
        ("Mixed_5b", mixed(256, 160, 320, 32, 128, 128, scope_2b="Conv2d_0a_3x3")),
        ("Mixed_5c", mixed(384, 192, 384, 48, 128, 128)),
    ]


def inception_v1_base(inputs, final_endpoint="Mixed_5c", include_root_block=True, scope="InceptionV1"):
    """The network up to `final_endpoint`; returns (net, end_points).

    Without `include_root_block`, `inputs` go straight to 'Mixed_3b' (and the root block's end
    points cannot be asked for).
    """
    end_points = {}
    with tf.variable_scope(scope, "InceptionV1", [inputs]):
        with slim.arg_scope([slim.conv2d, slim.fully_connected],
                            weights_initializer=tf.truncated_normal_initializer(0.0, 0.01)), \
                slim.arg_scope([slim.conv2d, slim.max_pool2d], stride=1, padding="SAME"):
            net = inputs
            for name, layer in _layers():
                if name in _ROOT_END_POINTS and not include_root_block:
                    continue
                net = end_points[name] = layer(net, name)
                if name == final_endpoint:
                    return net, end_points
    raise ValueError("Unknown final endpoint %s" % final_endpoint)


def inception_v1(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.8,
                 prediction_fn=slim.softmax, spatial_squeeze=True, reuse=None, scope="InceptionV1",
                 global_pool=False):
    """Returns (logits [batch, num_classes], end_points); with no `num_classes`, the pooled features.

    `global_pool=True` averages any input size down to 1x1; otherwise the 7x7 average pool keeps a
    map on inputs larger than 224.
    """
    with tf.variable_scope(scope, "InceptionV1", [inputs], reuse=reuse) as net_scope:
        with slim.arg_scope([slim.batch_norm, slim.dropout], is_training=is_training):
            net, end_points = inception_v1_base(inputs, scope=net_scope)
            with tf.variable_scope("Logits"):
                if global_pool:
                    net = end_points["global_pool"] = tf.reduce_mean(net, [1, 2], keepdims=True,
                                                                     name="global_pool")
                else:
                    net = end_points["AvgPool_0a_7x7"] = slim.avg_pool2d(net, [7, 7], stride=1,
                                                                         scope="AvgPool_0a_7x7")
                if not num_classes:
                    return net, end_points
                net = slim.dropout(net, dropout_keep_prob, scope="Dropout_0b")
                logits = slim.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                                     scope="Conv2d_0c_1x1")
                if spatial_squeeze:
                    logits = tf.squeeze(logits, [1, 2], name="SpatialSqueeze")
                end_points["Logits"] = logits
                end_points["Predictions"] = prediction_fn(logits, scope="Predictions")
    return logits, end_points


inception_v1.default_image_size = get_spec("inception_v1").default_image_size
inception_v1_arg_scope = inception_arg_scope
