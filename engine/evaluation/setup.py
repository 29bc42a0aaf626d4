"""What an eval_image_classifier.py command evaluates, resolved in one call from its parsed flags: the
checkpoint (or the training directory to follow), where results go, the run's settings (flags over the run
recorded beside the checkpoint), the label mode and the evaluation options.

Following a training run (--eval_interval_secs or --timeout) waits for its first checkpoint first: the
training configuration is written with it. Following it on the val part also keeps its best checkpoint in
train_dir/best/, as validation inside training does (engine/evaluation/selection.py).
"""
import dataclasses
import os

from core import dir_lock
from core.errors import UserError
from core.paths import NamedPath, check_distinct
from core.progress import say
from datasets import tfrecord_stats
from datasets.defaults import TEST, VAL
from engine.config import run_config
from engine.config import settings as settings_module
from engine.config.label_choice import decide_labels
from engine.config.options import NOT_NEGATIVE, EvalOptions, best_metric, check_ranges, from_args
from engine.evaluation import evaluate, reports
from engine.evaluation.selection import Selection
from engine.model import mixed_precision
from engine.model.output_checks import checkpoint_inputs

EVAL_SUBDIR = run_config.EVAL_SUBDIR  # default --eval_dir of the test part, inside the training directory


def default_eval_dir(checkpoint_dir, split):
    """Where an evaluation of `split` writes by default: `checkpoint_dir/eval` for the test part (the default
    split), `checkpoint_dir/eval_SPLIT` for the others (`eval_val`, which validation inside training writes too).
    `tensorboard --logdir checkpoint_dir` shows each as its own run, with the same `eval/` tags, so that the test
    and val curves share each chart."""
    return os.path.join(checkpoint_dir, EVAL_SUBDIR if split == TEST else "%s_%s" % (EVAL_SUBDIR, split))


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
    selection: Selection = None  # following the val part: keeps the best checkpoint

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
    if args.best_metric and not (following and args.dataset_split_name == VAL):
        raise UserError("--best_metric %s chooses the best checkpoint while following a training run on the val "
                        "part: add --eval_interval_secs N --dataset_split_name val" % args.best_metric)
    # one `tensorboard --logdir` shows training and evaluation
    eval_dir = args.eval_dir or default_eval_dir(checkpoint_dir, args.dataset_split_name)
    dir_lock.check_directory(eval_dir, "--eval_dir")
    checkpoint = None
    if following:
        dir_lock.ensure_directory(eval_dir, "--eval_dir")
        if not evaluate.wait_for_first_checkpoint(checkpoint_dir, args.timeout):
            return None
    else:
        checkpoint = evaluate.find_checkpoint_once(args.checkpoint_path)
    settings, recorded = settings_module.resolve_recorded(args, args.checkpoint_path, "evaluate")
    stats = tfrecord_stats.scan(settings.tfrecord_file, "all", settings.validation_percentage,
                                skip_corrupt_records=args.skip_corrupt_records)
    settings_module.check_classes(settings, stats, settings.tfrecord_file)
    check_outputs(eval_dir, checkpoint, checkpoint_dir, settings)
    choice = decide_labels(settings.label_mode, stats, settings.classes, settings.label_groups, settings.labels_offset)
    settings = dataclasses.replace(settings, label_groups=choice.groups or None)
    # The moving averages training kept, unless the command says otherwise (0: the weights themselves).
    average_decay = (args.moving_average_decay if args.moving_average_decay is not None
                     else recorded.get("moving_average_decay"))
    options = from_args(EvalOptions, args, split=args.dataset_split_name, eval_dir=eval_dir,
                        moving_average_decay=average_decay)
    if options.mixed_precision != "none":
        say("mixed precision %s: %s" % (options.mixed_precision,
                                        mixed_precision.require_support(options.mixed_precision)))
    selection = None
    if following and options.split == VAL:
        selection = Selection(checkpoint_dir, best_metric(choice.mode, args.best_metric), VAL, choice.mode,
                              kept_by="eval_image_classifier.py")
    return EvaluationRun(settings, choice.mode, options, checkpoint_dir, eval_dir, checkpoint,
                         args.eval_interval_secs or 0.0, args.timeout, selection)
