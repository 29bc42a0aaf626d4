"""The learning-rate schedules (`--learning_rate_decay_type`), as a tensor of the global step: research/slim's
fixed, exponential (staircase) and polynomial decays, a cosine decay, and a linear warmup before any of them.

Epochs count images: a decay of E epochs lasts int(E * images of an epoch / images per global step) global steps,
where a global step takes --batch_size images (split over the clones), or --replicas_to_aggregate batches in a
cluster's sync mode (as research/slim divided its decay steps by --replicas_to_aggregate).
"""
import math

from core.compat import tf
from core.errors import UserError
from engine.config.options import DECAY_TYPES


def epochs_to_steps(epochs, num_samples_per_epoch, images_per_step):
    """The global steps of `epochs` epochs (research/slim's int(), so a fraction of a step is dropped)."""
    return int(num_samples_per_epoch * epochs / images_per_step)


def _decay(options, global_step, decay_steps, warmup_steps, total_steps):
    """The learning rate of `options.learning_rate_decay_type` at `global_step` (an int64 tensor or an int)."""
    decay_type = options.learning_rate_decay_type
    if decay_type == "fixed":
        return tf.constant(options.learning_rate, tf.float32)
    if decay_type == "exponential":
        return tf.train.exponential_decay(options.learning_rate, global_step, decay_steps,
                                          options.learning_rate_decay_factor, staircase=True)
    if decay_type == "polynomial":
        return tf.train.polynomial_decay(options.learning_rate, global_step, decay_steps,
                                         options.end_learning_rate, power=1.0, cycle=False)
    if decay_type == "cosine":
        length = max(1, total_steps - warmup_steps)
        done = tf.clip_by_value(tf.cast(global_step - warmup_steps, tf.float32) / length, 0.0, 1.0)
        return options.end_learning_rate + (options.learning_rate - options.end_learning_rate) * 0.5 * (
            1.0 + tf.cos(math.pi * done))
    raise UserError("unknown --learning_rate_decay_type %r; use one of %s" % (decay_type, ", ".join(DECAY_TYPES)))


def configure_learning_rate(options, num_samples_per_epoch, images_per_step, global_step, total_steps=None):
    """The learning rate tensor of LearningRateOptions `options` at `global_step`:
    - fixed: --learning_rate;
    - exponential: --learning_rate * --learning_rate_decay_factor ** floor(step / decay_steps) (staircase);
    - polynomial: linear from --learning_rate to --end_learning_rate at decay_steps, then constant;
    - cosine: from --learning_rate at the end of the warmup to --end_learning_rate at `total_steps`
      (--max_number_of_steps), then constant;
    where decay_steps is --num_epochs_per_decay epochs (at least 1 step). With --warmup_epochs (W steps), steps
    0 to W - 1 climb linearly, step s taking (s + 1) / W of the rate the decay gives at step W; from step W on,
    the decay's own rate."""
    decay_steps = max(1, epochs_to_steps(options.num_epochs_per_decay, num_samples_per_epoch, images_per_step))
    warmup_steps = epochs_to_steps(options.warmup_epochs, num_samples_per_epoch, images_per_step)
    if options.learning_rate_decay_type == "cosine" and not total_steps:
        raise UserError("--learning_rate_decay_type cosine decays until the last step: give --max_number_of_steps")
    with tf.name_scope("learning_rate"):
        rate = _decay(options, global_step, decay_steps, warmup_steps, total_steps)
        if warmup_steps > 0:
            at_warmup_end = _decay(options, tf.constant(warmup_steps, global_step.dtype), decay_steps,
                                   warmup_steps, total_steps)
            climbing = at_warmup_end * tf.cast(global_step + 1, tf.float32) / float(warmup_steps)
            rate = tf.where(global_step < warmup_steps, climbing, rate)
        return tf.identity(rate, name="value")
