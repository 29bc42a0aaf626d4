"""engine/evaluation/metrics.py's grouped metrics and thresholds.py against hand computations on tiny fixed sets."""
import numpy as np
import pytest

from engine.evaluation import metrics, thresholds
from engine.evaluation.metrics import Groups, grouped_metrics

NAMES = ["homme", "femme", "jeune", "age_moyen", "vieux"]
GROUPS = Groups(("genre", "age"), ((0, 1), (2, 3, 4)))


def test_grouped_metrics_match_a_hand_computation():
    labels = np.array([
        [1, 0, 1, 0, 0],  # homme jeune
        [0, 1, 0, 0, 1],  # femme vieux
        [0, 1, 1, 1, 0],  # femme, two ages (jeune, age_moyen)
        [1, 0, 0, 0, 0],  # homme, no age
        [1, 0, 0, 1, 0],  # homme age_moyen
    ], np.float32)
    probabilities = np.array([
        [0.9, 0.1, 0.6, 0.3, 0.1],  # homme jeune: both right
        [0.4, 0.6, 0.2, 0.5, 0.3],  # femme age_moyen: age wrong
        [0.3, 0.7, 0.1, 0.7, 0.2],  # femme age_moyen: right (one of its two ages)
        [0.8, 0.2, 0.2, 0.2, 0.6],  # homme vieux: gender right, age unknown
        [0.45, 0.55, 0.1, 0.8, 0.1],  # femme age_moyen: gender wrong
    ])
    result = grouped_metrics(probabilities, labels, NAMES, GROUPS)
    genre, age = result["per_group"]["genre"], result["per_group"]["age"]
    assert genre["accuracy"] == pytest.approx(4 / 5) and genre["images"] == 5
    assert age["accuracy"] == pytest.approx(3 / 4) and age["images"] == 4  # the image without an age left out
    # Confusion matrices count the images with exactly one label of the group (rows: true class).
    assert genre["confusion_matrix"] == [[2, 1], [0, 2]]
    assert age["confusion_matrix"] == [[1, 0, 0], [0, 1, 0], [0, 1, 0]]
    assert genre["balanced_accuracy"] == pytest.approx((2 / 3 + 1) / 2)
    assert age["balanced_accuracy"] == pytest.approx((1 + 1 + 0) / 3)
    assert result["attribute_accuracy"] == pytest.approx((4 / 5 + 3 / 4) / 2)
    assert result["exact_match"] == pytest.approx(3 / 5)  # images 0, 2 and 3
    assert result["images_outside_groups"] == 2
    # Per label, as for a multi-label model, the best label of each group being the predicted one.
    assert result["per_label"]["vieux"]["precision"] == 0.0 and result["per_label"]["vieux"]["recall"] == 0.0
    assert result["per_label"]["homme"]["recall"] == pytest.approx(2 / 3)
    assert result["Accuracy"] == pytest.approx(np.mean([4 / 5, 4 / 5, 4 / 5, 3 / 5, 4 / 5]))
    scalars = metrics.scalars(result)
    assert scalars["eval/per_group/age/accuracy"] == pytest.approx(3 / 4) and "eval/exact_match" in scalars
    table = metrics.table(result, "grouped")
    assert "confusion matrix of age" in table and "genre" in table
    frame = metrics.per_class_table(result)
    assert list(frame["group"]) == ["genre", "genre", "age", "age", "age"]


def test_thresholds_chosen_on_a_known_case():
    # Label x: positives at 0.9, 0.7, 0.4; negatives at 0.6, 0.2, 0.1. F1 is best (6/7) predicting the four
    # best (tp 3, fp 1): the cut lies midway between 0.4 and the next score, 0.2, at 0.3. Accuracy is best (5/6)
    # at that cut and at the one between 0.7 and 0.6 (tp 2, fn 1): the tie goes to the threshold nearest 0.5,
    # 0.65. Label y: every image has it, nothing to choose from: 0.5.
    scores = np.array([[0.9, 0.5], [0.7, 0.5], [0.4, 0.5], [0.6, 0.5], [0.2, 0.5], [0.1, 0.5]])
    labels = np.array([[1, 1], [1, 1], [1, 1], [0, 1], [0, 1], [0, 1]])
    assert thresholds.choose(scores, labels, "f1") == pytest.approx([0.3, 0.5])
    assert thresholds.choose(scores, labels, "accuracy") == pytest.approx([0.65, 0.5])
    chosen = metrics.multi_label_metrics(scores, labels, ["x", "y"], threshold=np.array([0.3, 0.5]))
    assert chosen["per_label"]["x"]["f1"] == pytest.approx(6 / 7)
    # A rare label, its one positive ranked second: F1 finds it (cut at 0.25, F1 2/3); accuracy is as good
    # (4/5) never predicting it, nearer 0.5 (above every score: (1 + 0.35) / 2), and gives it up.
    rare = np.array([[0.35], [0.3], [0.2], [0.1], [0.05]])
    rare_labels = np.array([[0], [1], [0], [0], [0]])
    assert thresholds.choose(rare, rare_labels, "f1") == pytest.approx([0.25])
    assert thresholds.choose(rare, rare_labels, "accuracy") == pytest.approx([0.675])
