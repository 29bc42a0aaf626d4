"""The step loop: run training steps until the target step, with progress lines, summaries, periodic
checkpoints, and a save before leaving on an interrupt or a damaged record. A run that diverges (a loss, a
weight or a summary that is NaN or infinite) stops at that step, and no checkpoint of its weights is saved.

Every step runs the same fetches (the training op and both summary sets, engine/training/summaries.py) and
feeds the summary level it writes: the scalars at the summary steps, the details (histograms, images) at
those that engine/training/summary_budget.py allows.

On a cluster, `ReplicaLoop` runs each step with a time limit (a step in sync mode waits for the other
replicas' gradients), and only the chief saves and writes summaries."""
import math
import os
import time

from core import signals
from core.compat import tf
from core.errors import UserError
from core.progress import format_duration, say
from datasets import tfrecord_integrity
from engine.cluster import replicas
from engine.config.options import summary_every_steps
from engine.model import checkpoints, finite
from engine.training import summaries
from engine.training.summary_budget import DetailBudget


class Loop:
    """What the loop runs: the session, the graph's ops (engine.training.graph.TrainGraph), the events writer, and
    the checkpoint this run restored or saved last (`last_saved`)."""
    label = ""  # what the progress lines start with
    saves = True  # whether this process writes the checkpoints

    def __init__(self, session, ops, writer, tfrecord_file, last_saved=None):
        self.session, self.train_op, self.summaries = session, ops.train_op, ops.summaries  # SummaryOps or None
        self.global_step, self.saver, self.finite_check = ops.global_step, ops.saver, ops.finite_check
        self.writer, self.tfrecord_file, self.last_saved = writer, tfrecord_file, last_saved

    def save(self, train_dir, write_meta_graph=True, passing=()):
        """The path of the checkpoint saved (None where this process saves none)."""
        self.last_saved = checkpoints.save(self.session, self.saver, train_dir, self.current_step(), self.last_saved,
                                           write_meta_graph, passing)
        return self.last_saved

    def non_finite(self):
        """The variables holding NaN or infinity."""
        return self.finite_check.non_finite(self.session)

    def run_step(self, fetches, stop, feed=None):
        """The values of `fetches` after one training step; None when the loop is to stop without one."""
        return self.session.run(fetches, feed)

    def current_step(self):
        return self.session.run(self.global_step)

    def write_summary(self, step):
        """The summaries of one more batch (no training step) at `step`: a run that stops early ends its curves
        where its checkpoint is."""
        try:
            for summary in self.session.run(self.summaries.fetches, self.summaries.feed(summaries.DETAILS)):
                self.writer.add_summary(summary, step)
        except tf.errors.OpError:
            pass  # the input stopped: the checkpoint matters more than the last point


class ReplicaLoop(Loop):
    """The loop of a worker of a cluster (engine/cluster/replicas.py): steps with a time limit, retried while the
    wait lasts less than --cluster_timeout_secs; a step left waiting ends the loop when a signal came or
    the other workers reached the target step. Only the chief saves and writes summaries."""

    def __init__(self, *args, runtime, target):
        super().__init__(*args)
        self.runtime, self.target = runtime, target
        self.cluster = runtime.cluster
        self.label = "%s: " % self.cluster.describe()
        self.steps_run = 0
        self.saves = self.cluster.is_chief
        if not self.cluster.is_chief:
            self.summaries = None

    def save(self, train_dir, write_meta_graph=True):
        if not self.cluster.is_chief:
            return None
        try:  # the variables are read from the parameter servers: one may have stopped since the last step
            return super().save(train_dir, write_meta_graph, replicas.LOST_ERRORS)
        except replicas.LOST_ERRORS as error:
            raise replicas.lost(self.cluster, error) from None

    def _within_step_wait(self, run):
        """`run(options)`, a session call bounded by replicas.STEP_WAIT_SECS; a lost task is a UserError."""
        try:
            return run(tf.RunOptions(timeout_in_ms=int(1000 * replicas.STEP_WAIT_SECS)))
        except replicas.LOST_ERRORS as error:
            raise replicas.lost(self.cluster, error)

    def non_finite(self):
        return self._within_step_wait(lambda options: self.finite_check.non_finite(self.session, options=options))

    def run_step(self, fetches, stop, feed=None):
        cluster = self.cluster
        started = told = time.monotonic()
        while True:
            wait = replicas.FIRST_STEP_WAIT_SECS if not self.steps_run else replicas.STEP_WAIT_SECS
            try:
                values = self.session.run(fetches, feed, options=tf.RunOptions(
                    timeout_in_ms=int(1000 * min(wait, cluster.timeout_secs))))
                self.steps_run += 1
                return values
            except tf.errors.DeadlineExceededError:
                pass
            except replicas.LOST_ERRORS as error:
                raise replicas.lost(cluster, error)
            if stop.received or (self.target is not None and self.current_step() >= self.target):
                return None
            waited = time.monotonic() - started
            what = ("%d gradients from the workers" % cluster.replicas_to_aggregate if cluster.sync
                    else "the parameter servers")
            if waited >= cluster.timeout_secs:
                raise UserError("%s: no training step completed in %g s while waiting for %s; check that every "
                                "worker runs (--cluster_timeout_secs sets this limit)"
                                % (cluster.describe(), waited, what))
            if time.monotonic() - told >= 30:
                told = time.monotonic()
                say("%s: still waiting for %s (%.0f s)" % (cluster.describe(), what, waited))

    def current_step(self):
        return self._within_step_wait(lambda options: self.session.run(self.global_step, options=options))


def summary_due(step, start_step, target, every_steps, seconds_since, every_seconds):
    """Whether the training step run at global `step` (the step count before it) also writes summaries:
    the first step of the run, every `every_steps` steps, at least every `every_seconds`, and the last."""
    next_step = step + 1
    return (step == start_step or (every_steps and next_step % every_steps == 0)
            or seconds_since >= every_seconds or (target is not None and next_step >= target))


class _Progress:
    """The progress lines of the loop (a multiple of --log_every_n_steps passed: a cluster's step may jump over
    one), with the images/s summary beside each."""

    def __init__(self, loop, options, step):
        self.loop, self.options = loop, options
        self.start = self.last_time = time.monotonic()
        self.start_step = self.last_step = step
        self.batches = self.last_batches = 0  # the steps this process ran (a cluster's global step counts everyone's)
        self.paused = 0.0  # seconds spent validating, left out of the rates

    def pause(self, seconds):
        """Leaves `seconds` (spent validating) out of the sec/step, images/s and ETA of the lines."""
        self.last_time += seconds
        self.paused += seconds

    def step_done(self, step, loss):
        self.batches += 1
        every, target = self.options.log_every_n_steps, self.options.max_number_of_steps
        if not (step // every > self.last_step // every or step == target):
            return
        now = time.monotonic()
        seconds_per_step = (now - self.last_time) / max(1, step - self.last_step)
        rate = self.options.batch_size * (self.batches - self.last_batches) / max(now - self.last_time, 1e-9)
        eta = " ETA %s" % format_duration((target - step) * seconds_per_step) if target else ""
        say("%sstep %d%s: loss %.4f (%.3f sec/step, %.1f images/s)%s"
            % (self.loop.label, step, "/%d" % target if target else "", loss, seconds_per_step, rate, eta))
        self.loop.writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="images_per_sec", simple_value=rate)]),
                                     step)
        self.last_time, self.last_step, self.last_batches = now, step, self.batches

    def done(self, step, path):
        elapsed = time.monotonic() - self.start - self.paused
        say("%sdone: step %d, %s (%.1f images/s over %s%s%s)"
            % (self.loop.label, step,
               "%s saved" % os.path.basename(path) if path else "the chief saves the checkpoints",
               self.batches * self.options.batch_size / max(elapsed, 1e-9), format_duration(elapsed),
               ", and %s validating" % format_duration(self.paused) if self.paused else "",
               "" if not self.loop.label else "; %d batches of this worker" % self.batches))


def _diverged(loop, options, step, what):
    """The UserError of a run whose loss or weights became NaN or infinite at `step`: nothing of it is saved."""
    kept = loop.last_saved if loop.saves else None
    if not loop.saves:
        where = ""  # a worker of a cluster: the chief saves
    elif kept:
        where = "; %s stays the latest checkpoint" % os.path.basename(kept)
    else:
        where = "; no checkpoint was saved"
    return UserError("training diverged at step %d: %s. It stops here, and no checkpoint of these weights is saved%s. "
                     "Lower --learning_rate (%g now), or check the data, then run the command again%s"
                     % (step, what, where, options.schedule.learning_rate,
                        " to resume from %s" % os.path.basename(kept) if kept else ""))


def _save(loop, options, write_meta_graph=True):
    """`loop.save`, unless the weights hold NaN or infinity: then the UserError of a diverged run."""
    if loop.saves:
        bad = loop.non_finite()
        if bad:
            raise _diverged(loop, options, loop.current_step(), finite.describe(bad))
    return loop.save(options.train_dir, write_meta_graph)


def _run_one(loop, fetches, stop, options, step, start_step, feed=None):
    """`loop.run_step`, with a damaged record turned into a UserError naming the file, after saving what
    was trained, and a NaN or an infinity in a histogram into the UserError of a diverged run naming the tensor."""
    try:
        return loop.run_step(fetches, stop, feed)
    except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as error:
        what = summaries.nonfinite_summary(error)
        if what is not None:  # not saved: the variables may hold the same values
            raise _diverged(loop, options, step + 1, what) from None
        user_error = tfrecord_integrity.reading_error(loop.tfrecord_file, error)
        if user_error is None:
            raise
        if step > start_step:  # keep what was trained
            _save(loop, options)
        raise user_error


def _stop_on_signal(loop, options, step, stop, last_summary_step):
    path = _save(loop, options)
    if loop.summaries is not None and last_summary_step != step:
        loop.write_summary(step)
    say("%s%s received: %s at step %d; run the same command again to %s"
        % (loop.label, stop.received, "saved %s" % os.path.basename(path) if path else "stopped",
           step, "resume" if path else "rejoin"))
    return step, stop.received


class _SummarySteps:
    """Which summaries each step writes (summaries.NONE, SCALARS or DETAILS: summary_due, then the detail
    budget), and their writing."""

    def __init__(self, loop, options, step):
        self.ops, self.writer = loop.summaries, loop.writer
        self.target, self.every_steps = options.max_number_of_steps, summary_every_steps(options)
        self.every_seconds = options.save_summaries_secs
        self.start_step = self.last_step = step
        self.last_time = time.monotonic()
        self.budget = DetailBudget(self.last_time)

    def fetches(self, train_op):
        return [train_op] + (self.ops.fetches if self.ops else [])

    def level(self, step, now):
        if self.ops is None or not summary_due(step, self.start_step, self.target, self.every_steps,
                                               now - self.last_time, self.every_seconds):
            return summaries.NONE
        last = self.target is not None and step + 1 >= self.target
        return summaries.DETAILS if self.budget.allows(now, last) else summaries.SCALARS

    def feed(self, level):
        return self.ops.feed(level) if self.ops else None

    def step_done(self, serialized, level, first, started, step):
        """After the step started at `started` (the run's first: `first`), now at global `step`."""
        if not first:  # the first step also prepares the graph
            self.budget.record(time.monotonic() - started, level == summaries.DETAILS)
        if level != summaries.NONE:
            for summary in serialized:
                if summary:
                    self.writer.add_summary(summary, step)
            self.last_time, self.last_step = started, step


def _validate(loop, options, validator, progress):
    """Saves the current step (without the .meta graph file, half of a validation's time otherwise) and evaluates
    it on the val part (engine/training/validation.py); returns the Verdict. Both are left out of the rates."""
    started = time.monotonic()
    path = _save(loop, options, write_meta_graph=False)
    verdict = validator.validate(path, int(loop.current_step()))
    progress.pause(time.monotonic() - started)
    return verdict


def run_steps(loop, options, validator=None):
    """Trains until `options.max_number_of_steps` (None: until interrupted), validating with `validator`
    (engine/training/validation.py) when one is given. Returns (final global step, name of the signal that
    stopped it early or None); early stopping returns as the last step does."""
    step = loop.session.run(loop.global_step)
    target = options.max_number_of_steps
    if target is not None and step >= target:
        say("%sglobal step %d already reached --max_number_of_steps %d: nothing to do" % (loop.label, step, target))
        return step, None
    if validator is not None and validator.selection.exhausted:
        say("early stopping stopped this run already (%d evaluations without progress): nothing to do; %s. Raise "
            "--early_stopping_patience, or drop it, to train on" % (validator.selection.stale, validator.summary()))
        return step, None
    progress = _Progress(loop, options, step)
    written = _SummarySteps(loop, options, step)
    fetches = written.fetches(loop.train_op)
    last_save = time.monotonic()
    with signals.interrupts(deferred=True) as stop:
        while target is None or step < target:
            now = time.monotonic()
            level = written.level(step, now)
            values = _run_one(loop, fetches, stop, options, step, progress.start_step, written.feed(level))
            if values is None:  # a cluster step left waiting: a signal came, or the others reached the target
                step = loop.current_step()
                if not stop.received:
                    break
            else:
                first = step == progress.start_step
                loss, step = values[0]
                written.step_done(values[1:], level, first, now, step)
                if not math.isfinite(loss):
                    raise _diverged(loop, options, step, "the loss is %s" % loss)
                progress.step_done(step, loss)
            if stop.received:
                return _stop_on_signal(loop, options, step, stop, written.last_step)
            if validator is not None and validator.due(step) and step != target:
                verdict = _validate(loop, options, validator, progress)
                last_save = time.monotonic()
                if verdict.stop:
                    say(validator.stopped_message(verdict))
                    if written.last_step != step:  # the curves end where the checkpoint is
                        loop.write_summary(step)
                    progress.done(step, _save(loop, options))
                    return step, None
            if time.monotonic() - last_save >= options.save_interval_secs:
                _save(loop, options)
                last_save = time.monotonic()
        path = _save(loop, options)
        if validator is not None and validator.last_step != step:
            _validate(loop, options, validator, progress)
    progress.done(step, path)
    return step, None
