"""What an exported graph records about itself, read without building any network.

export_inference_graph.py stores a JSON object in a string Const node, `METADATA_NODE`, which the
output node has as a control input so TensorFlow's freeze_graph keeps it; it also writes the same
object beside the graph (`metadata_path`). Keys: format, input_node, output_node, model_name,
image_size, batch_size, preprocessing_name, preprocessing (the evaluation preprocessing's
description), use_grayscale, label_mode, labels_offset, classes (the name of each output, in order),
is_training.
"""
import json
import os

from core import atomic_files
from core.errors import UserError, write_failure
from core.files import MIB, FileRefused, read_bounded
from core.text import cut, quote
from datasets.read_limits import MAX_CLASSES

INPUT_NODE = "input"
METADATA_NODE = "export_metadata"
METADATA_FORMAT = 1
MAX_METADATA_BYTES = 16 * MIB  # a metadata file: a few names and sizes, and the class names

# Where each deployment format keeps the same metadata, and the names of its inputs and outputs.
SAVED_MODEL_METADATA_FILE = os.path.join("assets.extra", "export_metadata.json")  # inside the SavedModel folder
ONNX_METADATA_KEY = "export_metadata"  # the ONNX model's metadata_props key
SERVING_DEFAULT = "serving_default"  # SavedModel and TFLite signature: preprocessed float images
SERVING_BYTES = "serving_bytes"  # SavedModel signature: encoded image files
IMAGES = "images"
IMAGE_BYTES = "image_bytes"
PROBABILITIES = "probabilities"
CLASSES = "classes"
# The keys readers rely on, by the type of their value (check_metadata).
_TEXT_KEYS = ("input_node", "output_node", "model_name", "preprocessing_name", "label_mode", "mixed_precision")
_FLAG_KEYS = ("use_grayscale", "is_training")
_COUNT_KEYS = {"image_size": 1, "batch_size": 1, "labels_offset": 0, "format": 0}  # key: smallest value

# How label_image scales the pixels of a graph that records no preprocessing (TensorFlow's label_image
# example's size; pixels to [0, 1]).
DEFAULT_SIZE = 299
DEFAULT_MEAN = 0.0
DEFAULT_STD = 255.0


def _problem(key, value):
    """What is wrong with the value of metadata `key`, or None (keys no reader relies on are not checked)."""
    if value is None:
        return None
    if key in _TEXT_KEYS and not isinstance(value, str):
        return "a string"
    if key in _FLAG_KEYS and not isinstance(value, bool):
        return "true or false"
    if key in _COUNT_KEYS and (isinstance(value, bool) or not isinstance(value, int)
                               or not _COUNT_KEYS[key] <= value < 2 ** 31):
        return "a whole number from %d" % _COUNT_KEYS[key]
    if key == CLASSES and (not isinstance(value, list) or len(value) > MAX_CLASSES
                           or not all(isinstance(name, str) for name in value)):
        return "a list of at most %d class names" % MAX_CLASSES
    return None


def check_metadata(meta, source):
    """`meta` when each key a reader relies on has a value of its type, else a UserError naming `source`."""
    for key in sorted(meta):
        expected = _problem(key, meta[key])
        if expected:
            raise UserError("the export metadata of %s is damaged: %s is %s, expected %s; export the model again "
                            "with export_inference_graph.py" % (quote(source), key, cut(repr(meta[key]), 60),
                                                                expected))
    return meta


def read_metadata(graph_def, source="the graph"):
    """The metadata dict recorded in `graph_def` (of the file `source`), or None for a graph exported
    otherwise; a UserError when its values are not of their type."""
    for node in graph_def.node:
        if node.name == METADATA_NODE and node.op == "Const":
            try:
                value = json.loads(node.attr["value"].tensor.string_val[0].decode("utf-8"))
            except (IndexError, ValueError, UnicodeDecodeError):
                return None
            return check_metadata(value, source) if isinstance(value, dict) else None
    return None


def metadata_path(graph_path):
    """The JSON file written beside an exported graph: `x.pb` -> `x.json`."""
    return os.path.splitext(graph_path)[0] + ".json"


def read_metadata_file(graph_path):
    """The metadata JSON beside `graph_path`, or None when there is none."""
    path = metadata_path(graph_path)
    if not os.path.isfile(path) or os.path.abspath(path) == os.path.abspath(graph_path):
        return None
    return read_metadata_json(path)


def read_metadata_json(path):
    """The metadata dict of the JSON file `path`, or None when it is not one (unreadable, too large, a FIFO,
    another format); a UserError when its values are not of their type."""
    try:
        value = json.loads(read_bounded(path, MAX_METADATA_BYTES).decode("utf-8"))
    except (FileRefused, ValueError):
        return None
    if not isinstance(value, dict) or value.get("format") != METADATA_FORMAT:
        return None
    return check_metadata(value, path)


def write_metadata_file(meta, graph_path):
    """Writes `meta` beside `graph_path` atomically (temporary name, then rename); returns its path."""
    path = metadata_path(graph_path)
    try:
        return atomic_files.write_json(path, meta, sort_keys=True)
    except OSError as error:
        raise UserError("cannot write %s %s" % (quote(path), write_failure(error, "choose another output path.")))
