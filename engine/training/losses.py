"""The classification losses of training, and research/slim's clones (model_deploy): the batch split over
copies of the network that share one set of variables, their losses averaged.

Single-label: a softmax cross-entropy; multi-label: a sigmoid cross-entropy per class (their mean); grouped: a
softmax cross-entropy per attribute group over that group's logits, with the label smoothing spread over the
group's classes, each weighted by one over the number of groups (`loss/GROUP`; they sum to their mean). As the
multi-label loss is a mean over the labels, the grouped loss is one over the groups: the loss keeps the scale
of one classifier's, and the weight decay its share of the total. An image with two labels of a group trains
with each as half the target; one with no label of a group leaves that group's loss (datasets/label_groups.py). Class
weights (engine/training/class_weights.py) weight each image by its true class (single, grouped), or each
positive and negative label (multi).
"""
import dataclasses
import re

from core.compat import tf
from core.errors import UserError
from datasets import label_modes

AUX_LOSS_WEIGHT = 0.4


@dataclasses.dataclass(frozen=True)
class LossSpec:
    """What the classification loss is: the label mode, research/slim's --label_smoothing, the groups of a
    grouped run (output indexes and names), and the class weights (None: every image weighs 1)."""

    label_mode: str
    label_smoothing: float = 0.0
    group_indexes: tuple = ()
    group_names: tuple = ()
    class_weights: object = None  # engine.training.class_weights.ClassWeights


def scope_name(name):
    """A name scope for a group's loss (its TensorBoard tag `losses/loss/NAME`): `homme|femme` -> homme_femme."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "group"


def _grouped_losses(logits, labels, spec, weight, scope):
    weight = weight / float(len(spec.group_indexes))
    for indexes, name in zip(spec.group_indexes, spec.group_names):
        group_labels = tf.gather(labels, list(indexes), axis=1)
        count = tf.reduce_sum(group_labels, axis=1, keepdims=True)
        target = group_labels / tf.maximum(count, 1.0)
        weights = weight * tf.cast(count[:, 0] > 0, tf.float32)
        if spec.class_weights is not None:
            per_class = tf.constant([spec.class_weights.classes[index] for index in indexes], tf.float32)
            weights *= tf.reduce_sum(target * per_class, axis=1)
        tf.losses.softmax_cross_entropy(target, tf.gather(logits, list(indexes), axis=1), weights=weights,
                                        label_smoothing=spec.label_smoothing, scope="%s/%s" % (scope, scope_name(name)))


def _weights(labels, spec, weight):
    """The weights of the single or multi-label loss: `weight`, times the class weights."""
    weights = spec.class_weights
    if weights is None:
        return weight
    if spec.label_mode == label_modes.MULTI:
        positive, negative = (tf.constant(values, tf.float32) for values in (weights.positive, weights.negative))
        return weight * (labels * positive + (1.0 - labels) * negative)
    return weight * tf.reduce_sum(labels * tf.constant(weights.classes, tf.float32), axis=1)


def add_losses(logits, end_points, labels, spec):
    """Classification losses (LossSpec `spec`) into tf.GraphKeys.LOSSES, aux logits weighted 0.4."""
    logits_pairs = [(logits, 1.0, "loss")]
    if "AuxLogits" in end_points:
        logits_pairs.insert(0, (end_points["AuxLogits"], AUX_LOSS_WEIGHT, "aux_loss"))
    for tensor, weight, name in logits_pairs:
        tensor = tf.cast(tf.reshape(tensor, [tf.shape(tensor)[0], -1]), tf.float32)
        if spec.label_mode == label_modes.GROUPED:
            _grouped_losses(tensor, labels, spec, weight, name)
            continue
        loss_fn = tf.losses.softmax_cross_entropy if spec.label_mode == label_modes.SINGLE \
            else tf.losses.sigmoid_cross_entropy
        loss_fn(labels, tensor, weights=_weights(labels, spec, weight), label_smoothing=spec.label_smoothing,
                scope=name)


def _clone_devices(num_clones, clone_on_cpu):
    gpus = tf.config.list_physical_devices("GPU")
    if clone_on_cpu or not gpus:
        return ["/cpu:0"] * num_clones
    if num_clones > len(gpus):
        raise UserError("--num_clones %d needs as many GPUs, this machine has %d; add --clone_on_cpu"
                        % (num_clones, len(gpus)))
    return ["/gpu:%d" % i for i in range(num_clones)]


def build_clones(network_fn, batch, num_clones, clone_on_cpu, loss_spec):
    """research/slim's model_deploy semantics: the batch is split over clones sharing variables; each clone's
    loss is divided by the number of clones, so summed gradients are their average. Returns the total
    loss, the first clone's end points, and its name scope."""
    images = tf.split(batch["images"], num_clones) if num_clones > 1 else [batch["images"]]
    labels = tf.split(batch["labels"], num_clones) if num_clones > 1 else [batch["labels"]]
    clone_losses, first = [], None
    for index, device in enumerate(_clone_devices(num_clones, clone_on_cpu)):
        scope = "clone_%d" % index if num_clones > 1 else ""
        with tf.name_scope(scope or None), tf.device(device):
            with tf.variable_scope(tf.get_variable_scope(), reuse=True if index else None):
                logits, end_points = network_fn(images[index])
            add_losses(logits, end_points, labels[index], loss_spec)
            losses = tf.losses.get_losses(scope=scope or None)
            clone_loss = tf.add_n(losses, name="clone_loss")
            if num_clones > 1:
                clone_loss = tf.div(clone_loss, float(num_clones), name="scaled_clone_loss")
            clone_losses.append(clone_loss)
        if first is None:
            first = (end_points, scope, images[index])
    regularization = tf.losses.get_regularization_losses()
    regularization = [tf.cast(loss, tf.float32) for loss in regularization]  # bf16/fp16 layers' own
    total = tf.add_n(clone_losses + ([tf.add_n(regularization, name="regularization_loss")]
                                     if regularization else []), name="total_loss")
    return total, first
