"""LeNet as research/slim builds it for MNIST (two 5x5 convolutions, fc3 of 1024, fc4 logits).

Scope names follow research/slim ('LeNet/conv1', 'LeNet/fc4'). As there, the predictions are built
outside the 'LeNet' scope: the softmax output is 'Predictions/Reshape_1'.
"""
from core.compat import slim, tf
from nets.catalog import get_spec


def lenet(images, num_classes=10, is_training=False, dropout_keep_prob=0.5,
          prediction_fn=slim.softmax, scope="LeNet"):
    """Returns (logits [batch, num_classes], end_points); with no `num_classes`, the fc3 features."""
    end_points = {}
    with tf.variable_scope(scope, "LeNet", [images]):
        net = end_points["conv1"] = slim.conv2d(images, 32, [5, 5], scope="conv1")
        net = end_points["pool1"] = slim.max_pool2d(net, [2, 2], 2, scope="pool1")
        net = end_points["conv2"] = slim.conv2d(net, 64, [5, 5], scope="conv2")
        net = end_points["pool2"] = slim.max_pool2d(net, [2, 2], 2, scope="pool2")
        net = end_points["Flatten"] = slim.flatten(net)
        net = end_points["fc3"] = slim.fully_connected(net, 1024, scope="fc3")
        if not num_classes:
            return net, end_points
        net = end_points["dropout3"] = slim.dropout(net, dropout_keep_prob, is_training=is_training,
                                                    scope="dropout3")
        logits = end_points["Logits"] = slim.fully_connected(net, num_classes, activation_fn=None,
                                                             scope="fc4")
    end_points["Predictions"] = prediction_fn(logits, scope="Predictions")
    return logits, end_points


lenet.default_image_size = get_spec("lenet").default_image_size


def lenet_arg_scope(weight_decay=0.0):
    """ReLU, truncated normal (0.1) weights with L2 `weight_decay`, as in research/slim."""
    with slim.arg_scope([slim.conv2d, slim.fully_connected], activation_fn=tf.nn.relu,
                        weights_initializer=tf.truncated_normal_initializer(stddev=0.1),
                        weights_regularizer=slim.l2_regularizer(weight_decay)) as scope:
        return scope
