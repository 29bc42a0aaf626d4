"""Evaluation of checkpoints on a split: once, or following a training run as checkpoints appear.

Uses the training input pipeline (eval variant) and split function, so the held-out images are exactly
those training never saw; every image of the split is counted once (the last partial batch included).
A multi-label model also gets per-label thresholds, chosen on the val part (engine/evaluation/thresholds.py),
and its metrics at them beside those at 0.5.
"""
import os
import time

import numpy as np

from core.compat import slim, tf
from core.errors import UserError, first_line
from core.progress import RateMeter, say, warn
from datasets import label_modes, tfrecord_integrity
from datasets.defaults import ALL, VAL
from datasets.input_pipeline import PipelineOptions, build_dataset
from engine.config.run_config import THRESHOLDS_NAME
from engine.evaluation import metrics as metrics_module
from engine.evaluation import reports, thresholds
from engine.model import checkpoints, finite, mixed_precision, outputs
from engine.model.checkpoints import checkpoint_step, latest_checkpoint, resolve_checkpoint
from nets import nets_factory
from preprocessing import preprocessing_factory


class Evaluator:
    """The evaluation graph of one network; `evaluate(checkpoint)` restores and runs it over the split.

    One session serves every evaluation (following a training run evaluates many checkpoints): the graph
    is optimized and the kernels are set up once, not once per checkpoint. close() releases it; the
    evaluator is also a context manager."""

    def __init__(self, settings, label_mode, options):
        self.settings, self.label_mode, self.options = settings, label_mode, options
        self._session = None
        self.last_predictions = None  # (probabilities, labels) of the last evaluation, for the PR curves
        self.groups = metrics_module.Groups(tuple(group.name for group in settings.label_groups or ()),
                             tuple(map(tuple, settings.group_indexes()))) if label_mode == label_modes.GROUPED else None
        self.threshold_split = self._threshold_split()
        self.graph = tf.Graph()
        with self.graph.as_default():
            batch = self._input(sorted({options.split, self.threshold_split or options.split}))
            network_fn = mixed_precision.wrap_network_fn(
                nets_factory.get_network_fn(settings.model_name, settings.num_classes, is_training=False),
                options.mixed_precision)
            logits, _ = network_fn(batch["images"])
            logits = tf.reshape(logits, [tf.shape(logits)[0], -1])
            probabilities = outputs.probabilities(logits, label_mode, self.groups.indexes if self.groups else ())
            self.fetches = {"probabilities": probabilities, "labels": batch["labels"], "logits": logits,
                            "filenames": batch["filenames"]}
            if options.moving_average_decay:
                averages = tf.train.ExponentialMovingAverage(options.moving_average_decay)
                to_restore = averages.variables_to_restore(slim.get_model_variables())
            else:
                to_restore = {v.op.name: v for v in slim.get_variables_to_restore()}
            self.to_restore = to_restore
            self.saver = tf.train.Saver(to_restore)
            self.finite_check = finite.FiniteCheck(list(to_restore.values()))
            self.graph.finalize()

    def _threshold_split(self):
        """VAL when this multi-label evaluation chooses thresholds (the run has a val part), else None."""
        criterion = self.options.threshold_criterion
        if self.label_mode != label_modes.MULTI or criterion == "none":
            return None
        if not self.settings.val_percentage:
            say("the run has no val part (it was recorded before there was one): the labels are decided at 0.5; "
                "a run trained with --val_percentage gets thresholds chosen on its val images")
            return None
        if self.options.split in (VAL, ALL):
            warn("choosing the thresholds on the %s split, which holds the val images it is scored on: the metrics "
                 "at the chosen thresholds flatter the model; evaluate the test split" % self.options.split)
        return VAL

    def _input(self, splits):
        """The next batch of an iterator that each split's initializer (`self.initializers`) points at it."""
        settings, options = self.settings, self.options
        preprocess = preprocessing_factory.get_preprocessing(
            settings.preprocessing_name, is_training=False, use_grayscale=settings.use_grayscale)
        datasets = {split: build_dataset(
            settings.tfrecord_file, split, settings.num_classes, preprocess, settings.image_size,
            options.batch_size, is_training=False, options=PipelineOptions(
                validation_percentage=settings.validation_percentage, val_percentage=settings.val_percentage,
                labels_offset=settings.labels_offset,
                num_readers=options.num_readers, num_preprocessing_threads=options.num_preprocessing_threads,
                skip_corrupt_records=options.skip_corrupt_records)) for split in splits}
        first = datasets[splits[0]]
        iterator = tf.data.Iterator.from_structure(tf.data.get_output_types(first), tf.data.get_output_shapes(first))
        self.initializers = {split: iterator.make_initializer(dataset) for split, dataset in datasets.items()}
        return iterator.get_next()

    def close(self):
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def predictions(self, checkpoint, split=None):
        """Yields, batch by batch over `split` (default: the evaluated one), {"filenames", "logits",
        "probabilities", "labels"} numpy arrays computed with `checkpoint`; raises UserError when it does not fit
        the network."""
        checkpoints.check_fits(checkpoint, self.to_restore, "%s with %d classes" % (
            self.settings.model_name, self.settings.num_classes))
        if self._session is None:
            self._session = tf.Session(graph=self.graph,
                                       config=mixed_precision.session_config(self.options.mixed_precision))
        session = self._session
        with self.graph.as_default():  # Saver.restore outside its graph would run eagerly
            checkpoints.restore(self.saver, session, checkpoint)
        bad = self.finite_check.non_finite(session)
        if bad:
            raise UserError("checkpoint %r holds %s: the training that wrote it diverged, and nothing it predicts "
                            "means anything. Evaluate an earlier checkpoint (--checkpoint_path %s), or train again "
                            "with a lower --learning_rate" % (checkpoint, finite.describe(bad), os.path.join(
                                os.path.dirname(checkpoint), "model.ckpt-STEP")))
        session.run(self.initializers[split or self.options.split])
        batches = 0
        while self.options.max_num_batches is None or batches < self.options.max_num_batches:
            try:
                values = session.run(self.fetches)
            except tf.errors.OutOfRangeError:
                return
            except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as error:
                user_error = tfrecord_integrity.reading_error(self.settings.tfrecord_file, error)
                if user_error is None:
                    raise
                raise user_error
            batches += 1
            yield values

    def _collect(self, checkpoint, split, meter, required=True):
        """(probabilities, labels) of every image of `split`, numpy [N, C] each; for an empty split, a UserError,
        or None when not `required`."""
        probabilities, labels = [], []
        last_line = time.monotonic()
        for values in self.predictions(checkpoint, split):
            probabilities.append(values["probabilities"])
            labels.append(values["labels"])
            meter.update(len(values["labels"]))
            if time.monotonic() - last_line > 10:
                say("  evaluated %s" % meter.line())
                last_line = time.monotonic()
        if not probabilities and not required:
            return None
        if not probabilities:
            raise UserError("the %s split of %r is empty: nothing to evaluate. Use --dataset_split_name all, "
                            "or another --test_percentage or --val_percentage" % (split, self.settings.tfrecord_file))
        return np.concatenate(probabilities), np.concatenate(labels)

    def evaluate(self, checkpoint):
        """Metrics of `checkpoint` over the split; raises UserError when it does not fit the network."""
        meter = RateMeter(unit="images")
        probabilities, labels = self._collect(checkpoint, self.options.split, meter)
        self.last_predictions = (probabilities, labels)
        names = self.settings.outputs
        result = metrics_module.compute(probabilities, labels, names, self.label_mode, self.groups)
        result["images_per_sec"] = meter.rate
        chosen_on = None
        if self.threshold_split:
            chosen_on = (probabilities, labels) if self.threshold_split == self.options.split else self._collect(
                checkpoint, self.threshold_split, RateMeter(unit="images"), required=False)
            if chosen_on is None:
                warn("the %s part holds no image: no thresholds chosen, the labels are decided at 0.5"
                     % self.threshold_split)
        if chosen_on is not None:
            criterion = self.options.threshold_criterion
            chosen = thresholds.choose(chosen_on[0], chosen_on[1], criterion)
            result["thresholds"] = {"criterion": criterion, "split": self.threshold_split,
                                    "num_images": int(len(chosen_on[0])),
                                    "values": {name: float(value) for name, value in zip(names, chosen)}}
            result["at_thresholds"] = metrics_module.multi_label_metrics(probabilities, labels, names, chosen)
        return result


def evaluate_once(evaluator, checkpoint, eval_dir, step=None, table=True):
    """The metrics of `checkpoint` (at global `step`; None: read from it), printed (`table`: the whole table,
    else nothing) and written into `eval_dir` (engine/evaluation/reports.py). A damaged checkpoint is a
    UserError naming the newest intact one beside it."""
    step = checkpoint_step(checkpoint) if step is None else step
    if table:
        say("evaluating %s (global step %d) on the %s split" % (checkpoint, step, evaluator.options.split))
    try:
        result = evaluator.evaluate(checkpoint)
    except checkpoints.DamagedCheckpoint as error:
        if not tf.train.checkpoint_exists(checkpoint):
            raise  # removed while being read: `follow` waits for the next one
        raise error.with_advice() from None
    path = reports.write_results(eval_dir, result, step, checkpoint, evaluator.label_mode, evaluator.last_predictions)
    if table:
        say(metrics_module.table(result, evaluator.label_mode))
        say("eval/Accuracy %.4f at step %d; %s and %s written%s" % (
            result["Accuracy"], step, path, reports.METRICS_TABLE_NAME,
            ", and the thresholds chosen on the %s part in %s" % (result["thresholds"]["split"], THRESHOLDS_NAME)
            if result.get("thresholds") else ""))
    return result


def verdict_line(verdict, selection):
    """One line on a Verdict of `selection` (engine/evaluation/selection.py): the value, and the best so far."""
    if verdict.improved:
        best = "the best so far, kept in %s" % verdict.best_path
    else:
        best = "best %.4f at step %d" % (verdict.best_value, verdict.best_step)
    patience = ""
    if selection.patience is not None:
        patience = "; %d of %d evaluations without progress" % (verdict.stale, selection.patience)
    return "%s %.4f on the %s part at step %d (%s%s)" % (selection.metric, verdict.value, selection.split,
                                                         verdict.step, best, patience)


def _evaluate_and_choose(evaluator, checkpoint, eval_dir, selection):
    result = evaluate_once(evaluator, checkpoint, eval_dir)
    if selection is not None:
        say(verdict_line(selection.consider(result, checkpoint_step(checkpoint), checkpoint), selection))
    return result


def follow(evaluator, checkpoint_dir, eval_dir, interval_secs, timeout_secs, selection=None):
    """Evaluates each new checkpoint of `checkpoint_dir`, at most one every `interval_secs`, until none
    appears for `timeout_secs` (None: forever). A checkpoint deleted or rewritten while it is read (training
    keeps only its last few) is skipped, never fatal. With `selection` (engine/evaluation/selection.py), the best
    checkpoint is kept in checkpoint_dir/best/."""
    say("following %s: evaluating each new checkpoint%s" % (
        checkpoint_dir, "" if timeout_secs is None else ", stopping after %g s without one" % timeout_secs))
    done, results = set(), []
    last_new = time.monotonic()
    while True:
        checkpoint = latest_checkpoint(checkpoint_dir)
        if checkpoint and checkpoint not in done:
            started = time.monotonic()
            done.add(checkpoint)
            try:
                results.append(_evaluate_and_choose(evaluator, checkpoint, eval_dir, selection))
            except (tf.errors.OpError, ValueError, UserError) as error:
                # Saver.restore raises ValueError, the readers NotFoundError or DataLossError, when training
                # deletes the checkpoint (it keeps only its last few) between listing and reading it.
                if tf.train.checkpoint_exists(checkpoint):
                    if isinstance(error, UserError):
                        raise
                    raise UserError("cannot evaluate %s: %s" % (checkpoint, first_line(error)))
                warn("%s disappeared while being read; waiting for the next one" % checkpoint)
            last_new = time.monotonic()
            time.sleep(max(0.0, interval_secs - (last_new - started)))
            continue
        if timeout_secs is not None and time.monotonic() - last_new > timeout_secs:
            say("no new checkpoint for %g s: stopping after %d evaluation(s)" % (timeout_secs, len(results)))
            return results
        time.sleep(min(max(interval_secs, 0.5), 1.0))


def wait_for_first_checkpoint(checkpoint_dir, timeout_secs):
    """Waits until `checkpoint_dir` holds a checkpoint; False when `timeout_secs` pass first."""
    start, said = time.monotonic(), False
    while not latest_checkpoint(checkpoint_dir):
        if timeout_secs is not None and time.monotonic() - start > timeout_secs:
            say("no checkpoint in %s after %g s: stopping after 0 evaluation(s)" % (checkpoint_dir, timeout_secs))
            return False
        if not said:
            say("no checkpoint in %s yet; waiting for training to write one" % checkpoint_dir)
            said = True
        time.sleep(1.0)
    return True


def find_checkpoint_once(checkpoint_path):
    if os.path.isdir(checkpoint_path) and not latest_checkpoint(checkpoint_path):
        raise UserError("no checkpoint in %r yet: train first (train_image_classifier.py --train_dir %s), or "
                        "pass --eval_interval_secs to wait for one" % (checkpoint_path, checkpoint_path))
    return resolve_checkpoint(checkpoint_path)
