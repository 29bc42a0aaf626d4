"""MobileNet v2's inverted residual block, `expanded_conv`, with research/slim's arguments and names.

A block is an optional 1x1 'expand' convolution (to `expansion_size` channels, by default 6 times
the input's), a 'depthwise' convolution and a linear 1x1 'project' convolution, plus the input when
the stride is 1 and the depths match. Its outputs are identities named 'expansion_output',
'depthwise_output' and 'output' inside the block's scope; `nets.mobilenet` makes them the end points
'layer_<n>/expansion_output' ... 'layer_<n>/output'.
"""
import functools

from core.compat import slim, tf


def make_divisible(value, divisor, min_value=None):
    """`value` rounded to the nearest multiple of `divisor` (>= min_value), at most 10% below it."""
    min_value = divisor if min_value is None else min_value
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return int(rounded)


def fixed_padding(inputs, kernel_size, rate=1):
    """Pads height and width as a SAME convolution of `kernel_size` (dilated by `rate`) would.

    As in research/slim, the kernel is taken as square (`kernel_size[0]` both ways).
    """
    effective = kernel_size[0] + (kernel_size[0] - 1) * (rate - 1)
    before = (effective - 1) // 2
    after = effective - 1 - before
    return tf.pad(inputs, [[0, 0], [before, after], [before, after], [0, 0]])


def expand_input_by_factor(factor, divisible_by=8):
    """An `expansion_size`: `factor` times the input depth, made divisible by `divisible_by`."""
    return lambda num_inputs, **_: make_divisible(num_inputs * factor, divisible_by)


def _split_divisible(total, num_ways, divisible_by=8):
    """`total` split in `num_ways` multiples of `divisible_by`, as evenly as they allow."""
    if total % divisible_by or total / num_ways < divisible_by:
        raise ValueError("cannot split %d channels %d ways in multiples of %d" % (total, num_ways, divisible_by))
    base = total // num_ways // divisible_by * divisible_by
    parts, accumulated = [], 0
    for index in range(num_ways):
        part = base
        while accumulated + part < total * (index + 1) / num_ways:
            part += divisible_by
        parts.append(part)
        accumulated += part
    return parts


def split_conv(input_tensor, num_outputs, num_ways, scope, divisible_by=8, **kwargs):
    """A 1x1 convolution, or `num_ways` of them on channel slices ('<scope>_part_<i>'), concatenated."""
    depth_in = input_tensor.get_shape().as_list()[3]
    if num_ways == 1 or min(depth_in // num_ways, num_outputs // num_ways) < divisible_by:
        return slim.conv2d(input_tensor, num_outputs, [1, 1], scope=scope, **kwargs)
    inputs = tf.split(input_tensor, _split_divisible(depth_in, num_ways, divisible_by), axis=3,
                      name="split_" + scope)
    outputs = []
    for index, (part, depth) in enumerate(zip(inputs, _split_divisible(num_outputs, num_ways, divisible_by))):
        part_scope = "%s_part_%d" % (scope, index)
        outputs.append(tf.identity(slim.conv2d(part, depth, [1, 1], scope=part_scope, **kwargs),
                                   part_scope + "_output"))
    return tf.concat(outputs, 3, name=part_scope + "_concat")


def _record(endpoints, name, net):
    """`net` as an identity named `name`, kept in `endpoints` (a dict) when given."""
    net = tf.identity(net, name=name)
    if endpoints is not None:
        endpoints[name] = net
    return net


def _block_arg_scopes(inner_activation_fn, depthwise_activation_fn):
    """The block's activations: `inner_activation_fn` for its convolutions, `depthwise_activation_fn` (else
    the inner one) for its depthwise convolution; the enclosing scope's where None."""
    conv_defaults = {} if inner_activation_fn is None else {"activation_fn": inner_activation_fn}
    depthwise_defaults = dict(conv_defaults)
    if depthwise_activation_fn is not None:
        depthwise_defaults["activation_fn"] = depthwise_activation_fn
    return slim.arg_scope([slim.conv2d], **conv_defaults), slim.arg_scope([slim.separable_conv2d],
                                                                          **depthwise_defaults)


def _split_1x1(conv_fn, num_ways, divisible_by):
    """`conv_fn`, or `split_conv` in `num_ways` parts where it is `split_conv` (the default)."""
    if conv_fn is split_conv:
        return functools.partial(split_conv, num_ways=num_ways, divisible_by=divisible_by, stride=1)
    return conv_fn


@slim.add_arg_scope
def expanded_conv(input_tensor, num_outputs, expansion_size=expand_input_by_factor(6), stride=1, rate=1,  # noqa: B008
                  kernel_size=(3, 3), residual=True, normalizer_fn=None, split_projection=1,
                  split_expansion=1, split_divisible_by=8, expansion_transform=None,
                  depthwise_location="expansion", depthwise_channel_multiplier=1, endpoints=None,
                  use_explicit_padding=False, padding="SAME", inner_activation_fn=None,
                  depthwise_activation_fn=None, project_activation_fn=tf.identity,
                  depthwise_fn=slim.separable_conv2d, expansion_fn=split_conv, projection_fn=split_conv,
                  scope=None):
    """The inverted residual block; returns its output (an identity named 'output').

    `expansion_size`: the inner depth, or a function of the input depth (`expand_input_by_factor`);
    no 'expand' layer is built when it is not larger than the input depth. `depthwise_location`
    ('expansion', 'input', 'output' or None) places the depthwise convolution. `residual` may be a
    function (input_tensor, output_tensor) -> output. `use_explicit_padding` pads explicitly before
    the depthwise convolution and runs it with VALID padding. `endpoints`, a dict, receives
    'expansion_output', 'depthwise_output' and 'projection_output'.
    """
    if depthwise_location not in (None, "input", "output", "expansion"):
        raise TypeError("%r is unknown value for depthwise_location" % depthwise_location)
    if use_explicit_padding:
        if padding != "SAME":
            raise TypeError("`use_explicit_padding` should only be used with \"SAME\" padding.")
        padding = "VALID"
    conv_scope, depthwise_scope = _block_arg_scopes(inner_activation_fn, depthwise_activation_fn)
    with tf.variable_scope(scope, default_name="expanded_conv") as block_scope, \
            tf.name_scope(block_scope.original_name_scope), conv_scope, depthwise_scope:
        depth_in = input_tensor.get_shape().as_list()[3]

        def depthwise(net, **kwargs):
            if use_explicit_padding:
                net = fixed_padding(net, kernel_size, rate)
            net = depthwise_fn(net, num_outputs=None, kernel_size=kernel_size,
                               depth_multiplier=depthwise_channel_multiplier, stride=stride, rate=rate,
                               normalizer_fn=normalizer_fn, padding=padding, scope="depthwise", **kwargs)
            return _record(endpoints, "depthwise_output", net)

        input_tensor = net = tf.identity(input_tensor, "input")
        if depthwise_location == "input":
            net = depthwise(net, activation_fn=None)
        inner_size = expansion_size(num_inputs=depth_in) if callable(expansion_size) else expansion_size
        if inner_size > net.shape[3]:
            expand = _split_1x1(expansion_fn, split_expansion, split_divisible_by)
            net = _record(endpoints, "expansion_output",
                          expand(net, inner_size, scope="expand", normalizer_fn=normalizer_fn))
        if depthwise_location == "expansion":
            net = depthwise(net)
        if expansion_transform:
            net = expansion_transform(expansion_tensor=net, input_tensor=input_tensor)
        net = _split_1x1(projection_fn, split_projection, split_divisible_by)(
            net, num_outputs, scope="project", normalizer_fn=normalizer_fn, activation_fn=project_activation_fn)
        if endpoints is not None:
            endpoints["projection_output"] = net
        if depthwise_location == "output":
            net = depthwise(net, activation_fn=None)
        if callable(residual):
            net = residual(input_tensor=input_tensor, output_tensor=net)
        elif residual and stride == 1 and net.get_shape().as_list()[3] == depth_in:
            net += input_tensor
        return tf.identity(net, name="output")
