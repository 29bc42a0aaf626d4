"""What an eval_image_classifier.py command evaluates, resolved in one call from its parsed flags: the
checkpoint (or the training directory to follow), where results go, the run's settings (flags over the run
recorded beside the checkpoint), the label mode and the evaluation options.

Following a training run (--eval_interval_secs or --timeout) waits for its first checkpoint first: the
training configuration is written with it.
"""
import dataclasses
import os

from core.errors import UserError
from core.progress import say
from datasets import tfrecord_stats
from engine.config import run_config
from engine.config import settings as settings_module
from engine.config.label_choice import decide_labels
from engine.config.options import EvalOptions, from_args
from engine.evaluation import evaluate
from engine.model import mixed_precision

EVAL_SUBDIR = run_config.EVAL_SUBDIR  # default --eval_dir, inside the training directory


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


def resolve_evaluation(args):
    """The EvaluationRun of parsed eval_image_classifier.py `args`, or None when following a training run
    that wrote no checkpoint before --timeout."""
    if args.batch_size < 1:
        raise UserError("--batch_size must be at least 1, got %d" % args.batch_size)
    following = args.eval_interval_secs is not None or args.timeout is not None
    checkpoint_dir = run_config.config_dir(args.checkpoint_path)
    if following and not os.path.exists(args.checkpoint_path) and not os.path.exists(args.checkpoint_path + ".index"):
        checkpoint_dir = args.checkpoint_path  # the training directory, not created yet
    eval_dir = args.eval_dir or os.path.join(checkpoint_dir, EVAL_SUBDIR)  # one `tensorboard --logdir` shows both
    checkpoint = None
    if following:
        os.makedirs(eval_dir, exist_ok=True)
        if not evaluate.wait_for_first_checkpoint(checkpoint_dir, args.timeout):
            return None
    else:
        checkpoint = evaluate.find_checkpoint_once(args.checkpoint_path)
    settings, _recorded = settings_module.resolve_recorded(args, args.checkpoint_path, "evaluate")
    stats = tfrecord_stats.scan(settings.tfrecord_file, "all", settings.validation_percentage,
                                skip_corrupt_records=args.skip_corrupt_records)
    settings_module.check_classes(settings, stats, settings.tfrecord_file)
    choice = decide_labels(settings.label_mode, stats, settings.classes, settings.label_groups, settings.labels_offset)
    settings = dataclasses.replace(settings, label_groups=choice.groups or None)
    options = from_args(EvalOptions, args, split=args.dataset_split_name, eval_dir=eval_dir)
    if options.mixed_precision != "none":
        say("mixed precision %s: %s" % (options.mixed_precision,
                                        mixed_precision.require_support(options.mixed_precision)))
    return EvaluationRun(settings, choice.mode, options, checkpoint_dir, eval_dir, checkpoint,
                         args.eval_interval_secs or 0.0, args.timeout)
