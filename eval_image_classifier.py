r"""Evaluates a trained network on the held-out split of the TFRecord.

    python eval_image_classifier.py --checkpoint_path output/ --batch_size 8

Model, image size, classes, label mode and split default to what training recorded in the checkpoint's
directory; the results go to output/eval/ (metrics.json, metrics.csv and TensorBoard events), so that
`tensorboard --logdir output/` shows the training and evaluation runs together. The original's command
works too (its --eval_dir output_eval/ is then shown with `tensorboard --logdir_spec
train:output/,eval:output_eval/`):

    python eval_image_classifier.py --model_name inception_v3 --eval_dir output_eval/ \
        --checkpoint_path output/ --batch_size 8 --eval_image_size 250

With --eval_interval_secs or --timeout it follows a training run, evaluating each new checkpoint; following it
on the val part (--dataset_split_name val) also keeps its best checkpoint in output/best/ (by --best_metric).
--checkpoint_path output/best evaluates that best checkpoint.
"""
import argparse
import sys

from core.cli import run_main
from engine.config.flags import add_ignored_flags, dataset_parser, model_parser, parse_args, script_parser
from engine.config.options import EvalOptions, ValidationOptions, add_flags

# research/slim's flags accepted and ignored, with a warning (engine/config/flags.py says why each does nothing).
IGNORED_FLAGS = ("quantize", "dataset_name", "dataset_dir")


def build_parser():
    parser = script_parser(__doc__, [dataset_parser(split_default="test"), model_parser(("--eval_image_size",))])
    group = parser.add_argument_group("evaluation")
    group.add_argument("--checkpoint_path", default="output/",
                       help="a training directory (its latest checkpoint) or one checkpoint file "
                       "(default: %(default)s)")
    add_flags(group, EvalOptions, ("eval_dir", "max_num_batches", "moving_average_decay", "mixed_precision",
                                   "eval_interval_secs", "timeout", "threshold_criterion"))
    add_flags(group, ValidationOptions, ("best_metric",))
    group.add_argument("--master", default="", help=argparse.SUPPRESS)
    add_ignored_flags(group, IGNORED_FLAGS)
    return parser


def main(argv=None):
    args = parse_args(build_parser(), argv, IGNORED_FLAGS + ("csv_file",))
    from engine.evaluation import evaluate
    from engine.evaluation.setup import resolve_evaluation

    run = resolve_evaluation(args)
    if run is None:  # following a training run that wrote no checkpoint before --timeout
        return 0
    with evaluate.Evaluator(run.settings, run.label_mode, run.options) as evaluator:
        if run.following:
            evaluate.follow(evaluator, run.checkpoint_dir, run.eval_dir, run.interval_secs, run.timeout_secs,
                            run.selection)
        else:
            evaluate.evaluate_once(evaluator, run.checkpoint, run.eval_dir)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
