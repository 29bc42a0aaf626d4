"""How to train: the option dataclasses and the tables their choices come from. No TensorFlow here, so a
script's `--help` is quick.

Each field of `OptimizerOptions`, `LearningRateOptions` and `TrainOptions` is named after the
command-line flag that sets it, and its default is the flag's default: `add_flags` declares the flags
of a dataclass from its fields, `from_args` builds the dataclass back from the parsed arguments.
"""
import dataclasses

OPTIMIZERS = ("adadelta", "adagrad", "adam", "ftrl", "momentum", "sgd", "rmsprop")
DECAY_TYPES = ("fixed", "exponential", "polynomial")
MIXED_PRECISION_MODES = ("none", "bf16", "fp16")
TFLITE_QUANTIZATIONS = ("none", "dynamic", "float16")  # weights of an exported TFLite model
BALANCED = "balanced"
CLASS_WEIGHTINGS = ("none", BALANCED)  # --class_weighting (engine/training/class_weights.py)
THRESHOLD_CRITERIA = ("f1", "accuracy", "none")  # --threshold_criterion (engine/evaluation/thresholds.py)

# research/slim's model names, for --help without importing TensorFlow (nets/nets_factory.py imports it).
# tests/engine/test_options.py checks that they are exactly the names of the nets registry.
MODEL_NAMES = (
    "alexnet_v2", "cifarnet", "inception_resnet_v2", "inception_v1", "inception_v2", "inception_v3",
    "inception_v4", "lenet", "mobilenet_v1", "mobilenet_v1_025", "mobilenet_v1_050", "mobilenet_v1_075",
    "mobilenet_v2", "mobilenet_v2_035", "mobilenet_v2_140", "nasnet_cifar", "nasnet_large", "nasnet_mobile",
    "overfeat", "pnasnet_large", "pnasnet_mobile", "resnet_v1_101", "resnet_v1_152", "resnet_v1_200",
    "resnet_v1_50", "resnet_v2_101", "resnet_v2_152", "resnet_v2_200", "resnet_v2_50", "vgg_16", "vgg_19",
    "vgg_a")

DEFAULT_OPTIMIZER = "rmsprop"
# --opt_epsilon when not given: research/slim's 1.0 for RMSProp (its only default, meant for RMSProp: with
# Adam it makes steps about 1000 times too small), each optimizer's own elsewhere (TensorFlow's defaults).
OPT_EPSILON_DEFAULTS = {"rmsprop": 1.0, "adam": 1e-8, "adadelta": 1e-8}
SUMMARY_STEPS = 100  # --save_summaries_steps when not given, for runs of more than 10 times as many steps


def default_optimizer(name):
    """`name`, or the optimizer a run that names none uses."""
    return name or DEFAULT_OPTIMIZER


@dataclasses.dataclass
class OptimizerOptions:
    optimizer: str = dataclasses.field(default=DEFAULT_OPTIMIZER, metadata={
        "choices": OPTIMIZERS, "flag_default": None,
        "help": "optimizer (default: the one the run in --train_dir uses, else %s)" % DEFAULT_OPTIMIZER})
    adadelta_rho: float = 0.95
    adagrad_initial_accumulator_value: float = 0.1
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    opt_epsilon: float = dataclasses.field(default=None, metadata={
        "help": "epsilon of adam, rmsprop and adadelta (default: per optimizer, %s)"
                % ", ".join("%s %g" % item for item in OPT_EPSILON_DEFAULTS.items())})
    ftrl_learning_rate_power: float = -0.5
    ftrl_initial_accumulator_value: float = 0.1
    ftrl_l1: float = 0.0
    ftrl_l2: float = 0.0
    momentum: float = 0.9
    rmsprop_momentum: float = 0.9
    rmsprop_decay: float = 0.9

    def __post_init__(self):
        self.optimizer = default_optimizer(self.optimizer)
        if self.opt_epsilon is None:
            self.opt_epsilon = OPT_EPSILON_DEFAULTS.get(self.optimizer)


@dataclasses.dataclass
class LearningRateOptions:
    learning_rate_decay_type: str = dataclasses.field(default="exponential", metadata={"choices": DECAY_TYPES})
    learning_rate: float = dataclasses.field(default=0.01, metadata={"help": "initial learning rate"})
    end_learning_rate: float = dataclasses.field(
        default=0.0001, metadata={"help": "minimal learning rate of the polynomial decay"})
    learning_rate_decay_factor: float = 0.94
    num_epochs_per_decay: float = 2.0


@dataclasses.dataclass
class TrainOptions:
    train_dir: str = dataclasses.field(
        default="output/", metadata={"help": "where checkpoints, event files and train_config.json go"})
    batch_size: int = dataclasses.field(default=32, metadata={"help": "images per batch"})
    max_number_of_steps: int = dataclasses.field(
        default=None, metadata={"help": "stop at this global step (default: train until interrupted)"})
    weight_decay: float = dataclasses.field(default=0.00004, metadata={"help": "L2 weight decay"})
    batch_norm_decay: float = dataclasses.field(default=None, metadata={
        "help": "decay of the batch norm moving averages (default: the network's, 0.9997 for most; short "
                "runs evaluate better with 0.99 or 0.9)"})
    label_smoothing: float = 0.0
    class_weighting: str = dataclasses.field(default="none", metadata={
        "choices": CLASS_WEIGHTINGS, "flag_default": None,
        "help": "balanced: weight each class (each class of an attribute group, each label's positives and "
                "negatives) by the inverse of its frequency in the train split, so rare ones count as much as "
                "frequent ones (default: the run's, else none)"})
    moving_average_decay: float = dataclasses.field(
        default=None, metadata={"help": "keep moving averages of the model variables with this decay (default: none)"})
    optimization: OptimizerOptions = dataclasses.field(default_factory=OptimizerOptions)
    schedule: LearningRateOptions = dataclasses.field(default_factory=LearningRateOptions)
    checkpoint_path: str = dataclasses.field(
        default=None, metadata={"help": "checkpoint (file or directory) to start from (default: none, train from "
                                         "scratch)"})
    checkpoint_exclude_scopes: str = dataclasses.field(default=None, metadata={
        "help": "comma-separated scopes not restored, e.g. InceptionV3/Logits,InceptionV3/AuxLogits (default: none)"})
    trainable_scopes: str = dataclasses.field(
        default=None, metadata={"help": "comma-separated scopes to train (default: every trainable variable)"})
    ignore_missing_vars: bool = dataclasses.field(
        default=False, metadata={"help": "skip variables the checkpoint lacks instead of failing"})
    num_clones: int = dataclasses.field(default=1, metadata={"help": "model clones the batch is split over"})
    clone_on_cpu: bool = dataclasses.field(default=False, metadata={"help": "place the clones on the CPU"})
    num_readers: int = dataclasses.field(default=4, metadata={"help": "parallel TFRecord readers"})
    num_preprocessing_threads: int = dataclasses.field(
        default=4, metadata={"help": "parallel decode and preprocessing calls (0: let tf.data choose)"})
    log_every_n_steps: int = dataclasses.field(default=10, metadata={"help": "steps between progress lines"})
    save_summaries_secs: float = dataclasses.field(
        default=600, metadata={"help": "seconds between TensorBoard summaries, at most"})
    save_summaries_steps: int = dataclasses.field(default=None, metadata={
        "help": "steps between TensorBoard summaries, at most (default: %d, or a tenth of "
                "--max_number_of_steps when that is fewer, so that short runs draw a curve; 0: by time only). "
                "Summaries are also written at the first and the last step and when a signal stops "
                "training" % SUMMARY_STEPS})
    save_interval_secs: float = dataclasses.field(default=600, metadata={"help": "seconds between checkpoints"})
    skip_corrupt_records: bool = dataclasses.field(default=False, metadata={
        "help": "skip TFRecord records that cannot be read or decoded instead of stopping"})
    seed: int = dataclasses.field(
        default=None, metadata={"help": "graph-level random seed (default: none, each run differs)"})
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
    task: int = dataclasses.field(
        default=None, metadata={"help": "this process's index in its job (default: 0, or TF_CONFIG's)"})
    num_ps_tasks: int = dataclasses.field(default=None, metadata={
        "help": "number of parameter servers, checked against the cluster (0: variables on the worker; "
                "default: the cluster's)"})
    worker_replicas: int = dataclasses.field(
        default=None, metadata={"help": "number of workers, checked against the cluster (default: the cluster's)"})
    sync_replicas: bool = dataclasses.field(default=False, metadata={
        "help": "synchronous training: each global step applies --replicas_to_aggregate gradients together"})
    replicas_to_aggregate: int = dataclasses.field(
        default=None, metadata={"help": "gradients per global step with --sync_replicas (default: the number "
                                        "of workers)"})
    master: str = dataclasses.field(default=None, metadata={
        "help": "target of an existing TensorFlow server to run on, e.g. grpc://host:2222 (research/slim's "
                "--master; default: this process's own server)"})
    cluster_timeout_secs: float = dataclasses.field(default=300, metadata={
        "help": "longest wait for the rest of the cluster (servers starting, the chief's initialization, other "
                "replicas' gradients) before stopping with a message"})


@dataclasses.dataclass
class EvalOptions:
    eval_dir: str = dataclasses.field(default=None, metadata={
        "help": "where event files, metrics.json and metrics.csv go (default: eval/ inside the training "
                "directory of --checkpoint_path, so that `tensorboard --logdir <train_dir>` shows both runs)"})
    split: str = "test"
    batch_size: int = TrainOptions.batch_size
    max_num_batches: int = dataclasses.field(
        default=None, metadata={"help": "evaluate at most this many batches (default: the whole split)"})
    moving_average_decay: float = dataclasses.field(
        default=None, metadata={"help": "evaluate the moving averages training kept with this decay (default: the "
                                         "variables themselves)"})
    num_readers: int = TrainOptions.num_readers
    num_preprocessing_threads: int = TrainOptions.num_preprocessing_threads
    skip_corrupt_records: bool = TrainOptions.skip_corrupt_records
    mixed_precision: str = dataclasses.field(default="none", metadata={
        "choices": MIXED_PRECISION_MODES,
        "help": "compute in bfloat16 on CPUs with AVX512_BF16 or AMX (the checkpoint stays float32), or float16 "
                "on GPUs"})
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
