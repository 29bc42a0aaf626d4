"""The best checkpoint and early stopping (engine/evaluation/selection.py) on real checkpoints of a directory whose
rotation deletes all but the last two: the metric of each evaluation is given, so the choice is known."""
import json
import os

import numpy as np
import pytest

from core.compat import tf
from engine.config.options import BEST_METRICS, best_metric
from engine.evaluation import metrics
from engine.evaluation.selection import Selection
from engine.model import best_checkpoint


class Run:
    """A training directory whose checkpoints model.ckpt-STEP hold a variable `w` = STEP; like training, it keeps
    only the last two."""

    def __init__(self, train_dir):
        self.train_dir = str(train_dir)
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.w = tf.Variable(0.0, name="w")
            self.saver = tf.train.Saver(max_to_keep=2, save_relative_paths=True)
            self.session = tf.Session(graph=self.graph)
        with open(os.path.join(self.train_dir, "train_config.json"), "w", encoding="utf-8") as handle:
            json.dump({"model_name": "lenet"}, handle)

    def save(self, step):
        with self.graph.as_default():
            self.w.load(float(step), self.session)
            return self.saver.save(self.session, os.path.join(self.train_dir, "model.ckpt"), global_step=step)


def value_of(checkpoint):
    return float(tf.train.load_checkpoint(checkpoint).get_tensor("w"))


def evaluate_all(selection, run, values):
    """The Verdicts of evaluating checkpoints 1, 2, ... whose metric is each of `values` in turn."""
    return [selection.consider({"mAP": value, "Accuracy": 0.5}, step, run.save(step))
            for step, value in enumerate(values, start=1)]


def test_the_best_is_kept_where_rotation_cannot_delete_it_and_patience_stops_after_the_peak(tmp_path):
    run = Run(tmp_path)
    selection = Selection(run.train_dir, "mAP", "val", "multi", patience=3)
    verdicts = evaluate_all(selection, run, [0.5, 0.7, 0.9, 0.85, 0.9, 0.6, 0.7])
    assert [v.improved for v in verdicts] == [True, True, True, False, True, False, False]  # a tie: the later
    assert [v.stale for v in verdicts] == [0, 0, 0, 1, 2, 3, 4]  # a tie is no progress
    assert [v.stop for v in verdicts] == [False] * 5 + [True, True]
    assert not os.path.exists(os.path.join(run.train_dir, "model.ckpt-5.index"))  # rotated away in train_dir
    best = tf.train.latest_checkpoint(best_checkpoint.best_dir(run.train_dir))
    assert best == verdicts[-1].best_path == os.path.join(run.train_dir, "best", "model.ckpt-5")
    assert value_of(best) == 5.0
    assert sorted(os.listdir(os.path.join(run.train_dir, "best"))) == [
        "best.json", "checkpoint", "model.ckpt-5.data-00000-of-00001", "model.ckpt-5.index", "model.ckpt-5.meta",
        "train_config.json"]
    record = best_checkpoint.read_record(run.train_dir)
    assert (record["global_step"], record["value"], record["checkpoint"], record["metric"]) == (5, 0.9,
                                                                                                "model.ckpt-5", "mAP")
    assert record["last"] == {"global_step": 7, "value": 0.7} and record["stale_evaluations"] == 4


def test_early_stopping_counts_evaluations_that_gain_less_than_min_delta_while_the_best_still_follows(tmp_path):
    run = Run(tmp_path)
    selection = Selection(run.train_dir, "mAP", "val", "multi", min_delta=0.02, patience=3)
    verdicts = evaluate_all(selection, run, [0.5, 0.6, 0.605, 0.61, 0.612])
    assert [v.stale for v in verdicts] == [0, 0, 1, 2, 3] and verdicts[-1].stop
    assert verdicts[-1].best_step == 5 and value_of(verdicts[-1].best_path) == 5.0


def test_a_resumed_run_goes_on_counting_and_a_run_stopped_early_stays_stopped(tmp_path):
    run = Run(tmp_path)
    evaluate_all(Selection(run.train_dir, "mAP", "val", "multi", patience=2), run, [0.8, 0.7])
    resumed = Selection(run.train_dir, "mAP", "val", "multi", patience=2)
    assert (resumed.best_value, resumed.best_step, resumed.stale, resumed.exhausted) == (0.8, 1, 1, False)
    verdict = resumed.consider({"mAP": 0.75}, 3, run.save(3))
    assert verdict.stop and verdict.best_step == 1
    assert Selection(run.train_dir, "mAP", "val", "multi", patience=2).exhausted


def test_another_metric_chooses_afresh_with_a_warning(tmp_path, capsys):
    run = Run(tmp_path)
    evaluate_all(Selection(run.train_dir, "mAP", "val", "multi"), run, [0.9])
    again = Selection(run.train_dir, "Accuracy", "val", "multi")
    assert "best checkpoint by mAP on the val part; from now on it is chosen by Accuracy" in capsys.readouterr().err
    verdict = again.consider({"mAP": 0.1, "Accuracy": 0.2}, 2, run.save(2))
    assert verdict.improved and value_of(verdict.best_path) == 2.0
    assert not os.path.exists(os.path.join(run.train_dir, "best", "model.ckpt-1.index"))


@pytest.mark.parametrize("label_mode", sorted(BEST_METRICS))
def test_every_best_metric_is_a_scalar_that_evaluation_computes_in_its_label_mode(label_mode):
    probabilities = [[0.9, 0.2, 0.6], [0.3, 0.8, 0.4], [0.6, 0.3, 0.1]]
    labels = [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    if label_mode == "single":
        labels = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    groups = None
    if label_mode == "grouped":  # a group of two classes and one of a single class
        labels = [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0]]
        groups = metrics.Groups(("a|b", "c"), ((0, 1), (2,)))
    result = metrics.compute(np.array(probabilities), np.array(labels), ["a", "b", "c"], label_mode, groups)
    default, allowed = BEST_METRICS[label_mode]
    assert default in allowed and best_metric(label_mode) == default
    for name in allowed:
        assert isinstance(result[name], float) and "eval/" + name in metrics.scalars(result)
