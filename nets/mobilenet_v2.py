"""MobileNet v2 (Sandler et al., 2018) with research/slim's scope names, and its width variants.

Layers, in order: 'Conv' (3x3, stride 2, 32), 17 inverted residual blocks 'expanded_conv',
'expanded_conv_1' ... 'expanded_conv_16' and 'Conv_1' (1x1, 1280), then 'Logits' (global average
pool, dropout, 1x1 'Conv2d_1c_1x1' with biases). A block is a 1x1 'expand' convolution to 6x its
input depth (skipped for the first block, whose factor is 1), a 3x3 'depthwise' convolution and a
linear 1x1 'project' convolution, plus the input when stride is 1 and depths match. All convolutions
are batch-normed; 'expand' and 'depthwise' use ReLU6. The softmax output is
'MobilenetV2/Predictions/Reshape_1'.

A depth multiplier scales each layer's output depth to a multiple of 8 (at least 8, never rounding
down by more than 10%); with `finegrain_classification_mode` the last 1x1 layer keeps 1280 channels
for multipliers below 1, as research/slim's mobilenet_v2_035 does.
"""
import functools

from core.compat import slim, tf
from nets.nets_factory import ModelSpec, register_model

# (expansion factor, output depth, stride) of each inverted residual block.
_BLOCKS = (
    (1, 16, 1),
    (6, 24, 2), (6, 24, 1),
    (6, 32, 2), (6, 32, 1), (6, 32, 1),
    (6, 64, 2), (6, 64, 1), (6, 64, 1), (6, 64, 1),
    (6, 96, 1), (6, 96, 1), (6, 96, 1),
    (6, 160, 2), (6, 160, 1), (6, 160, 1),
    (6, 320, 1),
)
_FIRST_DEPTH = 32
_LAST_DEPTH = 1280


def make_divisible(value, divisor=8, min_value=None):
    """Rounds `value` to the nearest multiple of `divisor` (>= min_value), at most 10% below it."""
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


def _inverted_residual(net, expansion, depth, stride, end_points, layer_name):
    with tf.variable_scope(None, default_name="expanded_conv") as scope, \
            tf.name_scope(scope.original_name_scope):
        input_depth = net.get_shape().as_list()[3]
        block_input = tf.identity(net, name="input")
        net = block_input
        inner_depth = input_depth if expansion == 1 else make_divisible(input_depth * expansion)
        if inner_depth > input_depth:
            net = slim.conv2d(net, inner_depth, [1, 1], scope="expand")
            net = end_points[layer_name + "/expansion_output"] = tf.identity(net, "expansion_output")
        net = slim.separable_conv2d(net, None, [3, 3], depth_multiplier=1, stride=stride,
                                    scope="depthwise")
        net = end_points[layer_name + "/depthwise_output"] = tf.identity(net, "depthwise_output")
        net = slim.conv2d(net, depth, [1, 1], activation_fn=tf.identity, scope="project")
        if stride == 1 and depth == input_depth:
            net += block_input
        return tf.identity(net, name="output")


def mobilenet_v2_base(inputs, depth_multiplier=1.0, finegrain_classification_mode=False, min_depth=8,
                      divisible_by=8, scope=None):
    """The convolutional body ('Conv' to 'Conv_1'); returns (net, end_points 'layer_1'...'layer_19')."""
    if depth_multiplier <= 0:
        raise ValueError("depth_multiplier must be greater than zero, got %r" % depth_multiplier)

    def depth(channels):
        return make_divisible(channels * depth_multiplier, divisible_by, min_depth)

    last_depth = _LAST_DEPTH
    if finegrain_classification_mode and depth_multiplier < 1:
        last_depth = _LAST_DEPTH / depth_multiplier
    end_points = {}
    with tf.variable_scope(scope, "MobilenetV2", [inputs]) as net_scope, \
            tf.name_scope(net_scope.original_name_scope):
        with slim.arg_scope([slim.conv2d, slim.separable_conv2d], padding="SAME",
                            normalizer_fn=slim.batch_norm, activation_fn=tf.nn.relu6), \
                slim.arg_scope([slim.batch_norm], center=True, scale=True):
            net = end_points["layer_1"] = slim.conv2d(inputs, depth(_FIRST_DEPTH), [3, 3], stride=2,
                                                      scope="Conv")
            for index, (expansion, channels, stride) in enumerate(_BLOCKS):
                layer_name = "layer_%d" % (index + 2)
                net = end_points[layer_name] = _inverted_residual(net, expansion, depth(channels),
                                                                  stride, end_points, layer_name)
            layer_name = "layer_%d" % (len(_BLOCKS) + 2)
            net = end_points[layer_name] = slim.conv2d(net, depth(last_depth), [1, 1], stride=1,
                                                       scope="Conv_1")
    return net, end_points


def mobilenet_v2(inputs, num_classes=1001, is_training=False, depth_multiplier=1.0,
                 finegrain_classification_mode=False, prediction_fn=slim.softmax, reuse=None,
                 scope="MobilenetV2"):
    """Returns (logits [batch, num_classes], end_points); with no `num_classes`, the pooled features.

    Dropout takes its keep probability from the arg scope (`mobilenet_v2_arg_scope`: 0.8).
    """
    if inputs.get_shape().ndims != 4:
        raise ValueError("expected images of rank 4, got shape %s" % inputs.get_shape())
    with tf.variable_scope(scope, "MobilenetV2", reuse=reuse) as net_scope:
        inputs = tf.identity(inputs, "input")
        with slim.arg_scope([slim.batch_norm], is_training=is_training):
            net, end_points = mobilenet_v2_base(
                inputs, depth_multiplier=depth_multiplier,
                finegrain_classification_mode=finegrain_classification_mode, scope=net_scope)
        net = tf.identity(net, name="embedding")
        with tf.variable_scope("Logits"):
            net = end_points["global_pool"] = tf.reduce_mean(net, [1, 2], keepdims=True,
                                                             name="global_pool")
            if not num_classes:
                return net, end_points
            net = slim.dropout(net, scope="Dropout", is_training=is_training)
            logits = slim.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                                 biases_initializer=tf.zeros_initializer(), scope="Conv2d_1c_1x1")
            logits = tf.squeeze(logits, [1, 2])
            logits = tf.identity(logits, name="output")
        end_points["Logits"] = logits
        if prediction_fn:
            end_points["Predictions"] = prediction_fn(logits, scope="Predictions")
    return logits, end_points


mobilenet_v2.default_image_size = 224


def mobilenet_v2_arg_scope(weight_decay=0.00004, is_training=True, stddev=0.09, dropout_keep_prob=0.8,
                           batch_norm_decay=0.997):
    """research/slim's MobileNet v2 training scope: L2 on full and 1x1 convolutions, not depthwise.

    `batch_norm_decay` is research/slim's `bn_decay`, named like the other networks' arg scopes.
    """
    initializer = (tf.truncated_normal_initializer(stddev=stddev) if stddev >= 0
                   else slim.xavier_initializer())
    with slim.arg_scope([slim.conv2d, slim.fully_connected, slim.separable_conv2d],
                        weights_initializer=initializer, normalizer_fn=slim.batch_norm), \
            slim.arg_scope([slim.batch_norm], is_training=is_training, decay=batch_norm_decay), \
            slim.arg_scope([slim.dropout], is_training=is_training, keep_prob=dropout_keep_prob), \
            slim.arg_scope([slim.conv2d], weights_regularizer=slim.l2_regularizer(weight_decay)), \
            slim.arg_scope([slim.separable_conv2d], weights_regularizer=None) as scope:
        return scope


def _register(name, depth_multiplier, finegrain_classification_mode=False):
    network_fn = functools.partial(mobilenet_v2, depth_multiplier=depth_multiplier,
                                   finegrain_classification_mode=finegrain_classification_mode)
    register_model(ModelSpec(
        name=name, network_fn=network_fn, arg_scope_fn=mobilenet_v2_arg_scope, default_image_size=224,
        preprocessing_name="inception", logits_scopes=("MobilenetV2/Logits",),
        output_node="MobilenetV2/Predictions/Reshape_1", min_image_size=32))


_register("mobilenet_v2", 1.0)
_register("mobilenet_v2_140", 1.4)
_register("mobilenet_v2_035", 0.35, finegrain_classification_mode=True)
