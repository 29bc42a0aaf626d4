"""MobileNet v1 (Howard et al., 2017) with research/slim's scope names, and its width variants.

The body is a 3x3 convolution 'Conv2d_0' then 13 depthwise-separable layers, each a 3x3 depthwise
convolution 'Conv2d_<i>_depthwise' and a 1x1 convolution 'Conv2d_<i>_pointwise', all batch-normed
with ReLU6. The head is 'Logits/AvgPool_1a', 'Logits/Dropout_1b' and the 1x1 'Logits/Conv2d_1c_1x1';
the softmax output is 'MobilenetV1/Predictions/Reshape_1'. `depth_multiplier` thins every layer to
max(int(depth * multiplier), min_depth).
"""
import functools

from core.compat import slim, tf
from nets.nets_factory import ModelSpec, register_model

# (stride, output depth) of each layer: the first is a full convolution, the rest depthwise-separable.
_LAYERS = (
    (2, 32),
    (1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512),
    (1, 512), (1, 512), (1, 512), (1, 512), (1, 512),
    (2, 1024), (1, 1024),
)


def mobilenet_v1_base(inputs, final_endpoint="Conv2d_13_pointwise", min_depth=8, depth_multiplier=1.0,
                      scope=None):
    """The convolutional body up to `final_endpoint`; returns (net, end_points)."""
    if depth_multiplier <= 0:
        raise ValueError("depth_multiplier must be greater than zero, got %r" % depth_multiplier)

    def depth(channels):
        return max(int(channels * depth_multiplier), min_depth)

    end_points = {}
    with tf.variable_scope(scope, "MobilenetV1", [inputs]):
        with slim.arg_scope([slim.conv2d, slim.separable_conv2d], padding="SAME"):
            net = inputs
            for index, (stride, channels) in enumerate(_LAYERS):
                if index == 0:
                    name = "Conv2d_0"
                    net = end_points[name] = slim.conv2d(net, depth(channels), [3, 3], stride=stride,
                                                         normalizer_fn=slim.batch_norm, scope=name)
                else:
                    name = "Conv2d_%d_depthwise" % index
                    net = end_points[name] = slim.separable_conv2d(
                        net, None, [3, 3], depth_multiplier=1, stride=stride,
                        normalizer_fn=slim.batch_norm, scope=name)
                    if name == final_endpoint:
                        return net, end_points
                    name = "Conv2d_%d_pointwise" % index
                    net = end_points[name] = slim.conv2d(net, depth(channels), [1, 1], stride=1,
                                                         normalizer_fn=slim.batch_norm, scope=name)
                if name == final_endpoint:
                    return net, end_points
    raise ValueError("unknown final_endpoint %r" % final_endpoint)


def mobilenet_v1(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.999, min_depth=8,
                 depth_multiplier=1.0, prediction_fn=slim.softmax, spatial_squeeze=True, reuse=None,
                 scope="MobilenetV1"):
    """Returns (logits [batch, num_classes], end_points); with no `num_classes`, the pooled features."""
    if inputs.get_shape().ndims != 4:
        raise ValueError("expected images of rank 4, got shape %s" % inputs.get_shape())
    with tf.variable_scope(scope, "MobilenetV1", [inputs], reuse=reuse) as net_scope:
        with slim.arg_scope([slim.batch_norm, slim.dropout], is_training=is_training):
            net, end_points = mobilenet_v1_base(inputs, min_depth=min_depth,
                                                depth_multiplier=depth_multiplier, scope=net_scope)
            with tf.variable_scope("Logits"):
                height, width = net.get_shape().as_list()[1:3]
                kernel = [min(height or 7, 7), min(width or 7, 7)]
                net = end_points["AvgPool_1a"] = slim.avg_pool2d(net, kernel, padding="VALID",
                                                                 scope="AvgPool_1a")
                if not num_classes:
                    return net, end_points
                net = slim.dropout(net, keep_prob=dropout_keep_prob, scope="Dropout_1b")
                logits = slim.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                                     scope="Conv2d_1c_1x1")
                if spatial_squeeze:
                    logits = tf.squeeze(logits, [1, 2], name="SpatialSqueeze")
            end_points["Logits"] = logits
            if prediction_fn:
                end_points["Predictions"] = prediction_fn(logits, scope="Predictions")
    return logits, end_points


mobilenet_v1.default_image_size = 224


def mobilenet_v1_arg_scope(weight_decay=0.00004, is_training=True, stddev=0.09,
                           regularize_depthwise=False, batch_norm_decay=0.9997,
                           batch_norm_epsilon=0.001):
    """Truncated normal weights, ReLU6, batch norm; L2 on the 1x1/full convolutions only by default."""
    regularizer = slim.l2_regularizer(weight_decay)
    batch_norm_params = {"is_training": is_training, "center": True, "scale": True,
                         "decay": batch_norm_decay, "epsilon": batch_norm_epsilon}
    with slim.arg_scope([slim.conv2d, slim.separable_conv2d],
                        weights_initializer=tf.truncated_normal_initializer(stddev=stddev),
                        activation_fn=tf.nn.relu6, normalizer_fn=slim.batch_norm):
        with slim.arg_scope([slim.batch_norm], **batch_norm_params):
            with slim.arg_scope([slim.conv2d], weights_regularizer=regularizer):
                with slim.arg_scope([slim.separable_conv2d],
                                    weights_regularizer=regularizer if regularize_depthwise else None) \
                        as scope:
                    return scope


def _register(name, depth_multiplier):
    network_fn = functools.partial(mobilenet_v1, depth_multiplier=depth_multiplier)
    register_model(ModelSpec(
        name=name, network_fn=network_fn, arg_scope_fn=mobilenet_v1_arg_scope, default_image_size=224,
        preprocessing_name="inception", logits_scopes=("MobilenetV1/Logits",),
        output_node="MobilenetV1/Predictions/Reshape_1", min_image_size=32))


_register("mobilenet_v1", 1.0)
_register("mobilenet_v1_075", 0.75)
_register("mobilenet_v1_050", 0.50)
_register("mobilenet_v1_025", 0.25)
