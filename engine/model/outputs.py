"""The probabilities a model outputs from its logits, one function for evaluation and export so that both give
the same numbers: a softmax over the classes (single-label), a sigmoid per class (multi-label), or a softmax
per attribute group, each at its classes' columns (grouped). Whatever the mode, the output is [batch,
num_classes] in class order, so the exported graph keeps the seed's output node and shape."""
import numpy as np

from core.compat import tf
from datasets import label_modes


def probabilities(logits, label_mode, group_indexes=(), name=None):
    """float32 [batch, num_classes] probabilities of 2-D `logits` under `label_mode`; `group_indexes`: the
    output indexes of each group of a grouped model (Settings.group_indexes)."""
    if label_mode == label_modes.SINGLE:
        return tf.nn.softmax(logits, name=name)
    if label_mode == label_modes.MULTI:
        return tf.sigmoid(logits, name=name)
    order = np.concatenate([np.asarray(indexes, np.int64) for indexes in group_indexes])
    parts = [tf.nn.softmax(tf.gather(logits, list(indexes), axis=1)) for indexes in group_indexes]
    joined = tf.concat(parts, axis=1)
    if np.array_equal(order, np.arange(len(order))):  # groups in class order: nothing to move
        return tf.identity(joined, name=name)
    return tf.gather(joined, np.argsort(order).tolist(), axis=1, name=name)
