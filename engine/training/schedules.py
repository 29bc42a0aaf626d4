"""research/slim's learning-rate schedules (`--learning_rate_decay_type`), as a tensor of the global step."""
from core.compat import tf
from core.errors import UserError
from engine.config.options import DECAY_TYPES


def configure_learning_rate(options, num_samples_per_epoch, batch_size, global_step):
    """research/slim's learning rate schedules: fixed, exponential (staircase) or polynomial decay."""
    decay_type = options.learning_rate_decay_type
    decay_steps = max(1, int(num_samples_per_epoch * options.num_epochs_per_decay / batch_size))
    if decay_type == "fixed":
        return tf.constant(options.learning_rate, name="fixed_learning_rate")
    if decay_type == "exponential":
        return tf.train.exponential_decay(options.learning_rate, global_step, decay_steps,
                                          options.learning_rate_decay_factor, staircase=True,
                                          name="exponential_decay_learning_rate")
    if decay_type == "polynomial":
        return tf.train.polynomial_decay(options.learning_rate, global_step, decay_steps,
                                         options.end_learning_rate, power=1.0, cycle=False,
                                         name="polynomial_decay_learning_rate")
    raise UserError("unknown --learning_rate_decay_type %r; use one of %s" % (decay_type, ", ".join(DECAY_TYPES)))
