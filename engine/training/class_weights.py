"""--class_weighting balanced: weights that make each class (or label) count as much as the others in the loss,
from their frequency in the train split, as scikit-learn's `class_weight="balanced"` does.

- single-label: class c of K, carried by n_c of the N images, weighs N / (K n_c);
- grouped: the same within each attribute group (N: the images with a label of the group);
- multi-label: label c's positives weigh N / (2 n_c) and its negatives N / (2 (N - n_c)).
An image's weight averages 1 over the train split, so the loss keeps its scale. A class that no training
image has (or, multi-label, that every image has) weighs 1. The weights are recorded in train_config.json.
"""
import dataclasses

import numpy as np

from datasets import label_modes
from engine.config.options import BALANCED


@dataclasses.dataclass(frozen=True)
class ClassWeights:
    """Per output: `classes`, the weight of an image whose true class it is (single-label, grouped), or
    `positive` and `negative`, the weights of that label present and absent (multi-label)."""

    classes: tuple = None
    positive: tuple = None
    negative: tuple = None

    def to_config(self):
        return {key: [round(value, 6) for value in values] for key, values in dataclasses.asdict(self).items()
                if values is not None}


def _ratio(numerator, denominator):
    return float(numerator) / float(denominator) if denominator else 1.0


def compute(weighting, label_mode, label_counts, num_images, num_outputs, group_indexes=(), labels_offset=0):
    """The ClassWeights of `weighting` (engine.config.options.CLASS_WEIGHTINGS; None for "none") from the train
    split's `label_counts` ({label index: images}, tfrecord_stats.scan's) and `num_images`."""
    if weighting != BALANCED:
        return None
    counts = np.zeros(num_outputs, np.int64)
    for index, count in label_counts.items():
        if 0 <= index - labels_offset < num_outputs:
            counts[index - labels_offset] = count
    if label_mode == label_modes.MULTI:
        return ClassWeights(
            positive=tuple(_ratio(num_images, 2 * n) if 0 < n < num_images else 1.0 for n in counts.tolist()),
            negative=tuple(_ratio(num_images, 2 * (num_images - n)) if 0 < n < num_images else 1.0
                           for n in counts.tolist()))
    groups = group_indexes if label_mode == label_modes.GROUPED else [list(range(num_outputs))]
    weights = np.ones(num_outputs)
    for group in groups:
        present = [index for index in group if counts[index]]
        total = counts[present].sum()
        for index in present:
            weights[index] = _ratio(total, len(present) * counts[index])
    return ClassWeights(classes=tuple(weights.tolist()))
