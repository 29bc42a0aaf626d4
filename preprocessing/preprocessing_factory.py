"""Preprocessing functions keyed by research/slim's preprocessing names.

`get_preprocessing(name, is_training)` returns `fn(image, output_height, output_width, **kwargs)` for
one 3-D image [height, width, 3] (uint8 as `tf.io.decode_image(channels=3)` gives it, or float).
Four families exist (`FAMILIES`); each network's registry entry (nets/nets_factory.py) names its own.
The evaluation variants are deterministic and use only TensorFlow ops that run the same eagerly, so a
tool can preprocess one image outside the training graph; `get_eval_description` says what they do.
"""
from core.errors import UserError
from preprocessing import cifarnet_preprocessing, inception_preprocessing, lenet_preprocessing, vgg_preprocessing

FAMILIES = {
    "cifarnet": cifarnet_preprocessing,
    "inception": inception_preprocessing,
    "lenet": lenet_preprocessing,
    "vgg": vgg_preprocessing,
}


def list_names():
    """The preprocessing names: 'cifarnet', 'inception', 'lenet' and 'vgg'."""
    return sorted(FAMILIES)


def check_name(name):
    """`name` when it is a preprocessing name; a UserError naming the valid ones otherwise."""
    if name not in FAMILIES:
        raise UserError("unknown preprocessing name %r; valid names: %s, or a model name (its preprocessing), "
                        "or leave it unset to use the model's own" % (name, ", ".join(list_names())))
    return name


def get_preprocessing(name, is_training=False, use_grayscale=False):
    """Returns `fn(image, output_height, output_width, **kwargs) -> float32 [h, w, 3]`.

    `kwargs` go to the family's `preprocess_image` (e.g. `bbox` or `fast_mode` for 'inception',
    `resize_side_min` for 'vgg'). With `use_grayscale` the image is made gray and kept on 3 channels.
    """
    module = FAMILIES[check_name(name)]

    def preprocessing_fn(image, output_height, output_width, **kwargs):
        return module.preprocess_image(image, output_height, output_width, is_training=is_training,
                                       use_grayscale=use_grayscale, **kwargs)

    preprocessing_fn.preprocessing_name = name
    return preprocessing_fn


def get_eval_description(name):
    """A JSON-ready dict saying what the evaluation preprocessing of `name` does."""
    description = {"preprocessing": check_name(name)}
    description.update(FAMILIES[name].EVAL_DESCRIPTION)
    return description
