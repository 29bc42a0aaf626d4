"""export_inference_graph.py's deployment formats: a SavedModel, a TFLite model and an ONNX model, all
converted from one frozen GraphDef of the network and checkpoint (engine.export.inference_graph.freeze), and the
commands that run each.

The frozen graph behind them takes any batch size, whatever --batch_size the GraphDef outputs use:
TensorFlow Serving batches requests, and LiteRT and onnxruntime resize their input to the batch given.
"""
import dataclasses
import os

from core.progress import say
from datasets import label_modes
from engine.export import inference_graph, onnx_export, saved_model, tflite
from engine.model import graph_metadata


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


def write_outputs(run):
    """Writes what an ExportRun (engine/export/setup.py) names, printing what each output is and how to use it:
    the inference GraphDef (with how to freeze it), the frozen graph, and the deployment formats."""
    spec = run.spec
    graph_def = inference_graph.build_inference_graph(spec)
    meta = inference_graph.metadata(spec)
    shape = [spec.batch_size if spec.batch_size else "any", spec.image_size, spec.image_size, 3]
    say("%s: input %r %s, %s over %d classes" % (spec.model_name, inference_graph.INPUT_NODE, shape,
                                                     label_modes.DESCRIPTIONS[spec.label_mode], spec.num_classes))
    say("output node: %s" % spec.output_node)
    if run.output_file:
        _write_graph(graph_def, meta, run.output_file, run.metadata_json)
        say("wrote inference graph %s" % run.output_file)
        if not run.frozen_graph:
            say(_freeze_hint(run))
    if run.frozen_graph:
        frozen = inference_graph.freeze(graph_def, run.checkpoint, [spec.output_node],
                                        use_moving_averages=run.use_moving_averages)
        _write_graph(frozen, meta, run.frozen_graph, run.metadata_json)
        say("wrote frozen graph %s (weights of %s)" % (run.frozen_graph, run.checkpoint))
    if run.targets:
        write(spec, run.checkpoint, run.targets, run.use_moving_averages, run.metadata_json)


def _write_graph(graph_def, meta, path, metadata_json):
    inference_graph.write_graph(graph_def, path)
    if metadata_json:
        graph_metadata.write_metadata_file(meta, path)


def _freeze_hint(run):
    return ("freeze it with: python -m engine.export.freeze_graph --input_graph=%s --input_binary=true "
            "--input_checkpoint=%s --output_graph=%s --output_node_names=%s"
            % (run.output_file, run.checkpoint or "<train_dir>/model.ckpt-N", _frozen_name(run.output_file),
               run.spec.output_node))


def _frozen_name(output_file):
    """inception_v3_inf_graph.pb -> inception_v3_frozen_graph.pb; other.pb -> other_frozen.pb."""
    stem, extension = os.path.splitext(output_file)
    if stem.endswith("_inf_graph"):
        return stem[:-len("_inf_graph")] + "_frozen_graph" + (extension or ".pb")
    return stem + "_frozen" + (extension or ".pb")


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
        say("wrote SavedModel %s (weights of %s): signatures %s (%s float32 [batch, %d, %d, 3], preprocessed) "
              "and %s (%s: encoded JPEG/PNG strings), both returning %s and %s"
              % (targets.saved_model, checkpoint, saved_model.SERVING_DEFAULT, saved_model.IMAGES,
                 spec.image_size, spec.image_size, saved_model.SERVING_BYTES, saved_model.IMAGE_BYTES,
                 saved_model.PROBABILITIES, saved_model.CLASSES))
        say("  inspect: saved_model_cli show --dir %s --all" % targets.saved_model)
        say("  label:   python label_image.py --graph %s --image %s" % (targets.saved_model, image))
        say("  serve:   %s" % _serving_hint(targets.saved_model))
    if targets.tflite:
        size = tflite.write_tflite(frozen, meta, targets.tflite, targets.tflite_quantize)
        if metadata_json:
            graph_metadata.write_metadata_file(meta, targets.tflite)
        say("wrote TFLite model %s (%s, quantization %s)%s: signature %s, %s float32 [batch, %d, %d, 3] -> %s"
              % (targets.tflite, _megabytes(size), targets.tflite_quantize,
                 " and its metadata %s" % graph_metadata.metadata_path(targets.tflite) if metadata_json else "",
                 tflite.SIGNATURE, tflite.IMAGES, spec.image_size, spec.image_size, tflite.PROBABILITIES))
        say("  label:   python label_image.py --graph %s --image %s   (runs it with LiteRT)"
              % (targets.tflite, image))
    if targets.onnx:
        size, opset = onnx_export.write_onnx(frozen, meta, targets.onnx)
        if metadata_json:
            graph_metadata.write_metadata_file(meta, targets.onnx)
        say("wrote ONNX model %s (%s, opset %s): %s float32 [batch, %d, %d, 3] (NHWC) -> %s"
              % (targets.onnx, _megabytes(size), opset, onnx_export.IMAGES, spec.image_size, spec.image_size,
                 onnx_export.PROBABILITIES))
        say("  label:   python label_image.py --graph %s --image %s   (runs it with onnxruntime)"
              % (targets.onnx, image))


def _megabytes(size):
    return "%.1f MB" % (size / 1e6)


def _serving_hint(path):
    """TensorFlow Serving's docker command for the SavedModel at `path` (<base>/<version>)."""
    path = os.path.abspath(path)
    base, version = os.path.split(path)
    if not version.isdigit():
        return ("TensorFlow Serving reads <base>/<version>/saved_model.pb: export to e.g. serving/faces/1, "
                "then see docs/deployment.md")
    name = os.path.basename(base) or "model"
    return ("docker run -p 8501:8501 -v %s:/models/%s -e MODEL_NAME=%s tensorflow/serving, then POST to "
            "http://localhost:8501/v1/models/%s:predict" % (base, name, name, name))
