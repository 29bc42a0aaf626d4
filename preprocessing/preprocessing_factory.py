"""Preprocessing functions keyed by research/slim's preprocessing and model names.

`get_preprocessing(name, is_training)` returns `fn(image, output_height, output_width, **kwargs)` for
one 3-D image [height, width, 3] (uint8 as `tf.io.decode_image(channels=3)` gives it, or float).
Four families exist (`FAMILIES`); every model name maps to one of them (`preprocessing_name_for`).
The evaluation variants are deterministic and use only TensorFlow ops that run the same eagerly, so a
tool can preprocess one image outside the training graph; `get_eval_description` says what they do.
"""
from engine.errors import UserError
from preprocessing import (cifarnet_preprocessing, inception_preprocessing, lenet_preprocessing,
                           vgg_preprocessing)

FAMILIES = {
    "cifarnet": cifarnet_preprocessing,
    "inception": inception_preprocessing,
    "lenet": lenet_preprocessing,
    "vgg": vgg_preprocessing,
}

# research/slim's model -> preprocessing map, plus the models it left out (alexnet_v2 and overfeat
# take VGG's input, the MobileNet v1 widths take MobileNet v1's, nasnet_cifar takes CifarNet's).
_MODEL_FAMILY = {
    "alexnet_v2": "vgg",
    "cifarnet": "cifarnet",
    "inception_v1": "inception",
    "inception_v2": "inception",
    "inception_v3": "inception",
    "inception_v4": "inception",
    "inception_resnet_v2": "inception",
    "lenet": "lenet",
    "mobilenet_v1": "inception",
    "mobilenet_v1_075": "inception",
    "mobilenet_v1_050": "inception",
    "mobilenet_v1_025": "inception",
    "mobilenet_v2": "inception",
    "mobilenet_v2_140": "inception",
    "mobilenet_v2_035": "inception",
    "nasnet_cifar": "cifarnet",
    "nasnet_mobile": "inception",
    "nasnet_large": "inception",
    "overfeat": "vgg",
    "pnasnet_mobile": "inception",
    "pnasnet_large": "inception",
    "resnet_v1_50": "vgg",
    "resnet_v1_101": "vgg",
    "resnet_v1_152": "vgg",
    "resnet_v1_200": "vgg",
    "resnet_v2_50": "vgg",
    "resnet_v2_101": "vgg",
    "resnet_v2_152": "vgg",
    "resnet_v2_200": "vgg",
    "vgg_a": "vgg",
    "vgg_16": "vgg",
    "vgg_19": "vgg",
}


def list_names():
    """Every accepted name: the families and the model names."""
    return sorted(set(FAMILIES) | set(_MODEL_FAMILY))


def preprocessing_name_for(name):
    """The family ('inception', 'vgg', 'cifarnet' or 'lenet') of a model or preprocessing name."""
    if name in FAMILIES:
        return name
    if name not in _MODEL_FAMILY:
        raise UserError("unknown preprocessing name %r; valid names: %s (or leave it unset to use the "
                        "model's own)" % (name, ", ".join(list_names())))
    return _MODEL_FAMILY[name]


def get_preprocessing(name, is_training=False, use_grayscale=False):
    """Returns `fn(image, output_height, output_width, **kwargs) -> float32 [h, w, 3]`.

    `kwargs` go to the family's `preprocess_image` (e.g. `bbox` or `fast_mode` for 'inception',
    `resize_side_min` for 'vgg'). With `use_grayscale` the image is made gray and kept on 3 channels.
    """
    module = FAMILIES[preprocessing_name_for(name)]

    def preprocessing_fn(image, output_height, output_width, **kwargs):
        return module.preprocess_image(image, output_height, output_width, is_training=is_training,
                                       use_grayscale=use_grayscale, **kwargs)

    preprocessing_fn.preprocessing_name = preprocessing_name_for(name)
    return preprocessing_fn


def get_eval_description(name):
    """A JSON-ready dict saying what the evaluation preprocessing of `name` does."""
    family = preprocessing_name_for(name)
    description = {"preprocessing": family}
    description.update(FAMILIES[family].EVAL_DESCRIPTION)
    return description
