"""Per-label decision thresholds of a multi-label model, chosen on the val part of the split (numpy only).

A label is predicted when its probability reaches its threshold. For each label, every cut between two
successive probabilities of the val images is tried, and the one that maximises the criterion wins (ties:
the threshold nearest 0.5); the threshold is the midpoint of that cut, the margin being the same on both
sides. Criteria (`--threshold_criterion`):
- `f1` (the default): the label's F1 on the val images. A rare label's accuracy is highest when it is never
  predicted; its F1 counts what matters for it, the images that have it found and few false alarms;
- `accuracy`: the label's accuracy on the val images (each image right or wrong counts the same).
A label that every val image has, or none, keeps DEFAULT: there is nothing to choose from.

Thresholds chosen on the images they are then scored on flatter the score; evaluation chooses them on the val
part and reports the test part, which the choice never saw.
"""
import numpy as np

F1 = "f1"
ACCURACY = "accuracy"
CRITERIA = (F1, ACCURACY)
DEFAULT = 0.5


def _cuts(scores, truth, criterion):
    """(criterion value, threshold) of every cut of one label's scores, best first."""
    order = np.argsort(-scores, kind="stable")
    ranked, hits = scores[order], truth[order].astype(np.int64)
    # A cut after rank k predicts the k+1 best; a cut is only possible where the next score is lower.
    ends = np.flatnonzero(np.append(ranked[:-1] > ranked[1:], True))
    tp = np.concatenate([[0], np.cumsum(hits)[ends]])
    predicted = np.concatenate([[0], ends + 1])
    fp = predicted - tp
    positives, total = hits.sum(), len(hits)
    fn = positives - tp
    if criterion == F1:
        value = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
    else:
        value = (tp + (total - positives - fp)) / total
    upper = np.concatenate([[1.0], ranked[ends]])  # the lowest score still predicted (1: none predicted)
    lower = np.append(ranked[ends[:-1] + 1], 0.0) if len(ends) else np.array([0.0])
    lower = np.concatenate([[ranked[0]], lower])  # the highest score left out
    return value, (upper + lower) / 2.0


def choose(probabilities, labels, criterion=F1):
    """float [C] thresholds: for each label the cut of the val `probabilities` [N, C] that maximises
    `criterion` against `labels` [N, C] (see the module's doc)."""
    if criterion not in CRITERIA:
        raise ValueError("unknown threshold criterion %r; use one of %s" % (criterion, ", ".join(CRITERIA)))
    truth = np.asarray(labels) >= 0.5
    chosen = np.full(truth.shape[1], DEFAULT)
    for index in range(truth.shape[1]):
        if truth[:, index].all() or not truth[:, index].any():
            continue
        value, thresholds = _cuts(np.asarray(probabilities[:, index], np.float64), truth[:, index], criterion)
        best = np.flatnonzero(value >= value.max() - 1e-12)
        chosen[index] = thresholds[best[np.argmin(np.abs(thresholds[best] - DEFAULT))]]
    return chosen
