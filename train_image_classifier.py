r"""Trains a TF-Slim network on the TFRecord written by download_and_convert_data.py.

    python train_image_classifier.py --model_name inception_v3 --train_dir output/ \
        --max_number_of_steps 100 --batch_size 8 --learning_rate=0.0001 --train_image_size 250
"""
import dataclasses
import sys

from core.cli import EXIT_INTERRUPTED, add_bool_flag, run_main
from engine.config.flags import add_ignored_flags, dataset_parser, model_parser, parse_args, script_parser
from engine.config.options import (
    MIXED_PRECISION_MODES,
    ClusterOptions,
    LearningRateOptions,
    OptimizerOptions,
    TrainOptions,
    ValidationOptions,
    add_flags,
)

# research/slim's flags accepted and ignored, with a warning (engine/config/flags.py says why each does nothing).
IGNORED_FLAGS = ("quantize_delay", "dataset_name", "dataset_dir")


def build_parser():
    parser = script_parser(__doc__, [dataset_parser(split_default="train"), model_parser(("--train_image_size",))])

    general = parser.add_argument_group("training run")
    add_flags(general, TrainOptions, ("train_dir", "max_number_of_steps", "num_clones", "clone_on_cpu",
                                      "log_every_n_steps", "save_summaries_secs", "save_summaries_steps",
                                      "save_interval_secs", "seed"),
              add_bool_flag)
    general.add_argument("--mixed_precision", choices=MIXED_PRECISION_MODES, default=None,
                         help="compute in bfloat16 (CPUs with AVX512_BF16 or AMX) or float16 with loss scaling "
                         "(GPUs); variables and checkpoints stay float32 (default: what the run in --train_dir "
                         "recorded, else none)")
    add_ignored_flags(general, IGNORED_FLAGS)

    cluster = parser.add_argument_group(
        "cluster", "training on several machines: the same command in every process, the cluster from TF_CONFIG "
        "or --ps_hosts/--worker_hosts/--job_name/--task; worker 0 is the chief (python -m engine.cluster tries it "
        "on this machine)")
    add_flags(cluster, ClusterOptions, [f.name for f in dataclasses.fields(ClusterOptions)], add_bool_flag)

    optimization = parser.add_argument_group("optimization")
    add_flags(optimization, TrainOptions, ("weight_decay", "batch_norm_decay"))
    add_flags(optimization, OptimizerOptions, [f.name for f in dataclasses.fields(OptimizerOptions)])

    rate = parser.add_argument_group("learning rate")
    add_flags(rate, LearningRateOptions, [f.name for f in dataclasses.fields(LearningRateOptions)])
    add_flags(rate, TrainOptions, ("label_smoothing", "class_weighting", "moving_average_decay"))

    validation = parser.add_argument_group(
        "validation", "the val part of the split evaluated during training (train_dir/eval_val/), the best "
        "checkpoint kept in train_dir/best/, early stopping")
    add_flags(validation, ValidationOptions, [f.name for f in dataclasses.fields(ValidationOptions)])

    fine_tuning = parser.add_argument_group("fine-tuning")
    add_flags(fine_tuning, TrainOptions, ("checkpoint_path", "checkpoint_exclude_scopes", "trainable_scopes",
                                          "ignore_missing_vars"), add_bool_flag)
    return parser


def main(argv=None):
    args = parse_args(build_parser(), argv, IGNORED_FLAGS + ("csv_file",))
    from engine.training.setup import resolve_training

    run = resolve_training(args)
    if run.serves_variables:
        from engine.cluster import replicas
        return replicas.serve(run.cluster)
    from engine.training.trainer import train

    with run.holding_train_dir():
        _step, stopped_by = train(run.settings, run.options, run.cluster)
    return EXIT_INTERRUPTED if stopped_by else 0


if __name__ == "__main__":
    sys.exit(run_main(main))
