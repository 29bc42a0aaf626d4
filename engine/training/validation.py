"""Validation inside training: every --eval_every_n_steps steps (or --eval_interval_secs seconds) and at the last
step, the checkpoint just saved is evaluated on the val part, in the training process, exactly as
`eval_image_classifier.py --checkpoint_path TRAIN_DIR --dataset_split_name val` would: the same Evaluator (its own
graph and session, built once), metrics and files, written into train_dir/eval_val/ (metrics.json, metrics.csv,
TensorBoard events: the run `eval_val` beside the training's `.` and the test part's `eval`). The best checkpoint
by --best_metric is kept in train_dir/best/, and --early_stopping_patience stops training
(engine/evaluation/selection.py).

The evaluation reads its own graph and the saved checkpoint, so it changes nothing of the training: a seeded run
trains the same weights with validation as without.
"""
import os
import time

from core.errors import UserError
from core.progress import say
from datasets import tfrecord_stats
from datasets.defaults import VAL
from engine.config.options import EvalOptions, best_metric
from engine.evaluation import evaluate
from engine.evaluation.selection import Selection
from engine.evaluation.setup import default_eval_dir


def check_val_part(settings, options):
    """The number of images of the val part; a UserError when validation has none to read."""
    if settings.val_percentage <= 0:
        raise UserError("validation reads the val part of the split, and this run has none (--val_percentage 0, "
                        "or a run recorded before the val part existed): train a new run in another --train_dir "
                        "with --val_percentage 10, or drop --eval_every_n_steps and --eval_interval_secs")
    stats = tfrecord_stats.scan_part(settings, VAL, options.skip_corrupt_records)
    if stats["num_images"] == 0:
        raise UserError("the val part of %r is empty (--val_percentage %g of %s): validation has nothing to read; "
                        "raise --val_percentage for a new run, or add images"
                        % (settings.tfrecord_file, settings.val_percentage, settings.tfrecord_file))
    return stats["num_images"]


class Validator:
    """Evaluates the val part when due, keeps the best checkpoint and says when early stopping stops."""

    def __init__(self, settings, label_mode, options):
        self.options = options.validation
        self.train_dir = options.train_dir
        self.eval_dir = default_eval_dir(options.train_dir, VAL)
        self.evaluator = evaluate.Evaluator(settings, label_mode, EvalOptions(
            eval_dir=self.eval_dir, split=VAL, batch_size=options.batch_size,
            moving_average_decay=options.moving_average_decay, num_readers=options.num_readers,
            num_preprocessing_threads=options.num_preprocessing_threads,
            skip_corrupt_records=options.skip_corrupt_records, mixed_precision=options.mixed_precision))
        self.selection = Selection(options.train_dir, best_metric(label_mode, self.options.best_metric), VAL,
                                   label_mode, self.options.early_stopping_min_delta,
                                   self.options.early_stopping_patience)
        self.last_step, self.last_time = None, time.monotonic()
        self.seconds = 0.0  # spent validating, for the progress lines and the benchmark

    def due(self, step):
        """Whether the checkpoint of global `step` is to be evaluated now (the last step's always is: see
        `validate`)."""
        every = self.options.eval_every_n_steps
        if self.last_step == step:
            return False
        if every and step % every == 0:
            return True
        interval = self.options.eval_interval_secs
        return bool(interval) and time.monotonic() - self.last_time >= interval

    def validate(self, checkpoint, step):
        """Evaluates `checkpoint` (saved at global `step`) on the val part; returns the Verdict
        (engine/evaluation/selection.py)."""
        started = time.monotonic()
        result = evaluate.evaluate_once(self.evaluator, checkpoint, self.eval_dir, step=step, table=False)
        verdict = self.selection.consider(result, step, checkpoint)
        self.last_step, self.last_time = step, time.monotonic()
        self.seconds += self.last_time - started
        say("validation: %s, %.1f s" % (evaluate.verdict_line(verdict, self.selection), self.last_time - started))
        return verdict

    def stopped_message(self, verdict):
        """The message of training stopped early by `verdict`."""
        selection = self.selection
        return ("early stopping at step %d: %s on the val part has not beaten its best by more than %g in %d "
                "evaluations; the best checkpoint is %s (%s %.4f at step %d); evaluate it on the test part with "
                "eval_image_classifier.py --checkpoint_path %s"
                % (verdict.step, selection.metric, selection.min_delta, verdict.stale, verdict.best_path,
                   selection.metric, verdict.best_value, verdict.best_step, os.path.dirname(verdict.best_path)))

    def summary(self):
        """The closing line: which checkpoint is best (None before any evaluation)."""
        selection = self.selection
        if selection.best_path is None:
            return None
        return ("best checkpoint: %s (%s %.4f on the val part at step %d)"
                % (selection.best_path, selection.metric, selection.best_value, selection.best_step))
