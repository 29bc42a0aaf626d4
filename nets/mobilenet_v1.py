"""MobileNet v1 (Howard et al., 2017) as research/slim builds it, and its width variants.

The body is a list of layer definitions (`MOBILENETV1_CONV_DEFS`): a 3x3 convolution 'Conv2d_0'
(`Conv`), then 13 depthwise-separable layers (`DepthSepConv`), each a 3x3 depthwise convolution
'Conv2d_<i>_depthwise' and a 1x1 convolution 'Conv2d_<i>_pointwise', all batch-normed with ReLU6.
The head 'Logits' averages over 7x7 or less ('AvgPool_1a'), drops out ('Dropout_1b') and applies
the 1x1 'Conv2d_1c_1x1'; the logits are 'MobilenetV1/Logits/SpatialSqueeze' and the softmax
'MobilenetV1/Predictions/Reshape_1'.

Arguments are research/slim's:
- `mobilenet_v1_base(inputs, final_endpoint, min_depth, depth_multiplier, conv_defs, output_stride,
  use_explicit_padding, scope)`: every layer has max(int(depth * depth_multiplier), min_depth)
  channels; `output_stride` (8, 16 or 32) stops striding there and dilates the later depthwise
  convolutions instead; `use_explicit_padding` pads explicitly and convolves with VALID padding, so
  the output does not depend on the input size's parity;
- `mobilenet_v1(inputs, num_classes, dropout_keep_prob, is_training, min_depth, depth_multiplier,
  conv_defs, prediction_fn, spatial_squeeze, reuse, scope, global_pool)`: `num_classes=0` (or None)
  returns the pooled features, `global_pool=True` averages any input size down to 1x1;
- `mobilenet_v1_arg_scope(is_training=True, ...)`: `is_training=None` leaves batch norm's mode unset.
"""
import collections
import functools

from core.compat import slim, tf
from nets.catalog import get_spec

Conv = collections.namedtuple("Conv", ["kernel", "stride", "depth"])
DepthSepConv = collections.namedtuple("DepthSepConv", ["kernel", "stride", "depth"])

MOBILENETV1_CONV_DEFS = [Conv(kernel=[3, 3], stride=2, depth=32)] + [
    DepthSepConv(kernel=[3, 3], stride=stride, depth=depth)
    for stride, depth in ((1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512), (1, 512),
                          (1, 512), (1, 512), (1, 512), (1, 512), (2, 1024), (1, 1024))]


def _fixed_padding(inputs, kernel_size, rate=1):
    """Pads height and width as a SAME convolution of `kernel_size` (dilated by `rate`) would."""
    effective = [k + (k - 1) * (rate - 1) for k in kernel_size[:1] * 2]  # research/slim: square kernels
    before = [(k - 1) // 2 for k in effective]
    after = [k - 1 - b for k, b in zip(effective, before)]
    return tf.pad(inputs, [[0, 0], [before[0], after[0]], [before[1], after[1]], [0, 0]])


def mobilenet_v1_base(inputs, final_endpoint="Conv2d_13_pointwise", min_depth=8, depth_multiplier=1.0,
                      conv_defs=None, output_stride=None, use_explicit_padding=False, scope=None):
    """The convolutional body up to `final_endpoint`; returns (net, end_points)."""
    if depth_multiplier <= 0:
        raise ValueError("depth_multiplier is not greater than zero.")
    if output_stride is not None and output_stride not in (8, 16, 32):
        raise ValueError("Only allowed output_stride values are 8, 16, 32.")
    conv_defs = MOBILENETV1_CONV_DEFS if conv_defs is None else conv_defs

    def depth(channels):
        return max(int(channels * depth_multiplier), min_depth)

    end_points = {}
    with tf.variable_scope(scope, "MobilenetV1", [inputs]):
        with slim.arg_scope([slim.conv2d, slim.separable_conv2d],
                            padding="VALID" if use_explicit_padding else "SAME"):
            current_stride, rate = 1, 1
            net = inputs
            for index, conv_def in enumerate(conv_defs):
                if output_stride is not None and current_stride == output_stride:
                    # Past the output stride: no more striding, dilate instead.
                    layer_stride, layer_rate = 1, rate
                    rate *= conv_def.stride
                else:
                    layer_stride, layer_rate = conv_def.stride, 1
                    current_stride *= conv_def.stride
                if isinstance(conv_def, Conv):
                    name = "Conv2d_%d" % index
                    if use_explicit_padding:
                        net = _fixed_padding(net, conv_def.kernel)
                    # research/slim gives a full convolution its own stride, whatever output_stride.
                    net = end_points[name] = slim.conv2d(net, depth(conv_def.depth), conv_def.kernel,
                                                         stride=conv_def.stride, scope=name)
                    if name == final_endpoint:
                        return net, end_points
                elif isinstance(conv_def, DepthSepConv):
                    name = "Conv2d_%d_depthwise" % index
                    if use_explicit_padding:
                        net = _fixed_padding(net, conv_def.kernel, layer_rate)
                    net = end_points[name] = slim.separable_conv2d(
                        net, None, conv_def.kernel, depth_multiplier=1, stride=layer_stride, rate=layer_rate,
                        scope=name)
                    if name == final_endpoint:
                        return net, end_points
                    name = "Conv2d_%d_pointwise" % index
                    net = end_points[name] = slim.conv2d(net, depth(conv_def.depth), [1, 1], stride=1,
                                                         scope=name)
                    if name == final_endpoint:
                        return net, end_points
                else:
                    raise ValueError("Unknown convolution type %s for layer %d"
                                     % (type(conv_def).__name__, index))
    raise ValueError("Unknown final endpoint %s" % final_endpoint)


def _reduced_kernel_size_for_small_input(net, kernel_size):
    height, width = net.get_shape().as_list()[1:3]
    if height is None or width is None:
        return list(kernel_size)
    return [min(height, kernel_size[0]), min(width, kernel_size[1])]


def mobilenet_v1(inputs, num_classes=1000, dropout_keep_prob=0.999, is_training=True, min_depth=8,
                 depth_multiplier=1.0, conv_defs=None, prediction_fn=slim.softmax, spatial_squeeze=True,
                 reuse=None, scope="MobilenetV1", global_pool=False):
    """Returns (logits [batch, num_classes], end_points); with no `num_classes`, the pooled features."""
    if inputs.get_shape().ndims != 4:
        raise ValueError("Invalid input tensor rank, expected 4, was: %d" % inputs.get_shape().ndims)
    with tf.variable_scope(scope, "MobilenetV1", [inputs], reuse=reuse) as net_scope:
        with slim.arg_scope([slim.batch_norm, slim.dropout], is_training=is_training):
            net, end_points = mobilenet_v1_base(inputs, scope=net_scope, min_depth=min_depth,
                                                depth_multiplier=depth_multiplier, conv_defs=conv_defs)
            with tf.variable_scope("Logits"):
                if global_pool:
                    net = end_points["global_pool"] = tf.reduce_mean(net, [1, 2], keepdims=True,
                                                                     name="global_pool")
                else:
                    kernel = _reduced_kernel_size_for_small_input(net, [7, 7])
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


mobilenet_v1.default_image_size = get_spec("mobilenet_v1").default_image_size


def _width_variant(depth_multiplier):
    variant = functools.partial(mobilenet_v1, depth_multiplier=depth_multiplier)
    functools.update_wrapper(variant, mobilenet_v1)
    return variant


mobilenet_v1_075 = _width_variant(0.75)
mobilenet_v1_050 = _width_variant(0.50)
mobilenet_v1_025 = _width_variant(0.25)


def mobilenet_v1_arg_scope(is_training=True, weight_decay=0.00004, stddev=0.09, regularize_depthwise=False,
                           batch_norm_decay=0.9997, batch_norm_epsilon=0.001,
                           batch_norm_updates_collections=tf.GraphKeys.UPDATE_OPS,
                           normalizer_fn=slim.batch_norm):
    """Truncated normal weights, ReLU6, batch norm; L2 on the full and 1x1 convolutions only by default.

    `is_training=None` leaves batch norm's `is_training` to an enclosing scope or the network.
    """
    batch_norm_params = {"center": True, "scale": True, "decay": batch_norm_decay,
                         "epsilon": batch_norm_epsilon, "updates_collections": batch_norm_updates_collections}
    if is_training is not None:
        batch_norm_params["is_training"] = is_training
    regularizer = slim.l2_regularizer(weight_decay)
    with slim.arg_scope([slim.conv2d, slim.separable_conv2d],
                        weights_initializer=tf.truncated_normal_initializer(stddev=stddev),
                        activation_fn=tf.nn.relu6, normalizer_fn=normalizer_fn):
        with slim.arg_scope([slim.batch_norm], **batch_norm_params):
            with slim.arg_scope([slim.conv2d], weights_regularizer=regularizer):
                with slim.arg_scope([slim.separable_conv2d],
                                    weights_regularizer=regularizer if regularize_depthwise else None) \
                        as scope:
                    return scope
