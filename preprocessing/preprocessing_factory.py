"""Preprocessing functions keyed by research/slim's preprocessing names.

`get_preprocessing(name, is_training)` returns `fn(image, output_height, output_width, **kwargs)` for
one 3-D image [height, width, 3] (uint8 as `tf.io.decode_image(channels=3)` gives it, or float).
Four families exist (`FAMILIES`, named in preprocessing/catalog.py with no TensorFlow); each network's
entry in nets/catalog.py names its own.
The evaluation variants are deterministic and use only TensorFlow ops that run the same eagerly, so a
tool can preprocess one image outside the training graph; `get_eval_description` says what they do.
"""
import importlib

from preprocessing.catalog import MODULES, check_name, list_names

# Preprocessing name -> its module (`preprocess_image`, `EVAL_DESCRIPTION`); the names are preprocessing/catalog.py's.
FAMILIES = {name: importlib.import_module(module) for name, module in MODULES.items()}
__all__ = ["FAMILIES", "check_name", "get_eval_description", "get_preprocessing", "list_names"]


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
