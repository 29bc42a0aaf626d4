"""PNASNet-5 (Liu et al., 2017) with research/slim's scope names: pnasnet_mobile and pnasnet_large.

NASNet's ImageNet stem ('conv0', then 'cell_stem_0' and '_1', here PNASNet cells with stride 2),
then `num_cells` PNASNet cells 'cell_<n>'. There are no separate reduction cells: the cells at a
third and two thirds of the way take stride 2 and double the filters. Heads as NASNet's:
'final_layer/FC' with softmax 'final_layer/predictions', and when training the auxiliary head
'aux_<n>/aux_logits' on the cell before the second reduction. Drop path and configuration overrides
work as in `nets.nasnet`: `build_pnasnet_mobile` / `build_pnasnet_large(images, num_classes,
is_training, final_endpoint, config)` (research/slim's) with `config` a `NasNetConfig` or field
overrides as keyword arguments (`num_cells`, `use_aux_head`, `drop_path_keep_prob`, `data_format`,
`use_bounded_activation` ...). `pnasnet_mobile` and `pnasnet_large` are the same functions.
"""
from nets import nasnet, nasnet_utils
from nets.catalog import get_spec

# research/slim's PNasNetNormalCell.
PNASNET_5 = nasnet_utils.CellSpec(
    combinations=((("separable_5x5_2", 1), ("max_pool_3x3", 1)),
                  (("separable_7x7_2", 0), ("max_pool_3x3", 0)),
                  (("separable_5x5_2", 0), ("separable_3x3_2", 0)),
                  (("separable_3x3_2", 4), ("max_pool_3x3", 0)),
                  (("separable_3x3_2", 1), ("none", 0))),
    concatenated=(2, 3, 4, 5, 6))


def pnasnet_large_arg_scope(weight_decay=4e-5, batch_norm_decay=0.9997, batch_norm_epsilon=1e-3):
    return nasnet.nasnet_large_arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon)


def pnasnet_mobile_arg_scope(weight_decay=4e-5, batch_norm_decay=0.9997, batch_norm_epsilon=1e-3):
    return nasnet.nasnet_mobile_arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon)


def large_imagenet_config():
    """PNASNet-5 large: 12 cells, 216 filters. A new one each call."""
    return nasnet.make_config(num_cells=12, num_conv_filters=216, stem_multiplier=3.0, drop_path_keep_prob=0.6,
                              dense_dropout_keep_prob=0.5, skip_reduction_layer_input=1)


def mobile_imagenet_config():
    """PNASNet-5 mobile: 9 cells, 54 filters. A new one each call."""
    return nasnet.make_config(num_cells=9, num_conv_filters=54, stem_multiplier=1.0, drop_path_keep_prob=1.0,
                              dense_dropout_keep_prob=0.5, skip_reduction_layer_input=1)


def _pnasnet(images, num_classes, is_training, config, final_endpoint, current_step):
    images = nasnet.prepare_images(images, config)
    reductions = nasnet_utils.calc_reduction_layers(config.num_cells, config.num_reduction_layers)
    aux_cell = reductions[1] - 1 if len(reductions) >= 2 else None
    build_cell = nasnet.CellBuilder(config, config.num_cells + 2, is_training, current_step)
    activation_fn = nasnet.activation(config)
    end_points = {}
    scopes = nasnet.network_scopes(config, is_training)
    with scopes[0], scopes[1]:
        net, cell_outputs = nasnet.imagenet_stem(images, config, build_cell, PNASNET_5)
        end_points["Stem"] = net
        if final_endpoint == "Stem":
            return net, end_points

        filter_scaling = 1.0
        prev_layer = cell_outputs[-2]
        for number in range(config.num_cells):
            is_reduction = number in reductions
            if is_reduction:
                filter_scaling *= config.filter_scaling_rate
            # Without skip_reduction_layer_input, a reducing cell reads the same previous layer as
            # the cell before it (research/slim's rule).
            if config.skip_reduction_layer_input or not is_reduction:
                prev_layer = cell_outputs[-2]
            name = "Cell_%d" % number
            net = end_points[name] = build_cell(net, prev_layer, PNASNET_5, filter_scaling,
                                                2 if is_reduction else 1, name.lower())
            if final_endpoint == name:
                return net, end_points
            cell_outputs.append(net)
            if config.use_aux_head and number == aux_cell and num_classes and is_training:
                nasnet.aux_head(activation_fn(net), end_points, num_classes, config, "aux_%d" % number)

        logits, end_points = nasnet.final_layer(net, end_points, num_classes, config, final_endpoint)
    nasnet.check_final_endpoint(final_endpoint, end_points)
    return logits, end_points


def build_pnasnet_mobile(images, num_classes=1001, is_training=True, final_endpoint=None, config=None,
                        current_step=None, **overrides):
    """PNASNet-5 mobile (9 cells, 54 filters); returns (logits [batch, num_classes], end_points)."""
    config = nasnet.resolve_config(mobile_imagenet_config(), config, overrides, is_training)
    return _pnasnet(images, num_classes, is_training, config, final_endpoint, current_step)


def build_pnasnet_large(images, num_classes=1001, is_training=True, final_endpoint=None, config=None,
                        current_step=None, **overrides):
    """PNASNet-5 large (12 cells, 216 filters); returns (logits [batch, num_classes], end_points)."""
    config = nasnet.resolve_config(large_imagenet_config(), config, overrides, is_training)
    return _pnasnet(images, num_classes, is_training, config, final_endpoint, current_step)


pnasnet_mobile, pnasnet_large = build_pnasnet_mobile, build_pnasnet_large
build_pnasnet_mobile.default_image_size = get_spec("pnasnet_mobile").default_image_size
build_pnasnet_large.default_image_size = get_spec("pnasnet_large").default_image_size
