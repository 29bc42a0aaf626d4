"""Non-finite weights: a diverged training (a learning rate too high, NaN in the data) fills its variables with NaN
or infinity, and every prediction made with them is meaningless. Training saves no checkpoint of such weights
(TF1's NanTensorHook stopped such runs), and evaluation and export refuse a checkpoint that holds them.

`FiniteCheck` computes, beside each variable (on its parameter server in a cluster), whether it holds only finite
values, so that one boolean per variable travels, never the weights.
"""
from core.compat import tf


class FiniteCheck:
    """Whether each floating-point variable of `variables` holds only finite values. Build it in the graph before
    it is finalized; `non_finite(session)` runs it."""

    def __init__(self, variables):
        self.names, checks = [], []
        for variable in variables:
            if variable.dtype.base_dtype.is_floating:
                with tf.colocate_with(variable):
                    checks.append(tf.reduce_all(tf.math.is_finite(variable)))
                self.names.append(variable.op.name)
        self.op = tf.stack(checks, name="all_finite") if checks else None

    def non_finite(self, session, options=None):
        """The names of the variables that hold NaN or infinity in `session`."""
        if self.op is None:
            return []
        finite = session.run(self.op, options=options)
        return [name for name, ok in zip(self.names, finite) if not ok]


def describe(names, limit=3):
    """E.g. "NaN or infinity in 4 variables (LeNet/conv1/weights, LeNet/conv1/biases, LeNet/fc3/weights, ...)"."""
    shown = ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")
    return "NaN or infinity in %d variable%s (%s)" % (len(names), "" if len(names) == 1 else "s", shown)

