"""Inception v2 / BN-Inception (Ioffe and Szegedy, 2015) as research/slim builds it.

Root block 'Conv2d_1a_7x7' (a separable convolution by default), 'MaxPool_2a_3x3', 'Conv2d_2b_1x1',
'Conv2d_2c_3x3', 'MaxPool_3a_3x3'; modules 'Mixed_3b', 'Mixed_3c', reduction 'Mixed_4a', 'Mixed_4b' to
'Mixed_4e', reduction 'Mixed_5a', 'Mixed_5b', 'Mixed_5c' (1024 channels, stride 32). The head 'Logits'
averages over 7x7 or less ('AvgPool_1a'), drops out ('PreLogits') and applies the 1x1
'Conv2d_1c_1x1'; the logits are 'InceptionV2/Logits/SpatialSqueeze', the softmax
'InceptionV2/Predictions'.

Arguments are research/slim's: `inception_v2_base(inputs, final_endpoint, min_depth, depth_multiplier,
use_separable_conv, data_format, include_root_block, scope)` and `inception_v2(inputs, num_classes,
is_training, dropout_keep_prob, min_depth, depth_multiplier, prediction_fn, spatial_squeeze, reuse,
scope, global_pool)`. Every layer has max(int(depth * depth_multiplier), min_depth) channels.
`data_format='NCHW'` needs `use_separable_conv=False`; here batch norm follows the data format too.
"""
from core.compat import slim, tf
from nets.catalog import get_spec
from nets.inception_utils import avg_pool, conv, inception_arg_scope, logits_head, max_pool, module

_ROOT_END_POINTS = ("Conv2d_1a_7x7", "MaxPool_2a_3x3", "Conv2d_2b_1x1", "Conv2d_2c_3x3", "MaxPool_3a_3x3")
# The 1x1 convolutions that start a branch have their own initializers in research/slim.
_REDUCE_INIT = {"weights_initializer": tf.truncated_normal_initializer(0.0, 0.09)}
_POOL_PROJECTION_INIT = {"weights_initializer": tf.truncated_normal_initializer(0.0, 0.1)}

# (name, 1x1, 3x3 reduce, 3x3, double 3x3 reduce, double 3x3, pooling, pool projection)
_MODULES = {
    "Mixed_3b": (64, 64, 64, 64, 96, "avg", 32),
    "Mixed_3c": (64, 64, 96, 64, 96, "avg", 64),
    "Mixed_4b": (224, 64, 96, 96, 128, "avg", 128),
    "Mixed_4c": (192, 96, 128, 96, 128, "avg", 128),
    "Mixed_4d": (160, 128, 160, 128, 160, "avg", 96),
    "Mixed_4e": (96, 128, 192, 160, 192, "avg", 96),
    "Mixed_5b": (352, 192, 320, 160, 224, "avg", 128),
    "Mixed_5c": (352, 192, 320, 192, 224, "max", 128),
}
# (name, 3x3 reduce, 3x3 stride 2, double 3x3 reduce, double 3x3 stride 2)
_REDUCTIONS = {"Mixed_4a": (128, 160, 64, 96), "Mixed_5a": (128, 192, 192, 256)}
_ORDER = ("Mixed_3b", "Mixed_3c", "Mixed_4a", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_5a",
          "Mixed_5b", "Mixed_5c")


def _module_steps(name, depth):
    if name in _REDUCTIONS:
        reduce_0, out_0, reduce_1, out_1 = (depth(d) for d in _REDUCTIONS[name])
        return [
            [conv(reduce_0, [1, 1], "Conv2d_0a_1x1", **_REDUCE_INIT),
             conv(out_0, [3, 3], "Conv2d_1a_3x3", stride=2)],
            [conv(reduce_1, [1, 1], "Conv2d_0a_1x1", **_REDUCE_INIT),
             conv(out_1, [3, 3], "Conv2d_0b_3x3"), conv(out_1, [3, 3], "Conv2d_1a_3x3", stride=2)],
            [max_pool([3, 3], "MaxPool_1a_3x3", stride=2)],
        ]
    out_0, reduce_1, out_1, reduce_2, out_2, pooling, out_3 = _MODULES[name]
    pool = (avg_pool([3, 3], "AvgPool_0a_3x3") if pooling == "avg"
            else max_pool([3, 3], "MaxPool_0a_3x3"))
    return [
        [conv(depth(out_0), [1, 1], "Conv2d_0a_1x1")],
        [conv(depth(reduce_1), [1, 1], "Conv2d_0a_1x1", **_REDUCE_INIT),
         conv(depth(out_1), [3, 3], "Conv2d_0b_3x3")],
        [conv(depth(reduce_2), [1, 1], "Conv2d_0a_1x1", **_REDUCE_INIT),
         conv(depth(out_2), [3, 3], "Conv2d_0b_3x3"), conv(depth(out_2), [3, 3], "Conv2d_0c_3x3")],
        [pool, conv(depth(out_3), [1, 1], "Conv2d_0b_1x1", **_POOL_PROJECTION_INIT)],
    ]


def _root_block(inputs, depth, use_separable_conv):
    """(end point, fn(net, name)) of the layers before the first module."""
    def first(net, name):
        init = tf.truncated_normal_initializer(0.0, 1.0)
        if use_separable_conv:
            # research/slim's depthwise multiplier: a third of the output depth, at most 8.
            multiplier = min(int(depth(64) / 3), 8)
            return slim.separable_conv2d(net, depth(64), [7, 7], depth_multiplier=multiplier, stride=2,
                                         padding="SAME", weights_initializer=init, scope=name)
        return slim.conv2d(net, depth(64), [7, 7], stride=2, weights_initializer=init, scope=name)

    return [
        ("Conv2d_1a_7x7", first),
        ("MaxPool_2a_3x3", lambda net, name: slim.max_pool2d(net, [3, 3], stride=2, scope=name)),
        ("Conv2d_2b_1x1", lambda net, name: slim.conv2d(
            net, depth(64), [1, 1], weights_initializer=tf.truncated_normal_initializer(0.0, 0.1),
            scope=name)),
        ("Conv2d_2c_3x3", lambda net, name: slim.conv2d(net, depth(192), [3, 3], scope=name)),
        ("MaxPool_3a_3x3", lambda net, name: slim.max_pool2d(net, [3, 3], stride=2, scope=name)),
    ]


def inception_v2_base(inputs, final_endpoint="Mixed_5c", min_depth=16, depth_multiplier=1.0,
                      use_separable_conv=True, data_format="NHWC", include_root_block=True, scope=None):
    """The network up to `final_endpoint`; returns (net, end_points).

    `use_separable_conv=False` makes 'Conv2d_1a_7x7' a plain convolution (same output shapes).
    `data_format='NCHW'` takes and gives channels-first activations. Without `include_root_block`,
    `inputs` go straight to 'Mixed_3b'.
    """
    if depth_multiplier <= 0:
        raise ValueError("depth_multiplier is not greater than zero.")
    if data_format not in ("NHWC", "NCHW"):
        raise ValueError("data_format must be either NHWC or NCHW.")
    if data_format == "NCHW" and use_separable_conv:
        raise ValueError("separable convolution only supports NHWC layout. NCHW data format can only be "
                         "used when use_separable_conv is False.")

    def depth(channels):
        return max(int(channels * depth_multiplier), min_depth)

    axis = 3 if data_format == "NHWC" else 1
    end_points = {}
    with tf.variable_scope(scope, "InceptionV2", [inputs]):
        with slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d], stride=1, padding="SAME",
                            data_format=data_format), \
                slim.arg_scope([slim.batch_norm], data_format=data_format):
            net = inputs
            layers = _root_block(inputs, depth, use_separable_conv) if include_root_block else []
            layers += [(name, lambda net, name: module(name, net, _module_steps(name, depth), axis=axis))
                       for name in _ORDER]
            for name, layer in layers:
                net = end_points[name] = layer(net, name)
                if name == final_endpoint:
                    return net, end_points
    raise ValueError("Unknown final endpoint %s" % final_endpoint)


def inception_v2(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.8, min_depth=16,
                 depth_multiplier=1.0, prediction_fn=slim.softmax, spatial_squeeze=True, reuse=None,
                 scope="InceptionV2", global_pool=False):
    """Returns (logits [batch, num_classes], end_points); with no `num_classes`, the pooled features.

    `global_pool=True` averages any input size down to 1x1; otherwise a 7x7 average pool (smaller on
    small inputs) keeps a map on inputs larger than 224.
    """
    if depth_multiplier <= 0:
        raise ValueError("depth_multiplier is not greater than zero.")
    with tf.variable_scope(scope, "InceptionV2", [inputs], reuse=reuse) as net_scope:
        with slim.arg_scope([slim.batch_norm, slim.dropout], is_training=is_training):
            net, end_points = inception_v2_base(inputs, scope=net_scope, min_depth=min_depth,
                                                depth_multiplier=depth_multiplier)
            return logits_head(net, end_points, num_classes, global_pool, "global_pool", [7, 7],
                               dropout_keep_prob, spatial_squeeze, prediction_fn)


inception_v2.default_image_size = get_spec("inception_v2").default_image_size
inception_v2_arg_scope = inception_arg_scope
