"""research/slim's optimizers (`--optimizer` and its hyper-parameters), and the choice of the variables to train."""
from core.compat import slim, tf
from core.errors import UserError
from core.progress import warn
from engine.config.options import OPTIMIZERS, scopes


def configure_optimizer(options, learning_rate):
    """The optimizer `options.optimizer` names, with research/slim's hyper-parameters."""
    name = options.optimizer
    if name == "adadelta":
        return tf.train.AdadeltaOptimizer(learning_rate, rho=options.adadelta_rho, epsilon=options.opt_epsilon)
    if name == "adagrad":
        return tf.train.AdagradOptimizer(
            learning_rate, initial_accumulator_value=options.adagrad_initial_accumulator_value)
    if name == "adam":
        return tf.train.AdamOptimizer(learning_rate, beta1=options.adam_beta1, beta2=options.adam_beta2,
                                      epsilon=options.opt_epsilon)
    if name == "ftrl":
        return tf.train.FtrlOptimizer(
            learning_rate, learning_rate_power=options.ftrl_learning_rate_power,
            initial_accumulator_value=options.ftrl_initial_accumulator_value,
            l1_regularization_strength=options.ftrl_l1, l2_regularization_strength=options.ftrl_l2)
    if name == "momentum":
        return tf.train.MomentumOptimizer(learning_rate, momentum=options.momentum, name="Momentum")
    if name == "rmsprop":
        return tf.train.RMSPropOptimizer(learning_rate, decay=options.rmsprop_decay,
                                         momentum=options.rmsprop_momentum, epsilon=options.opt_epsilon)
    if name == "sgd":
        return tf.train.GradientDescentOptimizer(learning_rate)
    raise UserError("unknown --optimizer %r; use one of %s" % (name, ", ".join(OPTIMIZERS)))


def variables_to_train(trainable_scopes):
    """Trainable variables under `trainable_scopes` (comma-separated), or all of them."""
    chosen_scopes = scopes(trainable_scopes)
    if not chosen_scopes:
        return tf.trainable_variables()
    chosen = []
    for scope in chosen_scopes:
        found = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope)
        if not found:
            warn("--trainable_scopes %r matches no variable; check the scope names" % scope)
        chosen.extend(found)
    if not chosen:
        raise UserError("--trainable_scopes %r matches no trainable variable: nothing would train; "
                        "use scopes such as %s" % (trainable_scopes, _example_scopes()))
    return chosen


def _example_scopes():
    names = sorted({v.op.name.split("/")[0] + "/" + v.op.name.split("/")[1]
                    for v in slim.get_model_variables() if "/" in v.op.name})
    return ", ".join(names[-4:])
