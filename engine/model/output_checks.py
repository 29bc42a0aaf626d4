"""The files a checkpoint stands for, as inputs that no output of evaluation or export may overwrite
(core/paths.py: check_distinct): its index and data files, its directory's `checkpoint` state file and the
training run's train_config.json.
"""
import glob
import os

from core.paths import NamedPath
from engine.config.run_config import CONFIG_NAME

CHECKPOINT_STATE = "checkpoint"  # TensorFlow's file naming a directory's latest checkpoint


def checkpoint_inputs(checkpoint, flag="--checkpoint_path"):
    """NamedPath records of the files of the checkpoint prefix `checkpoint` (None: none) and of its
    training directory, as read through `flag`."""
    if not checkpoint:
        return []
    folder = os.path.dirname(checkpoint) or "."
    paths = [checkpoint + ".index"] + sorted(glob.glob(glob.escape(checkpoint) + ".data-*"))
    paths += [os.path.join(folder, CHECKPOINT_STATE), os.path.join(folder, CONFIG_NAME)]
    return [NamedPath("a file of %s" % flag, path) for path in paths]
