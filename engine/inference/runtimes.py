"""label_image's models: a frozen GraphDef, a SavedModel directory, a TFLite model or an ONNX model,
recognised by their content, each behind the same `predict(images) -> scores` as engine.inference.model.Model.

Recognition (the file name's extension plays no part):
- a directory holding saved_model.pb (or .pbtxt) is a SavedModel, run through its `serving_default`
  signature with TensorFlow;
- a directory holding TensorFlow's `checkpoint` state file is a training directory, or its `best/`: its latest
  checkpoint, frozen in memory by the `freeze` function the caller passes (label_image.py passes
  engine.export.setup.freeze_checkpoint_dir, which exports it as export_inference_graph.py --checkpoint_path
  DIR --frozen_graph would);
- a file whose FlatBuffer identifier (bytes 4 to 8) is `TFL3` is a TFLite model, run with LiteRT's
  interpreter (ai-edge-litert; TensorFlow 2.21 deprecates tf.lite.Interpreter);
- a file that parses as a binary GraphDef with nodes is a frozen graph (labeling.FrozenGraphClassifier);
- a file that onnx (or onnxruntime) reads as an ONNX ModelProto is an ONNX model, run with onnxruntime.
Anything else is refused with the list of what label_image reads.

The metadata (class names, preprocessing, image size) comes from the graph's Const node, the SavedModel's
assets.extra/export_metadata.json, the ONNX model's metadata_props, or else the JSON beside the file.
`--input_layer`/`--output_layer` name a frozen graph's nodes; for the other formats they name the model's
input and output (a signature key or tensor name), and the frozen graph's recorded names also match them.
"""
import json
import os

import numpy as np

from core.errors import UserError, first_line
from core.files import FileRefused, read_bounded
from core.text import quote
from engine.inference import labeling
from engine.inference.model import Model
from engine.model.graph_metadata import (
    INPUT_NODE,
    ONNX_METADATA_KEY,
    SAVED_MODEL_METADATA_FILE,
    SERVING_DEFAULT,
    check_metadata,
    read_metadata_file,
    read_metadata_json,
)

GRAPH_DEF, SAVED_MODEL, TFLITE, ONNX = "frozen graph", "SavedModel", "TFLite model", "ONNX model"
MAX_MODEL_BYTES = 2 ** 31 - 1  # protobuf's limit for a GraphDef or an ONNX model; FlatBuffers' too
CHECKPOINTS = "training directory"
CHECKPOINT_STATE = "checkpoint"  # TensorFlow's state file of a directory of checkpoints
SIGNATURE = SERVING_DEFAULT
ONNX_HINT = "pip install -r requirements-onnx.txt"


def _not_a_model(path, why):
    return UserError("%s is not a model label_image reads (%s): pass --graph with a frozen GraphDef (.pb), a "
                     "SavedModel directory, a TFLite model or an ONNX model, as export_inference_graph.py writes "
                     "them" % (quote(path), why))


def detect_format(path):
    """(format, content) of the model at `path`, recognised by its content: the parsed GraphDef of a frozen
    graph, the file's bytes of a TFLite or ONNX model, None for a SavedModel directory."""
    if os.path.isdir(path):
        if any(os.path.isfile(os.path.join(path, name)) for name in ("saved_model.pb", "saved_model.pbtxt")):
            return SAVED_MODEL, None
        if os.path.isfile(os.path.join(path, CHECKPOINT_STATE)):
            return CHECKPOINTS, None
        raise _not_a_model(path, "a directory without saved_model.pb, so not a SavedModel, nor a checkpoint state "
                           "file, so not a training directory")
    if not os.path.exists(path):
        raise UserError("graph %s does not exist; pass --graph with a model written by export_inference_graph.py "
                        "(frozen .pb, SavedModel directory, .tflite or .onnx)" % quote(path))
    try:
        data = read_bounded(path, MAX_MODEL_BYTES)
    except FileRefused as refused:
        raise _not_a_model(path, "%s: %s" % (refused.reason, refused.detail))
    if not data:
        raise _not_a_model(path, "an empty file")
    if data[4:8] == b"TFL3":
        return TFLITE, data
    graph_def = labeling.parse_graph_def(data)
    if graph_def is not None:
        return GRAPH_DEF, graph_def
    if _is_onnx(data):
        return ONNX, data
    if os.path.basename(path) in ("saved_model.pb", "saved_model.pbtxt"):
        raise _not_a_model(path, "the graph file of a SavedModel: pass its directory, %r"
                           % (os.path.dirname(path) or "."))
    raise _not_a_model(path, "not a binary GraphDef, nor a TFLite or ONNX model")


def _is_onnx(data):
    try:
        import onnx
    except ImportError:
        onnx = None
    if onnx is not None:
        try:
            model = onnx.ModelProto.FromString(data)
        except Exception:  # noqa: BLE001 (google.protobuf.message.DecodeError)
            return False
        return model.ir_version > 0 and len(model.graph.node) > 0
    try:
        import onnxruntime
    except ImportError:
        if data[:1] == b"\x08":  # an ONNX ModelProto starts with its ir_version field
            raise UserError("this looks like an ONNX model, but onnxruntime is not installed: %s" % ONNX_HINT)
        return False
    try:
        onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    except Exception:  # noqa: BLE001 (onnxruntime's own exception classes)
        return False
    return True


def open_model(path, input_layer=None, output_layer=None, mixed_precision="none", freeze=None):
    """(classifier, metadata dict) for the model at `path`, any format; the classifier has `predict`,
    `input_dims`, `batch_size`, `num_outputs` and `close` (engine.inference.model.Model). `mixed_precision`:
    "bf16" runs a frozen graph in bfloat16, "auto" does where the export recorded bf16 and the CPU runs it
    natively (engine/model/mixed_precision.py), "none" runs float32. `freeze(directory)` -> frozen GraphDef
    reads a training directory (None: refused, with the export command)."""
    kind, content = detect_format(path)
    if kind == CHECKPOINTS:
        if freeze is None:
            raise _not_a_model(path, "a directory of training checkpoints: export it first with "
                               "export_inference_graph.py --checkpoint_path %s --frozen_graph frozen.pb" % path)
        kind, content = GRAPH_DEF, freeze(path)
    if kind != GRAPH_DEF and mixed_precision == "bf16":
        raise UserError("--mixed_precision bf16 runs frozen graphs (.pb) only; %s is a %s: drop the flag"
                        % (path, kind))
    if kind == GRAPH_DEF:
        graph_def = labeling.check_frozen(content, path)
        meta = labeling.graph_metadata(graph_def, path)
        output_layer = output_layer or meta.get("output_node") or _only_output(graph_def, path)
        return labeling.FrozenGraphClassifier(graph_def, input_layer or meta.get("input_node") or INPUT_NODE,
                                   output_layer, path, config=_session_config(mixed_precision, meta)), meta
    if kind == SAVED_MODEL:
        meta = read_metadata_json(os.path.join(path, SAVED_MODEL_METADATA_FILE)) or {}
        return SavedModelClassifier(path, meta, input_layer, output_layer), meta
    if kind == TFLITE:
        meta = read_metadata_file(path) or {}
        return TFLiteClassifier(path, meta, input_layer, output_layer), meta
    classifier = OnnxClassifier(path, content, input_layer, output_layer)
    return classifier, classifier.meta or read_metadata_file(path) or {}


def _session_config(requested, meta):
    """The frozen graph's session configuration: bf16 when asked (refused where the CPU lacks it), or, with
    "auto", when the export recorded bf16 and the CPU runs it natively; float32 otherwise."""
    from engine.model import mixed_precision

    if requested == "auto":
        wanted = meta.get("mixed_precision") == "bf16" and mixed_precision.check_support("bf16")[0]
        requested = "bf16" if wanted else "none"
    elif requested == "bf16":
        mixed_precision.require_support("bf16")
    return mixed_precision.session_config(requested, "grappler") if requested == "bf16" else None


def _only_output(graph_def, path):
    _, outputs = labeling.likely_inputs_and_outputs(graph_def)
    if len(outputs) != 1:
        raise UserError("%s records no output node: pass --output_layer, one of %s"
                        % (path, ", ".join(outputs[:10]) or "its nodes"))
    return outputs[0]


def _choose(flag, wanted, names, recorded, preferred, path):
    """The one of `names` that `flag` asks for: itself, or (given the frozen graph's recorded node name)
    the preferred name; unset, the preferred name or the only one."""
    bare = [name[:-2] if name.endswith(":0") else name for name in names]
    if wanted:
        wanted = wanted[:-2] if wanted.endswith(":0") else wanted
        if wanted in bare:
            return names[bare.index(wanted)]
        if wanted != recorded:
            raise UserError("%s %r is not in %s, whose %s are: %s; pass one of them or leave it unset"
                            % (flag, wanted, path, "inputs" if "input" in flag else "outputs", ", ".join(names)))
    if preferred in bare:
        return names[bare.index(preferred)]
    if len(names) == 1:
        return names[0]
    raise UserError("%s has several %s (%s): pass %s" % (path, "inputs" if "input" in flag else "outputs",
                                                         ", ".join(names), flag))


def _dims(shape):
    """A shape's dimensions with unknown ones (-1, None, symbolic names) as None."""
    return [int(dim) if isinstance(dim, (int, np.integer)) and dim >= 0 else None for dim in shape]


class SavedModelClassifier(Model):
    """A SavedModel's serving_default signature, loaded with tf.saved_model.load."""

    def __init__(self, path, meta, input_layer=None, output_layer=None):
        from core.compat import tf

        self.path, self._tf = path, tf
        try:
            loaded = tf.compat.v2.saved_model.load(path)
        except Exception as error:  # noqa: BLE001 (TensorFlow raises several kinds for a damaged SavedModel)
            raise UserError("cannot load SavedModel %r: %s" % (path, first_line(error)))
        if SIGNATURE not in loaded.signatures:
            raise UserError("SavedModel %r has no %s signature (it has %s)"
                            % (path, SIGNATURE, ", ".join(loaded.signatures) or "none"))
        self._loaded, self._function = loaded, loaded.signatures[SIGNATURE]
        inputs = self._function.structured_input_signature[1]
        self._input = _choose("--input_layer", input_layer, sorted(inputs), meta.get("input_node"), "images", path)
        outputs = self._function.structured_outputs
        self._output = _choose("--output_layer", output_layer, sorted(outputs), meta.get("output_node"),
                               "probabilities", path)
        self._check_input(_dims(inputs[self._input].shape.as_list()))
        dims = outputs[self._output].shape.as_list()
        self.num_outputs = dims[-1] if dims else None

    def _run(self, images):
        return self._function(**{self._input: self._tf.constant(images)})[self._output].numpy()


class TFLiteClassifier(Model):
    """A TFLite model run by LiteRT's interpreter through its signature (resized to each batch)."""

    def __init__(self, path, meta, input_layer=None, output_layer=None):
        from ai_edge_litert.interpreter import Interpreter

        self.path = path
        try:
            self._interpreter = Interpreter(model_path=path, num_threads=os.cpu_count())
        except (ValueError, RuntimeError) as error:
            raise UserError("LiteRT cannot load %r: %s" % (path, first_line(error)))
        signatures = self._interpreter.get_signature_list()
        key = SIGNATURE if SIGNATURE in signatures else (sorted(signatures) or [None])[0]
        if key is None:
            raise UserError("TFLite model %r has no signature; export it with export_inference_graph.py --tflite"
                            % path)
        self._runner = self._interpreter.get_signature_runner(key)
        inputs, outputs = self._runner.get_input_details(), self._runner.get_output_details()
        self._input = _choose("--input_layer", input_layer, sorted(inputs), meta.get("input_node"), "images", path)
        self._output = _choose("--output_layer", output_layer, sorted(outputs), meta.get("output_node"),
                               "probabilities", path)
        self._check_input(_dims(inputs[self._input]["shape_signature"]))
        self.num_outputs = int(outputs[self._output]["shape"][-1])

    def _run(self, images):
        return self._runner(**{self._input: images})[self._output]


class OnnxClassifier(Model):
    """An ONNX model run by onnxruntime on the CPU, all cores, threads not spinning between runs."""

    def __init__(self, path, data, input_layer=None, output_layer=None):
        try:
            import onnxruntime
        except ImportError:
            raise UserError("%r is an ONNX model, and onnxruntime is not installed: %s" % (path, ONNX_HINT))
        self.path = path
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        # Threads that spin between runs steal the cores of a shared machine: one mobilenet_v1 image took
        # 38 ms with spinning and 14.5 ms without on 2 loaded cores (bench/bench_deploy.py's setting).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as error:  # noqa: BLE001 (onnxruntime's own exception classes)
            raise UserError("onnxruntime cannot load %r: %s" % (path, first_line(error)))
        custom = self._session.get_modelmeta().custom_metadata_map
        try:
            self.meta = json.loads(custom.get(ONNX_METADATA_KEY, "null"))
        except ValueError:
            self.meta = None
        self.meta = check_metadata(self.meta, path) if isinstance(self.meta, dict) else None
        meta = self.meta or {}
        inputs = {item.name: item for item in self._session.get_inputs()}
        outputs = {item.name: item for item in self._session.get_outputs()}
        self._input = _choose("--input_layer", input_layer, sorted(inputs), meta.get("input_node"), "images", path)
        self._output = _choose("--output_layer", output_layer, sorted(outputs), meta.get("output_node"),
                               "probabilities", path)
        self._check_input(_dims(inputs[self._input].shape))
        last = outputs[self._output].shape[-1] if outputs[self._output].shape else None
        self.num_outputs = last if isinstance(last, int) else None

    def _run(self, images):
        return self._session.run([self._output], {self._input: images})[0]
