"""Training: the graph (clones, losses, optimizer, summaries) and `train`, which builds it, initializes or
restores it, and hands it to the step loop (engine/training/step_loop.py).

Built objects go in, not the command line: `train(settings, options)` where `settings` says what to train
on (engine.config.settings.Settings) and `options` (engine.config.options.TrainOptions) how.
"""
import contextlib
import dataclasses
import os

from core import events
from core.compat import slim, tf
from core.errors import UserError
from core.progress import say
from datasets import tfrecord_stats
from datasets.input_pipeline import PipelineOptions, build_dataset
from engine.model import checkpoints
from engine.model import mixed_precision
from engine.training import optimization
from engine.cluster import replicas
from engine.config import run_config
from engine.training import step_loop
from engine.config.settings import check_classes, decide_label_mode
from nets import nets_factory
from preprocessing import preprocessing_factory

AUX_LOSS_WEIGHT = 0.4


def add_losses(logits, end_points, labels, label_mode, label_smoothing):
    """Classification losses into tf.GraphKeys.LOSSES: softmax or sigmoid, aux logits weighted 0.4."""
    loss_fn = tf.losses.softmax_cross_entropy if label_mode == "single" else tf.losses.sigmoid_cross_entropy
    logits_pairs = [(logits, 1.0, "loss")]
    if "AuxLogits" in end_points:
        logits_pairs.insert(0, (end_points["AuxLogits"], AUX_LOSS_WEIGHT, "aux_loss"))
    for tensor, weight, name in logits_pairs:
        tensor = tf.cast(tf.reshape(tensor, [tf.shape(tensor)[0], -1]), tf.float32)
        loss_fn(labels, tensor, weights=weight, label_smoothing=label_smoothing, scope=name)


def _clone_devices(num_clones, clone_on_cpu):
    gpus = tf.config.list_physical_devices("GPU")
    if clone_on_cpu or not gpus:
        return ["/cpu:0"] * num_clones
    if num_clones > len(gpus):
        raise UserError("--num_clones %d needs as many GPUs, this machine has %d; add --clone_on_cpu"
                        % (num_clones, len(gpus)))
    return ["/gpu:%d" % i for i in range(num_clones)]


def build_clones(network_fn, batch, num_clones, clone_on_cpu, label_mode, label_smoothing):
    """research/slim's model_deploy semantics: the batch is split over clones sharing variables; each clone's
    loss is divided by the number of clones, so summed gradients are their average. Returns the total
    loss, the first clone's end points, and its name scope."""
    images = tf.split(batch["images"], num_clones) if num_clones > 1 else [batch["images"]]
    labels = tf.split(batch["labels"], num_clones) if num_clones > 1 else [batch["labels"]]
    clone_losses, first = [], None
    for index, device in enumerate(_clone_devices(num_clones, clone_on_cpu)):
        scope = "clone_%d" % index if num_clones > 1 else ""
        with tf.name_scope(scope or None), tf.device(device):
            with tf.variable_scope(tf.get_variable_scope(), reuse=True if index else None):
                logits, end_points = network_fn(images[index])
            add_losses(logits, end_points, labels[index], label_mode, label_smoothing)
            losses = tf.losses.get_losses(scope=scope or None)
            clone_loss = tf.add_n(losses, name="clone_loss")
            if num_clones > 1:
                clone_loss = tf.div(clone_loss, float(num_clones), name="scaled_clone_loss")
            clone_losses.append(clone_loss)
        if first is None:
            first = (end_points, scope, images[index])
    regularization = tf.losses.get_regularization_losses()
    regularization = [tf.cast(loss, tf.float32) for loss in regularization]  # bf16/fp16 layers' own
    total = tf.add_n(clone_losses + ([tf.add_n(regularization, name="regularization_loss")]
                                     if regularization else []), name="total_loss")
    return total, first


def _loss_tag(loss, clone_scope):
    """`losses/NAME` for a loss op `[clone_0/]NAME/value` (tf.losses names its op `value`)."""
    name = loss.op.name
    if clone_scope and name.startswith(clone_scope + "/"):
        name = name[len(clone_scope) + 1:]
    if name.endswith("/value"):
        name = name[:-len("/value")]
    return "losses/" + name


def add_summaries(end_points, clone_scope, images, total_loss, learning_rate):
    """TensorBoard summaries: losses, learning rate, end point histograms and sparsity, variables, inputs.

    The summary ops are made with their tags given whole (tf.summary.scalar would derive each tag from a
    name scope, which TensorFlow renames `total_loss_1` when an op of that name exists): `total_loss`,
    `losses/loss`, `losses/aux_loss`, `losses/regularization_loss`, `learning_rate`, ..."""
    def scalar(tag, tensor):
        return tf.raw_ops.ScalarSummary(tags=tag, values=tf.cast(tensor, tf.float32))

    def histogram(tag, tensor):
        return tf.raw_ops.HistogramSummary(tag=tag, values=tf.cast(tensor, tf.float32))

    with tf.name_scope("summaries"):
        summaries = [scalar("total_loss", total_loss), scalar("learning_rate", learning_rate)]
        for loss in tf.get_collection(tf.GraphKeys.LOSSES, clone_scope or None):
            summaries.append(scalar(_loss_tag(loss, clone_scope), loss))
        regularization = tf.losses.get_regularization_losses()
        if regularization:
            summaries.append(scalar("losses/regularization_loss",
                                    tf.add_n([tf.cast(loss, tf.float32) for loss in regularization])))
        for name, tensor in end_points.items():
            summaries.append(histogram("activations/" + name, tensor))
            summaries.append(scalar("sparsity/" + name, tf.nn.zero_fraction(tensor)))
        for variable in slim.get_model_variables():
            summaries.append(histogram(variable.op.name, variable))
        summaries.append(tf.raw_ops.ImageSummary(tag="images", tensor=tf.cast(images, tf.float32), max_images=3))
        return tf.summary.merge(summaries)


def input_batch(settings, options, cluster=None):
    """The next training batch of the TFRecord's train split, read and preprocessed on the CPU. A worker of
    a cluster reads its own part of the shards or records."""
    preprocess = preprocessing_factory.get_preprocessing(
        settings.preprocessing_name, is_training=True, use_grayscale=settings.use_grayscale)
    with tf.device("/cpu:0"):
        dataset = build_dataset(
            settings.tfrecord_file, "train", settings.num_classes, preprocess, settings.image_size,
            options.batch_size, is_training=True, options=PipelineOptions(
                validation_percentage=settings.validation_percentage, labels_offset=settings.labels_offset,
                num_readers=options.num_readers, num_preprocessing_threads=options.num_preprocessing_threads,
                seed=options.seed, skip_corrupt_records=options.skip_corrupt_records,
                num_workers=cluster.num_workers if cluster else 1,
                worker_index=cluster.task_index if cluster else 0))
        return tf.data.make_one_shot_iterator(dataset).get_next()


@dataclasses.dataclass
class TrainGraph:
    global_step: object
    train_op: object  # (loss, global step) once the step is applied
    summary_op: object
    saver: object
    init_op: object
    sync_optimizer: object = None  # tf.train.SyncReplicasOptimizer in a cluster's sync mode


def build_train_graph(settings, options, label_mode, num_samples, batch, cluster=None, bf16_method=None):
    """The training ops in the default graph, fed by `batch` ({"images", "labels"} tensors). In a cluster's
    sync mode the optimizer is a tf.train.SyncReplicasOptimizer, and each global step, which applies
    --replicas_to_aggregate batches, counts as that many batches for the learning rate decay (as in
    research/slim). `bf16_method` (engine/model/mixed_precision.py's BF16_METHODS; None: its default) says how
    bf16 computes."""
    global_step = tf.train.get_or_create_global_step()
    network_fn = nets_factory.get_network_fn(settings.model_name, settings.num_classes,
                                             weight_decay=options.weight_decay, is_training=True,
                                             batch_norm_decay=options.batch_norm_decay)
    network_fn = mixed_precision.wrap_network_fn(network_fn, options.mixed_precision, bf16_method)
    total_loss, (end_points, clone_scope, clone_images) = build_clones(
        network_fn, batch, options.num_clones, options.clone_on_cpu, label_mode, options.label_smoothing)
    images_per_step = options.batch_size * (cluster.replicas_to_aggregate if cluster and cluster.sync else 1)
    learning_rate = optimization.configure_learning_rate(options.schedule, num_samples, images_per_step,
                                                         global_step)
    optimizer = replicas.wrap_optimizer(optimization.configure_optimizer(options.optimization, learning_rate),
                                        cluster)
    sync_optimizer = optimizer if cluster and cluster.sync else None
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS, clone_scope or None)
    if options.moving_average_decay:
        averages = tf.train.ExponentialMovingAverage(options.moving_average_decay, global_step)
        update_ops.append(averages.apply(slim.get_model_variables()))
    var_list = optimization.variables_to_train(options.trainable_scopes)
    loss_scale = mixed_precision.DynamicLossScale() if options.mixed_precision == "fp16" else None
    if loss_scale:
        gradients = loss_scale.compute_gradients(optimizer, total_loss, var_list)
    else:
        gradients = optimizer.compute_gradients(total_loss, var_list=var_list)
    if sync_optimizer:  # the chief's queue runner applies the gradients: it must not wait for a batch
        apply_op = tf.group(optimizer.apply_gradients(gradients, global_step=global_step), *update_ops)
    else:
        with tf.control_dependencies(update_ops):
            if loss_scale:
                apply_op = loss_scale.apply_gradients(optimizer, gradients, global_step)
            else:
                apply_op = optimizer.apply_gradients(gradients, global_step=global_step)
    with tf.control_dependencies([apply_op]):
        train_op = (tf.identity(total_loss, name="train_op"), tf.identity(global_step.read_value()))
    summary_op = add_summaries(end_points, clone_scope, clone_images, total_loss, learning_rate)
    return TrainGraph(global_step, train_op, summary_op, checkpoints.make_saver(),
                      tf.group(tf.global_variables_initializer(), tf.local_variables_initializer()), sync_optimizer)


def train(settings, options, cluster=None):
    """Trains until `options.max_number_of_steps`, resuming from `options.train_dir` when it holds a
    checkpoint. Returns (final global step, name of the signal that stopped it early or None).

    On a cluster (`cluster`: engine.cluster.topology.Cluster of a worker), the variables live on the parameter
    servers; worker 0, the chief, initializes or restores them and writes train_config.json, summaries and
    checkpoints, and the other workers train on them and write nothing (engine/cluster/replicas.py)."""
    server = replicas.start_server(cluster) if cluster else None  # first: the other tasks wait for it
    chief = cluster is None or cluster.is_chief
    spec = nets_factory.get_spec(settings.model_name)
    stats = tfrecord_stats.scan(settings.tfrecord_file, "train", settings.validation_percentage,
                                skip_corrupt_records=options.skip_corrupt_records)
    if stats["num_images"] == 0:
        raise UserError("the training split of %r is empty: with --validation_percentage %g every image is "
                        "held out; lower it or add images" % (settings.tfrecord_file,
                                                              settings.validation_percentage))
    check_classes(settings, stats, settings.tfrecord_file, warn_missing=True)
    label_mode = decide_label_mode(settings.label_mode, stats)
    if options.batch_size % options.num_clones:
        raise UserError("--batch_size %d must be a multiple of --num_clones %d"
                        % (options.batch_size, options.num_clones))
    if cluster and cluster.sync and options.mixed_precision == "fp16":
        raise UserError("--mixed_precision fp16 skips the steps whose gradients overflow, which --sync_replicas "
                        "cannot aggregate: train asynchronously, or with --mixed_precision none or bf16")
    precision = mixed_precision.require_support(options.mixed_precision)
    config = dict(settings.to_config(), label_mode=label_mode, dataset_split_name="train",
                  mixed_precision=options.mixed_precision, optimizer=options.optimization.optimizer,
                  opt_epsilon=options.optimization.opt_epsilon)
    say("training %s on %d images (%s-label, %d classes) at %dx%d, batch %d%s"
        % (settings.model_name, stats["num_images"], label_mode, settings.num_classes,
           settings.image_size, settings.image_size, options.batch_size,
           "" if cluster is None else "; %s of %d workers, %d ps%s" % (
               cluster.describe(), cluster.num_workers, cluster.num_ps,
               ", %d gradients per step" % cluster.replicas_to_aggregate if cluster.sync else "")))
    if options.mixed_precision != "none":
        say("mixed precision %s: %s" % (options.mixed_precision, precision))

    graph = tf.Graph()
    with graph.as_default():
        if options.seed is not None:
            tf.set_random_seed(options.seed)
        with replicas.device_scope(cluster) if cluster else contextlib.nullcontext():
            ops = build_train_graph(settings, options, label_mode, stats["num_images"],
                                    input_batch(settings, options, cluster), cluster)
        latest = checkpoints.latest_checkpoint(options.train_dir) if chief else None
        fine_tune = None
        if chief and latest is None and options.checkpoint_path:
            fine_tune = checkpoints.fine_tuning_saver(options.checkpoint_path, options.checkpoint_exclude_scopes,
                                                      options.ignore_missing_vars, spec.logits_scopes)
        runtime = replicas.Runtime(cluster, server, ops.sync_optimizer) if cluster else None
        graph.finalize()

    def initialize(session):
        """After the variables' initializers: the latest checkpoint of train_dir, or the fine-tuning one."""
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

    def run(session):
        if chief:  # every check has passed: only now may this run's settings replace those of the directory
            run_config.write_config(options.train_dir, config)
        writer = events.EventsWriter(options.train_dir, graph) if chief else replicas.NullWriter()
        try:
            if runtime is None:
                loop = step_loop.Loop(session, ops.train_op, ops.summary_op, ops.global_step, ops.saver, writer,
                                       settings.tfrecord_file)
            else:
                loop = step_loop.ReplicaLoop(session, ops.train_op, ops.summary_op, ops.global_step, ops.saver,
                                              writer, settings.tfrecord_file, runtime=runtime,
                                              target=options.max_number_of_steps)
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
