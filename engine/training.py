"""Training: the graph (clones, losses, optimizer), fine-tuning initialisation and the step loop.

Built objects go in, not the command line: `train(settings, options)` where `settings` says what to train
on (engine.settings.Settings) and `options` (TrainOptions) how.
"""
import dataclasses
import os
import shutil
import signal
import time

from datasets import tfrecord_integrity, tfrecord_stats
from datasets.input_pipeline import build_dataset
from engine import events, mixed_precision, run_config
from engine.compat import slim, tf
from engine.errors import UserError
from engine.progress import format_duration, say, warn
from nets import nets_factory
from preprocessing import preprocessing_factory

OPTIMIZERS = ("adadelta", "adagrad", "adam", "ftrl", "momentum", "sgd", "rmsprop")
DECAY_TYPES = ("fixed", "exponential", "polynomial")
AUX_LOSS_WEIGHT = 0.4
CHECKPOINT_BASENAME = "model.ckpt"


@dataclasses.dataclass
class OptimizerOptions:
    name: str = "rmsprop"
    adadelta_rho: float = 0.95
    adagrad_initial_accumulator_value: float = 0.1
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    opt_epsilon: float = 1.0
    ftrl_learning_rate_power: float = -0.5
    ftrl_initial_accumulator_value: float = 0.1
    ftrl_l1: float = 0.0
    ftrl_l2: float = 0.0
    momentum: float = 0.9
    rmsprop_momentum: float = 0.9
    rmsprop_decay: float = 0.9


@dataclasses.dataclass
class LearningRateOptions:
    decay_type: str = "exponential"
    learning_rate: float = 0.01
    end_learning_rate: float = 0.0001
    decay_factor: float = 0.94
    num_epochs_per_decay: float = 2.0


@dataclasses.dataclass
class TrainOptions:
    train_dir: str
    batch_size: int = 32
    max_number_of_steps: int = None
    weight_decay: float = 0.00004
    batch_norm_decay: float = None
    label_smoothing: float = 0.0
    moving_average_decay: float = None
    optimizer: OptimizerOptions = dataclasses.field(default_factory=OptimizerOptions)
    learning_rate: LearningRateOptions = dataclasses.field(default_factory=LearningRateOptions)
    checkpoint_path: str = None
    checkpoint_exclude_scopes: str = None
    trainable_scopes: str = None
    ignore_missing_vars: bool = False
    num_clones: int = 1
    clone_on_cpu: bool = False
    num_readers: int = 4
    num_preprocessing_threads: int = 4
    log_every_n_steps: int = 10
    save_summaries_secs: float = 600
    save_interval_secs: float = 600
    skip_corrupt_records: bool = False
    seed: int = None
    mixed_precision: str = "none"  # none, bf16 or fp16 (engine/mixed_precision.py)


def _scopes(text):
    return [scope.strip() for scope in (text or "").split(",") if scope.strip()]


def configure_learning_rate(options, num_samples_per_epoch, batch_size, global_step):
    """research/slim's learning rate schedules: fixed, exponential (staircase) or polynomial decay."""
    decay_steps = max(1, int(num_samples_per_epoch * options.num_epochs_per_decay / batch_size))
    if options.decay_type == "fixed":
        return tf.constant(options.learning_rate, name="fixed_learning_rate")
    if options.decay_type == "exponential":
        return tf.train.exponential_decay(options.learning_rate, global_step, decay_steps,
                                          options.decay_factor, staircase=True,
                                          name="exponential_decay_learning_rate")
    if options.decay_type == "polynomial":
        return tf.train.polynomial_decay(options.learning_rate, global_step, decay_steps,
                                         options.end_learning_rate, power=1.0, cycle=False,
                                         name="polynomial_decay_learning_rate")
    raise UserError("unknown --learning_rate_decay_type %r; use one of %s"
                    % (options.decay_type, ", ".join(DECAY_TYPES)))


def configure_optimizer(options, learning_rate):
    """The optimizer named `options.name`, with research/slim's hyper-parameters."""
    name = options.name
    if name == "adadelta":
        return tf.train.AdadeltaOptimizer(learning_rate, rho=options.adadelta_rho,
                                          epsilon=options.opt_epsilon)
    if name == "adagrad":
        return tf.train.AdagradOptimizer(
            learning_rate, initial_accumulator_value=options.adagrad_initial_accumulator_value)
    if name == "adam":
        return tf.train.AdamOptimizer(learning_rate, beta1=options.adam_beta1, beta2=options.adam_beta2,
                                      epsilon=options.opt_epsilon)
    if name == "ftrl":
        return tf.train.FtrlOptimizer(
            learning_rate, learning_rate_power=options.ftrl_learning_rate_power,
            initial_accumulator_value=options.ftrl_initial_accumulator_value,
            l1_regularization_strength=options.ftrl_l1, l2_regularization_strength=options.ftrl_l2)
    if name == "momentum":
        return tf.train.MomentumOptimizer(learning_rate, momentum=options.momentum, name="Momentum")
    if name == "rmsprop":
        return tf.train.RMSPropOptimizer(learning_rate, decay=options.rmsprop_decay,
                                         momentum=options.rmsprop_momentum, epsilon=options.opt_epsilon)
    if name == "sgd":
        return tf.train.GradientDescentOptimizer(learning_rate)
    raise UserError("unknown --optimizer %r; use one of %s" % (name, ", ".join(OPTIMIZERS)))


def variables_to_train(trainable_scopes):
    """Trainable variables under `trainable_scopes` (comma-separated), or all of them."""
    scopes = _scopes(trainable_scopes)
    if not scopes:
        return tf.trainable_variables()
    chosen = []
    for scope in scopes:
        found = tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES, scope)
        if not found:
            warn("--trainable_scopes %r matches no variable; check the scope names" % scope)
        chosen.extend(found)
    if not chosen:
        raise UserError("--trainable_scopes %r matches no trainable variable: nothing would train; "
                        "use scopes such as %s" % (trainable_scopes, _example_scopes()))
    return chosen


def _example_scopes():
    names = sorted({v.op.name.split("/")[0] + "/" + v.op.name.split("/")[1]
                    for v in slim.get_model_variables() if "/" in v.op.name})
    return ", ".join(names[-4:])


def latest_checkpoint(directory):
    """The newest checkpoint of `directory` (a file prefix), or None. TensorFlow's state file `checkpoint`
    names it; when that file is missing or names nothing left, the `model.ckpt-STEP` of the highest step
    whose files are all there is taken, so a lost state file does not restart training from step 0."""
    latest = tf.train.latest_checkpoint(directory)
    if latest or not os.path.isdir(directory):
        return latest
    steps = []
    for name in os.listdir(directory):
        stem, _, step = name[:-len(".index")].rpartition("-")
        if name.endswith(".index") and stem == CHECKPOINT_BASENAME and step.isdigit():
            steps.append(int(step))
    for step in sorted(steps, reverse=True):
        prefix = os.path.join(directory, "%s-%d" % (CHECKPOINT_BASENAME, step))
        if tf.train.checkpoint_exists(prefix) and _data_files_complete(prefix):
            return prefix
    return None


def _data_files_complete(prefix):
    """Whether every `PREFIX.data-NNNNN-of-MMMMM` shard of a checkpoint exists."""
    folder, stem = os.path.split(prefix)
    shards = [name.rsplit("-of-", 1) for name in os.listdir(folder) if name.startswith(stem + ".data-")]
    counts = {int(total) for _, total in shards if total.isdigit()}
    return len(counts) == 1 and len(shards) == counts.pop()


def resolve_checkpoint(path, flag="--checkpoint_path"):
    """A checkpoint file prefix from a file prefix or a directory (its latest checkpoint)."""
    if os.path.isdir(path):
        latest = latest_checkpoint(path)
        if not latest:
            raise UserError("%s %r is a directory with no checkpoint in it" % (flag, path))
        return latest
    if tf.train.checkpoint_exists(path):
        return path
    raise UserError("%s %r does not exist: give a checkpoint file such as model.ckpt-1000 or "
                    "inception_v3.ckpt, or a directory holding checkpoints" % (flag, path))


def compare_with_checkpoint(path, variables):
    """(checkpoint's name -> shape map, names it lacks, "name (network s, checkpoint s)" of other shapes)
    for `variables`, a {checkpoint name: variable} dict. TensorFlow's restore would silently take the
    checkpoint's shape for graph-mode variables, so callers check this first."""
    try:
        shapes = tf.train.load_checkpoint(path).get_variable_to_shape_map()
    except (tf.errors.OpError, ValueError) as error:
        raise UserError("cannot read checkpoint %r: %s" % (path, str(error).splitlines()[0]))
    missing = [name for name in variables if name not in shapes]
    wrong = ["%s (network %s, checkpoint %s)" % (name, v.shape.as_list(), shapes[name])
             for name, v in variables.items() if name in shapes and v.shape.as_list() != list(shapes[name])]
    return shapes, missing, wrong


def check_checkpoint_fits(path, variables, what):
    """Raises a UserError naming the variables when checkpoint `path` does not fit `variables`."""
    _shapes, missing, wrong = compare_with_checkpoint(path, variables)
    if missing or wrong:
        raise UserError("checkpoint %r does not fit %s: it belongs to another network or class count (%s). "
                        "Pass the --model_name and classes file it was trained with"
                        % (path, what, "; ".join((wrong + ["%s missing" % name for name in missing])[:4])))


def fine_tuning_saver(checkpoint_path, exclude_scopes, ignore_missing_vars, logits_scopes):
    """A Saver restoring the model variables from `checkpoint_path`, minus `exclude_scopes`.

    Refuses variables whose shape differs from the checkpoint's (naming them) and, unless
    `ignore_missing_vars`, variables the checkpoint lacks.
    """
    path = resolve_checkpoint(checkpoint_path)
    exclusions = _scopes(exclude_scopes)
    model_variables = slim.get_model_variables()
    for scope in exclusions:
        if not any(v.op.name.startswith(scope) for v in model_variables):
            warn("--checkpoint_exclude_scopes %r matches no variable of this network" % scope)
    chosen = [v for v in model_variables if not any(v.op.name.startswith(s) for s in exclusions)]
    shapes, missing, wrong = compare_with_checkpoint(path, {v.op.name: v for v in chosen})
    if wrong:
        raise UserError("checkpoint %r does not fit this network: %d variable(s) have other shapes: %s. "
                        "When the number of classes differs, exclude the classification layers with "
                        "--checkpoint_exclude_scopes=%s"
                        % (path, len(wrong), "; ".join(wrong[:5]), ",".join(logits_scopes)))
    if missing and not ignore_missing_vars:
        raise UserError("checkpoint %r lacks %d variable(s) of this network, e.g. %s. Is it a checkpoint of "
                        "another network? Pass --ignore_missing_vars to restore only what it holds"
                        % (path, len(missing), ", ".join(missing[:3])))
    if missing:
        warn("checkpoint lacks %d variable(s); they start from their initializers" % len(missing))
    restore = {v.op.name: v for v in chosen if v.op.name in shapes}
    if not restore:
        raise UserError("checkpoint %r holds none of this network's variables" % path)
    return path, tf.train.Saver(restore)


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


def build_network(network_fn, images):
    """Calls `network_fn`, turning a shape error from an input it cannot take into a UserError."""
    try:
        return network_fn(images)
    except ValueError as error:
        if "dimension" not in str(error).lower() and "shape" not in str(error).lower():
            raise
        size = images.shape.as_list()[1:3]
        raise UserError("%s cannot take %sx%s images (%s); use a larger image size, e.g. the network's "
                        "default %d" % (network_fn.model_name, size[0], size[1],
                                        str(error).splitlines()[0][:200], network_fn.default_image_size))


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
                logits, end_points = build_network(network_fn, images[index])
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


def add_summaries(end_points, clone_scope, images, total_loss, learning_rate):
    """TensorBoard summaries: losses, learning rate, end point histograms and sparsity, variables, inputs."""
    summaries = [tf.summary.scalar("total_loss", total_loss), tf.summary.scalar("learning_rate", learning_rate)]
    for loss in tf.get_collection(tf.GraphKeys.LOSSES, clone_scope or None):
        summaries.append(tf.summary.scalar("losses/%s" % loss.op.name, loss))
    for name, tensor in end_points.items():
        summaries.append(tf.summary.histogram("activations/" + name, tensor))
        summaries.append(tf.summary.scalar("sparsity/" + name, tf.nn.zero_fraction(tensor)))
    for variable in slim.get_model_variables():
        summaries.append(tf.summary.histogram(variable.op.name, variable))
    summaries.append(tf.summary.image("images", images, max_outputs=3))
    return tf.summary.merge(summaries)


def decide_label_mode(label_mode, stats):
    if label_mode in ("single", "multi"):
        if label_mode == "single" and stats["max_labels_per_image"] > 1:
            warn("--label_mode single on images with up to %d labels: only one label per image counts"
                 % stats["max_labels_per_image"])
        return label_mode
    return "multi" if stats["max_labels_per_image"] > 1 else "single"


class _StopRequest:
    """Turns SIGINT and SIGTERM into a flag the step loop checks, so it can save before leaving."""

    def __init__(self):
        self.signal_name = None
        self._previous = {}

    def __enter__(self):
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous[signum] = signal.signal(signum, self._handle)
            except ValueError:  # not the main thread: leave signals alone
                pass
        return self

    def _handle(self, signum, frame):
        if self.signal_name is not None:
            raise KeyboardInterrupt
        self.signal_name = signal.Signals(signum).name

    def __exit__(self, *exc):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)


def input_batch(settings, options):
    """The next training batch of the TFRecord's train split, read and preprocessed on the CPU."""
    preprocess = preprocessing_factory.get_preprocessing(
        settings.preprocessing_name, is_training=True, use_grayscale=settings.use_grayscale)
    with tf.device("/cpu:0"):
        dataset = build_dataset(
            settings.tfrecord_file, "train", settings.validation_percentage, settings.num_classes,
            preprocess, settings.image_size, options.batch_size, is_training=True,
            labels_offset=settings.labels_offset, num_readers=options.num_readers,
            num_preprocessing_threads=options.num_preprocessing_threads, seed=options.seed,
            skip_corrupt_records=options.skip_corrupt_records)
        return tf.data.make_one_shot_iterator(dataset).get_next()


def session_config():
    """The session settings of training (and of the benchmarks that time it)."""
    return tf.ConfigProto()


@dataclasses.dataclass
class TrainGraph:
    global_step: object
    train_op: object  # (loss, global step) once the step is applied
    summary_op: object
    saver: object
    init_op: object


def build_train_graph(settings, options, label_mode, num_samples, batch):
    """The training ops in the default graph, fed by `batch` ({"images", "labels"} tensors)."""
    global_step = tf.train.get_or_create_global_step()
    network_fn = nets_factory.get_network_fn(settings.model_name, settings.num_classes,
                                             weight_decay=options.weight_decay, is_training=True,
                                             batch_norm_decay=options.batch_norm_decay)
    network_fn = mixed_precision.wrap_network_fn(network_fn, options.mixed_precision)
    total_loss, (end_points, clone_scope, clone_images) = build_clones(
        network_fn, batch, options.num_clones, options.clone_on_cpu, label_mode, options.label_smoothing)
    learning_rate = configure_learning_rate(options.learning_rate, num_samples, options.batch_size,
                                            global_step)
    optimizer = configure_optimizer(options.optimizer, learning_rate)
    update_ops = tf.get_collection(tf.GraphKeys.UPDATE_OPS, clone_scope or None)
    if options.moving_average_decay:
        averages = tf.train.ExponentialMovingAverage(options.moving_average_decay, global_step)
        update_ops.append(averages.apply(slim.get_model_variables()))
    var_list = variables_to_train(options.trainable_scopes)
    loss_scale = mixed_precision.DynamicLossScale() if options.mixed_precision == "fp16" else None
    if loss_scale:
        gradients = loss_scale.compute_gradients(optimizer, total_loss, var_list)
    else:
        gradients = optimizer.compute_gradients(total_loss, var_list=var_list)
    with tf.control_dependencies(update_ops):
        if loss_scale:
            apply_op = loss_scale.apply_gradients(optimizer, gradients, global_step)
        else:
            apply_op = optimizer.apply_gradients(gradients, global_step=global_step)
    with tf.control_dependencies([apply_op]):
        train_op = (tf.identity(total_loss, name="train_op"), tf.identity(global_step.read_value()))
    summary_op = add_summaries(end_points, clone_scope, clone_images, total_loss, learning_rate)
    return TrainGraph(global_step, train_op, summary_op, tf.train.Saver(max_to_keep=5, save_relative_paths=True),
                      tf.group(tf.global_variables_initializer(), tf.local_variables_initializer()))


def train(settings, options):
    """Trains until `options.max_number_of_steps`, resuming from `options.train_dir` when it holds a
    checkpoint. Returns (final global step, name of the signal that stopped it early or None)."""
    spec = nets_factory.get_spec(settings.model_name)
    stats = tfrecord_stats.scan(settings.tfrecord_file, "train", settings.validation_percentage,
                                skip_corrupt_records=options.skip_corrupt_records)
    if stats["num_images"] == 0:
        raise UserError("the training split of %r is empty: with --validation_percentage %g every image is "
                        "held out; lower it or add images" % (settings.tfrecord_file,
                                                              settings.validation_percentage))
    label_mode = decide_label_mode(settings.label_mode, stats)
    if options.batch_size % options.num_clones:
        raise UserError("--batch_size %d must be a multiple of --num_clones %d"
                        % (options.batch_size, options.num_clones))
    precision = mixed_precision.require_support(options.mixed_precision)
    config = dict(settings.to_config(), label_mode=label_mode, dataset_split_name="train",
                  mixed_precision=options.mixed_precision)
    run_config.write_config(options.train_dir, config)
    say("training %s on %d images (%s-label, %d classes) at %dx%d, batch %d"
        % (settings.model_name, stats["num_images"], label_mode, settings.num_classes,
           settings.image_size, settings.image_size, options.batch_size))
    if options.mixed_precision != "none":
        say("mixed precision %s: %s" % (options.mixed_precision, precision))

    graph = tf.Graph()
    with graph.as_default():
        if options.seed is not None:
            tf.set_random_seed(options.seed)
        ops = build_train_graph(settings, options, label_mode, stats["num_images"],
                                input_batch(settings, options))
        global_step, train_op, summary_op, saver, init_op = (
            ops.global_step, ops.train_op, ops.summary_op, ops.saver, ops.init_op)

        latest = latest_checkpoint(options.train_dir)
        fine_tune = None
        if latest is None and options.checkpoint_path:
            fine_tune = fine_tuning_saver(options.checkpoint_path, options.checkpoint_exclude_scopes,
                                          options.ignore_missing_vars, spec.logits_scopes)
        graph.finalize()

    with tf.Session(graph=graph, config=session_config()) as session:
        session.run(init_op)
        if latest:
            if options.checkpoint_path:
                say("%s already holds checkpoints: resuming from %s, ignoring --checkpoint_path %s"
                    % (options.train_dir, os.path.basename(latest), options.checkpoint_path))
            else:
                say("resuming from %s" % latest)
            check_checkpoint_fits(latest, {v.op.name: v for v in tf.global_variables()},
                                  "%s with %d classes; to train anew use another --train_dir"
                                  % (settings.model_name, settings.num_classes))
            saver.restore(session, latest)
            _recover_checkpoints(saver, options.train_dir)
        elif fine_tune:
            path, fine_tune_saver = fine_tune
            fine_tune_saver.restore(session, path)
            say("fine-tuning from %s" % path)
        writer = events.EventsWriter(options.train_dir, graph)
        try:
            return _run_steps(session, options, train_op, summary_op, global_step, saver, writer)
        except tf.errors.DataLossError as error:
            raise tfrecord_integrity.damaged_file_error(settings.tfrecord_file, error)
        finally:
            writer.close()


def _recover_checkpoints(saver, train_dir):
    """After a restart: the saver keeps deleting the previous run's old checkpoints (--max_to_keep), and
    the staging folders of saves a kill interrupted are removed."""
    state = tf.train.get_checkpoint_state(train_dir)
    if state:
        saver.recover_last_checkpoints(list(state.all_model_checkpoint_paths))
    for name in os.listdir(train_dir):
        if name.startswith(CHECKPOINT_BASENAME + "-") and name.endswith("_temp"):
            shutil.rmtree(os.path.join(train_dir, name), ignore_errors=True)


def _first_line(error):
    """The line of an OSError or TensorFlow error that says what went wrong (`No space left on device`)."""
    lines = [line.strip() for line in (getattr(error, "message", None) or str(error)).splitlines() if line.strip()]
    for index, line in enumerate(lines):
        if line.startswith("Node: ") and index + 1 < len(lines):  # TensorFlow's "Graph execution error"
            return lines[index + 1].rsplit("; ", 1)[-1]
    return lines[0] if lines else type(error).__name__


def _save(session, saver, options, global_step):
    """Saves a checkpoint of the current step; a UserError when it cannot be written (disk full), with the
    last complete checkpoint left as the one TensorFlow's checkpoint state file names."""
    step = session.run(global_step)
    latest = latest_checkpoint(options.train_dir)
    if latest and latest.endswith("-%d" % step):
        return latest  # already saved: writing it again could only damage it
    try:
        return saver.save(session, os.path.join(options.train_dir, CHECKPOINT_BASENAME), global_step=step)
    except (tf.errors.OpError, OSError) as error:
        _remove_failed_save(options.train_dir, step)
        raise UserError("cannot save the checkpoint of step %d in %s (%s): is the disk full? %s; free some "
                        "space and run the same command again to resume"
                        % (step, options.train_dir, _first_line(error),
                           "the previous checkpoint %s is intact" % os.path.basename(latest) if latest
                           else "no checkpoint was saved yet"))


def _remove_failed_save(train_dir, step):
    """Removes the files a failed save of `step` left (never the checkpoint the state file names)."""
    stem = "%s-%d" % (CHECKPOINT_BASENAME, step)
    for name in os.listdir(train_dir):
        path = os.path.join(train_dir, name)
        if name == stem + "_temp":
            shutil.rmtree(path, ignore_errors=True)
        elif name.startswith(stem + "."):
            os.remove(path)


def _run_steps(session, options, train_op, summary_op, global_step, saver, writer):
    step = session.run(global_step)
    start_step, start = step, time.monotonic()
    last_save = last_summary = last_log_time = time.monotonic()
    last_log_step = step
    target = options.max_number_of_steps
    if target is not None and step >= target:
        say("global step %d already reached --max_number_of_steps %d: nothing to do" % (step, target))
        return step, None
    with _StopRequest() as stop:
        while target is None or step < target:
            now = time.monotonic()
            want_summary = now - last_summary >= options.save_summaries_secs or step == start_step
            try:
                if want_summary:
                    (loss, step), summary = session.run([train_op, summary_op])
                    writer.add_summary(summary, step)
                    last_summary = now
                else:
                    loss, step = session.run(train_op)
            except tf.errors.DataLossError:
                if step > start_step:  # keep what was trained; train() names the damaged record
                    _save(session, saver, options, global_step)
                raise
            except tf.errors.InvalidArgumentError as error:
                if "decode" not in str(error).lower() and "image" not in str(error).lower():
                    raise
                raise UserError("an image of the TFRecord cannot be decoded (%s); rebuild it with "
                                "download_and_convert_data.py or pass --skip_corrupt_records"
                                % str(error).splitlines()[0])
            if loss != loss:
                _save(session, saver, options, global_step)
                raise UserError("the loss became NaN at step %d: lower --learning_rate" % step)
            if step % options.log_every_n_steps == 0 or step == target:
                now = time.monotonic()
                seconds_per_step = (now - last_log_time) / max(1, step - last_log_step)
                rate = options.batch_size / seconds_per_step if seconds_per_step else 0.0
                eta = " ETA %s" % format_duration((target - step) * seconds_per_step) if target else ""
                say("step %d%s: loss %.4f (%.3f sec/step, %.1f images/s)%s"
                    % (step, "/%d" % target if target else "", loss, seconds_per_step, rate, eta))
                writer.add_summary(tf.Summary(value=[tf.Summary.Value(tag="images_per_sec",
                                                                      simple_value=rate)]), step)
                last_log_time, last_log_step = now, step
            if time.monotonic() - last_save >= options.save_interval_secs:
                _save(session, saver, options, global_step)
                last_save = time.monotonic()
            if stop.signal_name:
                path = _save(session, saver, options, global_step)
                say("%s received: saved %s at step %d; run the same command again to resume"
                    % (stop.signal_name, os.path.basename(path), step))
                return step, stop.signal_name
        path = _save(session, saver, options, global_step)
    elapsed = time.monotonic() - start
    say("done: step %d, %s saved (%.1f images/s over %s)"
        % (step, os.path.basename(path), (step - start_step) * options.batch_size / max(elapsed, 1e-9),
           format_duration(elapsed)))
    return step, None
