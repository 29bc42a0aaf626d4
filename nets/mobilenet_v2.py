"""MobileNet v2 (Sandler et al., 2018) as research/slim builds it, and its width variants.

The network is the conv-defs dict `V2_DEF` run by `nets.mobilenet`: 'Conv' (3x3, stride 2, 32),
17 inverted residual blocks 'expanded_conv', 'expanded_conv_1' ... 'expanded_conv_16'
(`nets.mobilenet_conv_blocks.expanded_conv`) and 'Conv_1' (1x1, 1280), all batch-normed with ReLU6
but the blocks' linear projections. End points 'layer_1' ... 'layer_19' are the layers' outputs, plus
'layer_<n>/expansion_output', '/depthwise_output' and '/output' of each block. The head 'Logits'
pools globally ('global_pool'), drops out and applies the 1x1 'Conv2d_1c_1x1'; the logits are
'MobilenetV2/Logits/output', the softmax 'MobilenetV2/Predictions/Reshape_1'.

Arguments are research/slim's: `mobilenet(input_tensor, num_classes=1001, depth_multiplier=1.0,
scope='MobilenetV2', conv_defs=None, finegrain_classification_mode=False, min_depth=None,
divisible_by=None, activation_fn=None, **kwargs)`, where kwargs are `prediction_fn`, `reuse`,
`base_only`, `use_reduce_mean_for_pooling`, `is_training`, `final_endpoint`, `output_stride` and
`use_explicit_padding`; `mobilenet_base(input_tensor, depth_multiplier=1.0, **kwargs)`;
`training_scope(is_training=True, weight_decay, stddev, dropout_keep_prob, bn_decay)`.
A depth multiplier scales each layer to a multiple of `divisible_by` (8) of at least `min_depth` (8),
never more than 10% below; `finegrain_classification_mode` keeps the last layer at 1280 channels for
multipliers below 1 (as mobilenet_v2_035 does).
"""
import copy
import functools

from core.compat import slim, tf
from nets import mobilenet as lib
from nets.catalog import get_spec
from nets.mobilenet_conv_blocks import expand_input_by_factor, expanded_conv

op = lib.op
training_scope = lib.training_scope

V2_DEF = dict(
    defaults={
        (slim.batch_norm,): {"center": True, "scale": True},
        (slim.conv2d, slim.fully_connected, slim.separable_conv2d): {
            "normalizer_fn": slim.batch_norm, "activation_fn": tf.nn.relu6},
        (expanded_conv,): {"expansion_size": expand_input_by_factor(6), "split_expansion": 1,
                           "normalizer_fn": slim.batch_norm, "residual": True},
        (slim.conv2d, slim.separable_conv2d): {"padding": "SAME"},
    },
    spec=(
        [op(slim.conv2d, stride=2, num_outputs=32, kernel_size=[3, 3]),
         op(expanded_conv, expansion_size=expand_input_by_factor(1, divisible_by=1), num_outputs=16)]
        + [op(expanded_conv, stride=stride, num_outputs=depth)
           for stride, depth in ((2, 24), (1, 24), (2, 32), (1, 32), (1, 32), (2, 64), (1, 64), (1, 64),
                                 (1, 64), (1, 96), (1, 96), (1, 96), (2, 160), (1, 160), (1, 160),
                                 (1, 320))]
        + [op(slim.conv2d, stride=1, kernel_size=[1, 1], num_outputs=1280)]),
)


@slim.add_arg_scope
def mobilenet(input_tensor, num_classes=1001, depth_multiplier=1.0, scope="MobilenetV2", conv_defs=None,
              finegrain_classification_mode=False, min_depth=None, divisible_by=None, activation_fn=None,
              **kwargs):
    """MobileNet v2 of `conv_defs` (default `V2_DEF`); returns (logits, end_points).

    `num_classes=0` (or None) returns the pooled features; `activation_fn` replaces ReLU6 in the
    convolutions. See the module docstring for the other arguments.
    """
    conv_defs = V2_DEF if conv_defs is None else conv_defs
    if "multiplier" in kwargs:
        raise ValueError("mobilenetv2 doesn't support generic multiplier parameter use "
                         "\"depth_multiplier\" instead.")
    if finegrain_classification_mode:
        conv_defs = copy.deepcopy(conv_defs)
        if depth_multiplier < 1:
            conv_defs["spec"][-1].params["num_outputs"] /= depth_multiplier
    if activation_fn:
        conv_defs = copy.deepcopy(conv_defs)
        conv_defs["defaults"][(slim.conv2d, slim.fully_connected, slim.separable_conv2d)][
            "activation_fn"] = activation_fn
    depth_args = {}
    if min_depth is not None:
        depth_args["min_depth"] = min_depth
    if divisible_by is not None:
        depth_args["divisible_by"] = divisible_by
    with slim.arg_scope([lib.depth_multiplier], **depth_args):
        return lib.mobilenet(input_tensor, num_classes=num_classes, conv_defs=conv_defs, scope=scope,
                             multiplier=depth_multiplier, **kwargs)


mobilenet.default_image_size = get_spec("mobilenet_v2").default_image_size


@slim.add_arg_scope
def mobilenet_base(input_tensor, depth_multiplier=1.0, **kwargs):
    """The body of `mobilenet` (no 'Logits'); returns (features, end_points)."""
    return mobilenet(input_tensor, depth_multiplier=depth_multiplier, base_only=True, **kwargs)


def _variant(**fixed):
    variant = functools.partial(mobilenet, **fixed)
    functools.update_wrapper(variant, mobilenet)
    return variant


mobilenet_v2_140 = _variant(depth_multiplier=1.4)
mobilenet_v2_050 = _variant(depth_multiplier=0.50, finegrain_classification_mode=True)
mobilenet_v2_035 = _variant(depth_multiplier=0.35, finegrain_classification_mode=True)


def mobilenet_v2_arg_scope(weight_decay=0.00004, is_training=True, stddev=0.09, dropout_keep_prob=0.8,
                           batch_norm_decay=0.997):
    """`training_scope` with `batch_norm_decay` for its `bn_decay` (the name the other arg scopes use)."""
    return training_scope(is_training=is_training, weight_decay=weight_decay, stddev=stddev,
                          dropout_keep_prob=dropout_keep_prob, bn_decay=batch_norm_decay)
