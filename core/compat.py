"""The one place that adapts TensorFlow 2.21 and tf_slim 1.1.0 to each other.

Import `tf` and `slim` from here, never directly, so the shims below run first:
- tf_slim 1.1.0 imports `tf_keras.legacy_tf_layers`, which tf-keras 2.16+ only ships as
  `tf_keras.src.legacy_tf_layers`: alias it before tf_slim is imported (on first use of `slim`).
- tf_slim 1.1.0 checks `isinstance(x, tensorflow.python.framework.ops.Tensor)` (in batch norm with
  a custom `updates_collections`, for one), a name TensorFlow 2.21 only has in `framework.tensor`:
  alias it back.
- TensorFlow's C++ start-up chatter (CUDA probing on CPU-only machines; "All log messages before
  absl::InitializeLog() ..." and "oneDNN custom operations are on" on CPUs where oneDNN is on by default),
  written to the stderr file descriptor while the library loads, whatever TF_CPP_MIN_LOG_LEVEL says, is
  hidden unless the user set TF_CPP_MIN_LOG_LEVEL=0. A process started by one of ours inherits the level
  this module sets, so it is hidden there too.
"""
import contextlib
import os
import sys
import warnings


@contextlib.contextmanager
def _quiet_stderr_fd():
    """Sends the process's file descriptor 2 to /dev/null for the duration; Python errors still raise."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


if os.environ.get("TF_CPP_MIN_LOG_LEVEL", "").strip() == "0":  # the user asked for every log line
    import tensorflow.compat.v1 as tf  # noqa: E402
else:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _quiet_stderr_fd():
        import tensorflow.compat.v1 as tf  # noqa: E402
tf.get_logger().setLevel("ERROR")
warnings.filterwarnings("ignore", message=r".*`layer.apply` is deprecated.*")
# slim.flatten (cifarnet, lenet) goes through TensorFlow's legacy tf.layers.flatten, which warns on every build.
warnings.filterwarnings("ignore", message=r".*`tf.layers.flatten` is deprecated.*")
# tf.data's note on every input map of a run given --seed (the graph-level seed is what --seed sets).
warnings.filterwarnings("ignore", message=r"Seed .* from outer graph might be getting used")
warnings.filterwarnings("ignore", category=DeprecationWarning)


def _load_slim():
    import tf_keras.src.legacy_tf_layers as legacy_tf_layers

    sys.modules.setdefault("tf_keras.legacy_tf_layers", legacy_tf_layers)
    from tensorflow.python.framework import ops as framework_ops
    from tensorflow.python.framework import tensor as framework_tensor

    if not hasattr(framework_ops, "Tensor"):
        framework_ops.Tensor = framework_tensor.Tensor
    import tf_slim

    return tf_slim


def __getattr__(name):
    """`slim` is imported on first use, so tools that only run a frozen graph (label_image) skip
    tf_keras and tf_slim."""
    if name == "slim":
        globals()["slim"] = _load_slim()
        return globals()["slim"]
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


__all__ = ["tf", "slim"]  # noqa: F822 (slim: the module __getattr__ above)
