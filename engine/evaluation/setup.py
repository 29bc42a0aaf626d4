"""What an eval_image_classifier.py command evaluates, resolved in one call from its parsed flags: the
checkpoint (or the training directory to follow), where results go, the run's settings (flags over the run
recorded beside the checkpoint), the label mode and the evaluation options.

Following a training run (--eval_interval_secs or --timeout) waits for its first checkpoint first: the
training configuration is written with it.
"""
import dataclasses
import os

from core import dir_lock
from core.errors import UserError
from core.paths import NamedPath, check_distinct
from core.progress import say
from datasets import tfrecord_stats
from engine.config import run_config
from engine.config import settings as settings_module
from engine.config.options import NOT_NEGATIVE, EvalOptions, check_ranges, from_args
from engine.evaluation import evaluate, reports
from engine.model import mixed_precision
from engine.model.output_checks import checkpoint_inputs

EVAL_SUBDIR = "eval"  # default --eval_dir, inside the training directory


@dataclasses.dataclass
class EvaluationRun:
    settings: object  # engine.config.settings.Settings
    label_mode: str
    options: EvalOptions
    checkpoint_dir: str  # the training directory
    eval_dir: str
    checkpoint: str = None  # evaluated once; None when following the training directory
    interval_secs: float = None  # following: at most one evaluation every this many seconds
    timeout_secs: float = None  # following: stop after this long without a new checkpoint

    @property
    def following(self):
        return self.checkpoint is None


def check_outputs(eval_dir, checkpoint, checkpoint_dir, settings):
    """A UserError when a file evaluation writes into `eval_dir` is one it reads: the TFRecord, the classes
    file, a file of the checkpoint or of its training directory."""
    outputs = [NamedPath("the %s of --eval_dir" % name, os.path.join(eval_dir, name))
               for name in (reports.METRICS_NAME, reports.METRICS_TABLE_NAME)]
    inputs = [NamedPath("--tfrecord_file", settings.tfrecord_file),
              NamedPath("the classes file", settings.classes_file)]
    inputs += checkpoint_inputs(checkpoint or os.path.join(checkpoint_dir, "model.ckpt"))
    check_distinct(outputs, inputs, "pass another --eval_dir")


def resolve_evaluation(args):
    """The EvaluationRun of parsed eval_image_classifier.py `args`, or None when following a training run
    that wrote no checkpoint before --timeout."""
    check_ranges(from_args(EvalOptions, args, split=args.dataset_split_name))
    for flag, value in (("--eval_interval_secs", args.eval_interval_secs), ("--timeout", args.timeout)):
        if value is not None and value not in NOT_NEGATIVE:
            raise UserError("%s %s is out of range: it must be a finite number of seconds, at least 0" % (flag, value))
    following = args.eval_interval_secs is not None or args.timeout is not None
    checkpoint_dir = run_config.config_dir(args.checkpoint_path)
    if following and not os.path.exists(args.checkpoint_path) and not os.path.exists(args.checkpoint_path + ".index"):
        checkpoint_dir = args.checkpoint_path  # the training directory, not created yet
        dir_lock.check_directory(checkpoint_dir, "--checkpoint_path")
    eval_dir = args.eval_dir or os.path.join(checkpoint_dir, EVAL_SUBDIR)  # one `tensorboard --logdir` shows both
    dir_lock.check_directory(eval_dir, "--eval_dir")
    checkpoint = None
    if following:
        dir_lock.ensure_directory(eval_dir, "--eval_dir")
        if not evaluate.wait_for_first_checkpoint(checkpoint_dir, args.timeout):
            return None
    else:
        checkpoint = evaluate.find_checkpoint_once(args.checkpoint_path)
    settings, _recorded = settings_module.resolve_recorded(args, args.checkpoint_path, "evaluate")
    stats = tfrecord_stats.scan(settings.tfrecord_file, "all", settings.validation_percentage,
                                skip_corrupt_records=args.skip_corrupt_records)
    settings_module.check_classes(settings, stats, settings.tfrecord_file)
    check_outputs(eval_dir, checkpoint, checkpoint_dir, settings)
    options = from_args(EvalOptions, args, split=args.dataset_split_name, eval_dir=eval_dir)
    if options.mixed_precision != "none":
        say("mixed precision %s: %s" % (options.mixed_precision,
                                        mixed_precision.require_support(options.mixed_precision)))
    return EvaluationRun(settings, settings_module.decide_label_mode(settings.label_mode, stats), options,
                         checkpoint_dir, eval_dir, checkpoint, args.eval_interval_secs or 0.0, args.timeout)
