"""Argument groups shared by several scripts, defined once and reused with `parents=`.

No TensorFlow here: `--help` stays quick.
"""
import argparse

from core.cli import add_bool_flag
from datasets import defaults
from engine.options import LABEL_MODES, TrainOptions, add_flags


def dataset_parser(split_default):
    """Dataset paths (the conversion's defaults), split and label options."""
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("dataset")
    group.add_argument("--tfrecord_file", "--chemin_tfrecords", "--record_file", dest="tfrecord_file",
                       default=None, help="TFRecord written by download_and_convert_data.py "
                       "(default: the training run's, else %s)" % defaults.TFRECORD_PATH)
    group.add_argument("--path_to_csv", "--chemin_csv", "--csv_file", dest="path_to_csv", default=None,
                       help="accepted for the original commands and not read: the TFRecord holds the images "
                       "and their labels")
    group.add_argument("--chemin_liste_labels", "--classes", "--classes_file", dest="classes_file",
                       default=None, help="classes file of `N:name` lines (default: the training run's, "
                       "else %s)" % defaults.CLASSES_PATH)
    group.add_argument("--dataset_split_name", default=split_default, choices=defaults.SPLITS,
                       help="held-out split by file name hash: train, test or all (default: %(default)s)")
    group.add_argument("--validation_percentage", type=float, default=None,
                       help="percentage of images held out for evaluation (default: the training run's, "
                       "else %g)" % defaults.VALIDATION_PERCENTAGE)
    group.add_argument("--labels_offset", type=int, default=None,
                       help="subtract this from every label id (research/slim's background-class offset)")
    group.add_argument("--label_mode", choices=("auto",) + LABEL_MODES, default=None,
                       help="single: softmax over classes, one label per image; multi: sigmoid per class "
                       "(several labels per image); auto: chosen from the data (default)")
    add_flags(group, TrainOptions, ("skip_corrupt_records",), add_bool_flag)
    return parser


def model_parser(image_size_flags):
    """Model name, preprocessing, image size and input threads."""
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("model")
    group.add_argument("--model_name", default=None,
                       help="network of nets/nets_factory.py (default: the training run's, else inception_v3)")
    group.add_argument("--preprocessing_name", default=None,
                       help="preprocessing to use (default: the network's)")
    group.add_argument(*image_size_flags, dest="image_size", type=int, default=None,
                       help="input size in pixels (default: the training run's, else the network's)")
    add_bool_flag(group, "use_grayscale", None, "convert images to grayscale (3 equal channels)")
    add_flags(group, TrainOptions, ("num_readers", "num_preprocessing_threads", "batch_size"))
    return parser
