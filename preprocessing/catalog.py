"""research/slim's preprocessing names, and the module of each. No TensorFlow here (stdlib and core.errors
only), so `--help` and a run's settings can name and check them without loading it.

`preprocessing.preprocessing_factory` imports the modules when a preprocessing function is asked for.
research/slim's --preprocessing_name also took a model name (then the model's own preprocessing):
`nets.catalog` says which one each model uses.
"""
from core.errors import UserError

# Preprocessing name -> the module holding its `preprocess_image` and `EVAL_DESCRIPTION`.
MODULES = {
    "cifarnet": "preprocessing.cifarnet_preprocessing",
    "inception": "preprocessing.inception_preprocessing",
    "lenet": "preprocessing.lenet_preprocessing",
    "vgg": "preprocessing.vgg_preprocessing",
}
NAMES = tuple(sorted(MODULES))


def list_names():
    """The preprocessing names: 'cifarnet', 'inception', 'lenet' and 'vgg'."""
    return list(NAMES)


def check_name(name):
    """`name` when it is a preprocessing name; a UserError naming the valid ones otherwise."""
    if name not in MODULES:
        raise UserError("unknown preprocessing name %r; valid names: %s, or a model name (its preprocessing), "
                        "or leave it unset to use the model's own" % (name, ", ".join(NAMES)))
    return name
