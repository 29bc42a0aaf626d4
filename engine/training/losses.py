"""The classification losses of training, and research/slim's clones (model_deploy): the batch split over
copies of the network that share one set of variables, their losses averaged."""
from core.compat import tf
from core.errors import UserError
from datasets import label_modes

AUX_LOSS_WEIGHT = 0.4


def add_losses(logits, end_points, labels, label_mode, label_smoothing):
    """Classification losses into tf.GraphKeys.LOSSES: softmax or sigmoid, aux logits weighted 0.4."""
    loss_fn = tf.losses.softmax_cross_entropy if label_mode == label_modes.SINGLE else tf.losses.sigmoid_cross_entropy
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
