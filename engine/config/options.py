"""How to train: the option dataclasses and the tables their choices come from. No TensorFlow here, so a
script's `--help` is quick.

Each field of `OptimizerOptions`, `LearningRateOptions` and `TrainOptions` is named after the
command-line flag that sets it, and its default is the flag's default: `add_flags` declares the flags
of a dataclass from its fields, `from_args` builds the dataclass back from the parsed arguments.
"""
import dataclasses
import math

from core.errors import UserError
from datasets import label_modes

OPTIMIZERS = ("adadelta", "adagrad", "adam", "ftrl", "momentum", "sgd", "rmsprop")
DECAY_TYPES = ("fixed", "exponential", "polynomial", "cosine")  # research/slim's three, and a cosine
MIXED_PRECISION_MODES = ("none", "bf16", "fp16")
TFLITE_QUANTIZATIONS = ("none", "dynamic", "float16")  # weights of an exported TFLite model
BALANCED = "balanced"
CLASS_WEIGHTINGS = ("none", BALANCED)  # --class_weighting (engine/training/class_weights.py)
THRESHOLD_CRITERIA = ("f1", "accuracy", "none")  # --threshold_criterion (engine/evaluation/thresholds.py)

DEFAULT_OPTIMIZER = "rmsprop"
# --opt_epsilon when not given: research/slim's 1.0 for RMSProp (its only default, meant for RMSProp: with
# Adam it makes steps about 1000 times too small), each optimizer's own elsewhere (TensorFlow's defaults).
OPT_EPSILON_DEFAULTS = {"rmsprop": 1.0, "adam": 1e-8, "adadelta": 1e-8}
SUMMARY_STEPS = 100  # --save_summaries_steps when not given, for runs of more than 10 times as many steps


@dataclasses.dataclass(frozen=True)
class Range:
    """The valid values of a numeric option: a finite number from `low` to `high` (None: no bound), each bound
    included unless `low_open` or `high_open` says otherwise."""
    low: float = None
    high: float = None
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value):
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return self.high is None or not (value > self.high or (self.high_open and value == self.high))

    def describe(self):
        """E.g. "a finite number greater than 0", "from 0 to 1", "at least 0 and less than 1"."""
        low = None if self.low is None else "%s %s" % ("greater than" if self.low_open else "at least",
                                                       _number(self.low))
        high = None if self.high is None else "%s %s" % ("less than" if self.high_open else "at most",
                                                         _number(self.high))
        if low and high and not self.low_open and not self.high_open:
            return "from %s to %s" % (_number(self.low), _number(self.high))
        return " and ".join(part for part in (low, high) if part) or "a finite number"


def _number(value):
    return str(value) if isinstance(value, int) else "%g" % value


POSITIVE = Range(0, low_open=True)
NOT_NEGATIVE = Range(0)
AT_LEAST_ONE = Range(1)
FRACTION = Range(0, 1)  # from 0 to 1, both included
DECAY = Range(0, 1, high_open=True)  # a factor that must shrink what it multiplies
STEPS = Range(0, 2 ** 63 - 1)  # a global step (int64)


def check_ranges(record, given=None):
    """Raises one UserError naming every field of the dataclass `record` (and of the dataclasses it holds) whose
    value is outside the Range its metadata gives ("range"), with each valid range; None values are not checked.
    `given` ({field name: flag}) names the flags; by default --FIELD."""
    wrong = []
    for name, value, valid in _ranged_values(record):
        if value is not None and not isinstance(value, bool) and value not in valid:
            flag = (given or {}).get(name, "--" + name)
            wrong.append("%s %s: it must be %s" % (flag, value, valid.describe()))
    if wrong:
        raise UserError("%s out of range (%s); every rate, factor, decay, count and duration is a finite number in "
                        "its range: fix %s and run the command again"
                        % ("a value is" if len(wrong) == 1 else "%d values are" % len(wrong), "; ".join(wrong),
                           "it" if len(wrong) == 1 else "them"))


def _ranged_values(record):
    for spec in dataclasses.fields(record):
        value = getattr(record, spec.name)
        if dataclasses.is_dataclass(value):
            yield from _ranged_values(value)
        elif "range" in spec.metadata:
            yield spec.name, value, spec.metadata["range"]


def _ranged(default, valid, **metadata):
    """A dataclass field with `default` and the Range `valid`."""
    return dataclasses.field(default=default, metadata=dict(metadata, range=valid))


# The metric of the val part that chooses the best checkpoint (--best_metric), per label mode: (its default, the
# metrics it may be). Each is a scalar of engine/evaluation/metrics.py's results in that mode (tests/engine/
# test_selection.py checks it), and higher is better for each. A new label mode adds its row here.
BEST_METRICS = {
    label_modes.SINGLE: ("Accuracy", ("Accuracy", "mean_f1")),
    label_modes.MULTI: ("Accuracy", ("Accuracy", "mAP", "exact_match", "mean_f1")),
    # every attribute right: what a grouped model is for
    label_modes.GROUPED: ("exact_match", ("exact_match", "attribute_accuracy", "Accuracy", "mean_f1", "mAP")),
}


def default_optimizer(name):
    """`name`, or the optimizer a run that names none uses."""
    return name or DEFAULT_OPTIMIZER


@dataclasses.dataclass
class OptimizerOptions:
    optimizer: str = dataclasses.field(default=DEFAULT_OPTIMIZER, metadata={
        "choices": OPTIMIZERS, "flag_default": None,
        "help": "optimizer (default: the one the run in --train_dir uses, else %s)" % DEFAULT_OPTIMIZER})
    adadelta_rho: float = _ranged(0.95, FRACTION)
    adagrad_initial_accumulator_value: float = _ranged(0.1, POSITIVE)
    adam_beta1: float = _ranged(0.9, DECAY)
    adam_beta2: float = _ranged(0.999, DECAY)
    opt_epsilon: float = _ranged(None, POSITIVE, help="epsilon of adam, rmsprop and adadelta (default: per optimizer, "
                                 "%s)" % ", ".join("%s %g" % item for item in OPT_EPSILON_DEFAULTS.items()))
    ftrl_learning_rate_power: float = _ranged(-0.5, Range(high=0))
    ftrl_initial_accumulator_value: float = _ranged(0.1, NOT_NEGATIVE)
    ftrl_l1: float = _ranged(0.0, NOT_NEGATIVE)
    ftrl_l2: float = _ranged(0.0, NOT_NEGATIVE)
    momentum: float = _ranged(0.9, DECAY)
    rmsprop_momentum: float = _ranged(0.9, DECAY)
    rmsprop_decay: float = _ranged(0.9, FRACTION)

    def __post_init__(self):
        self.optimizer = default_optimizer(self.optimizer)
        if self.opt_epsilon is None:
            self.opt_epsilon = OPT_EPSILON_DEFAULTS.get(self.optimizer)


@dataclasses.dataclass
class LearningRateOptions:
    learning_rate_decay_type: str = dataclasses.field(default="exponential", metadata={
        "choices": DECAY_TYPES,
        "help": "fixed; exponential (research/slim's: times --learning_rate_decay_factor every "
                "--num_epochs_per_decay epochs); polynomial (linear to --end_learning_rate in --num_epochs_per_decay "
                "epochs); cosine (from --learning_rate at the end of the warmup to --end_learning_rate at "
                "--max_number_of_steps)"})
    learning_rate: float = _ranged(0.01, NOT_NEGATIVE, help="initial learning rate")
    end_learning_rate: float = _ranged(0.0001, NOT_NEGATIVE,
                                       help="the learning rate the polynomial and cosine decays end at")
    learning_rate_decay_factor: float = _ranged(0.94, Range(0, 1, low_open=True))
    num_epochs_per_decay: float = _ranged(2.0, POSITIVE)
    warmup_epochs: float = _ranged(0.0, NOT_NEGATIVE, help="epochs of linear warmup before any decay type: the rate "
                                   "climbs to what the decay gives at the end of the warmup")


def best_metric(label_mode, requested=None):
    """The metric that chooses the best checkpoint of a `label_mode` run: `requested` (--best_metric) once checked
    against BEST_METRICS, else the mode's default."""
    default, allowed = BEST_METRICS[label_mode]
    if requested is None:
        return default
    if requested not in allowed:
        raise UserError("--best_metric %s is not a metric of %s models; use one of %s (default: %s)"
                        % (requested, label_modes.NAMES[label_mode], ", ".join(allowed), default))
    return requested


def _best_metric_help():
    return ("metric of the val part that chooses train_dir/best/, higher is better (default: %s)" % "; ".join(
        "%s for %s runs, or %s" % (default, label_modes.NAMES[mode],
                                   ", ".join(name for name in allowed if name != default))
        for mode, (default, allowed) in BEST_METRICS.items()))


@dataclasses.dataclass
class ValidationOptions:
    """Validation inside training (engine/training/validation.py): the val part evaluated as
    eval_image_classifier.py --dataset_split_name val would, the best checkpoint kept, early stopping."""
    eval_every_n_steps: int = _ranged(None, AT_LEAST_ONE, help=(
        "evaluate the val part every this many steps, in the training process, and keep the best "
        "checkpoint in train_dir/best/ (default: no validation)"))
    eval_interval_secs: float = _ranged(None, POSITIVE, help=(
        "evaluate the val part at least every this many seconds (default: by steps only)"))
    best_metric: str = dataclasses.field(default=None, metadata={"help": _best_metric_help()})
    early_stopping_patience: int = _ranged(None, AT_LEAST_ONE, help=(
        "stop when this many evaluations in a row have not beaten the best by more than "
        "--early_stopping_min_delta (default: train to --max_number_of_steps)"))
    early_stopping_min_delta: float = _ranged(0.0, NOT_NEGATIVE, help=(
        "the least gain of --best_metric that counts as progress for early stopping"))

    @property
    def enabled(self):
        return bool(self.eval_every_n_steps or self.eval_interval_secs)


@dataclasses.dataclass
class TrainOptions:
    train_dir: str = dataclasses.field(
        default="output/", metadata={"help": "where checkpoints, event files and train_config.json go"})
    batch_size: int = _ranged(32, AT_LEAST_ONE, help="images per batch")
    max_number_of_steps: int = _ranged(None, STEPS, help="stop at this global step (default: train until interrupted)")
    weight_decay: float = _ranged(0.00004, NOT_NEGATIVE, help="L2 weight decay")
    batch_norm_decay: float = _ranged(None, FRACTION, help="decay of the batch norm moving averages (default: the "
                                      "network's, 0.9997 for most; short runs evaluate better with 0.99 or 0.9)")
    label_smoothing: float = _ranged(0.0, FRACTION)
    class_weighting: str = dataclasses.field(default="none", metadata={
        "choices": CLASS_WEIGHTINGS, "flag_default": None,
        "help": "balanced: weight each class (each class of an attribute group, each label's positives and "
                "negatives) by the inverse of its frequency in the train split, so rare ones count as much as "
                "frequent ones (default: the run's, else none)"})
    moving_average_decay: float = _ranged(
        None, DECAY, help="keep moving averages of the model variables with this decay (default: none)")
    optimization: OptimizerOptions = dataclasses.field(default_factory=OptimizerOptions)
    schedule: LearningRateOptions = dataclasses.field(default_factory=LearningRateOptions)
    validation: ValidationOptions = dataclasses.field(default_factory=ValidationOptions)
    checkpoint_path: str = dataclasses.field(
        default=None, metadata={"help": "checkpoint (file or directory) to start from (default: none, train from "
                                         "scratch)"})
    checkpoint_exclude_scopes: str = dataclasses.field(default=None, metadata={
        "help": "comma-separated scopes not restored, e.g. InceptionV3/Logits,InceptionV3/AuxLogits (default: none)"})
    trainable_scopes: str = dataclasses.field(
        default=None, metadata={"help": "comma-separated scopes to train (default: every trainable variable)"})
    ignore_missing_vars: bool = dataclasses.field(
        default=False, metadata={"help": "skip variables the checkpoint lacks instead of failing"})
    num_clones: int = _ranged(1, AT_LEAST_ONE, help="model clones the batch is split over")
    clone_on_cpu: bool = dataclasses.field(default=False, metadata={"help": "place the clones on the CPU"})
    num_readers: int = _ranged(4, AT_LEAST_ONE, help="parallel TFRecord readers")
    num_preprocessing_threads: int = _ranged(
        4, NOT_NEGATIVE, help="parallel decode and preprocessing calls (0: let tf.data choose)")
    log_every_n_steps: int = _ranged(10, AT_LEAST_ONE, help="steps between progress lines")
    save_summaries_secs: float = _ranged(600, NOT_NEGATIVE, help="seconds between TensorBoard summaries, at most")
    save_summaries_steps: int = _ranged(
        None, NOT_NEGATIVE, help="steps between TensorBoard summaries, at most (default: %d, or a tenth of "
        "--max_number_of_steps when that is fewer, so that short runs draw a curve; 0: by time only). Summaries are "
        "also written at the first and the last step and when a signal stops training" % SUMMARY_STEPS)
    save_interval_secs: float = _ranged(600, NOT_NEGATIVE, help="seconds between checkpoints")
    skip_corrupt_records: bool = dataclasses.field(default=False, metadata={
        "help": "skip TFRecord records that cannot be read or decoded instead of stopping"})
    seed: int = _ranged(None, Range(0, 2 ** 63 - 1), help=(
        "random seed of the initial weights, the shuffle and the random preprocessing: the same command "
        "trains the same weights on the same machine (default: none, each run differs)"))
    mixed_precision: str = dataclasses.field(default="none", metadata={"choices": MIXED_PRECISION_MODES})


@dataclasses.dataclass
class ClusterOptions:
    """Training on several machines (engine/cluster/topology.py). The cluster comes from TF_CONFIG in the
    environment or from --ps_hosts/--worker_hosts/--job_name/--task; research/slim's replica flags keep their
    meaning and are checked against it."""
    ps_hosts: str = dataclasses.field(default=None, metadata={
        "help": "comma-separated host:port of the parameter servers (default: TF_CONFIG's, else none: one process "
                "trains alone)"})
    worker_hosts: str = dataclasses.field(default=None, metadata={
        "help": "comma-separated host:port of the workers; the first is the chief (default: TF_CONFIG's)"})
    job_name: str = dataclasses.field(default=None, metadata={
        "choices": ("ps", "worker"), "help": "this process's job in the cluster (default: TF_CONFIG's)"})
    task: int = _ranged(None, NOT_NEGATIVE, help="this process's index in its job (default: 0, or TF_CONFIG's)")
    num_ps_tasks: int = _ranged(None, NOT_NEGATIVE, help="number of parameter servers, checked against the cluster "
                                "(0: variables on the worker; default: the cluster's)")
    worker_replicas: int = _ranged(
        None, AT_LEAST_ONE, help="number of workers, checked against the cluster (default: the cluster's)")
    sync_replicas: bool = dataclasses.field(default=False, metadata={
        "help": "synchronous training: each global step applies --replicas_to_aggregate gradients together"})
    replicas_to_aggregate: int = _ranged(
        None, AT_LEAST_ONE, help="gradients per global step with --sync_replicas (default: the number of workers)")
    master: str = dataclasses.field(default=None, metadata={
        "help": "target of an existing TensorFlow server to run on, e.g. grpc://host:2222 (research/slim's "
                "--master; default: this process's own server)"})
    cluster_timeout_secs: float = _ranged(
        300, POSITIVE, help="longest wait for the rest of the cluster (servers starting, the chief's initialization, "
        "other replicas' gradients) before stopping with a message")


@dataclasses.dataclass
class EvalOptions:
    eval_dir: str = dataclasses.field(default=None, metadata={
        "help": "where event files, metrics.json and metrics.csv go (default: eval/ inside the training "
                "directory of --checkpoint_path, so that `tensorboard --logdir <train_dir>` shows both runs)"})
    split: str = "test"
    batch_size: int = _ranged(TrainOptions.batch_size, AT_LEAST_ONE)
    max_num_batches: int = _ranged(
        None, AT_LEAST_ONE, help="evaluate at most this many batches (default: the whole split)")
    moving_average_decay: float = _ranged(None, DECAY, help=(
        "evaluate the moving averages training kept with this decay (default: the training run's "
        "--moving_average_decay; 0: the variables themselves)"))
    num_readers: int = _ranged(TrainOptions.num_readers, AT_LEAST_ONE)
    num_preprocessing_threads: int = _ranged(TrainOptions.num_preprocessing_threads, NOT_NEGATIVE)
    skip_corrupt_records: bool = TrainOptions.skip_corrupt_records
    mixed_precision: str = dataclasses.field(default="none", metadata={
        "choices": MIXED_PRECISION_MODES,
        "help": "compute in bfloat16 on CPUs with AVX512_BF16 or AMX (the checkpoint stays float32), or float16 "
                "on GPUs"})
    eval_interval_secs: float = dataclasses.field(default=None, metadata={
        "help": "follow training: evaluate each new checkpoint, at most one every this many seconds (default: "
                "evaluate the latest checkpoint once)"})
    timeout: float = dataclasses.field(default=None, metadata={
        "help": "when following, stop after this many seconds without a new checkpoint (default: follow until "
                "interrupted)"})
    threshold_criterion: str = dataclasses.field(default="f1", metadata={
        "choices": THRESHOLD_CRITERIA,
        "help": "multi-label models: choose each label's decision threshold on the val part to maximise its F1 "
                "(rare labels are not given up) or its accuracy, and report the metrics at them beside those at "
                "0.5; none: 0.5 only"})


def summary_every_steps(options):
    """Steps between summaries of a TrainOptions: --save_summaries_steps, else SUMMARY_STEPS or a tenth of
    the run's steps when that is fewer (0: by time only)."""
    if options.save_summaries_steps is not None:
        return max(0, options.save_summaries_steps)
    if options.max_number_of_steps:
        return max(1, min(SUMMARY_STEPS, options.max_number_of_steps // 10))
    return SUMMARY_STEPS


def field(cls, name):
    """The dataclasses.Field `name` of `cls`."""
    return {f.name: f for f in dataclasses.fields(cls)}[name]


def add_flags(group, cls, names, bool_flag=None):
    """Adds `--NAME` for each field NAME of `cls` in `names`, with the field's type, default, choices and
    help. Boolean fields go through `bool_flag(group, name, default, help)` (core.cli.add_bool_flag)."""
    for name in names:
        spec = field(cls, name)
        help_text = spec.metadata.get("help")
        if spec.type is bool:
            bool_flag(group, name, spec.default, help_text or name.replace("_", " "))
            continue
        flag_default = spec.metadata.get("flag_default", spec.default)
        kwargs = {"type": spec.type, "default": flag_default}
        if "choices" in spec.metadata:
            kwargs["choices"] = spec.metadata["choices"]
        if help_text is None:
            kwargs["help"] = "default: %(default)s"
        elif flag_default is not None:
            kwargs["help"] = help_text + " (default: %(default)s)"
        else:
            kwargs["help"] = help_text  # it says what happens when the flag is not given
        group.add_argument("--" + name, **kwargs)


def from_args(cls, args, **overrides):
    """A `cls` from the parsed `args` (an argparse.Namespace), taking each field from the attribute of
    the same name when it is there; `overrides` win."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls)
              if hasattr(args, f.name) and f.name not in overrides and f.type in (int, float, str, bool)}
    values.update(overrides)
    return cls(**values)


def scopes(text):
    """The scopes of a comma-separated flag value (`--checkpoint_exclude_scopes`, `--trainable_scopes`)."""
    return [scope.strip() for scope in (text or "").split(",") if scope.strip()]
