"""ResNet v1 (He et al., 2015) with bottleneck units, as research/slim builds it: 50 to 200 layers.

'conv1' (7x7, stride 2, explicit padding), 'pool1' (3x3 max, stride 2), then blocks 'block1'-'block4'
of bottleneck units 'unit_<i>/bottleneck_v1' ('shortcut', 'conv1' 1x1, 'conv2' 3x3, 'conv3' 1x1 with
4x the bottleneck depth). research/slim strides in the last unit of blocks 1-3, for an output
stride of 32. Then 'pool5' (global average, end point 'global_pool'), the 1x1 'logits' convolution,
'SpatialSqueeze' (the logits) and 'predictions' (the softmax, 'resnet_v1_50/predictions/Reshape_1').
End points are every convolution, unit and block under its scope name ('resnet_v1_50/block1').

Arguments are research/slim's: the generic `resnet_v1(inputs, blocks, num_classes, is_training,
global_pool, output_stride, include_root_block, spatial_squeeze, store_non_strided_activations,
reuse, scope)` and `resnet_v1_50`... with `min_base_depth` and `depth_multiplier`, which give every
block max(int(base_depth * depth_multiplier), min_base_depth) bottleneck channels. `num_classes=None`
(the default) returns the features; `is_training=None` leaves batch norm's mode to the arg scope.
"""
from core.compat import slim, tf
from nets import resnet_utils
from nets.catalog import get_spec

resnet_arg_scope = resnet_utils.resnet_arg_scope


@slim.add_arg_scope
def bottleneck(inputs, depth, depth_bottleneck, stride, rate=1, outputs_collections=None, scope=None,
               use_bounded_activations=False):
    """A bottleneck unit: ReLU(shortcut + conv3(conv2(conv1(inputs)))), batch norm after each conv.

    The shortcut is `inputs` (subsampled by `stride`) when the depths match, else a strided 1x1
    convolution. `use_bounded_activations` clips the residual and uses ReLU6 (for quantization).
    """
    with tf.variable_scope(scope, "bottleneck_v1", [inputs]) as unit_scope:
        depth_in = slim.utils.last_dimension(inputs.get_shape(), min_rank=4)
        if depth == depth_in:
            shortcut = resnet_utils.subsample(inputs, stride, "shortcut")
        else:
            shortcut = slim.conv2d(inputs, depth, [1, 1], stride=stride,
                                   activation_fn=tf.nn.relu6 if use_bounded_activations else None,
                                   scope="shortcut")
        residual = slim.conv2d(inputs, depth_bottleneck, [1, 1], stride=1, scope="conv1")
        residual = resnet_utils.conv2d_same(residual, depth_bottleneck, 3, stride, rate=rate, scope="conv2")
        residual = slim.conv2d(residual, depth, [1, 1], stride=1, activation_fn=None, scope="conv3")
        if use_bounded_activations:
            output = tf.nn.relu6(shortcut + tf.clip_by_value(residual, -6.0, 6.0))
        else:
            output = tf.nn.relu(shortcut + residual)
        return slim.utils.collect_named_outputs(outputs_collections, unit_scope.name, output)


def resnet_v1(inputs, blocks, num_classes=None, is_training=True, global_pool=True, output_stride=None,
              include_root_block=True, spatial_squeeze=True, store_non_strided_activations=False,
              reuse=None, scope=None):
    """Runs `blocks` (see `resnet_utils.Block`); returns (logits or features, end_points).

    `output_stride` (a multiple of 4 with the root block) keeps the features that much smaller than
    the input, with atrous convolutions after that. `global_pool=False` keeps the spatial map (e.g.
    for dense prediction); `spatial_squeeze=False` keeps logits as [batch, 1, 1, classes].
    """
    return resnet_utils.resnet(inputs, blocks, bottleneck, False, num_classes, is_training, global_pool,
                               output_stride, include_root_block, spatial_squeeze, store_non_strided_activations,
                               reuse, scope, "resnet_v1")


resnet_v1.default_image_size = get_spec("resnet_v1_50").default_image_size  # every depth's


def resnet_v1_block(scope, base_depth, num_units, stride):
    """A block of `num_units` bottlenecks of `base_depth` (output 4x that), striding in the last."""
    return resnet_utils.bottleneck_block(scope, bottleneck, base_depth, num_units, stride)


def _named(layers):
    name = "resnet_v1_%d" % layers

    def network_fn(inputs, num_classes=None, is_training=True, global_pool=True, output_stride=None,
                   spatial_squeeze=True, store_non_strided_activations=False, min_base_depth=8,
                   depth_multiplier=1, reuse=None, scope=name):
        blocks = resnet_utils.blocks_for(layers, resnet_v1_block, min_base_depth, depth_multiplier)
        return resnet_v1(inputs, blocks, num_classes, is_training, global_pool=global_pool,
                         output_stride=output_stride, include_root_block=True, spatial_squeeze=spatial_squeeze,
                         store_non_strided_activations=store_non_strided_activations, reuse=reuse, scope=scope)

    return resnet_utils.named_variant(network_fn, name, "ResNet-%d v1" % layers, resnet_v1.default_image_size)


resnet_v1_50 = _named(50)
resnet_v1_101 = _named(101)
resnet_v1_152 = _named(152)
resnet_v1_200 = _named(200)
