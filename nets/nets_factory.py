"""Builds research/slim's networks by model name, from the facts of `nets.catalog`.

Each model name has a `ModelSpec` in nets/catalog.py (no TensorFlow there): its network function,
its own arg scope, default image size, preprocessing name, the scopes of its classification layers
(what `--checkpoint_exclude_scopes` names when fine-tuning) and the node to freeze. This module imports
the network and arg scope functions the specs name when a network is built.

Every network function is research/slim's: the same arguments, variables, end points and op names.
It returns `(logits, end_points)` with 2-D logits [batch, num_classes] (by default) and its softmax
under end_points['Predictions'] (research/slim's ResNets: 'predictions'); auxiliary logits, where a
network has them, are end_points['AuxLogits']. With `num_classes=0` (or None) a network returns its
pre-logits features instead.

research/slim's VGG, AlexNet and OverFeat build no softmax. For freezing and label_image,
`get_network_fn` adds one to their logits (`ModelSpec.adds_softmax`), named `ModelSpec.output_node`
('vgg_16/predictions/Reshape_1'), outside their end points; `predictions_end_point` finds it too.

research/slim's `networks_map` and `arg_scopes_map` (model name -> function) are here as read-only
views of the catalog.
"""
import collections.abc
import functools
import importlib
import inspect

from core.compat import slim, tf
from core.errors import UserError, first_line
from nets import catalog
from nets.catalog import ModelSpec, check_image_size, get_spec

__all__ = ["ModelSpec", "arg_scope_function", "arg_scopes_map", "check_image_size", "get_network_fn", "get_spec",
           "list_models", "load", "network_function", "networks_map", "predictions_end_point"]

# The softmax outputs `get_network_fn` adds (networks without their own), and the logits of each.
_ADDED_PREDICTIONS = "nets_factory_added_predictions"
_ADDED_PREDICTIONS_LOGITS = "nets_factory_added_predictions_logits"


@functools.lru_cache(maxsize=None)
def load(reference):
    """The function a "module:function" reference of the catalog names, its module imported."""
    module, _, function = reference.partition(":")
    return getattr(importlib.import_module(module), function)


def network_function(name):
    """Model `name`'s network function (research/slim's, e.g. `nets.vgg.vgg_16`)."""
    return load(get_spec(name).network)


def arg_scope_function(name):
    """Model `name`'s arg scope function, e.g. `nets.vgg.vgg_arg_scope`."""
    return load(get_spec(name).arg_scope)


class _CatalogView(collections.abc.Mapping):
    """Model name -> the function `loader(name)` gives, for every model of the catalog."""

    def __init__(self, loader):
        self._loader = loader

    def __getitem__(self, name):
        if name not in catalog.SPECS:
            raise KeyError(name)
        return self._loader(name)

    def __iter__(self):
        return iter(catalog.MODEL_NAMES)

    def __len__(self):
        return len(catalog.MODEL_NAMES)


networks_map = _CatalogView(network_function)
arg_scopes_map = _CatalogView(arg_scope_function)


def predictions_end_point(end_points):
    """The softmax output of a network built by `get_network_fn`, from its end points.

    It is end_points['Predictions'] or ['predictions']; for the networks without a softmax of their
    own (VGG, AlexNet, OverFeat), the one `get_network_fn` added on the logits among `end_points`.
    """
    for key in ("Predictions", "predictions"):
        if key in end_points:
            return end_points[key]
    tensors = [tensor for tensor in end_points.values() if hasattr(tensor, "graph")]
    if tensors:
        graph = tensors[0].graph
        refs = {tensor.ref() for tensor in tensors}
        for logits, predictions in zip(graph.get_collection(_ADDED_PREDICTIONS_LOGITS),
                                       graph.get_collection(_ADDED_PREDICTIONS)):
            if logits.ref() in refs:
                return predictions
    raise KeyError("no 'Predictions' or 'predictions' among end points %s" % sorted(end_points))


def list_models():
    return list(catalog.MODEL_NAMES)


def get_network_fn(name, num_classes, weight_decay=0.0, is_training=False, batch_norm_decay=None):
    """Returns `network_fn(images, reuse=None, **kwargs) -> (logits, end_points)`.

    The network is built inside its own arg scope, with `weight_decay` on its weights. With
    `reuse=True` it shares the variables of an earlier build (a second clone); the name scope is
    left as the caller set it. `kwargs` go to the network function (research/slim's arguments, e.g.
    `global_pool=True`). `network_fn.default_image_size` is the model's default size. An input the
    network cannot take (too small for its strides and kernels) raises a UserError. For the networks
    without a softmax (`ModelSpec.adds_softmax`), a softmax named `output_node` is added on the logits,
    outside the end points (see `predictions_end_point`).
    """
    spec = get_spec(name)
    network, arg_scope = network_function(name), arg_scope_function(name)

    scope_kwargs = {"weight_decay": weight_decay}
    if batch_norm_decay is not None:
        # Short runs evaluate better with a faster-moving batch norm average than research/slim's 0.9997.
        if "batch_norm_decay" not in inspect.signature(arg_scope).parameters:
            raise UserError("%s has no batch normalization: drop --batch_norm_decay" % name)
        scope_kwargs["batch_norm_decay"] = batch_norm_decay

    @functools.wraps(network)
    def network_fn(images, reuse=None, **kwargs):
        with tf.variable_scope(tf.get_variable_scope(), reuse=reuse or None, auxiliary_name_scope=False):
            with slim.arg_scope(arg_scope(**scope_kwargs)):
                try:
                    logits, end_points = network(images, num_classes=num_classes, is_training=is_training,
                                                 **kwargs)
                except ValueError as error:
                    if "dimension" not in str(error).lower() and "shape" not in str(error).lower():
                        raise
                    size = images.shape.as_list()[1:3]
                    raise UserError("%s cannot take %sx%s images (%s); use a larger image size, e.g. the "
                                    "network's default %d" % (name, size[0], size[1], first_line(error, 200),
                                                              spec.default_image_size))
        if num_classes and logits.get_shape().ndims != 2 and kwargs.get("spatial_squeeze", True):
            raise ValueError("%s returned logits of shape %s, expected [batch, %d]"
                             % (name, logits.get_shape(), num_classes))
        if num_classes and spec.adds_softmax:
            # slim.softmax in scope 'vgg_16/predictions' names its output 'vgg_16/predictions/Reshape_1'.
            predictions = slim.softmax(logits, scope=spec.output_node.rsplit("/", 1)[0])
            tf.add_to_collection(_ADDED_PREDICTIONS_LOGITS, logits)
            tf.add_to_collection(_ADDED_PREDICTIONS, predictions)
        return logits, end_points

    network_fn.default_image_size = spec.default_image_size
    network_fn.model_name = name
    network_fn.weight_decay = weight_decay
    return network_fn
