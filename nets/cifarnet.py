"""CifarNet: the small CIFAR-10 network of research/slim (two 5x5 convolutions, LRN, three FC layers).

Scope and end point names follow research/slim so its checkpoints restore: 'CifarNet/conv1',
'CifarNet/fc3', 'CifarNet/logits', predictions at 'CifarNet/Predictions/Reshape_1'.
"""
from core.compat import slim, tf
from nets.catalog import get_spec


def cifarnet(images, num_classes=10, is_training=False, dropout_keep_prob=0.5,
             prediction_fn=slim.softmax, scope="CifarNet"):
    """Returns (logits [batch, num_classes], end_points); with no `num_classes`, the fc4 features."""
    end_points = {}
    with tf.variable_scope(scope, "CifarNet", [images]):
        net = end_points["conv1"] = slim.conv2d(images, 64, [5, 5], scope="conv1")
        net = end_points["pool1"] = slim.max_pool2d(net, [2, 2], 2, scope="pool1")
        net = tf.nn.lrn(net, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75, name="norm1")
        net = end_points["conv2"] = slim.conv2d(net, 64, [5, 5], scope="conv2")
        net = tf.nn.lrn(net, 4, bias=1.0, alpha=0.001 / 9.0, beta=0.75, name="norm2")
        net = end_points["pool2"] = slim.max_pool2d(net, [2, 2], 2, scope="pool2")
        net = end_points["Flatten"] = slim.flatten(net)
        net = end_points["fc3"] = slim.fully_connected(net, 384, scope="fc3")
        net = slim.dropout(net, dropout_keep_prob, is_training=is_training, scope="dropout3")
        net = end_points["fc4"] = slim.fully_connected(net, 192, scope="fc4")
        if not num_classes:
            return net, end_points
        logits = end_points["Logits"] = slim.fully_connected(
            net, num_classes, activation_fn=None, weights_regularizer=None,
            weights_initializer=tf.truncated_normal_initializer(stddev=1 / 192.0),
            biases_initializer=tf.zeros_initializer(), scope="logits")
        end_points["Predictions"] = prediction_fn(logits, scope="Predictions")
    return logits, end_points


cifarnet.default_image_size = get_spec("cifarnet").default_image_size


def cifarnet_arg_scope(weight_decay=0.004):
    """ReLU everywhere; L2 `weight_decay` on the fully connected weights only, as in research/slim."""
    with slim.arg_scope([slim.conv2d], activation_fn=tf.nn.relu,
                        weights_initializer=tf.truncated_normal_initializer(stddev=5e-2)):
        with slim.arg_scope([slim.fully_connected], activation_fn=tf.nn.relu,
                            weights_initializer=tf.truncated_normal_initializer(stddev=0.04),
                            biases_initializer=tf.constant_initializer(0.1),
                            weights_regularizer=slim.l2_regularizer(weight_decay)) as scope:
            return scope
