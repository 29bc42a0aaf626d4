"""research/slim's MobileNet builder: a network written as a conv-defs dict (`nets.mobilenet_v2.V2_DEF`).

A conv-defs dict has
- 'spec': the layers, each `op(function, **params)`, e.g. `op(slim.conv2d, stride=2, num_outputs=32,
  kernel_size=[3, 3])` or `op(expanded_conv, stride=2, num_outputs=24)`;
- 'defaults' (and 'overrides'): {(function, ...): {argument: value}}, arg scopes around the layers.

`mobilenet_base` runs the layers in order; layer i's output is end point 'layer_<i+1>', and every
op of that layer's scope whose name ends in 'output' is end point 'layer_<i+1>/<op name>' (the
blocks' 'expansion_output', 'depthwise_output' and 'output'). A layer's 'num_outputs' passes through
its `multiplier_func` (`depth_multiplier`: the multiplier times the depth, made divisible by
`divisible_by` and at least `min_depth`, both settable with an arg scope on `depth_multiplier`).
"""
import collections
import contextlib
import os

from core.compat import slim, tf
from nets.mobilenet_conv_blocks import fixed_padding, make_divisible


@slim.add_arg_scope
def depth_multiplier(output_params, multiplier, divisible_by=8, min_depth=8, **unused_kwargs):
    """Scales output_params['num_outputs'] in place (see the module docstring)."""
    if "num_outputs" in output_params:
        output_params["num_outputs"] = make_divisible(output_params["num_outputs"] * multiplier,
                                                      divisible_by, min_depth)


Op = collections.namedtuple("Op", ["op", "params", "multiplier_func"])


def op(opfunc, multiplier_func=depth_multiplier, **params):
    """A layer of a conv-defs spec: `opfunc(net, **params)`; 'multiplier_transform' replaces
    `multiplier_func`."""
    multiplier = params.pop("multiplier_transform", multiplier_func)
    return Op(opfunc, params=params, multiplier_func=multiplier)


def safe_arg_scope(functions, **kwargs):
    """An arg scope of the `kwargs` that are not None (a no-op scope when all are)."""
    kwargs = {name: value for name, value in kwargs.items() if value is not None}
    return slim.arg_scope(functions, **kwargs) if kwargs else contextlib.nullcontext()


@contextlib.contextmanager
def _arg_scope_defaults(defaults):
    """Nested arg scopes, one per (functions, arguments) item of `defaults`."""
    with contextlib.ExitStack() as stack:
        for functions, arguments in (defaults.items() if hasattr(defaults, "items") else defaults):
            stack.enter_context(slim.arg_scope(functions, **arguments))
        yield


@slim.add_arg_scope
def mobilenet_base(inputs, conv_defs, multiplier=1.0, final_endpoint=None, output_stride=None,
                   use_explicit_padding=False, scope=None, is_training=False):
    """The layers of `conv_defs` up to `final_endpoint` ('layer_<n>'); returns (net, end_points).

    `output_stride` (None, 1 or even) stops striding there and dilates the later layers instead.
    `use_explicit_padding` pads explicitly and convolves with VALID padding. `is_training` sets batch
    norm's mode, None leaves it unset.
    """
    if multiplier <= 0:
        raise ValueError("multiplier is not greater than zero.")
    if output_stride is not None and (output_stride == 0 or (output_stride > 1 and output_stride % 2)):
        raise ValueError("Output stride must be None, 1 or a multiple of 2.")
    overrides = conv_defs.get("overrides", {})
    if use_explicit_padding:
        overrides = dict(overrides)
        overrides[(slim.conv2d, slim.separable_conv2d)] = {"padding": "VALID"}
    with tf.variable_scope(scope, default_name="Mobilenet") as net_scope, \
            tf.name_scope(net_scope.original_name_scope), \
            safe_arg_scope([slim.batch_norm], is_training=is_training), \
            _arg_scope_defaults(conv_defs.get("defaults", {})), \
            _arg_scope_defaults(overrides):
        current_stride, rate = 1, 1
        net = inputs
        end_points = {}
        layer_of_scope = {}
        for index, layer in enumerate(conv_defs["spec"]):
            params = dict(layer.params)
            layer.multiplier_func(params, multiplier)
            stride = params.get("stride", 1)
            if output_stride is not None and current_stride == output_stride:
                layer_stride, layer_rate = 1, rate
                rate *= stride
            else:
                layer_stride, layer_rate = stride, 1
                current_stride *= stride
            params["stride"] = layer_stride
            if layer_rate > 1 and tuple(params.get("kernel_size", [])) != (1, 1):
                params["rate"] = layer_rate
            if use_explicit_padding:
                if "kernel_size" in params:
                    net = fixed_padding(net, params["kernel_size"], layer_rate)
                else:
                    params["use_explicit_padding"] = True
            name = "layer_%d" % (index + 1)
            net = end_points[name] = layer.op(net, **params)
            layer_of_scope[os.path.dirname(net.name)] = name
            if final_endpoint is not None and name == final_endpoint:
                break
        for operation in net.graph.get_operations():
            op_scope = os.path.dirname(operation.name)
            if op_scope in layer_of_scope and operation.name.endswith("output"):
                end_points[layer_of_scope[op_scope] + "/" + os.path.basename(operation.name)] = \
                    operation.outputs[0]
        return net, end_points


def global_pool(input_tensor, use_reduce_mean_for_pooling=False, pool_op=tf.nn.avg_pool2d):
    """Averages `input_tensor` over its whole height and width, keeping a 1x1 map."""
    if use_reduce_mean_for_pooling:
        return tf.reduce_mean(input_tensor, [1, 2], keepdims=True, name="ReduceMean")
    height, width = input_tensor.get_shape().as_list()[1:3]
    if height is None or width is None:
        kernel = tf.convert_to_tensor([1, tf.shape(input_tensor)[1], tf.shape(input_tensor)[2], 1])
    else:
        kernel = [1, height, width, 1]
    output = pool_op(input_tensor, ksize=kernel, strides=[1, 1, 1, 1], padding="VALID")
    output.set_shape([None, 1, 1, None])
    return output


@slim.add_arg_scope
def mobilenet(inputs, num_classes=1001, prediction_fn=slim.softmax, reuse=None, scope="Mobilenet",
              base_only=False, use_reduce_mean_for_pooling=False, **mobilenet_args):
    """`mobilenet_base`, then 'Logits': global pool, dropout, the 1x1 'Conv2d_1c_1x1' and
    'Logits/output' (the logits), and 'Predictions'. Returns (logits, end_points); with no
    `num_classes`, the pooled features; with `base_only`, `mobilenet_base`'s output."""
    is_training = mobilenet_args.get("is_training", False)
    if inputs.get_shape().ndims != 4:
        raise ValueError("Expected rank 4 input, was: %d" % inputs.get_shape().ndims)
    with tf.variable_scope(scope, "Mobilenet", reuse=reuse) as net_scope:
        inputs = tf.identity(inputs, "input")
        net, end_points = mobilenet_base(inputs, scope=net_scope, **mobilenet_args)
        if base_only:
            return net, end_points
        net = tf.identity(net, name="embedding")
        with tf.variable_scope("Logits"):
            net = end_points["global_pool"] = global_pool(net, use_reduce_mean_for_pooling)
            if not num_classes:
                return net, end_points
            net = slim.dropout(net, scope="Dropout", is_training=is_training)
            logits = slim.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                                 biases_initializer=tf.zeros_initializer(), scope="Conv2d_1c_1x1")
            logits = tf.identity(tf.squeeze(logits, [1, 2]), name="output")
        end_points["Logits"] = logits
        if prediction_fn:
            end_points["Predictions"] = prediction_fn(logits, "Predictions")
    return logits, end_points


def training_scope(is_training=True, weight_decay=0.00004, stddev=0.09, dropout_keep_prob=0.8,
                   bn_decay=0.997):
    """research/slim's MobileNet training arg scope.

    Truncated normal weights (Xavier when `stddev` < 0), batch norm with decay `bn_decay`, L2
    `weight_decay` on full and 1x1 convolutions but not on depthwise ones, dropout keeping
    `dropout_keep_prob`. `is_training` goes to the networks, batch norm and dropout; None leaves it
    unset everywhere.
    """
    initializer = (slim.initializers.xavier_initializer() if stddev < 0
                   else tf.truncated_normal_initializer(stddev=stddev))
    with slim.arg_scope([slim.conv2d, slim.fully_connected, slim.separable_conv2d],
                        weights_initializer=initializer, normalizer_fn=slim.batch_norm), \
            slim.arg_scope([mobilenet_base, mobilenet], is_training=is_training), \
            safe_arg_scope([slim.batch_norm], decay=bn_decay, is_training=is_training), \
            safe_arg_scope([slim.dropout], is_training=is_training, keep_prob=dropout_keep_prob), \
            slim.arg_scope([slim.conv2d], weights_regularizer=slim.l2_regularizer(weight_decay)), \
            slim.arg_scope([slim.separable_conv2d], weights_regularizer=None) as scope:
        return scope
