"""The cell machinery shared by NASNet-A (Zoph et al., 2017) and PNASNet-5 (Liu et al., 2017).

A cell takes the output of the previous cell and of the one before it ('prev_layer'). It brings both
to `num_filters` channels and the same resolution (the current input by a ReLU, a 1x1 convolution
'1x1' and 'beginning_bn'; the previous one, when it differs, by '_reduce_prev_layer' below), giving
hidden states 0 and 1. Five combinations 'comb_iter_<i>' each apply one operation to a 'left' and a
'right' hidden state and add the results, making hidden states 2 to 6. The cell's output,
'cell_output', concatenates the states its `CellSpec` names, each first brought to the resolution
and channels of the last state where it differs ('reduction_<index>').

Operations are named as in research/slim: 'separable_<k>x<k>_<n>' (n ReLU / separable convolution /
batch norm layers 'separable_<k>x<k>_<j>' and 'bn_sep_<k>x<k>_<j>'), 'avg_pool_3x3', 'max_pool_3x3'
(with a 1x1 projection '1x1' / 'bn_1' when the channels differ) and 'none' (the identity, or a
ReLU / strided 1x1 / batch norm when a stride or a change of channels is needed). A cell with
stride 2 applies it to the operations that read the cell's two inputs. Every operation but 'none'
goes through drop path when training with a keep probability below one.

Convolutions here have neither activation nor biases: the networks' arg scopes set both.

Data format: activations are NHWC or NCHW. The networks set `data_format` with one arg scope over
the slim layers and the helpers here (`get_channel_index`, `get_channel_dim`, `global_avg_pool`,
`factorized_reduction`), as research/slim does; called on their own, the helpers default to NHWC.
With `use_bounded_activation`, ReLU6 replaces ReLU and the operations' outputs are clipped to
[-6, 6] (research/slim's option for quantized inference).
"""
import dataclasses
import re
from typing import Tuple

from core.compat import slim, tf

DATA_FORMAT_NHWC = "NHWC"
DATA_FORMAT_NCHW = "NCHW"
CLIP_BY_VALUE_CAP = 6

_SEPARABLE = re.compile(r"^separable_(\d)x\1_(\d)$")
_POOL = re.compile(r"^(avg|max)_pool_(\d)x\2$")


@dataclasses.dataclass(frozen=True)
class CellSpec:
    """A cell: five combinations of two (operation, hidden state) pairs, and the states it outputs."""
    combinations: Tuple[Tuple[Tuple[str, int], Tuple[str, int]], ...]
    concatenated: Tuple[int, ...]  # hidden states concatenated into the output, in order


# NASNet-A's cells (research/slim's NasNetANormalCell and NasNetAReductionCell).
NASNET_A_NORMAL = CellSpec(
    combinations=((("separable_5x5_2", 0), ("separable_3x3_2", 1)),
                  (("separable_5x5_2", 1), ("separable_3x3_2", 1)),
                  (("avg_pool_3x3", 0), ("none", 1)),
                  (("avg_pool_3x3", 1), ("avg_pool_3x3", 1)),
                  (("separable_3x3_2", 0), ("none", 0))),
    concatenated=(1, 2, 3, 4, 5, 6))
NASNET_A_REDUCTION = CellSpec(
    combinations=((("separable_5x5_2", 0), ("separable_7x7_2", 1)),
                  (("max_pool_3x3", 0), ("separable_7x7_2", 1)),
                  (("avg_pool_3x3", 0), ("separable_5x5_2", 1)),
                  (("none", 3), ("avg_pool_3x3", 2)),
                  (("separable_3x3_2", 2), ("max_pool_3x3", 0))),
    concatenated=(3, 4, 5, 6))


def calc_reduction_layers(num_cells, num_reduction_layers):
    """The cell numbers at which the resolution halves: evenly spread, e.g. (18, 2) -> [6, 12]."""
    return [int(num_cells * number / (num_reduction_layers + 1))
            for number in range(1, num_reduction_layers + 1)]


def _check_data_format(data_format):
    if data_format not in (DATA_FORMAT_NHWC, DATA_FORMAT_NCHW):
        raise ValueError("Not a valid data_format: %r (use 'NHWC' or 'NCHW')" % (data_format,))


@slim.add_arg_scope
def get_channel_index(data_format=DATA_FORMAT_NHWC):
    """The axis of the channels: 3 for NHWC, 1 for NCHW."""
    _check_data_format(data_format)
    return 3 if data_format == DATA_FORMAT_NHWC else 1


@slim.add_arg_scope
def get_channel_dim(shape, data_format=DATA_FORMAT_NHWC):
    """The number of channels of a 4-D `shape`."""
    _check_data_format(data_format)
    if len(shape) != 4:
        raise ValueError("expected a 4-D shape, got %s" % (shape,))
    return int(shape[3] if data_format == DATA_FORMAT_NHWC else shape[1])


@slim.add_arg_scope
def global_avg_pool(x, data_format=DATA_FORMAT_NHWC):
    """The average over height and width: [batch, channels]."""
    _check_data_format(data_format)
    if x.shape.ndims != 4:
        raise ValueError("expected a 4-D tensor, got shape %s" % x.shape)
    return tf.reduce_mean(x, [1, 2] if data_format == DATA_FORMAT_NHWC else [2, 3])


def _width(net):
    """The last spatial dimension in either format (research/slim compares cells by shape[2])."""
    return int(net.shape[2])


@slim.add_arg_scope
def factorized_reduction(net, output_filters, stride, data_format=DATA_FORMAT_NHWC):
    """Projects `net` to `output_filters` channels; with stride 2, halves its resolution too.

    Stride 2 keeps information striding would drop: half the filters see the even pixels
    ('path1_conv'), the rest see the odd ones (shifted by one pixel, 'path2_conv').
    """
    _check_data_format(data_format)
    if stride == 1:
        net = slim.conv2d(net, output_filters, 1, scope="path_conv")
        return slim.batch_norm(net, scope="path_bn")
    nhwc = data_format == DATA_FORMAT_NHWC
    half = output_filters // 2

    def subsample(tensor):
        return tensor[:, ::stride, ::stride, :] if nhwc else tensor[:, :, ::stride, ::stride]

    even = slim.conv2d(subsample(net), half, 1, scope="path1_conv")
    # Shift by one pixel (a zero row and column enter at the bottom and right) before subsampling.
    if nhwc:
        odd = tf.pad(net, [[0, 0], [0, 1], [0, 1], [0, 0]])[:, 1:, 1:, :]
    else:
        odd = tf.pad(net, [[0, 0], [0, 0], [0, 1], [0, 1]])[:, :, 1:, 1:]
    odd = slim.conv2d(subsample(odd), output_filters - half, 1, scope="path2_conv")
    net = tf.concat([even, odd], axis=3 if nhwc else 1)
    return slim.batch_norm(net, scope="final_path_bn")


@slim.add_arg_scope
def drop_path(net, keep_prob, is_training=True):
    """Zeroes whole examples of `net` with probability 1 - keep_prob, scaling the rest by 1/keep_prob."""
    if not is_training:
        return net
    noise_shape = tf.stack([tf.shape(net)[0], 1, 1, 1])
    keep = tf.floor(keep_prob + tf.random.uniform(noise_shape, dtype=tf.float32))
    return net * (1.0 / keep_prob) * tf.cast(keep, net.dtype)


def drop_path_keep_prob(keep_prob, cell_index, total_num_cells, current_step, total_training_steps):
    """research/slim's drop path schedule, or None when there is no drop path.

    The drop probability 1 - keep_prob grows linearly with depth (cell `cell_index` of
    `total_num_cells`, counting stem and reduction cells) and with training, reaching its full value
    at `total_training_steps` (`current_step`, e.g. the global step).
    """
    if keep_prob >= 1.0:
        return None
    keep_prob = 1.0 - (cell_index + 1) / float(total_num_cells) * (1.0 - keep_prob)
    progress = tf.minimum(1.0, tf.cast(current_step, tf.float32) / float(total_training_steps))
    return 1.0 - progress * (1.0 - keep_prob)


def _reduce_prev_layer(prev_layer, net, num_filters, activation_fn):
    """Brings the previous cell's output to the resolution of `net` and to `num_filters` channels."""
    if prev_layer is None:
        return net
    if _width(prev_layer) != _width(net):
        return factorized_reduction(activation_fn(prev_layer), num_filters, stride=2)
    if get_channel_dim(prev_layer.shape) != num_filters:
        prev_layer = slim.conv2d(activation_fn(prev_layer), num_filters, 1, scope="prev_1x1")
        return slim.batch_norm(prev_layer, scope="prev_bn")
    return prev_layer


def _clip(net):
    return tf.clip_by_value(net, -CLIP_BY_VALUE_CAP, CLIP_BY_VALUE_CAP)


def _apply_operation(net, operation, num_filters, stride, keep_prob, bounded):
    """One of a cell's operations (see the module docstring) on hidden state `net`."""
    activation_fn = tf.nn.relu6 if bounded else tf.nn.relu
    separable = _SEPARABLE.match(operation)
    pool = _POOL.match(operation)
    if separable:
        kernel, layers = int(separable.group(1)), int(separable.group(2))
        for layer in range(1, layers + 1):
            name = "%dx%d_%d" % (kernel, kernel, layer)
            net = slim.separable_conv2d(activation_fn(net), num_filters, kernel, depth_multiplier=1,
                                        stride=stride if layer == 1 else 1, scope="separable_" + name)
            net = slim.batch_norm(net, scope="bn_sep_" + name)
        if bounded:
            net = _clip(net)
    elif pool:
        pool_fn = slim.avg_pool2d if pool.group(1) == "avg" else slim.max_pool2d
        if bounded:
            net = tf.nn.relu6(net)
        net = pool_fn(net, int(pool.group(2)), stride=stride, padding="SAME")
        if get_channel_dim(net.shape) != num_filters:
            net = slim.conv2d(net, num_filters, 1, scope="1x1")
            net = slim.batch_norm(net, scope="bn_1")
        if bounded:
            net = _clip(net)
    elif operation == "none":
        if bounded:
            net = tf.nn.relu6(net)
        if stride > 1 or get_channel_dim(net.shape) != num_filters:
            if not bounded:
                net = tf.nn.relu(net)
            net = slim.conv2d(net, num_filters, 1, stride=stride, scope="1x1")
            net = slim.batch_norm(net, scope="bn_1")
            if bounded:
                net = _clip(net)
        return net
    else:
        raise ValueError("unknown cell operation %r" % operation)
    if keep_prob is not None:
        net = drop_path(net, keep_prob)
    return net


def _concatenate(states, indices):
    """Concatenates `states[indices]`, first bringing each to the last state's resolution and channels."""
    width, channels = _width(states[-1]), get_channel_dim(states[-1].shape)
    outputs = []
    for index in indices:
        state = states[index]
        if _width(state) != width or get_channel_dim(state.shape) != channels:
            with tf.variable_scope("reduction_%d" % index):
                state = factorized_reduction(state, channels, 2 if _width(state) != width else 1)
        outputs.append(state)
    return tf.concat(outputs, axis=get_channel_index())


def cell(net, prev_layer, spec, num_filters, stride=1, keep_prob=None, scope=None,
         use_bounded_activation=False):
    """Runs the cell `spec` on `net` (and `prev_layer`, the output of the cell before it, or None).

    `keep_prob`: the drop path keep probability (see `drop_path_keep_prob`), None for no drop path.
    """
    activation_fn = tf.nn.relu6 if use_bounded_activation else tf.nn.relu
    with tf.variable_scope(scope, "cell"):
        prev_layer = _reduce_prev_layer(prev_layer, net, num_filters, activation_fn)
        net = slim.conv2d(activation_fn(net), num_filters, 1, scope="1x1")
        net = slim.batch_norm(net, scope="beginning_bn")
        states = [net, prev_layer]
        for number, pair in enumerate(spec.combinations):
            with tf.variable_scope("comb_iter_%d" % number):
                outputs = []
                for side, (operation, index) in zip(("left", "right"), pair):
                    with tf.variable_scope(side):
                        outputs.append(_apply_operation(states[index], operation, num_filters,
                                                        stride if index < 2 else 1, keep_prob,
                                                        use_bounded_activation))
                with tf.variable_scope("combine"):
                    combined = tf.add(outputs[0], outputs[1])
                    states.append(tf.nn.relu6(combined) if use_bounded_activation else combined)
        with tf.variable_scope("cell_output"):
            return _concatenate(states, spec.concatenated)
