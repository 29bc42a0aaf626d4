"""The one place that adapts TensorFlow 2.21 and tf_slim 1.1.0 to each other.

Import `tf` and `slim` from here, never directly, so the shims below run first:
- tf_slim 1.1.0 imports `tf_keras.legacy_tf_layers`, which tf-keras 2.16+ only ships as
  `tf_keras.src.legacy_tf_layers`: alias it before tf_slim is imported.
- TensorFlow's C++ start-up chatter (CUDA probing on CPU-only machines) is silenced unless the
  user asked for it with TF_CPP_MIN_LOG_LEVEL.
"""
import os
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow.compat.v1 as tf  # noqa: E402
import tf_keras.src.legacy_tf_layers as _legacy_tf_layers  # noqa: E402

sys.modules.setdefault("tf_keras.legacy_tf_layers", _legacy_tf_layers)

import tf_slim as slim  # noqa: E402

tf.get_logger().setLevel("ERROR")
warnings.filterwarnings("ignore", message=r".*`layer.apply` is deprecated.*")
warnings.filterwarnings("ignore", category=DeprecationWarning)

__all__ = ["tf", "slim"]
