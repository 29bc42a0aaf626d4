"""The training graph: the input batch, the network's clones and losses, the optimizer with its learning rate,
moving averages, and the summaries, as `TrainGraph` ops for the step loop (engine/training/step_loop.py)."""
import dataclasses

from core.compat import slim, tf
from datasets import label_modes
from datasets.input_pipeline import PipelineOptions, build_dataset
from engine.cluster import replicas
from engine.model import checkpoints, mixed_precision
from engine.model.finite import FiniteCheck
from engine.training import optimizers, schedules
from engine.training.losses import LossSpec, build_clones
from engine.training.summaries import add_summaries
from nets import nets_factory
from preprocessing import preprocessing_factory


def input_batch(settings, options, cluster=None):
    """The next training batch of the TFRecord's train split, read and preprocessed on the CPU. A worker of
    a cluster reads its own part of the shards or records."""
    preprocess = preprocessing_factory.get_preprocessing(
        settings.preprocessing_name, is_training=True, use_grayscale=settings.use_grayscale)
    with tf.device("/cpu:0"):
        dataset = build_dataset(
            settings.tfrecord_file, "train", settings.num_classes, preprocess, settings.image_size,
            options.batch_size, is_training=True, options=PipelineOptions(
                validation_percentage=settings.validation_percentage, val_percentage=settings.val_percentage,
                labels_offset=settings.labels_offset,
                num_readers=options.num_readers, num_preprocessing_threads=options.num_preprocessing_threads,
                seed=options.seed, skip_corrupt_records=options.skip_corrupt_records,
                num_workers=cluster.num_workers if cluster else 1,
                worker_index=cluster.task_index if cluster else 0))
        return tf.data.make_one_shot_iterator(dataset).get_next()


@dataclasses.dataclass
class TrainGraph:
    global_step: object
    train_op: object  # (loss, global step) once the step is applied
    summaries: object  # engine.training.summaries.SummaryOps
    saver: object
    init_op: object
    sync_optimizer: object = None  # tf.train.SyncReplicasOptimizer in a cluster's sync mode
    finite_check: FiniteCheck = None  # whether every variable a checkpoint saves is finite
    learning_rate: object = None  # the learning rate tensor of the global step (engine/training/schedules.py)
    total_loss: object = None  # the clones' losses and the regularization loss (engine/training/losses.py)


def images_per_step(batch_size, cluster=None):
    """The images one global step trains on: --batch_size (split over the clones), times
    --replicas_to_aggregate in a cluster's sync mode. The learning rate's epochs count these."""
    return batch_size * (cluster.replicas_to_aggregate if cluster and cluster.sync else 1)


def build_train_graph(settings, options, label_mode, num_samples, batch, cluster=None, bf16_method=None,
                      class_weights=None):
    """The training ops in the default graph, fed by `batch` ({"images", "labels"} tensors). In a cluster's
    sync mode the optimizer is a tf.train.SyncReplicasOptimizer, and each global step, which applies
    --replicas_to_aggregate batches, counts as that many batches for the learning rate decay (as in
    research/slim). `bf16_method` (engine/model/mixed_precision.py's BF16_METHODS; None: its default) says how
    bf16 computes. A grouped `label_mode` trains the groups of `settings.label_groups`; `class_weights`
    (engine.training.class_weights.ClassWeights, None: none) weight the loss."""
    global_step = tf.train.get_or_create_global_step()
    network_fn = nets_factory.get_network_fn(settings.model_name, settings.num_classes,
                                             weight_decay=options.weight_decay, is_training=True,
                                             batch_norm_decay=options.batch_norm_decay)
    network_fn = mixed_precision.wrap_network_fn(network_fn, options.mixed_precision, bf16_method)
    grouped = label_mode == label_modes.GROUPED
    loss_spec = LossSpec(label_mode, options.label_smoothing,
                         tuple(map(tuple, settings.group_indexes())) if grouped else (),
                         tuple(group.name for group in settings.label_groups) if grouped else (), class_weights)
    total_loss, (end_points, clone_scope, clone_images) = build_clones(
        network_fn, batch, options.num_clones, options.clone_on_cpu, loss_spec)
    learning_rate = schedules.configure_learning_rate(options.schedule, num_samples,
                                                      images_per_step(options.batch_size, cluster), global_step,
                                                      options.max_number_of_steps)
    optimizer = replicas.wrap_optimizer(optimizers.configure_optimizer(options.optimization, learning_rate),
                                        cluster)
    sync_optimizer = optimizer if cluster and cluster.sync else None
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS, clone_scope or None)
    if options.moving_average_decay:
        averages = tf.train.ExponentialMovingAverage(options.moving_average_decay, global_step)
        update_ops.append(averages.apply(slim.get_model_variables()))
    var_list = optimizers.variables_to_train(options.trainable_scopes)
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
    summary_ops = add_summaries(end_points, clone_scope, clone_images, total_loss, learning_rate)
    return TrainGraph(global_step, train_op, summary_ops, checkpoints.make_saver(),
                      tf.group(tf.global_variables_initializer(), tf.local_variables_initializer()), sync_optimizer,
                      FiniteCheck(tf.global_variables()), learning_rate, total_loss)
