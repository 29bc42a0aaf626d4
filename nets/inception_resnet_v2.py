"""Inception-ResNet v2 (Szegedy et al., 2016) as research/slim builds it.

Stem 'Conv2d_1a_3x3' ... 'MaxPool_5a_3x3', 'Mixed_5b', 10 residual blocks 'Repeat/block35_<i>'
(scale 0.17), reduction 'Mixed_6a', 20 blocks 'Repeat_1/block17_<i>' (scale 0.10, end point
'PreAuxLogits'), reduction 'Mixed_7a', 9 blocks 'Repeat_2/block8_<i>' (scale 0.20), a last 'Block8'
without activation and 'Conv2d_7b_1x1'. Heads: 'AuxLogits' on the 17x17 map and 'Logits' (average
pool, dropout, fully connected 'Logits/Logits'); the softmax output is
'InceptionResnetV2/Logits/Predictions'.

Arguments are research/slim's: `inception_resnet_v2_base(inputs, final_endpoint, output_stride,
align_feature_maps, scope, activation_fn)`, where `output_stride=8` keeps 'Mixed_6a' at stride 8 and
dilates the 17x17 blocks (available up to 'PreAuxLogits'), and `align_feature_maps=True` pads the
stride-2 and VALID layers as SAME so feature maps align with the input; `inception_resnet_v2(inputs,
num_classes, is_training, dropout_keep_prob, reuse, scope, create_aux_logits, activation_fn)`; and
`inception_resnet_v2_arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon, activation_fn,
batch_norm_updates_collections, batch_norm_scale)`. With `activation_fn=tf.nn.relu6` the residual
branches are clipped to [-6, 6], as in research/slim.
"""
from core.compat import slim, tf
from nets.catalog import get_spec
from nets.inception_utils import avg_pool, branches, conv, max_pool, pool_whole_map, pooled_aux_logits


def _residual(net, mixed, scale, activation_fn):
    """Adds `scale` times a linear 1x1 projection of `mixed` back to `net`."""
    up = slim.conv2d(mixed, net.get_shape()[3], 1, normalizer_fn=None, activation_fn=None,
                     scope="Conv2d_1x1")
    scaled_up = up * scale
    if activation_fn == tf.nn.relu6:
        scaled_up = tf.clip_by_value(scaled_up, -6.0, 6.0)
    net += scaled_up
    return activation_fn(net) if activation_fn else net


# The block functions' names give slim.repeat its scope names ('block35_1', ...).
def block35(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, reuse=None):
    """The 35x35 residual block."""
    with tf.variable_scope(scope, "Block35", [net], reuse=reuse):
        mixed = branches(
            net,
            [conv(32, 1, "Conv2d_1x1")],
            [conv(32, 1, "Conv2d_0a_1x1"), conv(32, 3, "Conv2d_0b_3x3")],
            [conv(32, 1, "Conv2d_0a_1x1"), conv(48, 3, "Conv2d_0b_3x3"), conv(64, 3, "Conv2d_0c_3x3")])
        return _residual(net, mixed, scale, activation_fn)


def block17(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, reuse=None):
    """The 17x17 residual block."""
    with tf.variable_scope(scope, "Block17", [net], reuse=reuse):
        mixed = branches(
            net,
            [conv(192, 1, "Conv2d_1x1")],
            [conv(128, 1, "Conv2d_0a_1x1"), conv(160, [1, 7], "Conv2d_0b_1x7"),
             conv(192, [7, 1], "Conv2d_0c_7x1")])
        return _residual(net, mixed, scale, activation_fn)


def block8(net, scale=1.0, activation_fn=tf.nn.relu, scope=None, reuse=None):
    """The 8x8 residual block."""
    with tf.variable_scope(scope, "Block8", [net], reuse=reuse):
        mixed = branches(
            net,
            [conv(192, 1, "Conv2d_1x1")],
            [conv(192, 1, "Conv2d_0a_1x1"), conv(224, [1, 3], "Conv2d_0b_1x3"),
             conv(256, [3, 1], "Conv2d_0c_3x1")])
        return _residual(net, mixed, scale, activation_fn)


def _layers(padding, output_stride, activation_fn):
    """(end point or None, fn(net)) in order. `padding` is that of the stride-2 and VALID layers; with
    `output_stride` 8, Mixed_6a keeps the resolution and the 17x17 blocks dilate by 2."""
    reduce = {"stride": 2, "padding": padding}
    use_atrous = output_stride == 8
    reduce_6a = {"stride": 1 if use_atrous else 2, "padding": padding}

    def layer(fn, *args, **kwargs):
        return lambda net: fn(net, *args, **kwargs)

    def module(name, *branch_steps):
        def run(net):
            with tf.variable_scope(name):
                return branches(net, *branch_steps)
        return run

    def repeat_17(net):
        with slim.arg_scope([slim.conv2d], rate=2 if use_atrous else 1):
            return slim.repeat(net, 20, block17, scale=0.10, activation_fn=activation_fn)

    def check_output_stride(net):
        if use_atrous:
            raise ValueError("output_stride==8 is only supported up to the PreAuxlogits end_point for now.")
        return net

    def last_blocks(net):
        net = slim.repeat(net, 9, block8, scale=0.20, activation_fn=activation_fn)
        net = block8(net, activation_fn=None)
        return slim.conv2d(net, 1536, 1, scope="Conv2d_7b_1x1")

    return [
        ("Conv2d_1a_3x3", layer(slim.conv2d, 32, 3, scope="Conv2d_1a_3x3", **reduce)),
        ("Conv2d_2a_3x3", layer(slim.conv2d, 32, 3, padding=padding, scope="Conv2d_2a_3x3")),
        ("Conv2d_2b_3x3", layer(slim.conv2d, 64, 3, scope="Conv2d_2b_3x3")),
        ("MaxPool_3a_3x3", layer(slim.max_pool2d, 3, scope="MaxPool_3a_3x3", **reduce)),
        ("Conv2d_3b_1x1", layer(slim.conv2d, 80, 1, padding=padding, scope="Conv2d_3b_1x1")),
        ("Conv2d_4a_3x3", layer(slim.conv2d, 192, 3, padding=padding, scope="Conv2d_4a_3x3")),
        ("MaxPool_5a_3x3", layer(slim.max_pool2d, 3, scope="MaxPool_5a_3x3", **reduce)),
        ("Mixed_5b", module("Mixed_5b", [conv(96, 1, "Conv2d_1x1")],
                            [conv(48, 1, "Conv2d_0a_1x1"), conv(64, 5, "Conv2d_0b_5x5")],
                            [conv(64, 1, "Conv2d_0a_1x1"), conv(96, 3, "Conv2d_0b_3x3"), conv(96, 3, "Conv2d_0c_3x3")],
                            [avg_pool(3, "AvgPool_0a_3x3", stride=1, padding="SAME"), conv(64, 1, "Conv2d_0b_1x1")])),
        (None, layer(slim.repeat, 10, block35, scale=0.17, activation_fn=activation_fn)),
        ("Mixed_6a", module("Mixed_6a", [conv(384, 3, "Conv2d_1a_3x3", **reduce_6a)],
                            [conv(256, 1, "Conv2d_0a_1x1"), conv(256, 3, "Conv2d_0b_3x3"),
                             conv(384, 3, "Conv2d_1a_3x3", **reduce_6a)],
                            [max_pool(3, "MaxPool_1a_3x3", **reduce_6a)])),
        ("PreAuxLogits", repeat_17),
        (None, check_output_stride),
        ("Mixed_7a", module("Mixed_7a", [conv(256, 1, "Conv2d_0a_1x1"), conv(384, 3, "Conv2d_1a_3x3", **reduce)],
                            [conv(256, 1, "Conv2d_0a_1x1"), conv(288, 3, "Conv2d_1a_3x3", **reduce)],
                            [conv(256, 1, "Conv2d_0a_1x1"), conv(288, 3, "Conv2d_0b_3x3"),
                             conv(320, 3, "Conv2d_1a_3x3", **reduce)],
                            [max_pool(3, "MaxPool_1a_3x3", **reduce)])),
        ("Conv2d_7b_1x1", last_blocks),
    ]


def inception_resnet_v2_base(inputs, final_endpoint="Conv2d_7b_1x1", output_stride=16,
                             align_feature_maps=False, scope=None, activation_fn=tf.nn.relu):
    """The network up to `final_endpoint`; returns (net, end_points).

    'PreAuxLogits' is at stride `output_stride` (16, or 8 with atrous 17x17 blocks); the end
    ('Conv2d_7b_1x1') at stride 32, with `output_stride=16` only. `align_feature_maps=True` pads the
    stride-2 and VALID layers as SAME.
    """
    if output_stride not in (8, 16):
        raise ValueError("output_stride must be 8 or 16.")
    end_points = {}
    with tf.variable_scope(scope, "InceptionResnetV2", [inputs]):
        with slim.arg_scope([slim.conv2d, slim.max_pool2d, slim.avg_pool2d], stride=1, padding="SAME"):
            net = inputs
            for name, layer in _layers("SAME" if align_feature_maps else "VALID", output_stride, activation_fn):
                net = layer(net)
                if name is not None:
                    end_points[name] = net
                    if name == final_endpoint:
                        return net, end_points
    raise ValueError("unknown final_endpoint %r" % final_endpoint)


def inception_resnet_v2(inputs, num_classes=1001, is_training=True, dropout_keep_prob=0.8,
                        reuse=None, scope="InceptionResnetV2", create_aux_logits=True,
                        activation_fn=tf.nn.relu):
    """Returns (logits [batch, num_classes], end_points); with no `num_classes`, the pooled features."""
    with tf.variable_scope(scope, "InceptionResnetV2", [inputs], reuse=reuse) as net_scope:
        with slim.arg_scope([slim.batch_norm, slim.dropout], is_training=is_training):
            net, end_points = inception_resnet_v2_base(inputs, scope=net_scope,
                                                       activation_fn=activation_fn)
            if create_aux_logits and num_classes:
                with tf.variable_scope("AuxLogits"):
                    end_points["AuxLogits"] = pooled_aux_logits(end_points["PreAuxLogits"], num_classes,
                                                                "Conv2d_1a_3x3", "Conv2d_2a_5x5", "Logits")
            with tf.variable_scope("Logits"):
                net = pool_whole_map(net, "AvgPool_1a_8x8")
                end_points["global_pool"] = net
                if not num_classes:
                    return net, end_points
                net = slim.flatten(net)
                net = slim.dropout(net, dropout_keep_prob, is_training=is_training, scope="Dropout")
                end_points["PreLogitsFlatten"] = net
                logits = end_points["Logits"] = slim.fully_connected(net, num_classes,
                                                                     activation_fn=None, scope="Logits")
                end_points["Predictions"] = tf.nn.softmax(logits, name="Predictions")
    return logits, end_points


inception_resnet_v2.default_image_size = get_spec("inception_resnet_v2").default_image_size


def inception_resnet_v2_arg_scope(weight_decay=0.00004, batch_norm_decay=0.9997,
                                  batch_norm_epsilon=0.001, activation_fn=tf.nn.relu,
                                  batch_norm_updates_collections=tf.GraphKeys.UPDATE_OPS,
                                  batch_norm_scale=False):
    """L2 on weights and biases; batch-normed convolutions with `activation_fn`.

    `batch_norm_scale` gives each batch norm a gamma (research/slim's checkpoints have none).
    """
    batch_norm_params = {"decay": batch_norm_decay, "epsilon": batch_norm_epsilon,
                         "updates_collections": batch_norm_updates_collections, "fused": None,
                         "scale": batch_norm_scale}
    with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        weights_regularizer=slim.l2_regularizer(weight_decay),
                        biases_regularizer=slim.l2_regularizer(weight_decay)):
        with slim.arg_scope([slim.conv2d], activation_fn=activation_fn, normalizer_fn=slim.batch_norm,
                            normalizer_params=batch_norm_params) as scope:
            return scope
