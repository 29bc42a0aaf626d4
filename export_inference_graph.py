r"""Exports a network's inference graph as a binary GraphDef, ready for TensorFlow's freeze_graph.

    python export_inference_graph.py --model_name inception_v3 --output_file inception_v3_inf_graph.pb \
        --batch_size 8 --classes_file labels/liste_labels.txt

The graph takes a float32 placeholder `input` [batch, size, size, 3] and ends at the network's output
node (printed, e.g. InceptionV3/Predictions/Reshape_1): softmax probabilities for single-label models,
per-class sigmoid probabilities under the same name for multi-label ones. Freeze it with

    python -m engine.export.freeze_graph \
        --input_graph=inception_v3_inf_graph.pb --input_binary=true --input_checkpoint=output/model.ckpt-1000 \
        --output_graph=inception_v3_frozen_graph.pb --output_node_names=InceptionV3/Predictions/Reshape_1

or in one step: `--checkpoint_path output/ --frozen_graph inception_v3_frozen_graph.pb` (model, image
size, classes and label mode then default to the training run's train_config.json). The number of
classes comes from the classes file alone; --csv_file and --record_file are accepted for the original
README's command and not read (a warning says so). `python -m engine.export.freeze_graph` is TensorFlow's own
freeze_graph tool with the same flags, run without the page of deprecation notices and start-up lines it prints
(`python -m tensorflow.python.tools.freeze_graph` works too).

Deployment formats, from the same frozen graph (with --checkpoint_path): --saved_model DIR (TensorFlow
Serving), --tflite FILE (LiteRT; --tflite_quantize none|dynamic|float16) and --onnx FILE (tf2onnx, from
requirements-onnx.txt); each is written whole or not at all, and export prints how to run it.
"""
import sys

from core.cli import add_bool_flag, run_main
from engine.config.flags import (
    add_ignored_flags,
    dataset_parser,
    model_parser,
    parse_args,
    script_parser,
)
from engine.config.options import MIXED_PRECISION_MODES, TFLITE_QUANTIZATIONS

# research/slim's flags accepted and ignored, with a warning (engine/config/flags.py says why each does nothing).
IGNORED_FLAGS = ("quantize", "dataset_name", "dataset_dir", "is_video_model", "num_frames")


def build_parser():
    parser = script_parser(__doc__, [dataset_parser(split_default="all"), model_parser(
        ("--image_size", "--eval_image_size", "--train_image_size"), input_flags=False)])
    output = parser.add_argument_group("output")
    output.add_argument("--output_file", default=None,
                        help="binary GraphDef to write, with variables (freeze it with TensorFlow's "
                        "freeze_graph), e.g. inception_v3_inf_graph.pb (default: none)")
    output.add_argument("--frozen_graph", default=None,
                        help="frozen GraphDef to write, with the weights of --checkpoint_path as constants "
                        "(what label_image.py reads; default: none)")
    output.add_argument("--checkpoint_path", default=None,
                        help="checkpoint file (model.ckpt-1000) or training directory (its latest "
                        "checkpoint) for --frozen_graph; the model, image size, classes and label mode "
                        "then default to its train_config.json (default: none)")
    output.add_argument("--moving_average_decay", type=float, default=None,
                        help="freeze the moving averages of the weights training kept with this decay (default: "
                        "the training run's --moving_average_decay, recorded in its train_config.json; 0: the "
                        "weights themselves)")
    output.add_argument("--thresholds_file", default=None,
                        help="a multi-label model's per-label thresholds, chosen by eval_image_classifier.py on the "
                        "val part, to record for label_image (default: eval/thresholds.json of the training "
                        "directory of --checkpoint_path, when it was written for the exported checkpoint)")
    add_bool_flag(output, "metadata_json", True,
                  "also write the graph's metadata (input/output names, image size, preprocessing, classes, "
                  "label mode) as a JSON file beside each graph (x.pb -> x.json)")
    formats = parser.add_argument_group(
        "deployment formats", "converted from the frozen graph of --checkpoint_path (any batch size); see "
        "docs/deployment.md")
    formats.add_argument("--saved_model", default=None,
                         help="SavedModel directory to write (TensorFlow Serving: <base>/<version>, e.g. "
                         "serving/faces/1), with signatures serving_default (preprocessed float images) and "
                         "serving_bytes (encoded JPEG/PNG strings) (default: none)")
    formats.add_argument("--tflite", default=None,
                         help="TFLite model to write (run it with LiteRT), e.g. faces.tflite (default: none)")
    formats.add_argument("--tflite_quantize", choices=TFLITE_QUANTIZATIONS, default="none",
                         help="TFLite weights: none (float32), dynamic (int8 weights) or float16 (default: none)")
    formats.add_argument("--onnx", default=None,
                         help="ONNX model to write through tf2onnx (pip install -r requirements-onnx.txt), e.g. "
                         "faces.onnx (default: none)")
    model = parser.add_argument_group("export")
    model.add_argument("--batch_size", type=int, default=None,
                       help="fixed batch size of the input placeholder (default: any batch size)")
    add_bool_flag(model, "is_training", False,
                  "build the network in training mode (dropout, batch statistics); inference needs false")
    model.add_argument("--mixed_precision", choices=MIXED_PRECISION_MODES, default=None,
                       help="the compute mode recorded for label_image, which runs a bf16 graph in bfloat16 on "
                       "CPUs with AVX512_BF16 or AMX and in float32 elsewhere; the graph itself stays float32 "
                       "(default: the training run's, else none)")
    add_ignored_flags(model, IGNORED_FLAGS)
    return parser


def main(argv=None):
    not_read = "export reads no data; the number of classes comes from the classes file"
    args = parse_args(build_parser(), argv, IGNORED_FLAGS + ("csv_file", "tfrecord_file"),
                      {"csv_file": not_read, "tfrecord_file": not_read})
    from engine.export import deploy
    from engine.export.setup import resolve_export

    deploy.write_outputs(resolve_export(args))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
