"""export_inference_graph.py's deployment formats: a SavedModel, a TFLite model and an ONNX model, all
converted from one frozen GraphDef of the network and checkpoint (engine.export.freeze), and the
commands that run each.

The frozen graph behind them takes any batch size, whatever --batch_size the GraphDef outputs use:
TensorFlow Serving batches requests, and LiteRT and onnxruntime resize their input to the batch given.
"""
import dataclasses
import os

from engine.export import inference_graph
from engine.model import graph_metadata
from engine.export import onnx_export
from engine.export import saved_model
from engine.export import tflite


@dataclasses.dataclass
class Targets:
    """Where to write each format (None: not written)."""
    saved_model: str = None
    tflite: str = None
    tflite_quantize: str = "none"
    onnx: str = None

    def __bool__(self):
        return bool(self.saved_model or self.tflite or self.onnx)


def check(targets):
    """Refuses what cannot be written before any work is done (a file or another folder where the
    SavedModel goes, tf2onnx not installed)."""
    if targets.saved_model:
        saved_model.check_target(targets.saved_model)
    if targets.onnx:
        onnx_export.check_installed()


def write(spec, checkpoint, targets, use_moving_averages=False, metadata_json=True):
    """Freezes `spec`'s network (any batch) with `checkpoint` and writes every format `targets` names,
    printing how to run each."""
    spec = dataclasses.replace(spec, batch_size=None)
    frozen = inference_graph.freeze(inference_graph.build_inference_graph(spec), checkpoint, [spec.output_node],
                           use_moving_averages=use_moving_averages)
    meta = inference_graph.metadata(spec)
    image = "face.jpg"
    if targets.saved_model:
        saved_model.write_saved_model(frozen, meta, targets.saved_model)
        print("wrote SavedModel %s (weights of %s): signatures %s (%s float32 [batch, %d, %d, 3], preprocessed) "
              "and %s (%s: encoded JPEG/PNG strings), both returning %s and %s"
              % (targets.saved_model, checkpoint, saved_model.SERVING_DEFAULT, saved_model.IMAGES,
                 spec.image_size, spec.image_size, saved_model.SERVING_BYTES, saved_model.IMAGE_BYTES,
                 saved_model.PROBABILITIES, saved_model.CLASSES))
        print("  inspect: saved_model_cli show --dir %s --all" % targets.saved_model)
        print("  label:   python label_image.py --graph %s --image %s" % (targets.saved_model, image))
        print("  serve:   %s" % _serving_hint(targets.saved_model))
    if targets.tflite:
        size = tflite.write_tflite(frozen, meta, targets.tflite, targets.tflite_quantize)
        if metadata_json:
            graph_metadata.write_metadata_file(meta, targets.tflite)
        print("wrote TFLite model %s (%s, quantization %s)%s: signature %s, %s float32 [batch, %d, %d, 3] -> %s"
              % (targets.tflite, _megabytes(size), targets.tflite_quantize,
                 " and its metadata %s" % graph_metadata.metadata_path(targets.tflite) if metadata_json else "",
                 tflite.SIGNATURE, tflite.IMAGES, spec.image_size, spec.image_size, tflite.PROBABILITIES))
        print("  label:   python label_image.py --graph %s --image %s   (runs it with LiteRT)" % (targets.tflite, image))
    if targets.onnx:
        size, opset = onnx_export.write_onnx(frozen, meta, targets.onnx)
        if metadata_json:
            graph_metadata.write_metadata_file(meta, targets.onnx)
        print("wrote ONNX model %s (%s, opset %s): %s float32 [batch, %d, %d, 3] (NHWC) -> %s"
              % (targets.onnx, _megabytes(size), opset, onnx_export.IMAGES, spec.image_size, spec.image_size,
                 onnx_export.PROBABILITIES))
        print("  label:   python label_image.py --graph %s --image %s   (runs it with onnxruntime)"
              % (targets.onnx, image))


def _megabytes(size):
    return "%.1f MB" % (size / 1e6)


def _serving_hint(path):
    """TensorFlow Serving's docker command for the SavedModel at `path` (<base>/<version>)."""
    path = os.path.abspath(path)
    base, version = os.path.split(path)
    if not version.isdigit():
        return ("TensorFlow Serving reads <base>/<version>/saved_model.pb: export to e.g. serving/faces/1, "
                "then see the README's 'Deploying the model'")
    name = os.path.basename(base) or "model"
    return ("docker run -p 8501:8501 -v %s:/models/%s -e MODEL_NAME=%s tensorflow/serving, then POST to "
            "http://localhost:8501/v1/models/%s:predict" % (base, name, name, name))
