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
from engine.model import checkpoints, mixed_precision
from engine.training import class_weights, step_loop
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
    stats = tfrecord_stats.scan(settings.tfrecord_file, "train", settings.validation_percentage,
                                skip_corrupt_records=options.skip_corrupt_records,
                                val_percentage=settings.val_percentage)
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
    return "%s-label" % label_mode


def _announce(settings, options, label_mode, num_images, cluster, precision):
    say("training %s on %d images (%s, %d classes) at %dx%d, batch %d%s"
        % (settings.model_name, num_images, _mode_words(settings, label_mode), settings.num_classes,
           settings.image_size, settings.image_size, options.batch_size,
           "" if cluster is None else "; %s of %d workers, %d ps%s" % (
               cluster.describe(), cluster.num_workers, cluster.num_ps,
               ", %d gradients per step" % cluster.replicas_to_aggregate if cluster.sync else "")))
    if options.mixed_precision != "none":
        say("mixed precision %s: %s" % (options.mixed_precision, precision))


def _initializer(settings, options, ops, latest, fine_tune):
    """fn(session) run after the variables' initializers: restores the latest checkpoint of train_dir, or the
    fine-tuning one."""
    def initialize(session):
        if latest:
            if options.checkpoint_path:
                say("%s already holds checkpoints: resuming from %s, ignoring --checkpoint_path %s"
                    % (options.train_dir, os.path.basename(latest), options.checkpoint_path))
            else:
                say("resuming from %s" % latest)
            checkpoints.check_fits(latest, {v.op.name: v for v in tf.global_variables()},
                                   "%s with %d classes (to train anew, use another --train_dir)"
                                   % (settings.model_name, settings.num_classes))
            ops.saver.restore(session, latest)
            checkpoints.recover(ops.saver, options.train_dir)
        elif fine_tune:
            path, fine_tune_saver = fine_tune
            fine_tune_saver.restore(session, path)
            say("fine-tuning from %s" % path)

    return initialize


def train(settings, options, cluster=None):
    """Trains until `options.max_number_of_steps`, resuming from `options.train_dir` when it holds a
    checkpoint. Returns (final global step, name of the signal that stopped it early or None).

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
                  opt_epsilon=options.optimization.opt_epsilon, class_weighting=options.class_weighting or "none",
                  class_weights=data.class_weights.to_config() if data.class_weights else None)
    _announce(settings, options, label_mode, num_images, cluster, precision)

    graph = tf.Graph()
    with graph.as_default():
        if options.seed is not None:
            tf.set_random_seed(options.seed)
        with replicas.device_scope(cluster) if cluster else contextlib.nullcontext():
            ops = build_train_graph(settings, options, label_mode, num_images,
                                    input_batch(settings, options, cluster), cluster,
                                    class_weights=data.class_weights)
        latest = checkpoints.latest_checkpoint(options.train_dir) if chief else None
        fine_tune = None
        if chief and latest is None and options.checkpoint_path:
            fine_tune = checkpoints.fine_tuning_saver(options.checkpoint_path, options.checkpoint_exclude_scopes,
                                                      options.ignore_missing_vars,
                                                      nets_factory.get_spec(settings.model_name).logits_scopes)
        runtime = replicas.Runtime(cluster, server, ops.sync_optimizer) if cluster else None
        graph.finalize()
    initialize = _initializer(settings, options, ops, latest, fine_tune)

    def run(session):
        if chief:  # every check has passed: only now may this run's settings replace those of the directory
            run_config.write_config(options.train_dir, config)
        writer = events.EventsWriter(options.train_dir, graph) if chief else replicas.NullWriter()
        try:
            loop_args = (session, ops.train_op, ops.summary_op, ops.global_step, ops.saver, writer,
                         settings.tfrecord_file)
            if runtime is None:
                loop = step_loop.Loop(*loop_args)
            else:
                loop = step_loop.ReplicaLoop(*loop_args, runtime=runtime, target=options.max_number_of_steps)
            return step_loop.run_steps(loop, options)
        finally:
            writer.close()

    if runtime is None:
        with tf.Session(graph=graph, config=mixed_precision.session_config(options.mixed_precision)) as session:
            session.run(ops.init_op)
            initialize(session)
            return run(session)
    with graph.as_default():
        session = runtime.session(graph, initialize if chief else None)
        try:
            step, stopped_by = run(session)
            if stopped_by is None:
                runtime.finish(session)
            return step, stopped_by
        finally:
            runtime.close(session)
