"""research/slim's image classification networks: one `ModelSpec` per model name, holding every fact
the suite needs about it. No TensorFlow here (stdlib and core.errors only), so `--help` lists the
networks and a run's settings are checked without loading it.

A spec names its network function and arg scope as "module:function" strings; `nets.nets_factory`
imports them when a network is built. The facts are research/slim's (tests/nets/test_nets_factory.py
compares the built networks with tests/nets/data/research_slim_nets.json, measured from its code):
- `default_image_size`: research/slim's `network_fn.default_image_size`;
- `preprocessing_name`: research/slim's preprocessing_factory entry for the model name;
- `logits_scopes`: the scopes of the variables sized by the number of classes, what
  `--checkpoint_exclude_scopes` names when fine-tuning on other classes;
- `output_node`: the softmax op to freeze and give label_image;
- `min_image_size`: the smallest input the network builds on (its strides and VALID kernels);
- `adds_softmax`: research/slim's network builds no softmax (VGG, AlexNet, OverFeat), so
  `nets_factory.get_network_fn` adds one on the logits, named `output_node`.
"""
import dataclasses
from typing import Tuple

from core.errors import UserError


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    name: str
    network: str  # "module:function" of fn(images, num_classes, is_training, **kwargs) -> (logits, end_points)
    arg_scope: str  # "module:function" of fn(weight_decay, ...) -> arg scope
    default_image_size: int
    preprocessing_name: str
    logits_scopes: Tuple[str, ...]  # e.g. ("InceptionV3/Logits", "InceptionV3/AuxLogits")
    output_node: str  # softmax output of the exported graph, e.g. "InceptionV3/Predictions/Reshape_1"
    min_image_size: int = 32
    adds_softmax: bool = False


def _fc_conv_network(name, module, arg_scope, size):
    """VGG, AlexNet, OverFeat: fully connected layers as convolutions, sized for `size` inputs; no softmax."""
    return ModelSpec(name, "nets.%s:%s" % (module, name), "nets.%s:%s" % (module, arg_scope), size, "vgg",
                     ("%s/fc8" % name,), "%s/predictions/Reshape_1" % name, min_image_size=size, adds_softmax=True)


def _resnet(version, layers):
    name = "resnet_%s_%d" % (version, layers)
    return ModelSpec(name, "nets.resnet_%s:%s" % (version, name), "nets.resnet_utils:resnet_arg_scope", 224,
                     "vgg", ("%s/logits" % name,), "%s/predictions/Reshape_1" % name)


def _mobilenet_v1(name):
    return ModelSpec(name, "nets.mobilenet_v1:" + name, "nets.mobilenet_v1:mobilenet_v1_arg_scope", 224,
                     "inception", ("MobilenetV1/Logits",), "MobilenetV1/Predictions/Reshape_1")


def _mobilenet_v2(name, function):
    return ModelSpec(name, "nets.mobilenet_v2:" + function, "nets.mobilenet_v2:mobilenet_v2_arg_scope", 224,
                     "inception", ("MobilenetV2/Logits",), "MobilenetV2/Predictions/Reshape_1")


def _nas(name, module, size, preprocessing_name, aux_cell, min_image_size):
    """NASNet / PNASNet: the auxiliary head 'aux_<n>' (training only) reads the cell before the second
    reduction; its 5x5 pool needs that cell's map to be 5x5 or larger, hence `min_image_size`."""
    return ModelSpec(name, "nets.%s:build_%s" % (module, name), "nets.%s:%s_arg_scope" % (module, name), size,
                     preprocessing_name, ("final_layer", "aux_%d" % aux_cell), "final_layer/predictions",
                     min_image_size=min_image_size)


_SPECS = [
    _fc_conv_network("alexnet_v2", "alexnet", "alexnet_v2_arg_scope", 224),
    ModelSpec("cifarnet", "nets.cifarnet:cifarnet", "nets.cifarnet:cifarnet_arg_scope", 32, "cifarnet",
              ("CifarNet/logits",), "CifarNet/Predictions/Reshape_1", min_image_size=8),
    ModelSpec("inception_resnet_v2", "nets.inception_resnet_v2:inception_resnet_v2",
              "nets.inception_resnet_v2:inception_resnet_v2_arg_scope", 299, "inception",
              ("InceptionResnetV2/Logits", "InceptionResnetV2/AuxLogits"), "InceptionResnetV2/Logits/Predictions",
              min_image_size=107),
    ModelSpec("inception_v1", "nets.inception_v1:inception_v1", "nets.inception_v1:inception_v1_arg_scope", 224,
              "inception", ("InceptionV1/Logits",), "InceptionV1/Logits/Predictions/Reshape_1", min_image_size=224),
    ModelSpec("inception_v2", "nets.inception_v2:inception_v2", "nets.inception_v2:inception_v2_arg_scope", 224,
              "inception", ("InceptionV2/Logits",), "InceptionV2/Predictions/Reshape_1"),
    ModelSpec("inception_v3", "nets.inception_v3:inception_v3", "nets.inception_v3:inception_v3_arg_scope", 299,
              "inception", ("InceptionV3/Logits", "InceptionV3/AuxLogits"), "InceptionV3/Predictions/Reshape_1",
              min_image_size=107),
    ModelSpec("inception_v4", "nets.inception_v4:inception_v4", "nets.inception_v4:inception_v4_arg_scope", 299,
              "inception", ("InceptionV4/Logits", "InceptionV4/AuxLogits"), "InceptionV4/Logits/Predictions",
              min_image_size=107),
    # research/slim builds LeNet's softmax outside its 'LeNet' scope.
    ModelSpec("lenet", "nets.lenet:lenet", "nets.lenet:lenet_arg_scope", 28, "lenet", ("LeNet/fc4",),
              "Predictions/Reshape_1", min_image_size=8),
    *(_mobilenet_v1(name) for name in ("mobilenet_v1", "mobilenet_v1_025", "mobilenet_v1_050", "mobilenet_v1_075")),
    _mobilenet_v2("mobilenet_v2", "mobilenet"),
    _mobilenet_v2("mobilenet_v2_035", "mobilenet_v2_035"),
    _mobilenet_v2("mobilenet_v2_140", "mobilenet_v2_140"),
    # The aux heads read a 5x5 map or larger: that of cell 11 (stride 2) for CIFAR; of cell 7 / 11 for
    # ImageNet (stride 16 after the VALID 'conv0').
    _nas("nasnet_cifar", "nasnet", 32, "cifarnet", aux_cell=11, min_image_size=9),
    _nas("nasnet_large", "nasnet", 331, "inception", aux_cell=11, min_image_size=67),
    _nas("nasnet_mobile", "nasnet", 224, "inception", aux_cell=7, min_image_size=67),
    _fc_conv_network("overfeat", "overfeat", "overfeat_arg_scope", 231),
    _nas("pnasnet_large", "pnasnet", 331, "inception", aux_cell=7, min_image_size=67),
    _nas("pnasnet_mobile", "pnasnet", 224, "inception", aux_cell=5, min_image_size=67),
    *(_resnet(version, layers) for version in ("v1", "v2") for layers in (50, 101, 152, 200)),
    *(_fc_conv_network(name, "vgg", "vgg_arg_scope", 224) for name in ("vgg_16", "vgg_19", "vgg_a")),
]
SPECS = {spec.name: spec for spec in _SPECS}
if len(SPECS) != len(_SPECS):
    raise ValueError("a model name is listed twice in nets/catalog.py")
MODEL_NAMES = tuple(sorted(SPECS))


def get_spec(name):
    """The `ModelSpec` of model `name`; a UserError naming the valid ones otherwise."""
    if name not in SPECS:
        raise UserError("unknown --model_name %r; available: %s" % (name, ", ".join(MODEL_NAMES)))
    return SPECS[name]


def check_image_size(name, image_size):
    """Raises a UserError when `image_size` is below what network `name` accepts."""
    spec = get_spec(name)
    if image_size < spec.min_image_size:
        raise UserError("image size %d is too small for %s, which needs at least %d pixels; pass a larger "
                        "size (its default is %d)" % (image_size, name, spec.min_image_size,
                                                      spec.default_image_size))
