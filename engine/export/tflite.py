"""TFLite (LiteRT) models of a frozen inference graph, converted by TensorFlow's TFLiteConverter.

The converter takes the same concrete function as the SavedModel's `serving_default`
(engine.export.saved_model.network_function over the frozen GraphDef), so both compute the same network. The
model has one signature, `serving_default`: `images`, float32 [batch, size, size, 3] already preprocessed
(batch 1 until the interpreter resizes it), -> `probabilities` [batch, classes]. The class names and the
preprocessing travel in the metadata JSON export writes beside it (x.tflite -> x.json).

Quantization (`--tflite_quantize`), all with float inputs and outputs:
- none: float32 weights and arithmetic; the probabilities equal the frozen graph's within 1e-4;
- dynamic: weights stored as int8 (about 4x smaller), activations quantized on the fly;
- float16: weights stored as float16 (about 2x smaller), computed in float32 on CPUs.
`TOLERANCES` holds the largest probability difference to the frozen graph that the tests accept for
each (see tests/engine/test_deploy_formats.py and the README for the figures observed).
"""
from core import atomic_files
from core.compat import tf
from core.errors import UserError
from engine.config.options import TFLITE_QUANTIZATIONS
from engine.export import saved_model

tf2 = tf.compat.v2

QUANTIZATIONS = TFLITE_QUANTIZATIONS
TOLERANCES = {"none": 1e-4, "dynamic": 0.15, "float16": 0.01}
SIGNATURE = saved_model.SERVING_DEFAULT
IMAGES = saved_model.IMAGES
PROBABILITIES = saved_model.PROBABILITIES


class _FloatModel(tf2.Module):
    def __init__(self, network, meta):
        super().__init__()
        self.network = network
        self.serve = tf2.function(lambda images: {PROBABILITIES: self.network(images)},
                                  input_signature=[saved_model.image_spec(meta)], autograph=False)


def convert(frozen_graph_def, meta, quantize="none"):
    """The TFLite flatbuffer (bytes) of the frozen graph, quantized as `quantize` says."""
    if quantize not in QUANTIZATIONS:
        raise UserError("--tflite_quantize %r is not valid; use one of %s" % (quantize, ", ".join(QUANTIZATIONS)))
    model = _FloatModel(saved_model.network_function(frozen_graph_def, meta), meta)
    converter = tf2.lite.TFLiteConverter.from_concrete_functions([model.serve.get_concrete_function()], model)
    if quantize != "none":
        converter.optimizations = [tf2.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf2.float16]
    return converter.convert()


def write_tflite(frozen_graph_def, meta, path, quantize="none"):
    """Writes the TFLite model atomically (temporary name, then rename); returns its size in bytes."""
    data = convert(frozen_graph_def, meta, quantize)
    try:
        atomic_files.write_bytes(path, data)
    except OSError as error:
        raise UserError("cannot write %r (%s); choose another --tflite path" % (path, error))
    return len(data)
