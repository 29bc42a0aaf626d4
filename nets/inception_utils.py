"""Pieces shared by the Inception networks written here (v4, Inception-ResNet v2)."""
from core.compat import slim, tf


def conv(depth, kernel, scope, **kwargs):
    """A branch step: `slim.conv2d(net, depth, kernel, scope=scope, **kwargs)`."""
    return lambda net: slim.conv2d(net, depth, kernel, scope=scope, **kwargs)


def avg_pool(kernel, scope, **kwargs):
    return lambda net: slim.avg_pool2d(net, kernel, scope=scope, **kwargs)


def max_pool(kernel, scope, **kwargs):
    return lambda net: slim.max_pool2d(net, kernel, scope=scope, **kwargs)


def split(*steps):
    """A final branch step whose parallel outputs are concatenated (Inception-C's 1x3 / 3x1 pair)."""
    return lambda net: tf.concat([step(net) for step in steps], axis=3)


def branches(net, *branch_steps):
    """Runs each list of steps on `net` under 'Branch_<i>' and concatenates them on channels."""
    outputs = []
    for index, steps in enumerate(branch_steps):
        with tf.variable_scope("Branch_%d" % index):
            out = net
            for step in steps:
                out = step(out)
            outputs.append(out)
    return tf.concat(outputs, axis=3)


def inception_arg_scope(weight_decay=0.00004, use_batch_norm=True, batch_norm_decay=0.9997,
                        batch_norm_epsilon=0.001, activation_fn=tf.nn.relu, batch_norm_scale=False):
    """research/slim's common Inception scope: He-initialized, batch-normed ReLU convolutions."""
    batch_norm_params = {"decay": batch_norm_decay, "epsilon": batch_norm_epsilon,
                         "updates_collections": tf.GraphKeys.UPDATE_OPS, "fused": None,
                         "scale": batch_norm_scale}
    with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        weights_regularizer=slim.l2_regularizer(weight_decay)):
        with slim.arg_scope([slim.conv2d], weights_initializer=slim.variance_scaling_initializer(),
                            activation_fn=activation_fn,
                            normalizer_fn=slim.batch_norm if use_batch_norm else None,
                            normalizer_params=batch_norm_params if use_batch_norm else {}) as scope:
            return scope
