"""The best checkpoint of a training run, kept in `train_dir/best/`, where the rotation of the last MAX_TO_KEEP
checkpoints (engine/model/checkpoints.py) never deletes it.

`train_dir/best/` holds:
- `model.ckpt-STEP.*`: the checkpoint's files, hard links to training's where the file system allows (no copy
  of the bytes; training's rotation then deletes only its own name), copies elsewhere;
- `checkpoint`: TensorFlow's state file naming it, so that every script's --checkpoint_path takes the folder as it
  takes a training directory (its latest checkpoint is the best);
- `train_config.json`: the run's, so that evaluation and export default to its model, classes and label mode;
- `best.json`: the record of the choice (engine/evaluation/selection.py writes it): the metric, its value, the
  global step, the checkpoint, and how the later evaluations went.

An update places the new files first, then rewrites the state file (atomically) and only then removes the
previous best: whenever the process stops, the state file names a complete checkpoint.
"""
import json
import os
import shutil

from core import atomic_files
from core.errors import UserError, out_of_space, write_failure
from core.progress import warn
from engine.config.run_config import CONFIG_NAME
from engine.model.checkpoints import CHECKPOINT_BASENAME

BEST_SUBDIR = "best"
RECORD_NAME = "best.json"
STATE_NAME = "checkpoint"  # TensorFlow's checkpoint state file


def best_dir(train_dir):
    return os.path.join(train_dir, BEST_SUBDIR)


def read_record(train_dir):
    """The record of `train_dir/best/best.json`, or {} when there is none (or it cannot be read, with a
    warning: the next evaluation chooses afresh)."""
    path = os.path.join(best_dir(train_dir), RECORD_NAME)
    if not os.path.isfile(path):
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as error:
        warn("cannot read %s (%s): the best checkpoint is chosen afresh" % (path, error))
        return {}


def write_record(train_dir, record):
    path = os.path.join(best_dir(train_dir), RECORD_NAME)
    try:
        return atomic_files.write_json(path, record)
    except OSError as error:
        raise _cannot_write(path, error)


def _files_of(checkpoint):
    """The names of the files of a checkpoint prefix (`.index`, `.data-*`, `.meta`) in its folder."""
    folder, stem = os.path.split(checkpoint)
    return [name for name in os.listdir(folder or ".") if name.startswith(stem + ".")]


def _place(source, target):
    """`target` becomes `source`'s content: a hard link where the file system allows, else a copy, under a
    temporary name first."""
    with atomic_files.replacing(target) as temporary:
        try:
            os.link(source, temporary)
        except OSError:
            shutil.copyfile(source, temporary)


def keep(checkpoint, train_dir, record):
    """Makes `checkpoint` (a prefix in `train_dir`) the best of `train_dir`, with `record` as its best.json
    (its "checkpoint" is set to the kept name). Returns the kept checkpoint's prefix in `train_dir/best/`."""
    folder = best_dir(train_dir)
    stem = os.path.basename(checkpoint)
    try:
        os.makedirs(folder, exist_ok=True)
        for name in _files_of(checkpoint):
            _place(os.path.join(os.path.dirname(checkpoint), name), os.path.join(folder, name))
        config = os.path.join(train_dir, CONFIG_NAME)
        if os.path.isfile(config):
            _place(config, os.path.join(folder, CONFIG_NAME))
        state = 'model_checkpoint_path: "%s"\nall_model_checkpoint_paths: "%s"\n' % (stem, stem)
        atomic_files.write_bytes(os.path.join(folder, STATE_NAME), state.encode("utf-8"))
    except OSError as error:
        raise _cannot_write(folder, error)
    write_record(train_dir, dict(record, checkpoint=stem))
    for name in os.listdir(folder):  # the previous best, and any file a kill left
        if name.startswith(CHECKPOINT_BASENAME + "-") and not name.startswith(stem + "."):
            os.remove(os.path.join(folder, name))
    return os.path.join(folder, stem)


def _cannot_write(path, error):
    return UserError("cannot write the best checkpoint into %s %s The previous best, if any, is unchanged; %s run "
                     "the same command again"
                     % (path, write_failure(error), "free some space and" if out_of_space(error) else "then"))
