r"""Evaluates a trained network on the held-out split of the TFRecord.

    python eval_image_classifier.py --checkpoint_path output/ --batch_size 8

Model, image size, classes, label mode and split default to what training recorded in the checkpoint's
directory; the results go to output/eval/ (metrics.json, metrics.csv and TensorBoard events), so that
`tensorboard --logdir output/` shows the training and evaluation runs together. The original's command
works too (its --eval_dir output_eval/ is then shown with `tensorboard --logdir_spec
train:output/,eval:output_eval/`):

    python eval_image_classifier.py --model_name inception_v3 --eval_dir output_eval/ \
        --checkpoint_path output/ --batch_size 8 --eval_image_size 250

With --eval_interval_secs or --timeout it follows a training run, evaluating each new checkpoint.
"""
import argparse
import os
import sys

from core.cli import run_main
from engine.config import run_config
from engine.config.flags import add_ignored_flags, add_version_flag, dataset_parser, model_parser, warn_ignored
from engine.config.options import EvalOptions, add_flags, from_args

EVAL_SUBDIR = "eval"  # default --eval_dir, inside the training directory


# research/slim's flags accepted and ignored, with a warning (engine/config/flags.py says why each does nothing).
IGNORED_FLAGS = ("quantize", "dataset_name", "dataset_dir")


def build_parser():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[dataset_parser(split_default="test"), model_parser(("--eval_image_size",))])
    add_version_flag(parser)
    group = parser.add_argument_group("evaluation")
    group.add_argument("--checkpoint_path", default="output/",
                       help="a training directory (its latest checkpoint) or one checkpoint file "
                       "(default: %(default)s)")
    add_flags(group, EvalOptions, ("eval_dir", "max_num_batches", "moving_average_decay", "mixed_precision"))
    group.add_argument("--eval_interval_secs", type=float, default=None,
                       help="follow training: evaluate each new checkpoint, at most one every this many seconds "
                       "(default: evaluate the latest checkpoint once)")
    group.add_argument("--timeout", type=float, default=None,
                       help="when following, stop after this many seconds without a new checkpoint (default: "
                       "follow until interrupted)")
    group.add_argument("--master", default="", help=argparse.SUPPRESS)
    add_ignored_flags(group, IGNORED_FLAGS)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    warn_ignored(parser, args, sys.argv[1:] if argv is None else argv, IGNORED_FLAGS + ("path_to_csv",))
    from core.errors import UserError
    from core.progress import say
    from engine.evaluation import evaluate
    from engine.model import mixed_precision
    from engine.config import settings as settings_module

    if args.batch_size < 1:
        raise UserError("--batch_size must be at least 1, got %d" % args.batch_size)
    following = args.eval_interval_secs is not None or args.timeout is not None
    checkpoint_dir = run_config.config_dir(args.checkpoint_path)
    if following and not os.path.exists(args.checkpoint_path) and not os.path.exists(args.checkpoint_path + ".index"):
        checkpoint_dir = args.checkpoint_path  # the training directory, not created yet
    if args.eval_dir is None:  # beside the training events: one `tensorboard --logdir` shows both runs
        args.eval_dir = os.path.join(checkpoint_dir, EVAL_SUBDIR)
    if following:
        # The training config is written with the first checkpoint: wait for it before resolving defaults.
        os.makedirs(args.eval_dir, exist_ok=True)
        if not evaluate.wait_for_first_checkpoint(checkpoint_dir, args.timeout):
            return 0
    else:
        checkpoint = evaluate.find_checkpoint_once(args.checkpoint_path)
    recorded = run_config.read_config(args.checkpoint_path)
    settings = settings_module.resolve(args, recorded)
    if recorded:
        settings_module.check_same_run(checkpoint_dir, recorded, settings, "evaluate")
    from datasets import tfrecord_stats
    stats = tfrecord_stats.scan(settings.tfrecord_file, "all", settings.validation_percentage,
                                skip_corrupt_records=args.skip_corrupt_records)
    settings_module.check_classes(settings, stats, settings.tfrecord_file)
    label_mode = settings_module.decide_label_mode(settings.label_mode, stats)
    options = from_args(EvalOptions, args, split=args.dataset_split_name)
    if options.mixed_precision != "none":
        say("mixed precision %s: %s" % (options.mixed_precision,
                                        mixed_precision.require_support(options.mixed_precision)))
    with evaluate.Evaluator(settings, label_mode, options) as evaluator:
        if following:
            evaluate.follow(evaluator, checkpoint_dir, args.eval_dir, args.eval_interval_secs or 0.0,
                              args.timeout)
        else:
            evaluate.evaluate_once(evaluator, checkpoint, args.eval_dir)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
