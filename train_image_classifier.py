"""Trains a TF-Slim network on the TFRecord written by download_and_convert_data.py.

    python train_image_classifier.py --model_name inception_v3 --train_dir output/ \
        --max_number_of_steps 100 --batch_size 8 --learning_rate=0.0001 --train_image_size 250
"""
import argparse
import sys

from engine import run_config
from engine.cli import EXIT_INTERRUPTED, add_bool_flag, run_main
from engine.flags import dataset_parser, model_parser


def build_parser():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[dataset_parser(split_default="train"), model_parser(("--train_image_size",))])

    general = parser.add_argument_group("training run")
    general.add_argument("--train_dir", default="output/",
                         help="where checkpoints, event files and train_config.json go (default: %(default)s)")
    general.add_argument("--max_number_of_steps", type=int, default=None,
                         help="stop at this global step (default: train until interrupted)")
    general.add_argument("--num_clones", type=int, default=1, help="model clones the batch is split over")
    add_bool_flag(general, "clone_on_cpu", False, "place the clones on the CPU")
    general.add_argument("--log_every_n_steps", type=int, default=10, help="steps between progress lines")
    general.add_argument("--save_summaries_secs", type=float, default=600,
                         help="seconds between TensorBoard summaries")
    general.add_argument("--save_interval_secs", type=float, default=600, help="seconds between checkpoints")
    general.add_argument("--seed", type=int, default=None, help="graph-level random seed")
    general.add_argument("--mixed_precision", choices=("none", "bf16", "fp16"), default=None,
                         help="compute in bfloat16 (CPUs with AVX512_BF16 or AMX) or float16 with loss scaling "
                         "(GPUs); variables and checkpoints stay float32 (default: what the run in --train_dir "
                         "recorded, else none)")
    for obsolete in ("--worker_replicas", "--num_ps_tasks", "--task", "--replicas_to_aggregate",
                     "--quantize_delay"):
        general.add_argument(obsolete, type=int, default=None, help=argparse.SUPPRESS)
    add_bool_flag(general, "sync_replicas", False, argparse.SUPPRESS)
    general.add_argument("--master", default="", help=argparse.SUPPRESS)
    general.add_argument("--dataset_name", "--dataset_dir", default=None, help=argparse.SUPPRESS)

    optimization = parser.add_argument_group("optimization")
    optimization.add_argument("--weight_decay", type=float, default=0.00004, help="L2 weight decay")
    optimization.add_argument("--batch_norm_decay", type=float, default=None,
                              help="decay of the batch norm moving averages (default: the network's, "
                              "0.9997 for most; short runs evaluate better with 0.99 or 0.9)")
    optimization.add_argument("--optimizer", default="rmsprop",
                              choices=("adadelta", "adagrad", "adam", "ftrl", "momentum", "sgd", "rmsprop"))
    optimization.add_argument("--adadelta_rho", type=float, default=0.95)
    optimization.add_argument("--adagrad_initial_accumulator_value", type=float, default=0.1)
    optimization.add_argument("--adam_beta1", type=float, default=0.9)
    optimization.add_argument("--adam_beta2", type=float, default=0.999)
    optimization.add_argument("--opt_epsilon", type=float, default=1.0, help="epsilon of adam, rmsprop, adadelta")
    optimization.add_argument("--ftrl_learning_rate_power", type=float, default=-0.5)
    optimization.add_argument("--ftrl_initial_accumulator_value", type=float, default=0.1)
    optimization.add_argument("--ftrl_l1", type=float, default=0.0)
    optimization.add_argument("--ftrl_l2", type=float, default=0.0)
    optimization.add_argument("--momentum", type=float, default=0.9)
    optimization.add_argument("--rmsprop_momentum", type=float, default=0.9)
    optimization.add_argument("--rmsprop_decay", type=float, default=0.9)

    rate = parser.add_argument_group("learning rate")
    rate.add_argument("--learning_rate_decay_type", default="exponential",
                      choices=("fixed", "exponential", "polynomial"))
    rate.add_argument("--learning_rate", type=float, default=0.01, help="initial learning rate")
    rate.add_argument("--end_learning_rate", type=float, default=0.0001,
                      help="minimal learning rate of the polynomial decay")
    rate.add_argument("--label_smoothing", type=float, default=0.0)
    rate.add_argument("--learning_rate_decay_factor", type=float, default=0.94)
    rate.add_argument("--num_epochs_per_decay", type=float, default=2.0)
    rate.add_argument("--moving_average_decay", type=float, default=None,
                      help="keep moving averages of the model variables with this decay")

    fine_tuning = parser.add_argument_group("fine-tuning")
    fine_tuning.add_argument("--checkpoint_path", default=None,
                             help="checkpoint (file or directory) to start from")
    fine_tuning.add_argument("--checkpoint_exclude_scopes", default=None,
                             help="comma-separated scopes not restored, e.g. InceptionV3/Logits,InceptionV3/AuxLogits")
    fine_tuning.add_argument("--trainable_scopes", default=None,
                             help="comma-separated scopes to train (default: every trainable variable)")
    add_bool_flag(fine_tuning, "ignore_missing_vars", False,
                  "skip variables the checkpoint lacks instead of failing")
    return parser


def options_from_args(args):
    from engine.training import LearningRateOptions, OptimizerOptions, TrainOptions

    optimizer = OptimizerOptions(
        name=args.optimizer, adadelta_rho=args.adadelta_rho,
        adagrad_initial_accumulator_value=args.adagrad_initial_accumulator_value,
        adam_beta1=args.adam_beta1, adam_beta2=args.adam_beta2, opt_epsilon=args.opt_epsilon,
        ftrl_learning_rate_power=args.ftrl_learning_rate_power,
        ftrl_initial_accumulator_value=args.ftrl_initial_accumulator_value, ftrl_l1=args.ftrl_l1,
        ftrl_l2=args.ftrl_l2, momentum=args.momentum, rmsprop_momentum=args.rmsprop_momentum,
        rmsprop_decay=args.rmsprop_decay)
    learning_rate = LearningRateOptions(
        decay_type=args.learning_rate_decay_type, learning_rate=args.learning_rate,
        end_learning_rate=args.end_learning_rate, decay_factor=args.learning_rate_decay_factor,
        num_epochs_per_decay=args.num_epochs_per_decay)
    return TrainOptions(
        train_dir=args.train_dir, batch_size=args.batch_size, max_number_of_steps=args.max_number_of_steps,
        weight_decay=args.weight_decay, batch_norm_decay=args.batch_norm_decay, label_smoothing=args.label_smoothing,
        moving_average_decay=args.moving_average_decay, optimizer=optimizer, learning_rate=learning_rate,
        checkpoint_path=args.checkpoint_path, checkpoint_exclude_scopes=args.checkpoint_exclude_scopes,
        trainable_scopes=args.trainable_scopes, ignore_missing_vars=args.ignore_missing_vars,
        num_clones=args.num_clones, clone_on_cpu=args.clone_on_cpu, num_readers=args.num_readers,
        num_preprocessing_threads=args.num_preprocessing_threads, log_every_n_steps=args.log_every_n_steps,
        save_summaries_secs=args.save_summaries_secs, save_interval_secs=args.save_interval_secs,
        skip_corrupt_records=args.skip_corrupt_records, seed=args.seed,
        mixed_precision=args.mixed_precision or "none")


def main(argv=None):
    args = build_parser().parse_args(argv)
    from engine import settings as settings_module
    from engine.errors import UserError
    from engine.training import train

    if args.dataset_split_name != "train":
        raise UserError("training reads the train split; --dataset_split_name %r is for evaluation"
                        % args.dataset_split_name)
    for name in ("batch_size", "num_clones", "log_every_n_steps"):
        if getattr(args, name) < 1:
            raise UserError("--%s must be at least 1, got %d" % (name, getattr(args, name)))
    recorded = run_config.read_config(args.train_dir)
    if recorded and args.model_name and args.model_name != recorded.get("model_name"):
        from engine.training import latest_checkpoint
        if latest_checkpoint(args.train_dir):
            raise UserError("%s holds a %s training run; --model_name %s would not resume it. "
                            "Use another --train_dir" % (args.train_dir, recorded.get("model_name"),
                                                         args.model_name))
    settings = settings_module.resolve(args, recorded)
    if args.mixed_precision is None:
        args.mixed_precision = recorded.get("mixed_precision")
    _step, stopped_by = train(settings, options_from_args(args))
    return EXIT_INTERRUPTED if stopped_by else 0


if __name__ == "__main__":
    sys.exit(run_main(main))
