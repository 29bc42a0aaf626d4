"""TensorBoard summaries of a training run: losses, learning rate, activations, variables, input images."""
from core.compat import slim, tf


def _loss_tag(loss, clone_scope):
    """`losses/NAME` for a loss op `[clone_0/]NAME/value` (tf.losses names its op `value`)."""
    name = loss.op.name
    if clone_scope and name.startswith(clone_scope + "/"):
        name = name[len(clone_scope) + 1:]
    if name.endswith("/value"):
        name = name[:-len("/value")]
    return "losses/" + name


def add_summaries(end_points, clone_scope, images, total_loss, learning_rate):
    """TensorBoard summaries: losses, learning rate, end point histograms and sparsity, variables, inputs.

    The summary ops are made with their tags given whole (tf.summary.scalar would derive each tag from a
    name scope, which TensorFlow renames `total_loss_1` when an op of that name exists): `total_loss`,
    `losses/loss`, `losses/aux_loss`, `losses/regularization_loss`, `learning_rate`, ..."""
    def scalar(tag, tensor):
        return tf.raw_ops.ScalarSummary(tags=tag, values=tf.cast(tensor, tf.float32))

    def histogram(tag, tensor):
        return tf.raw_ops.HistogramSummary(tag=tag, values=tf.cast(tensor, tf.float32))

    with tf.name_scope("summaries"):
        summaries = [scalar("total_loss", total_loss), scalar("learning_rate", learning_rate)]
        for loss in tf.get_collection(tf.GraphKeys.LOSSES, clone_scope or None):
            summaries.append(scalar(_loss_tag(loss, clone_scope), loss))
        regularization = tf.losses.get_regularization_losses()
        if regularization:
            summaries.append(scalar("losses/regularization_loss",
                                    tf.add_n([tf.cast(loss, tf.float32) for loss in regularization])))
        for name, tensor in end_points.items():
            summaries.append(histogram("activations/" + name, tensor))
            summaries.append(scalar("sparsity/" + name, tf.nn.zero_fraction(tensor)))
        for variable in slim.get_model_variables():
            summaries.append(histogram(variable.op.name, variable))
        summaries.append(tf.raw_ops.ImageSummary(tag="images", tensor=tf.cast(images, tf.float32), max_images=3))
        return tf.summary.merge(summaries)
