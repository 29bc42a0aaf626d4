"""The resolved training configuration, written into `train_dir` so later steps default to it.

`train_dir/train_config.json` holds: model_name, image_size, preprocessing_name, classes (names in id
order), label_mode ("single", "multi" or "grouped"), label_groups (a grouped run's attribute groups:
[{"name", "classes"}]), validation_percentage, val_percentage, dataset_split_name, use_grayscale,
labels_offset, tfrecord_file, classes_file, mixed_precision, optimizer, opt_epsilon, class_weighting and
class_weights.

Evaluation writes into `train_dir/eval/` by default, and for a multi-label run the thresholds it chose on
the val part (`thresholds.json`), which export records for label_image.
"""
import json
import os

from core import atomic_files
from core.errors import UserError

CONFIG_NAME = "train_config.json"
EVAL_SUBDIR = "eval"  # default --eval_dir, inside the training directory
THRESHOLDS_NAME = "thresholds.json"  # a multi-label run's chosen thresholds, beside metrics.json


def default_thresholds_path(checkpoint_path):
    """Where evaluation writes by default the thresholds of the run of `checkpoint_path`."""
    return os.path.join(config_dir(checkpoint_path), EVAL_SUBDIR, THRESHOLDS_NAME)


def read_thresholds(path):
    """The dict of a thresholds.json ({criterion, split, num_images, global_step, checkpoint, thresholds:
    {label: value}}); a UserError when it cannot be read."""
    try:
        with open(path, encoding="utf-8") as handle:
            value = json.load(handle)
    except (OSError, ValueError) as error:
        raise UserError("cannot read the thresholds %r (%s); evaluate the run again to write them" % (path, error))
    if not isinstance(value, dict) or not isinstance(value.get("thresholds"), dict):
        raise UserError("%r holds no thresholds (a `thresholds` object of label: value); evaluate the run again "
                        "to write them" % path)
    return value


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
