"""label_image's frozen graphs: parse a GraphDef, check it is frozen, import it and run it; read image files
and list a folder of them.

No network is built here (nets/ is not imported): the graph comes from a file. Each image goes through
engine.model.inputs.preprocess_encoded (the recorded evaluation preprocessing, or an explicit mean and
standard deviation). The other model formats are opened by engine/inference/runtimes.py.
"""
import os
from typing import NamedTuple

import numpy as np

from core.compat import tf
from core.errors import UserError, first_line
from core.text import quote
from datasets import image_files
from datasets.image_files import IMAGE_EXTENSIONS
from datasets.read_limits import DEFAULT_LIMITS
from engine.inference.model import Model
from engine.model.graph_metadata import read_metadata, read_metadata_file
from engine.model.inputs import preprocess_encoded

_NOT_OUTPUTS = ("Const", "NoOp", "Placeholder", "PlaceholderWithDefault", "Assign", "AssignVariableOp",
                "VariableV2", "VarHandleOp", "SaveV2", "RestoreV2")
_VARIABLE_OPS = ("VariableV2", "Variable", "VarHandleOp")


def parse_graph_def(data):
    """The GraphDef that `data` holds, or None when it is not a binary GraphDef with nodes."""
    graph_def = tf.GraphDef()
    try:
        graph_def.ParseFromString(data)
    except Exception:  # noqa: BLE001 (google.protobuf.message.DecodeError, not importable via core.compat)
        return None
    if not graph_def.node or not all(node.name and node.op for node in graph_def.node):
        return None
    return graph_def


def check_frozen(graph_def, path):
    """`graph_def`, or a UserError when it still has variables."""
    variables = [node.name for node in graph_def.node if node.op in _VARIABLE_OPS]
    if variables:
        raise UserError("graph %r still has variables (e.g. %s): it is not frozen. Freeze it with "
                        "python -m tensorflow.python.tools.freeze_graph --input_graph=%s --input_binary=true "
                        "--input_checkpoint=<train_dir>/model.ckpt-N --output_graph=frozen.pb "
                        "--output_node_names=<output node>, or export with --checkpoint_path <train_dir> "
                        "--frozen_graph frozen.pb" % (path, variables[0], path))
    return graph_def


def graph_metadata(graph_def, graph_path):
    """What the export recorded: inside the graph, else in the JSON beside it, else {}."""
    return read_metadata(graph_def, graph_path) or read_metadata_file(graph_path) or {}


def likely_inputs_and_outputs(graph_def):
    """(placeholder names, names of nodes nothing consumes): what --input_layer/--output_layer may be."""
    consumed = {name.lstrip("^").split(":")[0] for node in graph_def.node for name in node.input}
    inputs = [node.name for node in graph_def.node if node.op in ("Placeholder", "PlaceholderWithDefault")]
    outputs = [node.name for node in graph_def.node
               if node.name not in consumed and node.op not in _NOT_OUTPUTS]
    return inputs, outputs


def _node_name(name):
    return name[:-2] if name.endswith(":0") else name


def _unknown_layer(flag, name, graph_def, graph_path):
    inputs, outputs = likely_inputs_and_outputs(graph_def)
    return UserError("%s %r is not a node of %s. Likely inputs: %s; likely outputs: %s. Pass one of them "
                     "(export_inference_graph.py prints the output node of each network)"
                     % (flag, name, graph_path, ", ".join(inputs[:10]) or "none",
                        ", ".join(outputs[:10]) or "none"))


def _static_dims(shape):
    return None if shape.dims is None else [dim if dim is None else int(dim) for dim in shape.as_list()]


class FrozenGraphClassifier(Model):
    """A frozen graph imported in its own tf.Graph and Session."""

    def __init__(self, graph_def, input_layer, output_layer, graph_path="graph", config=None):
        names = {node.name for node in graph_def.node}
        input_layer, output_layer = _node_name(input_layer), _node_name(output_layer)
        if input_layer not in names:
            raise _unknown_layer("--input_layer", input_layer, graph_def, graph_path)
        if output_layer not in names:
            raise _unknown_layer("--output_layer", output_layer, graph_def, graph_path)
        self.path = graph_path
        self.graph = tf.Graph()
        with self.graph.as_default():
            try:
                tf.import_graph_def(graph_def, name="")
            except (ValueError, tf.errors.OpError) as error:
                raise UserError("cannot load graph %r: %s" % (graph_path, first_line(error)))
        self.input = self.graph.get_tensor_by_name(input_layer + ":0")
        self.output = self.graph.get_tensor_by_name(output_layer + ":0")
        self._check_input(_static_dims(self.input.shape), "--input_layer %r" % input_layer)
        out_dims = _static_dims(self.output.shape)
        self.num_outputs = out_dims[-1] if out_dims else None
        # config: e.g. bf16 (engine/model/mixed_precision.py)
        self.session = tf.Session(graph=self.graph, config=config)

    def _run(self, batch):
        return self.session.run(self.output, {self.input: batch})

    def close(self):
        self.session.close()


class ImageReader:
    """Decodes and preprocesses one image file at a time in a small graph of its own. Files are read within
    `limits` (datasets/read_limits.ReadLimits): a regular file of at most --max_image_bytes, found in
    `folder` (None: named by the user) or reached through a link that stays in it unless --follow_links,
    of at most --max_image_pixels pixels by its header, checked before TensorFlow decodes it."""

    def __init__(self, options, limits=DEFAULT_LIMITS, folder=None):
        self.options = options
        self.limits = limits
        self.folder = folder
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.encoded = tf.placeholder(tf.string, [], name="encoded_image")
            self.image = preprocess_encoded(self.encoded, options)
        self.session = tf.Session(graph=self.graph)

    def read(self, path):
        """float32 [height, width, 3] for the image file `path` (JPEG, PNG, BMP or GIF)."""
        if not os.path.lexists(path):
            raise UserError("image %s does not exist; pass --image with an image file or a folder of images"
                            % quote(path))
        try:
            data = image_files.read_file(path, self.limits, self.folder)
            if not data:
                raise UserError("image %s is an empty file" % quote(path))
            image_files.checked_size(data, self.limits.max_image_pixels)
        except image_files.ImageProblem as problem:
            if problem.reason in (image_files.CORRUPT, image_files.NOT_AN_IMAGE):
                raise _undecodable(path, "%s: %s" % (problem.reason, problem.detail))
            raise UserError("cannot read image %s: %s (%s)" % (quote(path), problem.reason, problem.detail))
        try:
            return self.session.run(self.image, {self.encoded: data})
        except tf.errors.OpError as error:
            raise _undecodable(path, first_line(error, 200))

    def close(self):
        self.session.close()


def _undecodable(path, reason):
    return UserError("cannot decode image %s (%s); label_image reads JPEG, PNG, BMP and GIF files"
                     % (quote(path), reason))


def list_images(path):
    """[path] for a file; for a folder, its entries named as images (by extension, sorted) but its
    sub-folders: FIFOs, devices and links out of it are in the list, for ImageReader to refuse by name."""
    if os.path.isdir(path):
        found = sorted(entry.path for entry in os.scandir(path)
                       if os.path.splitext(entry.name)[1].lower()[1:] in IMAGE_EXTENSIONS
                       and not os.path.isdir(entry.path))
        if not found:
            raise UserError("folder %s holds no image (%s); pass --image with an image file or a folder "
                            "of images" % (quote(path), ", ".join(IMAGE_EXTENSIONS)))
        return found
    if not os.path.lexists(path):
        raise UserError("image %s does not exist; pass --image with an image file or a folder of images"
                        % quote(path))
    return [path]


class Prediction(NamedTuple):
    """A label shown for an image: its name and score, and its attribute group or its threshold (None: none)."""

    label: str
    score: float
    group: str = None
    threshold: float = None


DEFAULT_TOP_K = 5  # labels shown per image when the model records neither groups nor thresholds


def top_predictions(scores, names, top_k):
    """[Prediction] best first; all of them when `top_k` <= 0."""
    order = np.argsort(-scores, kind="stable")
    if top_k > 0:
        order = order[:top_k]
    return [Prediction(names[index], float(scores[index])) for index in order]


def group_predictions(scores, names, groups):
    """[Prediction] of the best label of each group (`groups`: the export's label_groups, with the output
    `indexes` of each), in the groups' order."""
    found = []
    for group in groups:
        indexes = list(group["indexes"])
        best = indexes[int(np.argmax(scores[indexes]))]
        found.append(Prediction(names[best], float(scores[best]), group=group["name"]))
    return found


def threshold_predictions(scores, names, thresholds):
    """[Prediction] of the labels whose score reaches their threshold, best first."""
    order = np.argsort(-scores, kind="stable")
    return [Prediction(names[index], float(scores[index]), threshold=float(thresholds[index]))
            for index in order if scores[index] >= thresholds[index]]


def predictions(scores, names, meta, top_k=None):
    """What label_image shows for one image's `scores`: with `top_k`, the `top_k` best labels (all for 0);
    else the best label of each attribute group of a grouped model, the labels at or above their threshold
    of a multi-label model that records thresholds, or the DEFAULT_TOP_K best."""
    if top_k is not None:
        return top_predictions(scores, names, top_k)
    if meta.get("label_groups") and all(max(group["indexes"]) < len(scores) for group in meta["label_groups"]):
        return group_predictions(scores, names, meta["label_groups"])
    if meta.get("thresholds") and len(meta["thresholds"]) == len(scores):
        return threshold_predictions(scores, names, meta["thresholds"])
    return top_predictions(scores, names, DEFAULT_TOP_K)
