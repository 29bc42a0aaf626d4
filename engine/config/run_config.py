"""The resolved training configuration, written into `train_dir` so later steps default to it.

`train_dir/train_config.json` holds: model_name, image_size, preprocessing_name, classes (names in id
order), label_mode ("single", "multi" or "grouped"), label_groups (a grouped run's attribute groups:
[{"name", "classes"}]), validation_percentage (the test part), val_percentage, dataset_split_name,
use_grayscale, labels_offset, tfrecord_file, classes_file, mixed_precision, optimizer, opt_epsilon,
moving_average_decay (None: no averages kept; else evaluation and export read the averages),
class_weighting and class_weights.

Reading it checks that it is what training writes (`FIELDS`): a file edited by hand, cut short or replaced
gets a message naming it and each wrong value, never a traceback deeper down.

Evaluation writes into `train_dir/eval/` by default, and for a multi-label run the thresholds it chose on
the val part (`thresholds.json`), which export records for label_image.
"""
import json
import math
import os

from core import atomic_files
from core.errors import UserError, first_line
from core.files import SPECIAL_FILE, TOO_LARGE, FileRefused, read_bounded
from core.text import quote
from datasets import label_modes
from engine.config.options import CLASS_WEIGHTINGS, MIXED_PRECISION_MODES, OPTIMIZERS
from nets.catalog import MODEL_NAMES

CONFIG_NAME = "train_config.json"
MAX_CONFIG_BYTES = 16 * 1024 * 1024  # far above what training writes (a few hundred bytes per class)


def _integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value):
    return (_integer(value) or isinstance(value, float)) and math.isfinite(value)


def _names(value):
    return isinstance(value, list) and bool(value) and all(isinstance(name, str) and name for name in value)


def _text(value):
    return isinstance(value, str) and bool(value)


def _groups(value):
    return isinstance(value, list) and bool(value) and all(
        isinstance(group, dict) and _text(group.get("name")) and _names(group.get("classes")) for group in value)


# What training writes under each key: (what the value must be, its check). Keys a config lacks (runs recorded
# by earlier versions) or holds as null are not recorded, except REQUIRED ones; other keys are ignored.
FIELDS = {
    "model_name": ("one of the model names of --model_name", lambda value: value in MODEL_NAMES),
    "image_size": ("a positive integer", lambda value: _integer(value) and 0 < value < 2 ** 31),
    "classes": ("a list of class names", _names),
    "preprocessing_name": ("a preprocessing name", _text),
    "use_grayscale": ("true or false", lambda value: isinstance(value, bool)),
    "tfrecord_file": ("a path", _text),
    "classes_file": ("a path", _text),
    "validation_percentage": ("a number from 0 to 100", lambda value: _number(value) and 0 <= value <= 100),
    "val_percentage": ("a number from 0 to 100", lambda value: _number(value) and 0 <= value <= 100),
    "labels_offset": ("an integer of at least 0", lambda value: _integer(value) and value >= 0),
    "label_mode": ("one of %s" % ", ".join(label_modes.CHOICES), lambda value: value in label_modes.CHOICES),
    "dataset_split_name": ("a split name", _text),
    "mixed_precision": ("one of %s" % ", ".join(MIXED_PRECISION_MODES), lambda value: value in MIXED_PRECISION_MODES),
    "optimizer": ("one of %s" % ", ".join(OPTIMIZERS), lambda value: value in OPTIMIZERS),
    "opt_epsilon": ("a positive number", lambda value: _number(value) and value > 0),
    "moving_average_decay": ("a number from 0 to less than 1", lambda value: _number(value) and 0 <= value < 1),
    "label_groups": ('a list of {"name": group name, "classes": [class names]}', _groups),
    "class_weighting": ("one of %s" % ", ".join(CLASS_WEIGHTINGS), lambda value: value in CLASS_WEIGHTINGS),
}
REQUIRED = ("model_name", "image_size", "classes")  # in every config training ever wrote

EVAL_SUBDIR = "eval"  # default --eval_dir, inside the training directory
THRESHOLDS_NAME = "thresholds.json"  # a multi-label run's chosen thresholds, beside metrics.json


def default_thresholds_path(checkpoint_path):
    """Where evaluation writes by default the thresholds of the run of `checkpoint_path`."""
    return os.path.join(config_dir(checkpoint_path), EVAL_SUBDIR, THRESHOLDS_NAME)


def read_thresholds(path):
    """The dict of a thresholds.json ({criterion, split, num_images, global_step, checkpoint, thresholds:
    {label: value}}); a UserError when it cannot be read."""
    try:
        value = json.loads(read_bounded(path, MAX_CONFIG_BYTES).decode("utf-8"))
    except FileRefused as refused:
        raise UserError("cannot read the thresholds %s (%s: %s); evaluate the run again to write them"
                        % (quote(path), refused.reason, refused.detail))
    except ValueError as error:
        raise UserError("cannot read the thresholds %s (%s); evaluate the run again to write them"
                        % (quote(path), first_line(error, 200)))
    thresholds = value.get("thresholds") if isinstance(value, dict) else None
    if not isinstance(thresholds, dict) or not all(
            isinstance(label, str) and _number(threshold) and 0 <= threshold <= 1
            for label, threshold in thresholds.items()):
        raise UserError("%s holds no thresholds (a `thresholds` object of label: a number from 0 to 1); evaluate "
                        "the run again to write them" % quote(path))
    return value


def config_dir(checkpoint_path):
    """The training directory of a checkpoint path (a directory, or a checkpoint file's prefix)."""
    return checkpoint_path if os.path.isdir(checkpoint_path) else os.path.dirname(checkpoint_path) or "."


def write_config(train_dir, config):
    return atomic_files.write_json(os.path.join(train_dir, CONFIG_NAME), config, sort_keys=True)


def read_config(checkpoint_path):
    """The config training recorded beside `checkpoint_path`, or {} when there is none; a UserError naming the
    file when it is not what training writes."""
    path = os.path.join(config_dir(checkpoint_path), CONFIG_NAME)
    if not os.path.lexists(path):
        return {}
    config = _check(path, _parse(path, _read(path)))
    return {key: value for key, value in config.items() if value is not None}


def _refuse(path, problem):
    return UserError("the training configuration %r %s, so the settings of the run cannot be known from it. Restore "
                     "it from a copy of the training directory; or delete it and give the run's settings as flags "
                     "(--model_name, the image size, --classes_file), or train anew in another directory"
                     % (path, problem))


def _read(path):
    """The bytes of the file at `path`: a regular file, read without blocking (a FIFO) and up to a limit."""
    try:
        return read_bounded(path, MAX_CONFIG_BYTES)
    except FileRefused as refused:
        if refused.reason == SPECIAL_FILE:
            raise _refuse(path, "is not a regular file (%s)" % refused.detail) from None
        if refused.reason == TOO_LARGE:
            raise _refuse(path, "is larger than %d MB, far more than training writes" % (MAX_CONFIG_BYTES >> 20)) \
                from None
        raise _refuse(path, "cannot be read (%s)" % refused.detail) from None


def _parse(path, data):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _refuse(path, "is not UTF-8 text (byte %d)" % error.start) from None
    try:
        return json.loads(text)
    except ValueError as error:
        raise _refuse(path, "is not JSON (%s)" % error) from None


def _check(path, config):
    if not isinstance(config, dict):
        raise _refuse(path, "holds a JSON %s, not the object training writes" % type(config).__name__)
    wrong = ["lacks %r" % key for key in REQUIRED if config.get(key) is None]
    for key, (what, valid) in FIELDS.items():
        value = config.get(key)
        if value is not None and not valid(value):
            wrong.append("%r is %.80s, not %s" % (key, json.dumps(value, ensure_ascii=True), what))
    if wrong:
        raise _refuse(path, "is not what training writes: %s" % "; ".join(wrong))
    return config
