"""The resolved training configuration, written into `train_dir` so later steps default to it.

`train_dir/train_config.json` holds: model_name, image_size, preprocessing_name, classes (names in id
order), label_mode ("single" or "multi"), validation_percentage (the test part), val_percentage,
dataset_split_name, use_grayscale, labels_offset, tfrecord_file, classes_file, mixed_precision, optimizer,
opt_epsilon, and moving_average_decay (None: no averages kept; else evaluation and export read the averages).
"""
import json
import os

from core import atomic_files
from core.errors import UserError

CONFIG_NAME = "train_config.json"


def config_dir(checkpoint_path):
    """The training directory of a checkpoint path (a directory, or a checkpoint file's prefix)."""
    return checkpoint_path if os.path.isdir(checkpoint_path) else os.path.dirname(checkpoint_path) or "."


def write_config(train_dir, config):
    return atomic_files.write_json(os.path.join(train_dir, CONFIG_NAME), config, sort_keys=True)


def read_config(checkpoint_path):
    """The config training recorded beside `checkpoint_path`, or {} when there is none."""
    path = os.path.join(config_dir(checkpoint_path), CONFIG_NAME)
    if not os.path.isfile(path):
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as error:
        raise UserError("cannot read the training configuration %r (%s); delete it or retrain" % (path, error))
