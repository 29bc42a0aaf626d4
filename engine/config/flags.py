"""Argument groups shared by several scripts, defined once and reused with `parents=`, and what every
script has: `--version`, and a warning for the research/slim flags it accepts but does not act on.

No TensorFlow here (nor pandas): `--help` and `--version` answer at once.
"""
import argparse
import importlib.metadata
import os
import sys
import tomllib

from core.cli import add_bool_flag
from core.progress import warn
from datasets import defaults, label_modes
from datasets import flags as dataset_flags
from engine.config.options import TrainOptions, add_flags
from nets.catalog import MODEL_NAMES
from preprocessing import catalog as preprocessing_catalog

PYPROJECT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                         "pyproject.toml")

# research/slim (or original) flags some scripts accept so that their commands run, and do nothing with:
# dest -> why. The scripts warn about each one given, in one line (`warn_ignored`).
IGNORED = {
    "quantize_delay": "quantization-aware training is not part of this suite",
    "quantize": "quantized graphs are not part of this suite",
    "dataset_name": "the data is the TFRecord of --tfrecord_file",
    "dataset_dir": "the data is the TFRecord of --tfrecord_file",
    "csv_file": "the TFRecord holds the images and their labels",
    "is_video_model": "video models are not part of this suite",
    "num_frames": "video models are not part of this suite",
}


def models_help(default_text):
    """The help of --model_name: its default and every model name (nets/catalog.py's)."""
    return "network (default: %s), one of: %s" % (default_text, ", ".join(MODEL_NAMES))


def _package_version(*names):
    for name in names:
        try:
            return "%s %s" % (name, importlib.metadata.version(name))
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def suite_version():
    """The suite's version, pyproject.toml's (1.x: the original TensorFlow 1 project; 2.x: this suite on
    TensorFlow 2), else the installed package's."""
    try:
        with open(PYPROJECT, "rb") as handle:
            return tomllib.load(handle)["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        try:
            return importlib.metadata.version("classification-visages")
        except importlib.metadata.PackageNotFoundError:
            return "unknown"


def version_text(prog):
    packages = [_package_version("tensorflow-cpu", "tensorflow"), _package_version("tf-slim")]
    return "%s %s (TF-Slim image classification suite; %s)" % (
        prog, suite_version(), ", ".join(package for package in packages if package) or "TensorFlow not installed")


def add_version_flag(parser):
    parser.add_argument("--version", action="version", version=version_text(parser.prog),
                        help="print the version of the suite and of TensorFlow, then exit")


def script_parser(description, parents=()):
    """A top-level script's parser: its docstring as the description (kept as written), the shared groups
    `parents`, and --version."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     parents=list(parents))
    add_version_flag(parser)
    return parser


def add_ignored_flags(group, names):
    """Accepts `--NAME [VALUE]` (and `--noNAME`) for each name of IGNORED, hidden from --help."""
    for name in names:
        group.add_argument("--" + name, dest=name, nargs="?", const="true", default=None,
                           help=argparse.SUPPRESS)
        group.add_argument("--no" + name, dest=name, action="store_const", const="false",
                           help=argparse.SUPPRESS)


def _typed(parser, dest, argv):
    """The option string of `dest` the command line used (one of its aliases), else --dest."""
    for action in parser._actions:
        if action.dest == dest:
            for option in action.option_strings:
                if any(arg == option or arg.startswith(option + "=") for arg in argv):
                    return option
    return "--" + dest


def warn_ignored(parser, args, argv, dests, reasons=None):
    """One warning line naming the flags of `dests` that were given, each with why it does nothing
    (`reasons`, else IGNORED)."""
    reasons = dict(IGNORED, **(reasons or {}))
    given = [dest for dest in dests if getattr(args, dest, None) is not None]
    if given:
        warn("ignored, as these flags do nothing here (accepted so that research/slim's and the original's "
             "commands run): %s" % "; ".join("%s: %s" % (_typed(parser, dest, argv), reasons[dest])
                                             for dest in given))


def parse_args(parser, argv, ignored=(), reasons=None):
    """`parser.parse_args(argv)` (None: the command line), then one warning line for the flags of `ignored`
    that were given (`warn_ignored`)."""
    args = parser.parse_args(argv)
    warn_ignored(parser, args, sys.argv[1:] if argv is None else argv, ignored, reasons)
    return args


def dataset_parser(split_default):
    """Dataset paths (the conversion's defaults), split and label options."""
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("dataset")
    dataset_flags.add_tfrecord_flag(group, help="TFRecord written by download_and_convert_data.py (default: the "
                                    "training run's, else %s)" % defaults.TFRECORD_PATH)
    dataset_flags.add_csv_flag(group, help="accepted for the original commands and not read (a warning says so): "
                               "the TFRecord holds the images and their labels (default: none)")
    dataset_flags.add_classes_flag(group, help="classes file of `N:name` lines (default: the training run's, else "
                                   "%s)" % defaults.CLASSES_PATH)
    group.add_argument("--dataset_split_name", default=split_default, choices=defaults.SPLITS,
                       help="part of the split by file name hash: train, val (held out to choose checkpoints), "
                       "test (held out, what evaluation reports) or all (default: %(default)s)")
    group.add_argument("--test_percentage", "--validation_percentage", dest="validation_percentage", type=float,
                       default=None, help="percentage of images in the test part (the name before 2.1: "
                       "--validation_percentage; default: the training run's, else %g)"
                       % defaults.VALIDATION_PERCENTAGE)
    group.add_argument("--val_percentage", type=float, default=None,
                       help="percentage of images in the val part, held out from training to choose the best "
                       "checkpoint (default: the training run's, else %g for a new run; a run recorded without "
                       "one has none)" % defaults.VAL_PERCENTAGE)
    group.add_argument("--labels_offset", type=int, default=None,
                       help="subtract this from every label id (research/slim's background-class offset; "
                       "default: the training run's, else 0)")
    group.add_argument("--label_mode", choices=label_modes.CHOICES, default=None,
                       help="single: softmax over classes, one label per image; grouped: a softmax per attribute "
                       "group, one label of each group per image (groups declared in the classes file as "
                       "N:name:group, or found in the labels); multi: sigmoid per class (several labels per "
                       "image); auto: chosen from the data (default: the training run's, else auto)")
    add_flags(group, TrainOptions, ("skip_corrupt_records",), add_bool_flag)
    return parser


def model_parser(image_size_flags, input_flags=True):
    """Model name, preprocessing and image size (`image_size_flags`: this script's names for it, the first
    canonical); with `input_flags`, the batch size and the input threads."""
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("model")
    group.add_argument("--model_name", default=None, help=models_help("the training run's, else inception_v3"))
    group.add_argument("--preprocessing_name", default=None,
                       help="preprocessing: %s, or a model name (default: the training run's, else the "
                       "network's)" % ", ".join(preprocessing_catalog.NAMES))
    group.add_argument(*image_size_flags, dest="image_size", type=int, default=None,
                       help="input size in pixels (default: the training run's, else the network's)")
    add_bool_flag(group, "use_grayscale", None, "convert images to grayscale (3 equal channels); unset: the "
                  "training run's, else false")
    if input_flags:
        add_flags(group, TrainOptions, ("num_readers", "num_preprocessing_threads", "batch_size"))
    return parser
