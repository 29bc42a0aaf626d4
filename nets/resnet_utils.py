"""The building blocks shared by ResNet v1 and v2, as research/slim defines them.

A network is a list of `Block`s: a scope ('block1' ...), a unit function (a bottleneck) and one
dict of arguments per unit ('depth', 'depth_bottleneck', 'stride'). `stack_blocks_dense` runs them,
each unit under 'unit_<i>'. With `output_stride` it stops striding once the activations are that many
times smaller than the input and dilates the later 3x3 convolutions instead (atrous convolution), so
the features stay denser at the same receptive field.
"""
import collections
import contextlib

from core.compat import slim, tf


class Block(collections.namedtuple("Block", ["scope", "unit_fn", "args"])):
    """A ResNet block: `unit_fn(net, **args[i])` for each unit i, under variable scope `scope`."""


def subsample(inputs, factor, scope=None):
    """Keeps every `factor`-th pixel (a 1x1 max pool), or `inputs` itself when factor is 1."""
    if factor == 1:
        return inputs
    return slim.max_pool2d(inputs, [1, 1], stride=factor, scope=scope)


def conv2d_same(inputs, num_outputs, kernel_size, stride, rate=1, scope=None):
    """A strided convolution whose output does not depend on the input size's parity.

    With stride 1 it is a SAME convolution. With a larger stride, the input is padded explicitly
    (as SAME would for an odd input) and convolved with VALID padding, so pixel (0, 0) stays aligned.
    """
    if stride == 1:
        return slim.conv2d(inputs, num_outputs, kernel_size, stride=1, rate=rate, padding="SAME",
                           scope=scope)
    effective = kernel_size + (kernel_size - 1) * (rate - 1)
    before = (effective - 1) // 2
    after = effective - 1 - before
    inputs = tf.pad(inputs, [[0, 0], [before, after], [before, after], [0, 0]])
    return slim.conv2d(inputs, num_outputs, kernel_size, stride=stride, rate=rate, padding="VALID",
                       scope=scope)


@slim.add_arg_scope
def stack_blocks_dense(net, blocks, output_stride=None, store_non_strided_activations=False,
                       outputs_collections=None):
    """Runs `blocks` on `net`; returns the output.

    `output_stride`: the ratio of input to output resolution wanted (None: as the blocks stride).
    Once reached, units run with stride 1 and their atrous rate grows by the stride they skip.
    `store_non_strided_activations`: the last unit of each block runs with stride 1 and the block's
    output is subsampled afterwards, so the block's end point holds the full-resolution activations.
    """
    current_stride = 1
    rate = 1
    for block in blocks:
        with tf.variable_scope(block.scope, "block", [net]) as scope:
            block_stride = 1
            for index, unit in enumerate(block.args):
                if store_non_strided_activations and index == len(block.args) - 1:
                    block_stride = unit.get("stride", 1)
                    unit = dict(unit, stride=1)
                with tf.variable_scope("unit_%d" % (index + 1), values=[net]):
                    if output_stride is not None and current_stride == output_stride:
                        net = block.unit_fn(net, rate=rate, **dict(unit, stride=1))
                        rate *= unit.get("stride", 1)
                    else:
                        net = block.unit_fn(net, rate=1, **unit)
                        current_stride *= unit.get("stride", 1)
                        if output_stride is not None and current_stride > output_stride:
                            raise ValueError("The target output_stride cannot be reached.")
            net = slim.utils.collect_named_outputs(outputs_collections, scope.name, net)
            if output_stride is not None and current_stride == output_stride:
                rate *= block_stride
            else:
                net = subsample(net, block_stride)
                current_stride *= block_stride
                if output_stride is not None and current_stride > output_stride:
                    raise ValueError("The target output_stride cannot be reached.")
    if output_stride is not None and current_stride != output_stride:
        raise ValueError("The target output_stride cannot be reached.")
    return net


def bottleneck_block(scope, unit_fn, base_depth, num_units, stride):
    """A block of `num_units` bottleneck units of `base_depth` channels (output 4x that), striding in the last."""
    unit = {"depth": base_depth * 4, "depth_bottleneck": base_depth, "stride": 1}
    return Block(scope, unit_fn, [unit] * (num_units - 1) + [dict(unit, stride=stride)])


# Units per block of each depth; blocks 1-4 have base depths 64, 128, 256, 512.
UNITS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3), 200: (3, 24, 36, 3)}


def blocks_for(layers, block_fn, min_base_depth=8, depth_multiplier=1):
    """research/slim's four blocks of a ResNet of `layers` layers (50, 101, 152, 200); `block_fn` is
    `resnet_v1_block` or `resnet_v2_block`."""
    def base_depth(depth):
        return max(int(depth * depth_multiplier), min_base_depth)

    return [block_fn("block%d" % (index + 1), base_depth=base_depth(depth), num_units=units,
                     stride=1 if index == 3 else 2)
            for index, (depth, units) in enumerate(zip((64, 128, 256, 512), UNITS[layers]))]


def resnet(inputs, blocks, unit_fn, pre_activation, num_classes, is_training, global_pool, output_stride,
           include_root_block, spatial_squeeze, store_non_strided_activations, reuse, scope, default_scope):
    """ResNet v1 (`pre_activation=False`) or v2: the root block 'conv1' / 'pool1', `blocks`, v2's 'postnorm'
    and `logits_head`. `unit_fn` is the version's bottleneck. Returns (logits or features, end_points)."""
    with tf.variable_scope(scope, default_scope, [inputs], reuse=reuse) as net_scope:
        collection = net_scope.original_name_scope + "_end_points"
        with slim.arg_scope([slim.conv2d, unit_fn, stack_blocks_dense], outputs_collections=collection), \
                (slim.arg_scope([slim.batch_norm], is_training=is_training) if is_training is not None
                 else contextlib.nullcontext()):
            net = inputs
            if include_root_block:
                if output_stride is not None:
                    if output_stride % 4 != 0:
                        raise ValueError("The output_stride needs to be a multiple of 4.")
                    output_stride /= 4
                # In v2, the first unit's 'preact' normalizes conv1's output.
                with (slim.arg_scope([slim.conv2d], activation_fn=None, normalizer_fn=None) if pre_activation
                      else contextlib.nullcontext()):
                    net = conv2d_same(net, 64, 7, stride=2, scope="conv1")
                net = slim.max_pool2d(net, [3, 3], stride=2, scope="pool1")
            net = stack_blocks_dense(net, blocks, output_stride, store_non_strided_activations)
            if pre_activation:
                net = slim.batch_norm(net, activation_fn=tf.nn.relu, scope="postnorm")
            end_points = slim.utils.convert_collection_to_dict(collection)
            return logits_head(net, end_points, net_scope, num_classes, global_pool, spatial_squeeze)


def logits_head(net, end_points, net_scope, num_classes, global_pool, spatial_squeeze):
    """The classification layers of ResNet v1 and v2: global pooling (`pool5`), the 1x1 `logits`
    convolution, its squeeze and the softmax `predictions`. Returns (net, end_points): the pooled features
    without `num_classes`."""
    if global_pool:
        net = end_points["global_pool"] = tf.reduce_mean(net, [1, 2], keepdims=True, name="pool5")
    if num_classes:
        net = slim.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None, scope="logits")
        end_points[net_scope.name + "/logits"] = net
        if spatial_squeeze:
            net = tf.squeeze(net, [1, 2], name="SpatialSqueeze")
            end_points[net_scope.name + "/spatial_squeeze"] = net
        end_points["predictions"] = slim.softmax(net, scope="predictions")
    return net, end_points


def resnet_arg_scope(weight_decay=0.0001, batch_norm_decay=0.997, batch_norm_epsilon=1e-5,
                     batch_norm_scale=True, activation_fn=tf.nn.relu, use_batch_norm=True,
                     batch_norm_updates_collections=tf.GraphKeys.UPDATE_OPS):
    """He-initialized, L2-regularized, batch-normed convolutions; SAME max pools."""
    batch_norm_params = {"decay": batch_norm_decay, "epsilon": batch_norm_epsilon,
                         "scale": batch_norm_scale, "updates_collections": batch_norm_updates_collections,
                         "fused": None}
    with slim.arg_scope([slim.conv2d], weights_regularizer=slim.l2_regularizer(weight_decay),
                        weights_initializer=slim.variance_scaling_initializer(),
                        activation_fn=activation_fn,
                        normalizer_fn=slim.batch_norm if use_batch_norm else None,
                        normalizer_params=batch_norm_params):
        with slim.arg_scope([slim.batch_norm], **batch_norm_params):
            with slim.arg_scope([slim.max_pool2d], padding="SAME") as scope:
                return scope


def named_variant(network_fn, name, title, default_image_size):
    """`network_fn` (one depth of a ResNet version) named `name`, as research/slim names its functions."""
    network_fn.__name__ = network_fn.__qualname__ = name
    network_fn.__doc__ = "%s; returns (logits or features, end_points)." % title
    network_fn.default_image_size = default_image_size
    return network_fn

