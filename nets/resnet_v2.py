"""ResNet v2 (He et al., 2016: pre-activation units), as research/slim builds it: 50 to 200 layers.

'conv1' (7x7, stride 2, no batch norm or activation), 'pool1', then blocks 'block1'-'block4' of
units 'unit_<i>/bottleneck_v2' ('preact' batch norm + ReLU, 'shortcut', 'conv1' 1x1, 'conv2' 3x3,
'conv3' 1x1 without batch norm), then 'postnorm' (batch norm + ReLU), 'pool5' (end point
'global_pool'), the 1x1 'logits', 'SpatialSqueeze' (the logits) and 'predictions'
('resnet_v2_50/predictions/Reshape_1').

Arguments are research/slim's: the generic `resnet_v2(inputs, blocks, num_classes, is_training,
global_pool, output_stride, include_root_block, spatial_squeeze, reuse, scope)` and `resnet_v2_50`...
As an extension with research/slim's ResNet v1 semantics, `store_non_strided_activations`,
`min_base_depth` and `depth_multiplier` work here too; their defaults build research/slim's network.
"""
from core.compat import slim, tf
from nets import resnet_utils
from nets.catalog import get_spec

resnet_arg_scope = resnet_utils.resnet_arg_scope


@slim.add_arg_scope
def bottleneck(inputs, depth, depth_bottleneck, stride, rate=1, outputs_collections=None, scope=None):
    """A pre-activation bottleneck: shortcut + conv3(conv2(conv1(preact(inputs))))."""
    with tf.variable_scope(scope, "bottleneck_v2", [inputs]) as unit_scope:
        depth_in = slim.utils.last_dimension(inputs.get_shape(), min_rank=4)
        preact = slim.batch_norm(inputs, activation_fn=tf.nn.relu, scope="preact")
        if depth == depth_in:
            shortcut = resnet_utils.subsample(inputs, stride, "shortcut")
        else:
            shortcut = slim.conv2d(preact, depth, [1, 1], stride=stride, normalizer_fn=None,
                                   activation_fn=None, scope="shortcut")
        residual = slim.conv2d(preact, depth_bottleneck, [1, 1], stride=1, scope="conv1")
        residual = resnet_utils.conv2d_same(residual, depth_bottleneck, 3, stride, rate=rate, scope="conv2")
        residual = slim.conv2d(residual, depth, [1, 1], stride=1, normalizer_fn=None, activation_fn=None,
                               scope="conv3")
        return slim.utils.collect_named_outputs(outputs_collections, unit_scope.name, shortcut + residual)


def resnet_v2(inputs, blocks, num_classes=None, is_training=True, global_pool=True, output_stride=None,
              include_root_block=True, spatial_squeeze=True, reuse=None, scope=None,
              store_non_strided_activations=False):
    """Runs `blocks` (see `resnet_utils.Block`); returns (logits or features, end_points).

    The arguments work as in `nets.resnet_v1.resnet_v1`.
    """
    return resnet_utils.resnet(inputs, blocks, bottleneck, True, num_classes, is_training, global_pool,
                               output_stride, include_root_block, spatial_squeeze, store_non_strided_activations,
                               reuse, scope, "resnet_v2")


resnet_v2.default_image_size = get_spec("resnet_v2_50").default_image_size  # every depth's


def resnet_v2_block(scope, base_depth, num_units, stride):
    """A block of `num_units` bottlenecks of `base_depth` (output 4x that), striding in the last."""
    return resnet_utils.bottleneck_block(scope, bottleneck, base_depth, num_units, stride)


def _named(layers):
    name = "resnet_v2_%d" % layers

    def network_fn(inputs, num_classes=None, is_training=True, global_pool=True, output_stride=None,
                   spatial_squeeze=True, reuse=None, scope=name, store_non_strided_activations=False,
                   min_base_depth=8, depth_multiplier=1):
        blocks = resnet_utils.blocks_for(layers, resnet_v2_block, min_base_depth, depth_multiplier)
        return resnet_v2(inputs, blocks, num_classes, is_training=is_training, global_pool=global_pool,
                         output_stride=output_stride, include_root_block=True, spatial_squeeze=spatial_squeeze,
                         reuse=reuse, scope=scope, store_non_strided_activations=store_non_strided_activations)

    return resnet_utils.named_variant(network_fn, name, "ResNet-%d v2" % layers, resnet_v2.default_image_size)


resnet_v2_50 = _named(50)
resnet_v2_101 = _named(101)
resnet_v2_152 = _named(152)
resnet_v2_200 = _named(200)
