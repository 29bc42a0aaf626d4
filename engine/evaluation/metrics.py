"""Classification metrics computed exactly from every prediction of an evaluation (numpy only).

Single-label: Accuracy, Recall_5 (more than 5 classes), per-class accuracy (recall of each class),
precision, recall and F1, and the confusion matrix (rows: true class, columns: predicted class).
Multi-label (a label is predicted when its sigmoid probability is at least 0.5, or its own threshold):
per-label accuracy, precision, recall and F1, their means, exact-match ratio and mAP (mean over labels with
at least one positive of the average precision of the ranking by probability). `Accuracy` is the mean
per-label accuracy, so `eval/Accuracy` exists in every mode.

Grouped: each attribute group predicts its most probable class. Per group: `accuracy` (images whose
predicted class is one of their labels of the group, over the images that have one), `balanced_accuracy`
(the mean recall of its classes), `images` and the confusion matrix (images with exactly one label of the
group; rows: true class). Overall: `attribute_accuracy` (the mean of the groups' accuracies), `exact_match`
(every attribute right), `images_outside_groups` (images without exactly one label of some group:
datasets/label_groups.py), and the per-label metrics of a multi-label model, the predicted labels being the
best of each group; `Accuracy` is their mean per-label accuracy, as for a multi-label model.

`per_class_table` gives the per-class (or per-label) rows as a pandas DataFrame, for metrics.csv.
"""
import dataclasses

import numpy as np

from datasets import label_modes

THRESHOLD = 0.5


def _ratio(numerator, denominator):
    return float(numerator) / float(denominator) if denominator else 0.0


def single_label_metrics(probabilities, labels, class_names):
    """`probabilities` [N, C]; `labels` one-hot [N, C]."""
    truth = np.argmax(labels, axis=1)
    predicted = np.argmax(probabilities, axis=1)
    num_classes = probabilities.shape[1]
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(confusion, (truth, predicted), 1)
    metrics = {"num_images": int(len(truth)), "Accuracy": _ratio(np.sum(truth == predicted), len(truth))}
    if num_classes > 5:
        top5 = np.argsort(-probabilities, axis=1, kind="stable")[:, :5]
        metrics["Recall_5"] = _ratio(np.sum(np.any(top5 == truth[:, None], axis=1)), len(truth))
    per_class = {}
    for i, name in enumerate(class_names):
        true_positives, predicted_count = confusion[i, i], confusion[:, i].sum()
        precision = _ratio(true_positives, predicted_count)
        recall = _ratio(true_positives, confusion[i].sum())
        per_class[name] = {"accuracy": recall, "precision": precision, "recall": recall,
                           "f1": _ratio(2 * precision * recall, precision + recall),
                           "count": int(confusion[i].sum())}
    metrics["per_class"] = per_class
    metrics["mean_f1"] = float(np.mean([entry["f1"] for entry in per_class.values()]))
    metrics["confusion_matrix"] = confusion.tolist()
    return metrics


def average_precision(scores, positives):
    """Average of the precision at the rank of each positive, images ranked by decreasing score."""
    if not positives.any():
        return None
    order = np.argsort(-scores, kind="stable")
    hits = positives[order].astype(np.float64)
    precision_at_rank = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(np.sum(precision_at_rank * hits) / hits.sum())


def multi_label_metrics(probabilities, labels, class_names, threshold=THRESHOLD, predicted=None):
    """`probabilities` [N, C] sigmoid outputs; `labels` multi-hot [N, C]. A label is predicted when its
    probability is at least `threshold` (a number, or one per label), or where `predicted` [N, C] says."""
    truth = labels >= 0.5
    predicted = probabilities >= np.asarray(threshold) if predicted is None else predicted
    per_label = {}
    for i, name in enumerate(class_names):
        tp = int(np.sum(predicted[:, i] & truth[:, i]))
        fp = int(np.sum(predicted[:, i] & ~truth[:, i]))
        fn = int(np.sum(~predicted[:, i] & truth[:, i]))
        precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        per_label[name] = {
            "accuracy": _ratio(np.sum(predicted[:, i] == truth[:, i]), len(truth)),
            "precision": precision, "recall": recall,
            "f1": _ratio(2 * precision * recall, precision + recall),
            "average_precision": average_precision(probabilities[:, i], truth[:, i]),
            "positives": int(truth[:, i].sum()),
        }
    ap = [m["average_precision"] for m in per_label.values() if m["average_precision"] is not None]
    means = {key: float(np.mean([m[key] for m in per_label.values()]))
             for key in ("accuracy", "precision", "recall", "f1")}
    return {
        "num_images": int(len(truth)),
        "Accuracy": means["accuracy"],
        "mean_precision": means["precision"],
        "mean_recall": means["recall"],
        "mean_f1": means["f1"],
        "mAP": float(np.mean(ap)) if ap else 0.0,
        "exact_match": _ratio(np.sum(np.all(predicted == truth, axis=1)), len(truth)),
        "per_label": per_label,
    }


def compute(probabilities, labels, class_names, label_mode, groups=None):
    """The metrics of `label_mode`; `groups` (Groups) for a grouped model."""
    if label_mode == label_modes.SINGLE:
        return single_label_metrics(probabilities, labels, class_names)
    if label_mode == label_modes.GROUPED:
        return grouped_metrics(probabilities, labels, class_names, groups)
    return multi_label_metrics(probabilities, labels, class_names)


def scalars(metrics, prefix="eval/"):
    """The flat `eval/...` scalars of a metrics dict, for TensorBoard; those of the metrics at the chosen
    thresholds (`at_thresholds`) under `eval/at_thresholds/`."""
    values = {prefix + key: value for key, value in metrics.items()
              if isinstance(value, float) and key != "num_images"}
    for group in ("per_class", "per_label", "per_group"):
        for name, entry in metrics.get(group, {}).items():
            for key, value in entry.items():
                if isinstance(value, float):
                    values["%s%s/%s/%s" % (prefix, group, name, key)] = value
    if metrics.get("at_thresholds"):
        values.update(scalars(metrics["at_thresholds"], prefix + "at_thresholds/"))
    return values


def headline(metrics, title):
    """`title`, then a line per float metric."""
    return [title] + ["  %-15s %.4f" % (key, value) for key, value in metrics.items() if isinstance(value, float)]


def table(metrics, label_mode):
    """The printed report: headline metrics, then one row per class or label (and per attribute group)."""
    lines = headline(metrics, "%s: %d images" % (label_modes.NAMES[label_mode], metrics["num_images"]))
    if label_mode == label_modes.GROUPED:
        lines.extend(group_lines(metrics))
    if label_mode == label_modes.SINGLE:
        lines.append("  %-20s %9s %9s %9s %7s" % ("class", "precision", "recall", "f1", "images"))
        for name, entry in metrics["per_class"].items():
            lines.append("  %-20s %9.4f %9.4f %9.4f %7d" % (name, entry["precision"], entry["recall"], entry["f1"],
                                                           entry["count"]))
        lines.extend(confusion_lines(metrics["confusion_matrix"], list(metrics["per_class"])))
    else:
        lines.extend(label_lines(metrics))
    if metrics.get("at_thresholds"):
        chosen = metrics["at_thresholds"]
        lines.extend(headline(chosen, "at the thresholds chosen on the %s part (%s): %s" % (
            metrics["thresholds"]["split"], metrics["thresholds"]["criterion"], ", ".join(
                "%s %.3f" % item for item in metrics["thresholds"]["values"].items()))))
        lines.extend(label_lines(chosen))
    if label_mode == label_modes.GROUPED:
        for name, entry in metrics["per_group"].items():
            lines.extend(confusion_lines_of(name, entry))
    return "\n".join(lines)


def label_lines(metrics):
    """The per-label rows of multi-label (and grouped) metrics."""
    lines = ["  %-20s %9s %9s %9s %9s %9s %9s" % ("label", "accuracy", "precision", "recall", "f1", "AP",
                                                   "positives")]
    for name, entry in metrics["per_label"].items():
        ap = entry["average_precision"]
        lines.append("  %-20s %9.4f %9.4f %9.4f %9.4f %9s %9d" % (
            name, entry["accuracy"], entry["precision"], entry["recall"], entry["f1"],
            "-" if ap is None else "%.4f" % ap, entry["positives"]))
    return lines


def confusion_lines(confusion, class_names, title="confusion matrix"):
    """The confusion matrix as text: a row per true class, a column per predicted class (numbered as
    the rows)."""
    width = max(5, len(str(max(max(row) for row in confusion))) + 1)
    label_width = max(len("%d:%s" % (i + 1, name)) for i, name in enumerate(class_names))
    lines = ["  %s (rows: true class; columns: predicted class, numbered as the rows)" % title,
             "  %-*s%s" % (label_width, "", "".join("%*d" % (width, i + 1) for i in range(len(class_names))))]
    for i, (name, row) in enumerate(zip(class_names, confusion)):
        lines.append("  %-*s%s" % (label_width, "%d:%s" % (i + 1, name), "".join("%*d" % (width, v) for v in row)))
    return lines


def per_class_table(metrics):
    """The per-class (single-label) or per-label (multi-label) metrics as a pandas DataFrame, one row each."""
    import pandas

    group = "per_class" if "per_class" in metrics else "per_label"
    frame = pandas.DataFrame.from_dict(metrics[group], orient="index")
    frame.index.name = "class" if group == "per_class" else "label"
    frame = frame.reset_index()
    if metrics.get("per_group"):  # grouped: the attribute of each label
        group_of = {label: name for name, entry in metrics["per_group"].items() for label in entry["classes"]}
        frame.insert(1, "group", [group_of.get(label) for label in frame["label"]])
    if metrics.get("at_thresholds"):  # multi-label: each label's chosen threshold and its metrics there
        chosen = pandas.DataFrame.from_dict(metrics["at_thresholds"]["per_label"], orient="index")
        chosen = chosen.drop(columns=["average_precision", "positives"], errors="ignore").add_suffix("_at_threshold")
        frame.insert(frame.shape[1], "threshold", [metrics["thresholds"]["values"][label] for label in frame["label"]])
        frame = frame.join(chosen, on="label")
    return frame


# --- grouped models ----------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Groups:
    """The groups of a grouped model: their names and the output indexes of their classes."""

    names: tuple
    indexes: tuple


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
    result = multi_label_metrics(probabilities, labels, class_names, predicted=predicted)
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
    return confusion_lines(entry["confusion_matrix"], entry["classes"], title="confusion matrix of %s" % name)
