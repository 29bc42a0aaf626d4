"""engine.evaluation.metrics against hand computations on tiny fixed sets."""
import re

import numpy as np
import pytest

from engine.evaluation import metrics


def test_single_label_metrics_match_a_hand_computation():
    names = ["a", "b", "c"]
    labels = np.eye(3)[[0, 0, 1, 2, 2, 2]]
    probabilities = np.array([
        [0.7, 0.2, 0.1],  # a -> a
        [0.2, 0.5, 0.3],  # a -> b
        [0.1, 0.8, 0.1],  # b -> b
        [0.3, 0.3, 0.4],  # c -> c
        [0.6, 0.3, 0.1],  # c -> a
        [0.1, 0.1, 0.8],  # c -> c
    ])
    result = metrics.single_label_metrics(probabilities, labels, names)
    assert result["num_images"] == 6
    assert result["Accuracy"] == pytest.approx(4 / 6)
    assert "Recall_5" not in result  # only 3 classes
    # a: predicted for rows 0 and 4, right once; b: predicted for rows 1 and 2, right once; c: rows 3 and 5.
    assert result["per_class"]["a"] == {"accuracy": 0.5, "precision": 0.5, "recall": 0.5, "f1": 0.5, "count": 2}
    assert result["per_class"]["b"] == pytest.approx(
        {"accuracy": 1.0, "precision": 0.5, "recall": 1.0, "f1": 2 / 3, "count": 1})
    assert result["per_class"]["c"] == pytest.approx(
        {"accuracy": 2 / 3, "precision": 1.0, "recall": 2 / 3, "f1": 0.8, "count": 3})
    assert result["mean_f1"] == pytest.approx((0.5 + 2 / 3 + 0.8) / 3)
    assert result["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    table = metrics.table(result, "single")
    # The console shows precision, recall and F1 per class, then the confusion matrix, a row per true class.
    assert re.search(r"\n  c +1\.0000 +0\.6667 +0\.8000 +3\n", table)
    assert "confusion matrix" in table
    rows = table.split("confusion matrix")[1].splitlines()[2:]
    assert [row.split()[1:] for row in rows] == [["1", "1", "0"], ["0", "1", "0"], ["1", "0", "2"]]
    assert [row.split()[0] for row in rows] == ["1:a", "2:b", "3:c"]
    frame = metrics.per_class_table(result)
    assert list(frame["class"]) == names and list(frame["f1"]) == pytest.approx([0.5, 2 / 3, 0.8])


def test_recall_at_5_counts_the_true_class_among_the_five_best():
    names = [str(i) for i in range(7)]
    probabilities = np.array([[0.30, 0.20, 0.15, 0.12, 0.10, 0.08, 0.05]] * 2)
    labels = np.eye(7)[[4, 6]]  # rank 5 (inside the top 5), rank 7 (outside)
    result = metrics.single_label_metrics(probabilities, labels, names)
    assert result["Accuracy"] == 0.0
    assert result["Recall_5"] == 0.5


def test_multi_label_metrics_match_a_hand_computation():
    names = ["x", "y"]
    labels = np.array([[1, 0], [1, 1], [0, 1], [0, 0]], dtype=np.float32)
    probabilities = np.array([[0.9, 0.2], [0.4, 0.7], [0.6, 0.3], [0.1, 0.8]])
    # x: predicted [1, 0, 1, 0] vs [1, 1, 0, 0]: tp 1, fp 1, fn 1, accuracy 2/4
    # y: predicted [0, 1, 0, 1] vs [0, 1, 1, 0]: tp 1, fp 1, fn 1, accuracy 2/4
    result = metrics.multi_label_metrics(probabilities, labels, names)
    for name in names:
        entry = result["per_label"][name]
        assert entry["accuracy"] == 0.5
        assert entry["precision"] == 0.5 and entry["recall"] == 0.5 and entry["f1"] == 0.5
        assert entry["positives"] == 2
    # x ranked by score: 0.9 (pos), 0.6 (neg), 0.4 (pos), 0.1: AP = (1/1 + 2/3) / 2
    assert result["per_label"]["x"]["average_precision"] == pytest.approx((1 + 2 / 3) / 2)
    # y ranked: 0.8 (neg), 0.7 (pos), 0.3 (pos), 0.2: AP = (1/2 + 2/3) / 2
    assert result["per_label"]["y"]["average_precision"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert result["mAP"] == pytest.approx(((1 + 2 / 3) / 2 + (1 / 2 + 2 / 3) / 2) / 2)
    assert result["Accuracy"] == 0.5
    assert result["exact_match"] == 0.25  # only the first image has both labels right
    assert result["mean_f1"] == 0.5


def test_a_label_without_positives_has_no_average_precision_and_is_left_out_of_map():
    labels = np.array([[1, 0], [0, 0]], dtype=np.float32)
    probabilities = np.array([[0.9, 0.1], [0.2, 0.3]])
    result = metrics.multi_label_metrics(probabilities, labels, ["x", "y"])
    assert result["per_label"]["y"]["average_precision"] is None
    assert result["mAP"] == 1.0
    assert result["exact_match"] == 1.0


def test_scalars_are_flat_eval_tags_including_accuracy_in_both_modes():
    single = metrics.single_label_metrics(np.array([[0.6, 0.4]]), np.array([[1.0, 0.0]]), ["a", "b"])
    multi = metrics.multi_label_metrics(np.array([[0.6, 0.4]]), np.array([[1.0, 0.0]]), ["a", "b"])
    assert metrics.scalars(single)["eval/Accuracy"] == 1.0
    assert metrics.scalars(multi)["eval/Accuracy"] == 1.0
    assert metrics.scalars(multi)["eval/per_label/a/f1"] == 1.0
    assert "a" in metrics.table(single, "single") and "precision" in metrics.table(multi, "multi")
