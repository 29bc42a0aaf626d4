"""VGG (Simonyan and Zisserman, 2014) as research/slim builds it: vgg_a (11 layers), vgg_16, vgg_19.

Five blocks of 3x3 SAME convolutions 'conv<b>/conv<b>_<i>' (64, 128, 256, 512, 512 filters), each
followed by a 2x2 max pool 'pool<b>', then the fully connected layers as convolutions (`nets.fc_conv`):
'fc6' (7x7, 4096), 'fc7' (1x1, 4096) and 'fc8' (the logits, 'vgg_16/fc8/squeezed'). research/slim
builds no softmax here; `nets_factory` adds 'vgg_16/predictions' for freezing.

Arguments are research/slim's: `num_classes` (0 or None: the fc7 features), `is_training`,
`dropout_keep_prob`, `spatial_squeeze`, `reuse`, `scope`, `fc_conv_padding` ('SAME' gives a map of
logits downsampled 32 times on any input) and `global_pool`.
"""
from core.compat import slim, tf
from nets import fc_conv
from nets.catalog import get_spec

_DEPTHS = (64, 128, 256, 512, 512)
# Convolutions in each of the five blocks.
_REPEATS = {"vgg_a": (1, 1, 2, 2, 2), "vgg_16": (2, 2, 3, 3, 3), "vgg_19": (2, 2, 4, 4, 4)}


def vgg_arg_scope(weight_decay=0.0005):
    """ReLU, L2 `weight_decay` on the weights, zero biases, SAME convolutions."""
    with slim.arg_scope([slim.conv2d, slim.fully_connected], activation_fn=tf.nn.relu,
                        weights_regularizer=slim.l2_regularizer(weight_decay),
                        biases_initializer=tf.zeros_initializer()):
        with slim.arg_scope([slim.conv2d], padding="SAME") as scope:
            return scope


def _vgg(name, inputs, num_classes, is_training, dropout_keep_prob, spatial_squeeze, reuse, scope,
         fc_conv_padding, global_pool):
    with fc_conv.collected_end_points(scope, name, inputs, reuse) as (net_scope, collection):
        net = inputs
        for block, (repeats, depth) in enumerate(zip(_REPEATS[name], _DEPTHS), start=1):
            net = slim.repeat(net, repeats, slim.conv2d, depth, [3, 3], scope="conv%d" % block)
            net = slim.max_pool2d(net, [2, 2], scope="pool%d" % block)
        return fc_conv.classifier(net, net_scope, collection, num_classes, is_training, dropout_keep_prob,
                                  spatial_squeeze, global_pool, [7, 7], 4096, fc_conv_padding)


def vgg_a(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.5, spatial_squeeze=True,
          reuse=None, scope="vgg_a", fc_conv_padding="VALID", global_pool=False):
    """VGG 11 layers (configuration A); returns (logits or features, end_points)."""
    return _vgg("vgg_a", inputs, num_classes, is_training, dropout_keep_prob, spatial_squeeze, reuse,
                scope, fc_conv_padding, global_pool)


def vgg_16(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.5, spatial_squeeze=True,
           reuse=None, scope="vgg_16", fc_conv_padding="VALID", global_pool=False):
    """VGG 16 layers (configuration D); returns (logits or features, end_points)."""
    return _vgg("vgg_16", inputs, num_classes, is_training, dropout_keep_prob, spatial_squeeze, reuse,
                scope, fc_conv_padding, global_pool)


def vgg_19(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.5, spatial_squeeze=True,
           reuse=None, scope="vgg_19", fc_conv_padding="VALID", global_pool=False):
    """VGG 19 layers (configuration E); returns (logits or features, end_points)."""
    return _vgg("vgg_19", inputs, num_classes, is_training, dropout_keep_prob, spatial_squeeze, reuse,
                scope, fc_conv_padding, global_pool)


for _function in (vgg_a, vgg_16, vgg_19):
    _function.default_image_size = get_spec(_function.__name__).default_image_size
vgg_d = vgg_16
vgg_e = vgg_19
