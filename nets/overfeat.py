"""OverFeat (Sermanet et al., 2014) as research/slim builds it.

'conv1' (11x11, stride 4, VALID, 64), 'pool1', 'conv2' (5x5 VALID, 256), 'pool2', 'conv3' (512),
'conv4' / 'conv5' (1024, all 3x3), 'pool5' (2x2 VALID pools), then the fully connected layers as
convolutions (`nets.fc_conv`): 'fc6' (6x6, 3072), 'fc7' (4096) and 'fc8' ('overfeat/fc8/squeezed').
research/slim builds no softmax here; `nets_factory` adds 'overfeat/predictions' for freezing.

Arguments are research/slim's: `num_classes` (0 or None: the fc7 features), `is_training`,
`dropout_keep_prob`, `spatial_squeeze`, `scope` and `global_pool`.
"""
from core.compat import slim, tf
from nets import fc_conv
from nets.catalog import get_spec


def overfeat_arg_scope(weight_decay=0.0005):
    """ReLU, zero biases, L2 `weight_decay`; SAME convolutions and VALID max pools."""
    return fc_conv.arg_scope(weight_decay, tf.zeros_initializer())


def overfeat(inputs, num_classes=1000, is_training=True, dropout_keep_prob=0.5, spatial_squeeze=True,
             scope="overfeat", global_pool=False):
    """Returns (logits [batch, num_classes], end_points); with no `num_classes`, the fc7 features."""
    with fc_conv.collected_end_points(scope, "overfeat", inputs) as (net_scope, collection):
        net = slim.conv2d(inputs, 64, [11, 11], 4, padding="VALID", scope="conv1")
        net = slim.max_pool2d(net, [2, 2], scope="pool1")
        net = slim.conv2d(net, 256, [5, 5], padding="VALID", scope="conv2")
        net = slim.max_pool2d(net, [2, 2], scope="pool2")
        net = slim.conv2d(net, 512, [3, 3], scope="conv3")
        net = slim.conv2d(net, 1024, [3, 3], scope="conv4")
        net = slim.conv2d(net, 1024, [3, 3], scope="conv5")
        net = slim.max_pool2d(net, [2, 2], scope="pool5")
        with slim.arg_scope([slim.conv2d], weights_initializer=tf.truncated_normal_initializer(0.0, 0.005),
                            biases_initializer=tf.constant_initializer(0.1)):
            return fc_conv.classifier(net, net_scope, collection, num_classes, is_training,
                                      dropout_keep_prob, spatial_squeeze, global_pool, [6, 6], 3072,
                                      logits_biases_initializer=tf.zeros_initializer())


overfeat.default_image_size = get_spec("overfeat").default_image_size
