"""The classifier of AlexNet, OverFeat and VGG: fully connected layers written as convolutions.

research/slim builds 'fc6' (a VALID convolution as large as the last feature map at the default
image size), 'dropout6', the 1x1 'fc7', and with classes 'dropout7' and the 1x1 'fc8' logits,
squeezed to [batch, classes] as 'fc8/squeezed'. On a larger input the head slides, giving a map of
logits (keep it with `spatial_squeeze=False`), or `global_pool=True` averages fc7 to 1x1 first.

End points are collected as research/slim does, through an outputs collection named after the
network's name scope: every convolution and max pool under its scope name ('vgg_16/conv1/conv1_1',
'vgg_16/pool1'), then 'global_pool' and '<scope>/fc8' (the logits).
"""
import contextlib

from core.compat import slim, tf


def arg_scope(weight_decay, biases_initializer):
    """AlexNet's and OverFeat's arg scope: ReLU, L2 `weight_decay` on the weights, `biases_initializer`;
    SAME convolutions and VALID max pools."""
    with slim.arg_scope([slim.conv2d, slim.fully_connected], activation_fn=tf.nn.relu,
                        biases_initializer=biases_initializer, weights_regularizer=slim.l2_regularizer(weight_decay)):
        with slim.arg_scope([slim.conv2d], padding="SAME"):
            with slim.arg_scope([slim.max_pool2d], padding="VALID") as scope:
                return scope


@contextlib.contextmanager
def collected_end_points(scope, default_scope, inputs, reuse=None):
    """Opens the network's variable scope with its convolutions and max pools collected.

    Yields (variable scope, collection name); `slim.utils.convert_collection_to_dict` reads them back.
    """
    with tf.variable_scope(scope, default_scope, [inputs], reuse=reuse) as net_scope:
        collection = net_scope.original_name_scope + "_end_points"
        with slim.arg_scope([slim.conv2d, slim.fully_connected, slim.max_pool2d],
                            outputs_collections=collection):
            yield net_scope, collection


def classifier(net, net_scope, collection, num_classes, is_training, dropout_keep_prob, spatial_squeeze,
               global_pool, fc6_kernel, fc6_depth, fc_conv_padding="VALID", logits_biases_initializer=None):
    """fc6 to fc8 on `net`; returns (logits, or the fc7 features without classes, end_points)."""
    net = slim.conv2d(net, fc6_depth, fc6_kernel, padding=fc_conv_padding, scope="fc6")
    net = slim.dropout(net, dropout_keep_prob, is_training=is_training, scope="dropout6")
    net = slim.conv2d(net, 4096, [1, 1], scope="fc7")
    end_points = slim.utils.convert_collection_to_dict(collection)
    if global_pool:
        net = end_points["global_pool"] = tf.reduce_mean(net, [1, 2], keepdims=True, name="global_pool")
    if not num_classes:
        return net, end_points
    net = slim.dropout(net, dropout_keep_prob, is_training=is_training, scope="dropout7")
    extra = {} if logits_biases_initializer is None else {"biases_initializer": logits_biases_initializer}
    net = slim.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None, scope="fc8",
                      **extra)
    if spatial_squeeze:
        net = tf.squeeze(net, [1, 2], name="fc8/squeezed")
    end_points[net_scope.name + "/fc8"] = net
    return net, end_points
