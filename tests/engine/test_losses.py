"""engine/training/losses.py and class_weights.py against numpy: a softmax cross-entropy per attribute group
(label smoothing over the group, images that break the groups), and the balanced class weights."""
import numpy as np
import pytest

from core.compat import tf
from datasets import label_modes
from engine.training import class_weights
from engine.training.losses import LossSpec, add_losses

GROUPS = ((0, 3), (1, 2, 4))  # not in class order: the loss gathers each group's columns
NAMES = ("a|d", "b|c|e")
LABELS = np.array([
    [1, 0, 1, 0, 0],  # a, c: one label of each group
    [0, 1, 1, 1, 0],  # d, and b and c: two labels of the second group, half the target each
    [0, 0, 0, 0, 1],  # e, and no label of the first group: left out of that group's loss
    [0, 0, 0, 1, 1],  # d, e
], np.float32)


def _log_softmax(values):
    shifted = values - values.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def numpy_grouped_loss(logits, labels, smoothing, weights=None):
    """The mean over groups of the mean over images with a label of the group of -Σ target · log softmax."""
    total = 0.0
    for indexes in GROUPS:
        group = labels[:, indexes]
        count = group.sum(axis=1, keepdims=True)
        target = group / np.maximum(count, 1)
        smoothed = target * (1 - smoothing) + smoothing / len(indexes)
        losses = -(smoothed * _log_softmax(logits[:, indexes])).sum(axis=1)
        image_weights = (count[:, 0] > 0).astype(np.float64)
        if weights is not None:
            image_weights *= (target * weights[list(indexes)]).sum(axis=1)
        total += (image_weights * losses).sum() / np.count_nonzero(image_weights)
    return total / len(GROUPS)


def _tf_losses(logits, spec):
    with tf.Graph().as_default():
        add_losses(tf.constant(logits, tf.float32), {}, tf.constant(LABELS), spec)
        losses = tf.losses.get_losses()
        with tf.Session() as session:
            return {loss.op.name: value for loss, value in zip(losses, session.run(losses))}


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_the_grouped_loss_is_a_softmax_cross_entropy_per_group(smoothing):
    logits = np.random.default_rng(0).normal(0, 2, LABELS.shape)
    found = _tf_losses(logits, LossSpec(label_modes.GROUPED, smoothing, GROUPS, NAMES))
    assert sorted(found) == ["loss/a_d/value", "loss/b_c_e/value"]  # TensorBoard: losses/loss/a_d, ...
    assert sum(found.values()) == pytest.approx(numpy_grouped_loss(logits, LABELS, smoothing), rel=1e-5)
    # Not a softmax over every class, nor a sigmoid per class.
    everything = -(LABELS / LABELS.sum(1, keepdims=True) * _log_softmax(logits)).sum(1).mean()
    assert sum(found.values()) != pytest.approx(everything, rel=1e-2)


def test_class_weights_weigh_each_image_by_its_class_in_each_group():
    logits = np.random.default_rng(1).normal(0, 2, LABELS.shape)
    weights = class_weights.compute("balanced", label_modes.GROUPED, {0: 1, 1: 1, 2: 2, 3: 3, 4: 2}, 4, 5, GROUPS)
    # a|d: 1 and 3 images -> 4 / (2 * 1), 4 / (2 * 3); b|c|e: 1, 2, 2 of 5 labels -> 5 / (3 * n)
    assert weights.classes == pytest.approx((2.0, 5 / 3, 5 / 6, 2 / 3, 5 / 6))
    found = _tf_losses(logits, LossSpec(label_modes.GROUPED, 0.0, GROUPS, NAMES, weights))
    assert sum(found.values()) == pytest.approx(numpy_grouped_loss(logits, LABELS, 0.0, np.array(weights.classes)),
                                                rel=1e-5)


def test_balanced_weights_of_single_and_multi_label_runs():
    single = class_weights.compute("balanced", label_modes.SINGLE, {0: 30, 1: 10, 2: 0}, 40, 3)
    assert single.classes == pytest.approx((40 / 60, 40 / 20, 1.0))  # a class without images weighs 1
    multi = class_weights.compute("balanced", label_modes.MULTI, {0: 10, 1: 40}, 40, 2)
    assert multi.positive == pytest.approx((2.0, 1.0)) and multi.negative == pytest.approx((40 / 60, 1.0))
    assert class_weights.compute("none", label_modes.SINGLE, {0: 3}, 3, 1) is None
    logits = np.random.default_rng(2).normal(0, 2, (4, 2))
    labels = np.array([[1, 1], [0, 1], [0, 1], [1, 1]], np.float32)
    with tf.Graph().as_default():
        add_losses(tf.constant(logits, tf.float32), {}, tf.constant(labels), LossSpec(label_modes.MULTI,
                                                                                      class_weights=multi))
        with tf.Session() as session:
            value = session.run(tf.add_n(tf.losses.get_losses()))
    elementwise = np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))
    weights = labels * np.array(multi.positive) + (1 - labels) * np.array(multi.negative)
    assert value == pytest.approx((weights * elementwise).sum() / np.count_nonzero(weights), rel=1e-5)
