"""Checkpoints of a training directory: finding the latest, checking that one fits a network, restoring
for fine-tuning, saving, and cleaning up after an interrupted run.

Training saves `model.ckpt-STEP` files with paths relative to their directory (so a training directory can
be moved) and keeps the last few (`MAX_TO_KEEP`).
"""
import os
import re
import shutil

from core.compat import slim, tf
from core.errors import UserError, first_line, out_of_space, write_failure
from core.progress import warn
from engine.config.options import scopes
from engine.model import finite

CHECKPOINT_BASENAME = "model.ckpt"
MAX_TO_KEEP = 5
AVERAGE_SUFFIX = "ExponentialMovingAverage"  # tf.train.ExponentialMovingAverage's shadow variable names
# What TensorFlow raises reading a damaged checkpoint: DataLossError (a checksum, a damaged index), OutOfRangeError
# or IndexError (a file cut short), NotFoundError (a file missing), ValueError (no index file), OpError (others).
READ_ERRORS = (tf.errors.OpError, ValueError, IndexError)


def latest_checkpoint(directory):
    """The newest checkpoint of `directory` (a file prefix), or None. TensorFlow's state file `checkpoint`
    names it; when that file is missing or names nothing left, the `model.ckpt-STEP` of the highest step
    whose files are all there is taken, so a lost state file does not restart training from step 0."""
    latest = tf.train.latest_checkpoint(directory)
    if latest or not os.path.isdir(directory):
        return latest
    steps = []
    for name in os.listdir(directory):
        stem, _, step = name[:-len(".index")].rpartition("-")
        if name.endswith(".index") and stem == CHECKPOINT_BASENAME and step.isdigit():
            steps.append(int(step))
    for step in sorted(steps, reverse=True):
        prefix = os.path.join(directory, "%s-%d" % (CHECKPOINT_BASENAME, step))
        if tf.train.checkpoint_exists(prefix) and _data_files_complete(prefix):
            return prefix
    return None


def candidates(directory):
    """Every checkpoint of `directory`, newest first: the one TensorFlow's state file names, then every
    `model.ckpt-STEP` whose index file is there, highest step first."""
    found = []
    try:
        latest = tf.train.latest_checkpoint(directory)
    except READ_ERRORS:
        latest = None  # a damaged state file: the files themselves say what is there
    if latest:
        found.append(latest)
    steps = []
    for name in os.listdir(directory) if os.path.isdir(directory) else ():
        stem, _, step = name[:-len(".index")].rpartition("-")
        if name.endswith(".index") and stem == CHECKPOINT_BASENAME and step.isdigit():
            steps.append(int(step))
    for step in sorted(steps, reverse=True):
        prefix = os.path.join(directory, "%s-%d" % (CHECKPOINT_BASENAME, step))
        if os.path.normpath(prefix) not in map(os.path.normpath, found):
            found.append(prefix)
    return found


def readable(prefix):
    """Whether every tensor of checkpoint `prefix` reads back whole (its checksums included)."""
    try:
        reader = tf.train.load_checkpoint(prefix)
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
        return True
    except READ_ERRORS:
        return False


def read_failure(error):
    """What TensorFlow said about a checkpoint it could not read, in one line."""
    lines = [line.strip() for line in str(getattr(error, "message", None) or error).splitlines() if line.strip()]
    for line in lines:  # the reason, after the node trace of a graph execution error
        if any(word in line for word in ("Read less bytes", "Checksum", "sstable", "No such file", "corrupt",
                                         "not a valid checkpoint", "Failed to find")):
            return line[:300]
    return first_line(error)


class DamagedCheckpoint(UserError):
    """A checkpoint whose files do not read back whole: cut short, changed, or missing one."""

    def __init__(self, path, reason):
        self.path, self.reason = path, reason
        super().__init__("checkpoint %r cannot be read (%s): its files were cut short, changed or removed "
                         "after they were written, or it is no checkpoint" % (path, reason))

    def with_advice(self, flag="--checkpoint_path"):
        """The same error, with the newest checkpoint beside it that reads whole."""
        folder = os.path.dirname(self.path) or "."
        others = [path for path in candidates(folder)
                  if os.path.normpath(path) != os.path.normpath(self.path) and readable(path)]
        advice = ("The newest intact checkpoint beside it is %s: pass %s %s" % (
            os.path.basename(others[0]), flag, others[0]) if others else
            "No other checkpoint beside it reads whole: train again, or restore the files from a copy")
        return UserError("%s. %s" % (self, advice))


def restore(saver, session, path):
    """`saver.restore`, with a checkpoint that does not read back whole turned into a DamagedCheckpoint."""
    try:
        saver.restore(session, path)
    except READ_ERRORS as error:
        raise DamagedCheckpoint(path, read_failure(error)) from None


def restore_newest(session, saver, train_dir, variables, what, finite_check):
    """Restores the newest checkpoint of `train_dir` that fits `variables` ({checkpoint name: variable} of
    `what`), reads back whole and holds finite weights (engine.model.finite.FiniteCheck); returns its path. A
    warning names each newer one skipped and why; a UserError when none is left."""
    skipped = []
    for path in candidates(train_dir):
        try:
            check_fits(path, variables, what)
            restore(saver, session, path)
        except DamagedCheckpoint as error:
            skipped.append("%s cannot be read (%s)" % (os.path.basename(path), error.reason))
            continue
        bad = finite_check.non_finite(session)
        if bad:
            skipped.append("%s holds %s" % (os.path.basename(path), finite.describe(bad)))
            continue
        if skipped:
            warn("%s; resuming from %s instead, the newest intact checkpoint of %s (the files of the newer ones "
                 "are left as they are: delete them if you do not need them)"
                 % ("; ".join(skipped), os.path.basename(path), train_dir))
        return path
    raise UserError("no checkpoint of %s can be resumed: %s. Move them out of %s to train from the start, or "
                    "pass another --train_dir" % (train_dir, "; ".join(skipped), train_dir))


def _data_files_complete(prefix):
    """Whether every `PREFIX.data-NNNNN-of-MMMMM` shard of a checkpoint exists."""
    folder, stem = os.path.split(prefix)
    shards = [name.rsplit("-of-", 1) for name in os.listdir(folder) if name.startswith(stem + ".data-")]
    counts = {int(total) for _, total in shards if total.isdigit()}
    return len(counts) == 1 and len(shards) == counts.pop()


def resolve_checkpoint(path, flag="--checkpoint_path"):
    """A checkpoint file prefix from a file prefix or a directory (its latest checkpoint)."""
    if os.path.isdir(path):
        latest = latest_checkpoint(path)
        if not latest:
            raise UserError("%s %r is a directory with no checkpoint in it" % (flag, path))
        return latest
    if tf.train.checkpoint_exists(path):
        return path
    raise UserError("%s %r does not exist: give a checkpoint file such as model.ckpt-1000 or "
                    "inception_v3.ckpt, or a directory holding checkpoints" % (flag, path))


def checkpoint_step(checkpoint):
    """The global step a checkpoint was saved at."""
    try:
        return int(tf.train.load_checkpoint(checkpoint).get_tensor("global_step"))
    except READ_ERRORS:
        return step_of(checkpoint) or 0


def checkpoint_shapes(path):
    """{variable name: shape} of the checkpoint `path`."""
    try:
        return tf.train.load_checkpoint(path).get_variable_to_shape_map()
    except READ_ERRORS as error:
        raise DamagedCheckpoint(path, read_failure(error)) from None


def compare(shapes, variables):
    """(names `shapes` lacks, "name (network s, checkpoint s)" of the other shapes) for `variables`, a
    {checkpoint name: variable} dict. TensorFlow's restore would silently take the checkpoint's shape for
    graph-mode variables, so callers check this first."""
    missing = [name for name in variables if name not in shapes]
    wrong = ["%s (network %s, checkpoint %s)" % (name, v.shape.as_list(), shapes[name])
             for name, v in variables.items() if name in shapes and v.shape.as_list() != list(shapes[name])]
    return missing, wrong


def check_fits(path, variables, what):
    """Raises a UserError naming the variables when checkpoint `path` does not fit `variables` ({checkpoint
    name: variable}) of `what` (e.g. "cifarnet with 5 classes")."""
    missing, wrong = compare(checkpoint_shapes(path), variables)
    if missing or wrong:
        details = []
        if wrong:
            details.append("%d variable(s) with another shape, e.g. %s" % (len(wrong), "; ".join(wrong[:3])))
        if missing:
            details.append("%d variable(s) missing, e.g. %s" % (len(missing), ", ".join(missing[:3])))
        raise UserError("checkpoint %r does not fit %s: %s. It belongs to another network or class count: "
                        "pass the --model_name, classes file and --labels_offset it was trained with, or its "
                        "training directory so they come from its train_config.json"
                        % (path, what, "; ".join(details)))


def restore_names(variables, shapes=None, use_moving_averages=False):
    """{checkpoint name: variable} for `variables`; with `use_moving_averages`, each variable's moving
    average where the checkpoint (`shapes`) holds one."""
    names = {}
    for variable in variables:
        average = variable.op.name + "/" + AVERAGE_SUFFIX
        names[average if use_moving_averages and average in shapes else variable.op.name] = variable
    return names


def fine_tuning_saver(checkpoint_path, exclude_scopes, ignore_missing_vars, logits_scopes):
    """A Saver restoring the model variables from `checkpoint_path`, minus `exclude_scopes`.

    Refuses variables whose shape differs from the checkpoint's (naming them) and, unless
    `ignore_missing_vars`, variables the checkpoint lacks.
    """
    path = resolve_checkpoint(checkpoint_path)
    exclusions = scopes(exclude_scopes)
    model_variables = slim.get_model_variables()
    for scope in exclusions:
        if not any(v.op.name.startswith(scope) for v in model_variables):
            warn("--checkpoint_exclude_scopes %r matches no variable of this network" % scope)
    chosen = [v for v in model_variables if not any(v.op.name.startswith(s) for s in exclusions)]
    shapes = checkpoint_shapes(path)
    missing, wrong = compare(shapes, restore_names(chosen))
    if wrong:
        raise UserError("checkpoint %r does not fit this network: %d variable(s) have other shapes: %s. "
                        "When the number of classes differs, exclude the classification layers with "
                        "--checkpoint_exclude_scopes=%s"
                        % (path, len(wrong), "; ".join(wrong[:5]), ",".join(logits_scopes)))
    if missing and not ignore_missing_vars:
        raise UserError("checkpoint %r lacks %d variable(s) of this network, e.g. %s. Is it a checkpoint of "
                        "another network? Pass --ignore_missing_vars to restore only what it holds"
                        % (path, len(missing), ", ".join(missing[:3])))
    if missing:
        warn("checkpoint lacks %d variable(s); they start from their initializers" % len(missing))
    restore = {v.op.name: v for v in chosen if v.op.name in shapes}
    if not restore:
        raise UserError("checkpoint %r holds none of this network's variables" % path)
    return path, tf.train.Saver(restore)


def make_saver():
    """The training Saver: the last MAX_TO_KEEP checkpoints, paths relative to their directory."""
    return tf.train.Saver(max_to_keep=MAX_TO_KEEP, save_relative_paths=True)


def recover(saver, train_dir):
    """After a restart: the saver keeps deleting the previous run's old checkpoints (max_to_keep), and
    the staging folders of saves a kill interrupted are removed."""
    state = tf.train.get_checkpoint_state(train_dir)
    if state:
        saver.recover_last_checkpoints(list(state.all_model_checkpoint_paths))
    for name in os.listdir(train_dir):
        if name.startswith(CHECKPOINT_BASENAME + "-") and name.endswith("_temp"):
            shutil.rmtree(os.path.join(train_dir, name), ignore_errors=True)


def step_of(path):
    """The step a `model.ckpt-STEP` path is named after, or None."""
    match = re.search(r"-(\d+)$", path or "")
    return int(match.group(1)) if match else None


def save(session, saver, train_dir, step, last_saved=None, write_meta_graph=True, passing=()):
    """Saves a checkpoint of global step `step` and returns its path; `last_saved` (the checkpoint this run restored
    or saved last) when it is of that step already: writing it again could only damage it. A UserError when it
    cannot be written (disk full), with `last_saved` left as the one TensorFlow's checkpoint state file names;
    errors of the types `passing` (a cluster's server gone: not the folder's fault) are raised as they are, once
    the files of the failed save are removed.
    Without `write_meta_graph`, no `.meta` file (the graph, which nothing here reads back; writing it takes most
    of a save's time)."""
    if last_saved and step_of(last_saved) == step:
        return last_saved
    try:
        return saver.save(session, os.path.join(train_dir, CHECKPOINT_BASENAME), global_step=step,
                          write_meta_graph=write_meta_graph)
    except (tf.errors.OpError, OSError) as error:
        _remove_failed_save(train_dir, step)
        if isinstance(error, passing):
            raise
        raise UserError("cannot save the checkpoint of step %d in %s %s %s; %s run the same command again to resume"
                        % (step, train_dir, write_failure(error),
                           "The previous checkpoint %s is intact" % os.path.basename(last_saved) if last_saved
                           else "No checkpoint was saved yet",
                           "free some space and" if out_of_space(error) else "then"))


def _remove_failed_save(train_dir, step):
    """Removes the files a failed save of `step` left (never the checkpoint the state file names)."""
    stem = "%s-%d" % (CHECKPOINT_BASENAME, step)
    for name in os.listdir(train_dir):
        path = os.path.join(train_dir, name)
        if name == stem + "_temp":
            shutil.rmtree(path, ignore_errors=True)
        elif name.startswith(stem + "."):
            os.remove(path)
