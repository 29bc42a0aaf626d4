"""A SavedModel of a frozen inference graph, for TensorFlow Serving and `tf.saved_model.load`.

The frozen GraphDef (engine.export.inference_graph.freeze) is the one source of every deployment format: here it is
imported into a TF1-style function (`tf.compat.v1.wrap_function`) pruned from its `input` to its output
node, so the SavedModel computes exactly what the frozen graph computes. Two signatures call it:
- `serving_default`: `images`, float32 [batch, size, size, 3] already preprocessed (what label_image feeds
  a frozen graph);
- `serving_bytes`: `image_bytes`, string [batch] of encoded JPEG, PNG, BMP or GIF files, decoded and put
  through the recorded evaluation preprocessing inside the model (engine.model.inputs.preprocess_encoded, the
  ops label_image runs on each file).
Both return `probabilities` [batch, classes] (softmax, or a sigmoid per class for multi-label models) and
`classes` [batch, classes], the class name of each column, repeated per image so that TensorFlow Serving's
row format ("instances") can return it.

The export metadata (engine.model.graph_metadata) is written to `assets.extra/export_metadata.json`, the folder
TensorFlow Serving leaves to its users; label_image reads it without loading the model. The directory is
built under a temporary sibling name and swapped with the previous one in one step.
"""
import os

from core import atomic_files
from core.compat import tf
from core.errors import UserError, write_failure
from core.text import quote
from engine.model import inputs
from engine.model.graph_metadata import (
    CLASSES,
    DEFAULT_MEAN,
    DEFAULT_STD,
    IMAGE_BYTES,
    IMAGES,
    PROBABILITIES,
    SAVED_MODEL_METADATA_FILE,
    SERVING_BYTES,
    SERVING_DEFAULT,
)

tf2 = tf.compat.v2

METADATA_FILE = SAVED_MODEL_METADATA_FILE


def network_function(frozen_graph_def, meta):
    """The frozen graph as a concrete function: float32 images [batch, size, size, 3] -> probabilities."""
    def import_graph():
        tf.import_graph_def(frozen_graph_def, name="")

    wrapped = tf.wrap_function(import_graph, [])
    return wrapped.prune(meta["input_node"] + ":0", meta["output_node"] + ":0")


def image_spec(meta, name=IMAGES):
    size = meta["image_size"]
    return tf2.TensorSpec([None, size, size, 3], tf2.float32, name=name)


class ServingModule(tf2.Module):
    """The network function and the two serving functions that call it (one copy of the weights)."""

    def __init__(self, network, meta):
        super().__init__()
        self.network = network
        self._classes = list(meta["classes"])
        size = meta["image_size"]
        if meta.get("preprocessing_name"):
            self._options = inputs.InputOptions(size, size, preprocessing_name=meta["preprocessing_name"],
                                                  use_grayscale=bool(meta.get("use_grayscale")))
        else:  # a graph that records no preprocessing: label_image's default scaling
            self._options = inputs.InputOptions(size, size, DEFAULT_MEAN, DEFAULT_STD)
        self.serve_images = tf2.function(self._serve_images, input_signature=[image_spec(meta)], autograph=False)
        self.serve_bytes = tf2.function(self._serve_bytes,
                                        input_signature=[tf2.TensorSpec([None], tf2.string, name=IMAGE_BYTES)],
                                        autograph=False)

    def _outputs(self, probabilities):
        names = tf2.constant([self._classes])
        return {PROBABILITIES: probabilities,
                CLASSES: tf2.tile(names, tf2.stack([tf2.shape(probabilities)[0], 1]))}

    def _serve_images(self, images):
        return self._outputs(self.network(images))

    def _serve_bytes(self, image_bytes):
        images = tf2.map_fn(lambda encoded: inputs.preprocess_encoded(encoded, self._options), image_bytes,
                            fn_output_signature=tf2.TensorSpec([self._options.height, self._options.width, 3],
                                                               tf2.float32))
        return self._outputs(self.network(images))


def save(module, meta, directory):
    """Saves `module` with its two signatures and the metadata file into `directory` (a new folder)."""
    signatures = {SERVING_DEFAULT: module.serve_images.get_concrete_function(),
                  SERVING_BYTES: module.serve_bytes.get_concrete_function()}
    tf2.saved_model.save(module, directory, signatures=signatures)
    atomic_files.write_json(os.path.join(directory, METADATA_FILE), meta, sort_keys=True)


def write_saved_model(frozen_graph_def, meta, path):
    """Writes the SavedModel of `frozen_graph_def` to the directory `path`, whole or not at all."""
    module = ServingModule(network_function(frozen_graph_def, meta), meta)
    replace_directory(path, lambda directory: save(module, meta, directory), "--saved_model")
    return path


def is_saved_model(path):
    return any(os.path.isfile(os.path.join(path, name)) for name in ("saved_model.pb", "saved_model.pbtxt"))


def check_target(path, flag="--saved_model"):
    """Refuses a file, or a folder that holds something else than a SavedModel, at `path`."""
    if os.path.isfile(path):
        raise UserError("%s %r is a file; the SavedModel is a directory: pass a new or SavedModel directory"
                        % (flag, path))
    if os.path.isdir(path) and os.listdir(path) and not is_saved_model(path):
        raise UserError("%s %r is a directory that holds something else than a SavedModel; pass a new "
                        "directory (TensorFlow Serving reads <base>/<version>, e.g. serving/faces/1)"
                        % (flag, path))


def replace_directory(path, build, flag):
    """Calls `build(temporary)` on a new sibling folder of `path`, which then takes the place of `path` in
    one step (core.atomic_files.replacing_folder): `path` holds the previous SavedModel or the new one at
    every instant. An existing SavedModel (or empty folder) there is replaced; another folder, or a file,
    is refused, never deleted."""
    check_target(path, flag)
    try:
        with atomic_files.replacing_folder(path) as temporary:
            build(temporary)
    except OSError as error:
        raise UserError("cannot write %s %s The previous SavedModel there, if any, is unchanged"
                        % (quote(path), write_failure(error, "choose another %s directory." % flag)))
