"""What a train_image_classifier.py command trains, resolved in one call from its parsed flags: the run's
settings (flags over the run recorded in --train_dir), the training options and the cluster.

A training directory that already holds checkpoints is resumed: the command must name the same run (model,
classes, image size, label mode, optimizer), and the optimizer, its epsilon, the class weighting and the mixed
precision the run recorded are kept unless given.
"""
import contextlib
import dataclasses

from core import dir_lock
from core.errors import UserError
from engine.cluster import topology
from engine.config import settings as settings_module
from engine.config.options import (
    ClusterOptions,
    LearningRateOptions,
    OptimizerOptions,
    TrainOptions,
    ValidationOptions,
    check_ranges,
    default_optimizer,
    from_args,
)
from engine.model.checkpoints import latest_checkpoint


@dataclasses.dataclass
class TrainingRun:
    settings: object  # engine.config.settings.Settings (None for a parameter server)
    options: TrainOptions
    cluster: object = None  # engine.cluster.topology.Cluster, or None for one process

    @property
    def serves_variables(self):
        """True for a parameter server of a cluster: it holds variables and trains nothing."""
        return self.cluster is not None and self.cluster.job_name == "ps"

    @property
    def writes_train_dir(self):
        """True for the process that writes --train_dir: the only one, or the chief of a cluster."""
        return self.cluster is None or self.cluster.is_chief

    def holding_train_dir(self):
        """The lock of --train_dir for the process that writes it (core/dir_lock.py): one such process at a time."""
        if not self.writes_train_dir:
            return contextlib.nullcontext()
        return dir_lock.holding(self.options.train_dir, "--train_dir")


def _check_flags(args):
    """Every flag whose value has a valid range (engine.config.options.Range), in every process of a cluster."""
    if args.dataset_split_name != "train":
        raise UserError("training reads the train split; --dataset_split_name %r is for evaluation"
                        % args.dataset_split_name)
    check_ranges(training_options(args))
    check_ranges(from_args(ClusterOptions, args))
    validating = args.eval_every_n_steps or args.eval_interval_secs
    for name in ("best_metric", "early_stopping_patience"):
        if getattr(args, name) is not None and not validating:
            raise UserError("--%s works on the evaluations of the val part during training: add --eval_every_n_steps "
                            "N (or --eval_interval_secs S)" % name)


def _check_cluster(cluster, args):
    if cluster is not None and (args.eval_every_n_steps or args.eval_interval_secs):
        raise UserError("validation inside training runs in a single training process; on a cluster, follow the "
                        "training with eval_image_classifier.py --checkpoint_path %s --eval_interval_secs 60 "
                        "--dataset_split_name val, which keeps the best checkpoint the same way" % args.train_dir)


def resolve_training(args):
    """The TrainingRun of parsed train_image_classifier.py `args` (see the module's docstring)."""
    _check_flags(args)
    cluster = topology.resolve(from_args(ClusterOptions, args))
    if cluster is not None and cluster.job_name == "ps":
        return TrainingRun(None, from_args(TrainOptions, args), cluster)
    _check_cluster(cluster, args)
    dir_lock.check_directory(args.train_dir, "--train_dir")
    resuming = latest_checkpoint(args.train_dir) is not None
    settings, recorded = settings_module.resolve_recorded(args, args.train_dir, "train", compare=resuming,
                                                          optimizer=args.optimizer)
    return TrainingRun(settings, training_options(args, recorded if resuming else {}, recorded), cluster)


def training_options(args, resumed=None, recorded=None):
    """The TrainOptions of parsed `args`; the optimizer, its epsilon and the class weighting of a `resumed` run's
    recorded config, and the mixed precision of a `recorded` one, where the flags do not say."""
    resumed, recorded = resumed or {}, recorded or {}
    optimizer, epsilon = args.optimizer, args.opt_epsilon
    if resumed:
        optimizer = optimizer or resumed.get("optimizer")
        if epsilon is None and default_optimizer(resumed.get("optimizer")) == default_optimizer(optimizer):
            epsilon = resumed.get("opt_epsilon")
    mixed_precision = args.mixed_precision or recorded.get("mixed_precision") or "none"
    class_weighting = getattr(args, "class_weighting", None) or resumed.get("class_weighting") or "none"
    optimization = from_args(OptimizerOptions, args, optimizer=optimizer, opt_epsilon=epsilon)
    return from_args(TrainOptions, args, optimization=optimization, schedule=from_args(LearningRateOptions, args),
                     validation=from_args(ValidationOptions, args), mixed_precision=mixed_precision,
                     class_weighting=class_weighting)
