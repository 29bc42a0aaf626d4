"""Which of TensorFlow's CPU kernels a process runs. This must happen before TensorFlow is imported, so
no TensorFlow here.

TensorFlow turns its oneDNN kernels on by default only on CPUs with AVX512 or AMX. On the AVX2
development machine (README, Benchmarks) they make a training step of inception_v3 about 10% faster
than the default Eigen kernels, the convolution gradients most of all; but inference from variables
(evaluation) gets slower, a batch of one image of mobilenet_v1 over 20 times, because their fusion of a
convolution with its batch norm is set up again on every run. So training asks for oneDNN and the
other scripts keep TensorFlow's default. TF_ENABLE_ONEDNN_OPTS set by the user always wins.
"""
import os
import sys

ONEDNN_VARIABLE = "TF_ENABLE_ONEDNN_OPTS"


def prefer_onednn():
    """Turns oneDNN on for this process unless the user chose; False when it is too late to choose
    (TensorFlow already imported) or the user did."""
    if "tensorflow" in sys.modules or ONEDNN_VARIABLE in os.environ:
        return False
    os.environ[ONEDNN_VARIABLE] = "1"
    return True
