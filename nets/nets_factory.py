"""One registry of networks keyed by research/slim's model names.

Each entry (a `ModelSpec`) holds everything the suite needs to know about a network: its function,
its own arg scope, default image size, preprocessing name, the scopes of its classification layers
(what `--checkpoint_exclude_scopes` names when fine-tuning) and the node to freeze. Network modules
register themselves with `register_model`; `nets/__init__.py`-level imports in `_load_all` bring them in.
"""
import dataclasses
import functools
import importlib
from typing import Callable, Tuple

from engine.compat import slim
from engine.errors import UserError

_REGISTRY = {}

# Modules whose import registers networks. Each adds its entries with `register_model`.
_NETWORK_MODULES = ("nets.slim_builtin",)


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


def list_models():
    _load_all()
    return sorted(_REGISTRY)


def get_spec(name):
    _load_all()
    if name not in _REGISTRY:
        raise UserError("unknown --model_name %r; available: %s" % (name, ", ".join(sorted(_REGISTRY))))
    return _REGISTRY[name]


def get_network_fn(name, num_classes, weight_decay=0.0, is_training=False):
    """Returns `network_fn(images, **kwargs) -> (logits, end_points)` with `default_image_size`.

    The network is built inside its own arg scope, with `weight_decay` on its weights.
    """
    spec = get_spec(name)

    @functools.wraps(spec.network_fn)
    def network_fn(images, **kwargs):
        with slim.arg_scope(spec.arg_scope_fn(weight_decay=weight_decay)):
            return spec.network_fn(images, num_classes=num_classes, is_training=is_training, **kwargs)

    network_fn.default_image_size = spec.default_image_size
    return network_fn
