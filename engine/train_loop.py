"""The step loop: run training steps until the target step, with progress lines, summaries, periodic
checkpoints, and a save before leaving on an interrupt, a NaN loss or a damaged record."""
import os
import time

from core import signals
from core.compat import tf
from core.errors import UserError
from core.progress import format_duration, say
from datasets import tfrecord_integrity
from engine import checkpoints
from engine.options import summary_every_steps


class Loop:
    """What the loop runs: the session, the graph's ops and the events writer."""

    def __init__(self, session, train_op, summary_op, global_step, saver, writer, tfrecord_file):
        self.session, self.train_op, self.summary_op = session, train_op, summary_op
        self.global_step, self.saver, self.writer = global_step, saver, writer
        self.tfrecord_file = tfrecord_file

    def save(self, train_dir):
        return checkpoints.save(self.session, self.saver, train_dir, self.global_step)

    def write_summary(self, step):
        """The summaries of one more batch (no training step) at `step`: a run that stops early ends its curves
        where its checkpoint is."""
        try:
            self.writer.add_summary(self.session.run(self.summary_op), step)
        except tf.errors.OpError:
            pass  # the input stopped: the checkpoint matters more than the last point


def summary_due(step, start_step, target, every_steps, seconds_since, every_seconds):
    """Whether the training step run at global `step` (the step count before it) also writes summaries:
    the first step of the run, every `every_steps` steps, at least every `every_seconds`, and the last."""
    next_step = step + 1
    return (step == start_step or (every_steps and next_step % every_steps == 0)
            or seconds_since >= every_seconds or (target is not None and next_step >= target))


def run_steps(loop, options):
    """Trains until `options.max_number_of_steps` (None: until interrupted). Returns (final global step,
    name of the signal that stopped it early or None)."""
    session = loop.session
    step = session.run(loop.global_step)
    start_step, start = step, time.monotonic()
    last_save = last_summary = last_log_time = time.monotonic()
    last_log_step = last_summary_step = step
    target = options.max_number_of_steps
    every_steps = summary_every_steps(options)
    if target is not None and step >= target:
        say("global step %d already reached --max_number_of_steps %d: nothing to do" % (step, target))
        return step, None
    with signals.interrupts(deferred=True) as stop:
        while target is None or step < target:
            now = time.monotonic()
            want_summary = summary_due(step, start_step, target, every_steps, now - last_summary,
                                       options.save_summaries_secs)
            try:
                if want_summary:
                    (loss, step), summary = session.run([loop.train_op, loop.summary_op])
                    loop.writer.add_summary(summary, step)
                    last_summary, last_summary_step = now, step
                else:
                    loss, step = session.run(loop.train_op)
            except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as error:
                user_error = tfrecord_integrity.reading_error(loop.tfrecord_file, error)
                if user_error is None:
                    raise
                if step > start_step:  # keep what was trained
                    loop.save(options.train_dir)
                raise user_error
            if loss != loss:
                loop.save(options.train_dir)
                raise UserError("the loss became NaN at step %d: lower --learning_rate" % step)
            if step % options.log_every_n_steps == 0 or step == target:
                now = time.monotonic()
                seconds_per_step = (now - last_log_time) / max(1, step - last_log_step)
                rate = options.batch_size / seconds_per_step if seconds_per_step else 0.0
                eta = " ETA %s" % format_duration((target - step) * seconds_per_step) if target else ""
                say("step %d%s: loss %.4f (%.3f sec/step, %.1f images/s)%s"
                    % (step, "/%d" % target if target else "", loss, seconds_per_step, rate, eta))
                loop.writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="images_per_sec",
                                                                           simple_value=rate)]), step)
                last_log_time, last_log_step = now, step
            if time.monotonic() - last_save >= options.save_interval_secs:
                loop.save(options.train_dir)
                last_save = time.monotonic()
            if stop.received:
                path = loop.save(options.train_dir)
                if last_summary_step != step:
                    loop.write_summary(step)
                say("%s received: saved %s at step %d; run the same command again to resume"
                    % (stop.received, os.path.basename(path), step))
                return step, stop.received
        path = loop.save(options.train_dir)
    elapsed = time.monotonic() - start
    say("done: step %d, %s saved (%.1f images/s over %s)"
        % (step, os.path.basename(path), (step - start_step) * options.batch_size / max(elapsed, 1e-9),
           format_duration(elapsed)))
    return step, None
