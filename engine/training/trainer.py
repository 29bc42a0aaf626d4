"""`train`: checks the data and the options, builds the training graph (engine/training/graph.py), initializes
or restores it, and hands it to the step loop (engine/training/step_loop.py).

Built objects go in, not the command line: `train(settings, options)` where `settings` says what to train
on (engine.config.settings.Settings) and `options` (engine.config.options.TrainOptions) how.
"""
import contextlib
import dataclasses
import os

from core import events
from core.compat import tf
from core.errors import UserError
from core.progress import say
from datasets import label_modes, tfrecord_stats
from engine.cluster import replicas
from engine.config import run_config
from engine.config.label_choice import decide_labels
from engine.config.settings import check_classes
from engine.model import best_checkpoint, checkpoints, mixed_precision
from engine.training import class_weights, step_loop, validation
from engine.training.graph import build_train_graph, input_batch
from nets import nets_factory


@dataclasses.dataclass(frozen=True)
class TrainingData:
    """What the train split says: the settings with the groups of a grouped run, the label mode, the number
    of images and the class weights (engine.training.class_weights.ClassWeights, None: none)."""

    settings: object
    label_mode: str
    num_images: int
    class_weights: object = None


def check_training_data(settings, options, cluster=None):
    """The TrainingData of the train split once the data and the options fit together; a UserError naming
    what does not."""
    stats = tfrecord_stats.scan_part(settings, "train", options.skip_corrupt_records)
    if stats["num_images"] == 0:
        raise UserError("the training split of %r is empty: with --test_percentage %g and --val_percentage %g "
                        "every image is held out; lower them or add images"
                        % (settings.tfrecord_file, settings.validation_percentage, settings.val_percentage))
    check_classes(settings, stats, settings.tfrecord_file, warn_missing=True)
    if options.batch_size % options.num_clones:
        raise UserError("--batch_size %d must be a multiple of --num_clones %d"
                        % (options.batch_size, options.num_clones))
    if cluster and cluster.sync and options.mixed_precision == "fp16":
        raise UserError("--mixed_precision fp16 skips the steps whose gradients overflow, which --sync_replicas "
                        "cannot aggregate: train asynchronously, or with --mixed_precision none or bf16")
    choice = decide_labels(settings.label_mode, stats, settings.classes, settings.label_groups,
                           settings.labels_offset, what="training images")
    settings = dataclasses.replace(settings, label_groups=choice.groups or None)
    weights = class_weights.compute(options.class_weighting, choice.mode, stats["label_counts"],
                                    stats["num_images"], settings.num_classes,
                                    settings.group_indexes() if choice.groups else (), settings.labels_offset)
    return TrainingData(settings, choice.mode, stats["num_images"], weights)


def _mode_words(settings, label_mode):
    if label_mode == label_modes.GROUPED:
        return "grouped, a softmax for each of %d attribute groups" % len(settings.label_groups)
    return label_modes.NAMES[label_mode]


def _announce(settings, options, label_mode, num_images, cluster, precision):
    say("training %s on %d images (%s, %d classes) at %dx%d, batch %d%s"
        % (settings.model_name, num_images, _mode_words(settings, label_mode), settings.num_classes,
           settings.image_size, settings.image_size, options.batch_size,
           "" if cluster is None else "; %s of %d workers, %d ps%s" % (
               cluster.describe(), cluster.num_workers, cluster.num_ps,
               ", %d gradients per step" % cluster.replicas_to_aggregate if cluster.sync else "")))
    if options.mixed_precision != "none":
        say("mixed precision %s: %s" % (options.mixed_precision, precision))


class _Initializer:
    """Run after the variables' initializers: restores the newest intact checkpoint of train_dir (`resuming`), or
    the fine-tuning one (`fine_tune`: (path, Saver)). `restored` is then the checkpoint resumed from."""

    def __init__(self, settings, options, ops, resuming, fine_tune):
        self.settings, self.options, self.ops = settings, options, ops
        self.resuming, self.fine_tune = resuming, fine_tune
        self.restored = None

    def __call__(self, session):
        settings, options = self.settings, self.options
        if self.resuming:
            self.restored = checkpoints.restore_newest(
                session, self.ops.saver, options.train_dir, {v.op.name: v for v in tf.global_variables()},
                "%s with %d classes (to train anew, use another --train_dir)" % (settings.model_name,
                                                                                 settings.num_classes),
                self.ops.finite_check)
            if options.checkpoint_path:
                say("%s already holds checkpoints: resuming from %s, ignoring --checkpoint_path %s"
                    % (options.train_dir, os.path.basename(self.restored), options.checkpoint_path))
            else:
                say("resuming from %s" % self.restored)
            checkpoints.recover(self.ops.saver, options.train_dir)
        elif self.fine_tune:
            path, fine_tune_saver = self.fine_tune
            checkpoints.restore(fine_tune_saver, session, path)
            say("fine-tuning from %s" % path)


def _validator(settings, label_mode, options, num_val_images):
    validator = validation.Validator(settings, label_mode, options)
    every = options.validation
    say("validating on the %d images of the val part %s and at the last step, keeping the best checkpoint by %s in %s%s"
        % (num_val_images, " and ".join(
            text for text in ("every %d steps" % every.eval_every_n_steps if every.eval_every_n_steps else "",
                              "every %g s" % every.eval_interval_secs if every.eval_interval_secs else "") if text),
           validator.selection.metric, best_checkpoint.best_dir(options.train_dir),
           "; early stopping after %d evaluations without progress" % every.early_stopping_patience
           if every.early_stopping_patience else ""))
    return validator


def train(settings, options, cluster=None):
    """Trains until `options.max_number_of_steps`, resuming from `options.train_dir` when it holds a
    checkpoint; validates on the val part when `options.validation` asks (engine/training/validation.py).
    Returns (final global step, name of the signal that stopped it early or None).

    On a cluster (`cluster`: engine.cluster.topology.Cluster of a worker), the variables live on the parameter
    servers; worker 0, the chief, initializes or restores them and writes train_config.json, summaries and
    checkpoints, and the other workers train on them and write nothing (engine/cluster/replicas.py)."""
    server = replicas.start_server(cluster) if cluster else None  # first: the other tasks wait for it
    chief = cluster is None or cluster.is_chief
    data = check_training_data(settings, options, cluster)
    settings, label_mode, num_images = data.settings, data.label_mode, data.num_images
    precision = mixed_precision.require_support(options.mixed_precision)
    config = dict(settings.to_config(), label_mode=label_mode, dataset_split_name="train",
                  mixed_precision=options.mixed_precision, optimizer=options.optimization.optimizer,
                  opt_epsilon=options.optimization.opt_epsilon, moving_average_decay=options.moving_average_decay,
                  class_weighting=options.class_weighting or "none",
                  class_weights=data.class_weights.to_config() if data.class_weights else None)
    _announce(settings, options, label_mode, num_images, cluster, precision)
    num_val_images = validation.check_val_part(settings, options) if options.validation.enabled else 0

    graph = tf.Graph()
    with graph.as_default():
        if options.seed is not None:
            tf.set_random_seed(options.seed)
        with replicas.device_scope(cluster) if cluster else contextlib.nullcontext():
            ops = build_train_graph(settings, options, label_mode, num_images,
                                    input_batch(settings, options, cluster), cluster,
                                    class_weights=data.class_weights)
        resuming = chief and bool(checkpoints.candidates(options.train_dir))
        fine_tune = None
        if chief and not resuming and options.checkpoint_path:
            fine_tune = checkpoints.fine_tuning_saver(options.checkpoint_path, options.checkpoint_exclude_scopes,
                                                      options.ignore_missing_vars,
                                                      nets_factory.get_spec(settings.model_name).logits_scopes)
        runtime = replicas.Runtime(cluster, server, ops.sync_optimizer) if cluster else None
        graph.finalize()
    initialize = _Initializer(settings, options, ops, resuming, fine_tune)
    validator = _validator(settings, label_mode, options, num_val_images) if num_val_images else None
    session_run = _SessionRun(graph, ops, options, settings, config, runtime, validator, chief)
    with validator.evaluator if validator else contextlib.nullcontext():
        return session_run.train(initialize)


class _SessionRun:
    """The training session of a built graph: write the run's config (every check has passed), run the step
    loop, close. One process alone, or a task of a cluster through its `runtime`."""

    def __init__(self, graph, ops, options, settings, config, runtime, validator, chief):
        self.graph, self.ops, self.options, self.settings, self.config = graph, ops, options, settings, config
        self.runtime, self.validator, self.chief = runtime, validator, chief
        self.restored = None  # the checkpoint the initializer resumed from

    def run(self, session):
        options, ops = self.options, self.ops
        if self.chief:  # every check has passed: only now may this run's settings replace those of the directory
            run_config.write_config(options.train_dir, self.config)
        writer = events.EventsWriter(options.train_dir, self.graph) if self.chief else replicas.NullWriter()
        try:
            loop_args = (session, ops, writer, self.settings.tfrecord_file, self.restored)
            if self.runtime is None:
                loop = step_loop.Loop(*loop_args)
            else:
                loop = step_loop.ReplicaLoop(*loop_args, runtime=self.runtime, target=options.max_number_of_steps)
            result = step_loop.run_steps(loop, options, self.validator)
            if self.validator is not None and self.validator.summary():
                say(self.validator.summary())
            return result
        finally:
            writer.close()

    def train(self, initialize):
        """Runs the loop in a session that `initialize` (an _Initializer) set up."""
        ops, runtime = self.ops, self.runtime
        if runtime is None:
            with tf.Session(graph=self.graph, config=mixed_precision.session_config(self.options.mixed_precision)) \
                    as session:
                session.run(ops.init_op)
                initialize(session)
                self.restored = initialize.restored
                return self.run(session)
        with self.graph.as_default():
            session = runtime.session(self.graph, initialize if self.chief else None)
            self.restored = initialize.restored
            try:
                step, stopped_by = self.run(session)
                if stopped_by is None:
                    runtime.finish(session)
                return step, stopped_by
            finally:
                runtime.close(session)
