"""ONNX models of a frozen inference graph, converted by tf2onnx (an optional dependency).

tf2onnx converts the frozen GraphDef itself (the source of every deployment format), so the ONNX model
computes what the frozen graph computes. Its input is `images`, float32 [batch, size, size, 3] already
preprocessed (NHWC, as in TensorFlow), and its output `probabilities` [batch, classes]. The export
metadata (class names, preprocessing, label mode: engine.model.graph_metadata) is stored in the model's
`metadata_props` under `METADATA_KEY`, where onnxruntime's `get_modelmeta().custom_metadata_map` reads it.

tf2onnx, onnx and onnxruntime are pinned in requirements-onnx.txt; without them `--onnx` says how to
install them.
"""
import json

from core import atomic_files
from core.errors import UserError
from engine.export import saved_model
from engine.model.graph_metadata import ONNX_METADATA_KEY

METADATA_KEY = ONNX_METADATA_KEY
IMAGES = saved_model.IMAGES
PROBABILITIES = saved_model.PROBABILITIES
INSTALL_HINT = "pip install -r requirements-onnx.txt"


def check_installed():
    """(tf2onnx, onnx), or a UserError saying how to install them."""
    try:
        import onnx
        import tf2onnx
    except ImportError as error:
        raise UserError("--onnx needs tf2onnx and onnx, which are not installed (%s): %s"
                        % (error, INSTALL_HINT))
    return tf2onnx, onnx


def convert(frozen_graph_def, meta, opset=None):
    """The ONNX ModelProto of the frozen graph (opset: tf2onnx's preferred one unless given)."""
    tf2onnx, onnx = check_installed()
    input_name, output_name = meta["input_node"] + ":0", meta["output_node"] + ":0"
    model, _ = tf2onnx.convert.from_graph_def(
        frozen_graph_def, name=meta.get("model_name"), input_names=[input_name], output_names=[output_name],
        opset=opset, tensors_to_rename={input_name: IMAGES, output_name: PROBABILITIES})
    onnx.helper.set_model_props(model, {METADATA_KEY: json.dumps(meta, sort_keys=True)})
    return model


def write_onnx(frozen_graph_def, meta, path, opset=None):
    """Writes the ONNX model atomically; returns (size in bytes, opset)."""
    model = convert(frozen_graph_def, meta, opset)
    data = model.SerializeToString()
    try:
        atomic_files.write_bytes(path, data)
    except OSError as error:
        raise UserError("cannot write %r (%s); choose another --onnx path" % (path, error))
    opsets = [entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")]
    return len(data), (opsets[0] if opsets else None)
