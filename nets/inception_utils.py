"""Pieces shared by the Inception networks (v1 to v4, Inception-ResNet v2).

A module is written as its branches, each a list of steps (`conv`, `avg_pool`, `max_pool`, `split`);
`branches` runs them under 'Branch_<i>' and concatenates their outputs on the channels.
"""
from core.compat import slim, tf


def conv(depth, kernel, scope, **kwargs):
    """A branch step: `slim.conv2d(net, depth, kernel, scope=scope, **kwargs)`."""
    return lambda net: slim.conv2d(net, depth, kernel, scope=scope, **kwargs)


def avg_pool(kernel, scope, **kwargs):
    return lambda net: slim.avg_pool2d(net, kernel, scope=scope, **kwargs)


def max_pool(kernel, scope, **kwargs):
    return lambda net: slim.max_pool2d(net, kernel, scope=scope, **kwargs)


def split(*steps, axis=3):
    """A final branch step whose parallel outputs are concatenated (Inception-C's 1x3 / 3x1 pair)."""
    return lambda net: tf.concat([step(net) for step in steps], axis=axis)


def branches(net, *branch_steps, axis=3):
    """Runs each list of steps on `net` under 'Branch_<i>' and concatenates them on `axis`."""
    outputs = []
    for index, steps in enumerate(branch_steps):
        with tf.variable_scope("Branch_%d" % index):
            out = net
            for step in steps:
                out = step(out)
            outputs.append(out)
    return tf.concat(outputs, axis=axis)


def module(name, net, branch_steps, axis=3):
    """An Inception module: `branches` under the variable scope `name`."""
    with tf.variable_scope(name):
        return branches(net, *branch_steps, axis=axis)


def reduced_kernel_size_for_small_input(net, kernel_size):
    """`kernel_size`, clipped to the spatial size of `net` where it is known (research/slim's rule)."""
    height, width = net.get_shape().as_list()[1:3]
    if height is None or width is None:
        return list(kernel_size)
    return [min(height, kernel_size[0]), min(width, kernel_size[1])]


def pool_whole_map(net, scope):
    """Inception v4's and Inception-ResNet v2's global pooling: a VALID average pool named `scope` as large as
    the map where its size is known, else a mean named 'global_pool'."""
    kernel = net.get_shape()[1:3]
    if kernel.is_fully_defined():
        return slim.avg_pool2d(net, kernel, padding="VALID", scope=scope)
    return tf.reduce_mean(net, [1, 2], keepdims=True, name="global_pool")


def pooled_aux_logits(net, num_classes, pool_scope, conv_scope, logits_scope):
    """Inception v4's and Inception-ResNet v2's auxiliary classifier (call it in scope 'AuxLogits'): a 5x5
    average pool (stride 3, VALID) named `pool_scope`, 'Conv2d_1b_1x1' (128), a VALID convolution to 768 as
    large as the map named `conv_scope`, and the fully connected logits named `logits_scope`."""
    net = slim.avg_pool2d(net, [5, 5], stride=3, padding="VALID", scope=pool_scope)
    net = slim.conv2d(net, 128, [1, 1], scope="Conv2d_1b_1x1")
    net = slim.conv2d(net, 768, net.get_shape()[1:3], padding="VALID", scope=conv_scope)
    return slim.fully_connected(slim.flatten(net), num_classes, activation_fn=None, scope=logits_scope)


def logits_head(net, end_points, num_classes, global_pool, global_pool_name, kernel_size, dropout_keep_prob,
                spatial_squeeze, prediction_fn):
    """Inception v2's and v3's classification layers in scope `Logits`: global or `AvgPool_1a` pooling,
    `PreLogits` dropout and the 1x1 `Conv2d_1c_1x1` logits. Returns (logits, end_points), or the pooled
    features without `num_classes`."""
    with tf.variable_scope("Logits"):
        if global_pool:
            net = end_points["global_pool"] = tf.reduce_mean(net, [1, 2], keepdims=True, name=global_pool_name)
        else:
            kernel = reduced_kernel_size_for_small_input(net, kernel_size)
            net = end_points["AvgPool_1a"] = slim.avg_pool2d(
                net, kernel, padding="VALID", scope="AvgPool_1a_{}x{}".format(*kernel))
        if not num_classes:
            return net, end_points
        net = end_points["PreLogits"] = slim.dropout(net, keep_prob=dropout_keep_prob, scope="Dropout_1b")
        logits = slim.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                             scope="Conv2d_1c_1x1")
        if spatial_squeeze:
            logits = tf.squeeze(logits, [1, 2], name="SpatialSqueeze")
    end_points["Logits"] = logits
    end_points["Predictions"] = prediction_fn(logits, scope="Predictions")
    return logits, end_points


def inception_arg_scope(weight_decay=0.00004, use_batch_norm=True, batch_norm_decay=0.9997,
                        batch_norm_epsilon=0.001, activation_fn=tf.nn.relu,
                        batch_norm_updates_collections=tf.GraphKeys.UPDATE_OPS, batch_norm_scale=False):
    """research/slim's common Inception scope: He-initialized, batch-normed convolutions.

    L2 `weight_decay` on convolution and fully connected weights; `batch_norm_scale` adds a gamma to
    each batch norm; `use_batch_norm=False` gives plain convolutions with biases.
    """
    batch_norm_params = {"decay": batch_norm_decay, "epsilon": batch_norm_epsilon,
                         "updates_collections": batch_norm_updates_collections, "fused": None,
                         "scale": batch_norm_scale}
    with slim.arg_scope([slim.conv2d, slim.fully_connected],
                        weights_regularizer=slim.l2_regularizer(weight_decay)):
        with slim.arg_scope([slim.conv2d], weights_initializer=slim.variance_scaling_initializer(),
                            activation_fn=activation_fn,
                            normalizer_fn=slim.batch_norm if use_batch_norm else None,
                            normalizer_params=batch_norm_params if use_batch_norm else {}) as scope:
            return scope
