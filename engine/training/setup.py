"""What a train_image_classifier.py command trains, resolved in one call from its parsed flags: the run's
settings (flags over the run recorded in --train_dir), the training options and the cluster.

A training directory that already holds checkpoints is resumed: the command must name the same run (model,
classes, image size, label mode, optimizer), and the optimizer, its epsilon, the class weighting and the mixed
precision the run recorded are kept unless given.
"""
import dataclasses

from core.errors import UserError
from engine.cluster import topology
from engine.config import settings as settings_module
from engine.config.options import (
    ClusterOptions,
    LearningRateOptions,
    OptimizerOptions,
    TrainOptions,
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


def _check_flags(args):
    if args.dataset_split_name != "train":
        raise UserError("training reads the train split; --dataset_split_name %r is for evaluation"
                        % args.dataset_split_name)
    for name in ("batch_size", "num_clones", "log_every_n_steps"):
        if getattr(args, name) < 1:
            raise UserError("--%s must be at least 1, got %d" % (name, getattr(args, name)))


def resolve_training(args):
    """The TrainingRun of parsed train_image_classifier.py `args` (see the module's docstring)."""
    cluster = topology.resolve(from_args(ClusterOptions, args))
    if cluster is not None and cluster.job_name == "ps":
        return TrainingRun(None, from_args(TrainOptions, args), cluster)
    _check_flags(args)
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
                     mixed_precision=mixed_precision, class_weighting=class_weighting)
