"""The metrics of a grouped model (datasets/label_modes.py's GROUPED), from the probabilities of every image
(numpy only).

Each attribute group predicts its most probable class. Per group: `accuracy` (images whose predicted class is
one of their labels of the group, over the images that have one), `balanced_accuracy` (the mean recall of its
classes), `images` and the confusion matrix (images with exactly one label of the group; rows: true class).
Overall: `attribute_accuracy` (the mean of the groups' accuracies), `exact_match` (every attribute right),
`images_outside_groups` (images without exactly one label of some group: datasets/label_groups.py), and the
per-label metrics of a multi-label model, the predicted labels being the best of each group; `Accuracy` is
their mean per-label accuracy, as for a multi-label model.
"""
import dataclasses

import numpy as np

from engine.evaluation import metrics as metrics_module


@dataclasses.dataclass(frozen=True)
class Groups:
    """The groups of a grouped model: their names and the output indexes of their classes."""

    names: tuple
    indexes: tuple


def _ratio(numerator, denominator):
    return float(numerator) / float(denominator) if denominator else 0.0


def _group(probabilities, truth, indexes, class_names):
    """(metrics entry, predicted output index per image, right-or-unknown per image, outside per image) of
    one group."""
    rows = np.arange(len(truth))
    best = np.argmax(probabilities[:, indexes], axis=1)
    group_truth = truth[:, indexes]
    count = group_truth.sum(axis=1)
    known = count > 0
    right = group_truth[rows, best]
    single = count == 1
    confusion = np.zeros((len(indexes), len(indexes)), np.int64)
    np.add.at(confusion, (np.argmax(group_truth[single], axis=1), best[single]), 1)
    recalls = [_ratio(confusion[i, i], confusion[i].sum()) for i in range(len(indexes)) if confusion[i].sum()]
    entry = {"accuracy": _ratio(np.sum(right & known), np.sum(known)),
             "balanced_accuracy": float(np.mean(recalls)) if recalls else 0.0,
             "images": int(np.sum(known)), "classes": [class_names[index] for index in indexes],
             "confusion_matrix": confusion.tolist()}
    return entry, np.asarray(indexes)[best], right | ~known, count != 1


def grouped_metrics(probabilities, labels, class_names, groups):
    """`probabilities` [N, C] (a softmax per group, side by side); `labels` multi-hot [N, C]; `groups` a
    Groups."""
    truth = labels >= 0.5
    predicted = np.zeros_like(truth)
    all_right = np.ones(len(truth), bool)
    outside = np.zeros(len(truth), bool)
    per_group = {}
    for name, indexes in zip(groups.names, groups.indexes):
        indexes = list(indexes)
        entry, best, right, broken = _group(probabilities, truth, indexes, class_names)
        per_group[name] = entry
        predicted[np.arange(len(truth)), best] = True
        all_right &= right
        outside |= broken
    result = metrics_module.multi_label_metrics(probabilities, labels, class_names, predicted=predicted)
    per_label = result.pop("per_label")
    result.update(attribute_accuracy=float(np.mean([entry["accuracy"] for entry in per_group.values()])),
                  exact_match=_ratio(np.sum(all_right), len(truth)), images_outside_groups=int(np.sum(outside)),
                  per_group=per_group, per_label=per_label)
    return result


def group_lines(metrics):
    """The printed rows of the attribute groups."""
    lines = ["  %-30s %9s %9s %7s" % ("attribute", "accuracy", "balanced", "images")]
    for name, entry in metrics["per_group"].items():
        lines.append("  %-30s %9.4f %9.4f %7d" % (name, entry["accuracy"], entry["balanced_accuracy"],
                                                   entry["images"]))
    return lines


def confusion_lines_of(name, entry):
    return metrics_module.confusion_lines(entry["confusion_matrix"], entry["classes"],
                                          title="confusion matrix of %s" % name)
