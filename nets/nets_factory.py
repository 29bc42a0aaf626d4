"""One registry of networks keyed by research/slim's model names.

Each entry (a `ModelSpec`) holds everything the suite needs to know about a network: its function,
its own arg scope, default image size, preprocessing name, the scopes of its classification layers
(what `--checkpoint_exclude_scopes` names when fine-tuning) and the node to freeze. Network modules
register themselves with `register_model`; `_load_all` imports the modules of `_NETWORK_MODULES`.

Every network function is research/slim's: the same arguments, variables, end points and op names.
It returns `(logits, end_points)` with 2-D logits [batch, num_classes] (by default) and its softmax
under end_points['Predictions'] (research/slim's ResNets: 'predictions'); auxiliary logits, where a
network has them, are end_points['AuxLogits']. With `num_classes=0` (or None) a network returns its
pre-logits features instead.

research/slim's VGG, AlexNet and OverFeat build no softmax. For freezing and label_image,
`get_network_fn` adds one to their logits (`ModelSpec.adds_softmax`), named `ModelSpec.output_node`
('vgg_16/predictions/Reshape_1'), outside their end points; `predictions_end_point` finds it too.
"""
import dataclasses
import functools
import importlib
import inspect
from typing import Callable, Tuple

from core.compat import slim, tf
from core.errors import UserError, first_line

_REGISTRY = {}

# Modules whose import registers networks. Each adds its entries with `register_model`.
_NETWORK_MODULES = (
    "nets.alexnet",
    "nets.cifarnet",
    "nets.inception_v1",
    "nets.inception_v2",
    "nets.inception_v3",
    "nets.lenet",
    "nets.mobilenet_v1",
    "nets.mobilenet_v2",
    "nets.inception_v4",
    "nets.inception_resnet_v2",
    "nets.nasnet",
    "nets.overfeat",
    "nets.pnasnet",
    "nets.resnet_v1",
    "nets.resnet_v2",
    "nets.vgg",
)
# The softmax outputs `get_network_fn` adds (networks without their own), and the logits of each.
_ADDED_PREDICTIONS = "nets_factory_added_predictions"
_ADDED_PREDICTIONS_LOGITS = "nets_factory_added_predictions_logits"


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    name: str
    network_fn: Callable  # fn(images, num_classes, is_training, **kwargs) -> (logits, end_points)
    arg_scope_fn: Callable  # fn(weight_decay) -> arg scope
    default_image_size: int
    preprocessing_name: str
    logits_scopes: Tuple[str, ...]  # e.g. ("InceptionV3/Logits", "InceptionV3/AuxLogits")
    output_node: str  # softmax output of the exported graph, e.g. "InceptionV3/Predictions/Reshape_1"
    min_image_size: int = 32  # smallest input the network accepts
    # True where research/slim's network has no softmax (VGG, AlexNet, OverFeat): `get_network_fn` adds
    # one on the logits, named `output_node`, that is not among the end points.
    adds_softmax: bool = False


def register_model(spec):
    if spec.name in _REGISTRY:
        raise ValueError("model %r registered twice" % spec.name)
    _REGISTRY[spec.name] = spec
    return spec


@functools.lru_cache(maxsize=None)
def _load_all():
    for module in _NETWORK_MODULES:
        importlib.import_module(module)
    return True


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
    _load_all()
    return sorted(_REGISTRY)


def get_spec(name):
    _load_all()
    if name not in _REGISTRY:
        raise UserError("unknown --model_name %r; available: %s" % (name, ", ".join(sorted(_REGISTRY))))
    return _REGISTRY[name]


def check_image_size(name, image_size):
    """Raises a UserError when `image_size` is below what network `name` accepts."""
    spec = get_spec(name)
    if image_size < spec.min_image_size:
        raise UserError("image size %d is too small for %s, which needs at least %d pixels; pass a larger "
                        "size (its default is %d)" % (image_size, name, spec.min_image_size,
                                                      spec.default_image_size))


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

    scope_kwargs = {"weight_decay": weight_decay}
    if batch_norm_decay is not None:
        # Short runs evaluate better with a faster-moving batch norm average than research/slim's 0.9997.
        if "batch_norm_decay" not in inspect.signature(spec.arg_scope_fn).parameters:
            raise UserError("%s has no batch normalization: drop --batch_norm_decay" % name)
        scope_kwargs["batch_norm_decay"] = batch_norm_decay

    @functools.wraps(spec.network_fn)
    def network_fn(images, reuse=None, **kwargs):
        with tf.variable_scope(tf.get_variable_scope(), reuse=reuse or None, auxiliary_name_scope=False):
            with slim.arg_scope(spec.arg_scope_fn(**scope_kwargs)):
                try:
                    logits, end_points = spec.network_fn(images, num_classes=num_classes,
                                                         is_training=is_training, **kwargs)
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
