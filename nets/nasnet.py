"""NASNet-A (Zoph et al., 2017) as research/slim builds it: nasnet_cifar, nasnet_mobile, nasnet_large.

Variables are at the top level, as in research/slim's checkpoints. The ImageNet stem is a 3x3
stride-2 convolution 'conv0' / 'conv0_bn' and two reduction cells 'cell_stem_0', 'cell_stem_1'; the
CIFAR stem a 3x3 convolution 'l1_stem_3x3' / 'l1_stem_bn'. Then come `num_cells` normal cells
'cell_<n>', with reduction cells 'reduction_cell_0' and '_1' (which double the filters) before the
cells at a third and two thirds of the way. The head 'final_layer' is a ReLU, global average pool,
dropout and the fully connected 'final_layer/FC'; the softmax output is 'final_layer/predictions'
(end point 'Predictions'). When training, the auxiliary head 'aux_<n>/aux_logits' (end point
'AuxLogits') reads the cell before the second reduction, as research/slim builds it only then.

Training applies drop path with research/slim's schedule, driven by `current_step` (by default the
global step, `tf.train.get_or_create_global_step()`) over `total_training_steps`.

Arguments are research/slim's: `build_nasnet_cifar(images, num_classes, is_training, config,
current_step)`, `build_nasnet_mobile` / `build_nasnet_large(images, num_classes, is_training,
final_endpoint, config, current_step)`. `config` is a `NasNetConfig` (`cifar_config()`,
`mobile_imagenet_config()`, `large_imagenet_config()`: research/slim's HParams, with its `set_hparam`,
`values` ...), or any object with its fields as attributes; the network works on a copy. Keyword
arguments override single fields, e.g. `num_cells=6`, `use_aux_head=False`, `drop_path_keep_prob=1.0`,
`data_format='NCHW'` (channels-first activations and end points; TensorFlow's CPU pooling kernels take
NHWC only, so such a graph runs on GPUs) or `use_bounded_activation=True` (ReLU6 and values clipped to
[-6, 6]). `nasnet_cifar`, `nasnet_mobile` and `nasnet_large` are the same functions.
"""
from core.compat import slim, tf
from nets import nasnet_utils
from nets.catalog import get_spec
from nets.hparams import HParams


class NasNetConfig(HParams):
    """research/slim's hyper-parameters of a NASNet or PNASNet model, with its HParams' methods.

    Fields: num_cells (normal cells, reduction cells not counted), num_conv_filters (filters of the first
    normal cells, multiplied at each reduction by filter_scaling_rate), stem_multiplier,
    num_reduction_layers, drop_path_keep_prob (at the last cell, at the end of training),
    dense_dropout_keep_prob, use_aux_head, skip_reduction_layer_input, total_training_steps (until drop
    path reaches its full rate), data_format and use_bounded_activation. research/slim's types stay:
    use_aux_head and skip_reduction_layer_input are integers (0 or 1).
    """


def make_config(num_cells, num_conv_filters, stem_multiplier, drop_path_keep_prob, dense_dropout_keep_prob,
                skip_reduction_layer_input, total_training_steps=250000):
    """A `NasNetConfig` with these values and research/slim's common ones (filters doubling at each of two
    reductions, an aux head, NHWC, unbounded activations)."""
    return NasNetConfig(stem_multiplier=stem_multiplier, dense_dropout_keep_prob=dense_dropout_keep_prob,
                        num_cells=num_cells, filter_scaling_rate=2.0, num_conv_filters=num_conv_filters,
                        drop_path_keep_prob=drop_path_keep_prob, use_aux_head=1, num_reduction_layers=2,
                        data_format="NHWC", skip_reduction_layer_input=skip_reduction_layer_input,
                        total_training_steps=total_training_steps, use_bounded_activation=False)


def cifar_config():
    """NASNet-A 6 @ 768; drop path over 600 epochs of batches of 32 (937500 steps). A new one each call."""
    return make_config(num_cells=18, num_conv_filters=32, stem_multiplier=3.0, drop_path_keep_prob=0.6,
                       dense_dropout_keep_prob=1.0, skip_reduction_layer_input=0, total_training_steps=937500)


def large_imagenet_config():
    """NASNet-A 6 @ 4032. A new one each call."""
    return make_config(num_cells=18, num_conv_filters=168, stem_multiplier=3.0, drop_path_keep_prob=0.7,
                       dense_dropout_keep_prob=0.5, skip_reduction_layer_input=1)


def mobile_imagenet_config():
    """NASNet-A 4 @ 1056. A new one each call."""
    return make_config(num_cells=12, num_conv_filters=44, stem_multiplier=1.0, drop_path_keep_prob=1.0,
                       dense_dropout_keep_prob=0.5, skip_reduction_layer_input=0)


def resolve_config(default, config=None, overrides=None, is_training=True):
    """A new `NasNetConfig`: `default`'s values, replaced by those of `config` (research/slim's HParams,
    ours or any object with the fields as attributes), then by `overrides` (field: value). Not training,
    drop path is off (drop_path_keep_prob 1.0), as in research/slim. `config` itself is left unchanged."""
    values = default.values()
    if config is not None:
        values.update(config.values() if callable(getattr(config, "values", None))
                      else {name: getattr(config, name) for name in values if hasattr(config, name)})
    resolved = NasNetConfig(**values)
    for name, value in (overrides or {}).items():
        if name not in resolved:
            raise TypeError("unknown NASNet config field %r; the fields are: %s"
                            % (name, ", ".join(sorted(resolved.values()))))
        setattr(resolved, name, value)
    if not is_training:
        resolved.set_hparam("drop_path_keep_prob", 1.0)
    if resolved.data_format not in (nasnet_utils.DATA_FORMAT_NHWC, nasnet_utils.DATA_FORMAT_NCHW):
        raise ValueError("data_format must be 'NHWC' or 'NCHW', got %r" % (resolved.data_format,))
    return resolved


def _arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon):
    """He (fan-out) initialized, L2-regularized layers; convolutions without activation or biases."""
    batch_norm_params = {"decay": batch_norm_decay, "epsilon": batch_norm_epsilon, "scale": True,
                         "fused": True}
    with slim.arg_scope([slim.fully_connected, slim.conv2d, slim.separable_conv2d],
                        weights_regularizer=slim.l2_regularizer(weight_decay),
                        weights_initializer=slim.variance_scaling_initializer(mode="FAN_OUT")):
        with slim.arg_scope([slim.fully_connected], activation_fn=None, scope="FC"):
            with slim.arg_scope([slim.conv2d, slim.separable_conv2d], activation_fn=None,
                                biases_initializer=None):
                with slim.arg_scope([slim.batch_norm], **batch_norm_params) as scope:
                    return scope


def nasnet_cifar_arg_scope(weight_decay=5e-4, batch_norm_decay=0.9, batch_norm_epsilon=1e-5):
    return _arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon)


def nasnet_mobile_arg_scope(weight_decay=4e-5, batch_norm_decay=0.9997, batch_norm_epsilon=1e-3):
    return _arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon)


def nasnet_large_arg_scope(weight_decay=5e-5, batch_norm_decay=0.9997, batch_norm_epsilon=1e-3):
    return _arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon)


class CellBuilder:
    """Runs cells with their drop path keep probability (cell `index` of `total_num_cells`)."""

    def __init__(self, config, total_num_cells, is_training, current_step=None):
        self.config = config
        self.total_num_cells = total_num_cells
        self.drop_path = is_training and config.drop_path_keep_prob < 1.0
        if self.drop_path and current_step is None:
            current_step = tf.train.get_or_create_global_step()
        self.current_step = current_step
        self.index = 0  # counts every cell, stem and reduction cells included

    def __call__(self, net, prev_layer, spec, filter_scaling, stride, scope):
        keep_prob = None
        if self.drop_path:
            keep_prob = nasnet_utils.drop_path_keep_prob(
                self.config.drop_path_keep_prob, self.index, self.total_num_cells, self.current_step,
                self.config.total_training_steps)
        self.index += 1
        return nasnet_utils.cell(net, prev_layer, spec, int(self.config.num_conv_filters * filter_scaling),
                                 stride=stride, keep_prob=keep_prob, scope=scope,
                                 use_bounded_activation=self.config.use_bounded_activation)


def activation(config):
    return tf.nn.relu6 if config.use_bounded_activation else tf.nn.relu


def network_scopes(config, is_training):
    """The arg scopes every NASNet / PNASNet layer runs in: training mode and data format."""
    return [
        slim.arg_scope([slim.dropout, nasnet_utils.drop_path, slim.batch_norm], is_training=is_training),
        slim.arg_scope([slim.avg_pool2d, slim.max_pool2d, slim.conv2d, slim.batch_norm,
                        slim.separable_conv2d, nasnet_utils.factorized_reduction,
                        nasnet_utils.global_avg_pool, nasnet_utils.get_channel_index,
                        nasnet_utils.get_channel_dim], data_format=config.data_format),
    ]


def prepare_images(images, config):
    if images.get_shape().ndims != 4:
        raise ValueError("expected images of rank 4, got shape %s" % images.get_shape())
    if config.data_format == nasnet_utils.DATA_FORMAT_NCHW:
        images = tf.transpose(images, [0, 3, 1, 2])
    return images


def imagenet_stem(images, config, build_cell, stem_spec):
    """'conv0' and the two stride-2 stem cells; returns (net, outputs of the layers so far)."""
    net = slim.conv2d(images, int(32 * config.stem_multiplier), [3, 3], stride=2, padding="VALID",
                      scope="conv0")
    net = slim.batch_norm(net, scope="conv0_bn")
    cell_outputs = [None, net]
    filter_scaling = 1.0 / config.filter_scaling_rate ** 2
    for number in range(2):
        net = build_cell(net, cell_outputs[-2], stem_spec, filter_scaling, 2, "cell_stem_%d" % number)
        cell_outputs.append(net)
        filter_scaling *= config.filter_scaling_rate
    return net, cell_outputs


def _cifar_stem(images, config):
    net = slim.conv2d(images, int(config.num_conv_filters * config.stem_multiplier), 3,
                      scope="l1_stem_3x3")
    net = slim.batch_norm(net, scope="l1_stem_bn")
    return net, [None, net]


def aux_head(net, end_points, num_classes, config, scope):
    """research/slim's auxiliary classifier on `net` (already activated): end_points['AuxLogits']."""
    activation_fn = activation(config)
    with tf.variable_scope(scope):
        with tf.variable_scope("aux_logits"):
            aux = slim.avg_pool2d(net, [5, 5], stride=3, padding="VALID")
            aux = slim.conv2d(aux, 128, [1, 1], scope="proj")
            aux = activation_fn(slim.batch_norm(aux, scope="aux_bn0"))
            shape = aux.shape[1:3] if config.data_format == nasnet_utils.DATA_FORMAT_NHWC else aux.shape[2:4]
            aux = slim.conv2d(aux, 768, shape, padding="VALID", scope="Conv")
            aux = activation_fn(slim.batch_norm(aux, scope="aux_bn1"))
            end_points["AuxLogits"] = slim.fully_connected(slim.flatten(aux), num_classes,
                                                           activation_fn=None, scope="FC")


def final_layer(net, end_points, num_classes, config, final_endpoint):
    """Activation, global pool, dropout and 'final_layer/FC'; returns (logits or features, end_points).

    As in research/slim, a `final_endpoint` of 'Logits' or 'Predictions' returns the dropout output.
    """
    with tf.variable_scope("final_layer"):
        net = end_points["global_pool"] = nasnet_utils.global_avg_pool(activation(config)(net))
        if final_endpoint == "global_pool" or not num_classes:
            return net, end_points
        net = slim.dropout(net, config.dense_dropout_keep_prob, scope="dropout")
        logits = end_points["Logits"] = slim.fully_connected(net, num_classes, activation_fn=None,
                                                             scope="FC")
        if final_endpoint == "Logits":
            return net, end_points
        end_points["Predictions"] = tf.nn.softmax(logits, name="predictions")
        if final_endpoint == "Predictions":
            return net, end_points
    return logits, end_points


def check_final_endpoint(final_endpoint, end_points):
    if final_endpoint is not None and final_endpoint not in end_points:
        raise ValueError("unknown final_endpoint %r; end points: %s"
                         % (final_endpoint, ", ".join(sorted(end_points))))


def _nasnet(images, num_classes, is_training, config, stem, final_endpoint, current_step):
    """Builds NASNet-A with `config` ('imagenet' or 'cifar' `stem`)."""
    images = prepare_images(images, config)
    reductions = nasnet_utils.calc_reduction_layers(config.num_cells, config.num_reduction_layers)
    aux_cell = reductions[1] - 1 if len(reductions) >= 2 else None
    # research/slim counts two reduction cells, and two stem cells on ImageNet.
    total_num_cells = config.num_cells + 2 + (2 if stem == "imagenet" else 0)
    build_cell = CellBuilder(config, total_num_cells, is_training, current_step)
    end_points = {}
    scopes = network_scopes(config, is_training)
    with scopes[0], scopes[1]:
        if stem == "imagenet":
            net, cell_outputs = imagenet_stem(images, config, build_cell, nasnet_utils.NASNET_A_REDUCTION)
        else:
            net, cell_outputs = _cifar_stem(images, config)
        end_points["Stem"] = net
        if final_endpoint == "Stem":
            return net, end_points

        filter_scaling = 1.0
        for number in range(config.num_cells):
            if config.skip_reduction_layer_input:
                prev_layer = cell_outputs[-2]  # the normal cell after a reduction skips it
            if number in reductions:
                filter_scaling *= config.filter_scaling_rate
                name = "Reduction_Cell_%d" % reductions.index(number)
                net = end_points[name] = build_cell(net, cell_outputs[-2],
                                                    nasnet_utils.NASNET_A_REDUCTION, filter_scaling,
                                                    2, name.lower())
                if final_endpoint == name:
                    return net, end_points
                cell_outputs.append(net)
            if not config.skip_reduction_layer_input:
                prev_layer = cell_outputs[-2]
            name = "Cell_%d" % number
            net = end_points[name] = build_cell(net, prev_layer, nasnet_utils.NASNET_A_NORMAL,
                                                filter_scaling, 1, name.lower())
            if final_endpoint == name:
                return net, end_points
            if config.use_aux_head and number == aux_cell and num_classes and is_training:
                aux_head(activation(config)(net), end_points, num_classes, config, "aux_%d" % number)
            cell_outputs.append(net)

        logits, end_points = final_layer(net, end_points, num_classes, config, final_endpoint)
    check_final_endpoint(final_endpoint, end_points)
    return logits, end_points


def build_nasnet_cifar(images, num_classes=10, is_training=True, config=None, current_step=None,
                       final_endpoint=None, **overrides):
    """NASNet-A 6 @ 768 for 32x32 images; returns (logits [batch, num_classes], end_points)."""
    config = resolve_config(cifar_config(), config, overrides, is_training)
    return _nasnet(images, num_classes, is_training, config, "cifar", final_endpoint, current_step)


def build_nasnet_mobile(images, num_classes=1001, is_training=True, final_endpoint=None, config=None,
                        current_step=None, **overrides):
    """NASNet-A 4 @ 1056 for ImageNet; returns (logits [batch, num_classes], end_points)."""
    config = resolve_config(mobile_imagenet_config(), config, overrides, is_training)
    return _nasnet(images, num_classes, is_training, config, "imagenet", final_endpoint, current_step)


def build_nasnet_large(images, num_classes=1001, is_training=True, final_endpoint=None, config=None,
                       current_step=None, **overrides):
    """NASNet-A 6 @ 4032 for ImageNet; returns (logits [batch, num_classes], end_points)."""
    config = resolve_config(large_imagenet_config(), config, overrides, is_training)
    return _nasnet(images, num_classes, is_training, config, "imagenet", final_endpoint, current_step)


build_nasnet_cifar.default_image_size = get_spec("nasnet_cifar").default_image_size
build_nasnet_mobile.default_image_size = get_spec("nasnet_mobile").default_image_size
build_nasnet_large.default_image_size = get_spec("nasnet_large").default_image_size
nasnet_cifar, nasnet_mobile, nasnet_large = build_nasnet_cifar, build_nasnet_mobile, build_nasnet_large
