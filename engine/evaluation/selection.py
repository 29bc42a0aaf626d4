"""Choosing checkpoints on the val part: the best one by a metric, kept in train_dir/best/
(engine/model/best_checkpoint.py), and early stopping's count of evaluations without progress.

Choosing is not testing: a checkpoint picked for its score on some images has a flattering score there. The
choice therefore reads the `val` part of the split only, and the `test` part stays for the figure that is
reported (eval_image_classifier.py's default).

The rules, for a metric where higher is better (engine.config.options.BEST_METRICS):
- the best checkpoint is the last one with the highest value so far: a tie replaces it, since on a val part of
  a few dozen images ties are common, and the later checkpoint has trained longer (on the demo, four
  evaluations tied at the top, and the first of them scored 0.972 on the test part against the last's 0.987);
- early stopping counts the evaluations since the metric last beat the best value so far by more than
  `min_delta`, and stops training when that count reaches `patience`.
The state (best value and step, the count) is kept in best.json, so a resumed run goes on counting.
"""
import dataclasses
import math
import os

from core.progress import warn
from engine.model import best_checkpoint


@dataclasses.dataclass
class Verdict:
    """What one evaluation of the val part decided."""
    step: int
    value: float
    improved: bool  # this checkpoint is the new best
    best_step: int
    best_value: float
    stale: int  # evaluations since the metric last beat the best by more than min_delta
    stop: bool  # early stopping's patience has run out
    best_path: str = None  # the best checkpoint in train_dir/best/


class Selection:
    """The best checkpoint of `train_dir` by `metric` on `split`, and early stopping's count (`patience`: None,
    no early stopping). `kept_by` names the process in best.json (training, or an evaluation following it)."""

    def __init__(self, train_dir, metric, split, label_mode, min_delta=0.0, patience=None, kept_by="training"):
        self.train_dir, self.metric, self.split, self.label_mode = train_dir, metric, split, label_mode
        self.min_delta, self.patience, self.kept_by = min_delta, patience, kept_by
        self.best_value, self.best_step, self.stale, self.evaluations = -math.inf, None, 0, 0
        self.best_path = None
        record = best_checkpoint.read_record(train_dir)
        if record and (record.get("metric"), record.get("split")) != (metric, split):
            warn("%s holds the best checkpoint by %s on the %s part; from now on it is chosen by %s on the %s part"
                 % (best_checkpoint.best_dir(train_dir), record.get("metric"), record.get("split"), metric, split))
        elif record:
            self.best_value, self.best_step = float(record["value"]), int(record["global_step"])
            self.stale, self.evaluations = int(record.get("stale_evaluations", 0)), int(record.get("evaluations", 0))
            self.best_path = os.path.join(best_checkpoint.best_dir(train_dir), record["checkpoint"])

    @property
    def exhausted(self):
        """Whether early stopping's patience ran out already (a run resumed after it stopped early)."""
        return self.patience is not None and self.stale >= self.patience

    def consider(self, result, step, checkpoint):
        """The Verdict on `checkpoint` (a prefix in train_dir, at global `step`) whose evaluation gave `result`
        (engine/evaluation/metrics.py's dict); keeps it in train_dir/best/ when it is the best so far."""
        value = float(result[self.metric])
        improved = value >= self.best_value
        progressed = value > self.best_value + self.min_delta
        self.stale = 0 if progressed else self.stale + 1
        self.evaluations += 1
        record = {
            "metric": self.metric, "split": self.split, "label_mode": self.label_mode, "kept_by": self.kept_by,
            "value": value if improved else self.best_value, "global_step": step if improved else self.best_step,
            "last": {"global_step": step, "value": value}, "evaluations": self.evaluations,
            "stale_evaluations": self.stale, "min_delta": self.min_delta, "patience": self.patience,
        }
        if improved:
            record["metrics"] = {key: item for key, item in result.items()
                                 if isinstance(item, float) and key != "images_per_sec"}
            self.best_path = best_checkpoint.keep(checkpoint, self.train_dir, record)
            self.best_value, self.best_step = value, step
        else:
            previous = best_checkpoint.read_record(self.train_dir)
            best_checkpoint.write_record(self.train_dir, dict(previous, **record))
        return Verdict(step, value, improved, self.best_step, self.best_value, self.stale, self.exhausted,
                       self.best_path)
