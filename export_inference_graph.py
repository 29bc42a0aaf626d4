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
import argparse
import os
import sys

from core.cli import add_bool_flag, run_main
from core.errors import UserError
from engine.config.flags import (
    add_ignored_flags,
    add_version_flag,
    dataset_parser,
    models_help,
    warn_ignored,
)
from engine.config.options import MIXED_PRECISION_MODES, TFLITE_QUANTIZATIONS

# research/slim's flags accepted and ignored, with a warning (engine/config/flags.py says why each does nothing).
IGNORED_FLAGS = ("quantize", "dataset_name", "dataset_dir", "is_video_model", "num_frames")


def build_parser():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[dataset_parser(split_default="all")])
    add_version_flag(parser)
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
                        help="set when training used it: freeze the moving averages of the weights "
                        "(with --frozen_graph; default: the weights themselves)")
    add_bool_flag(output, "metadata_json", True,
                  "also write the graph's metadata (input/output names, image size, preprocessing, classes, "
                  "label mode) as a JSON file beside each graph (x.pb -> x.json)")
    formats = parser.add_argument_group(
        "deployment formats", "converted from the frozen graph of --checkpoint_path (any batch size); see the "
        "README's 'Deploying the model'")
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
    model = parser.add_argument_group("model")
    model.add_argument("--model_name", default=None, help=models_help("the training run's, else inception_v3"))
    model.add_argument("--image_size", "--eval_image_size", "--train_image_size", dest="image_size",
                       type=int, default=None,
                       help="input height and width (default: the training run's, else the network's)")
    model.add_argument("--batch_size", type=int, default=None,
                       help="fixed batch size of the input placeholder (default: any batch size)")
    model.add_argument("--preprocessing_name", default=None,
                       help="preprocessing recorded for label_image (default: the training run's, else the "
                       "network's)")
    add_bool_flag(model, "use_grayscale", None, "record that images are made gray (3 equal channels)")
    add_bool_flag(model, "is_training", False,
                  "build the network in training mode (dropout, batch statistics); inference needs false")
    model.add_argument("--mixed_precision", choices=MIXED_PRECISION_MODES, default=None,
                       help="the compute mode recorded for label_image, which runs a bf16 graph in bfloat16 on "
                       "CPUs with AVX512_BF16 or AMX and in float32 elsewhere; the graph itself stays float32 "
                       "(default: the training run's, else none)")
    add_ignored_flags(model, IGNORED_FLAGS)
    return parser


def _freeze_hint(args, spec, checkpoint):
    return ("freeze it with: python -m engine.export.freeze_graph "
            "--input_graph=%s "
            "--input_binary=true --input_checkpoint=%s --output_graph=%s --output_node_names=%s"
            % (args.output_file, checkpoint or "<train_dir>/model.ckpt-N",
               args.frozen_graph or _frozen_name(args.output_file), spec.output_node))


def _frozen_name(output_file):
    """inception_v3_inf_graph.pb -> inception_v3_frozen_graph.pb; other.pb -> other_frozen.pb."""
    stem, extension = os.path.splitext(output_file)
    if stem.endswith("_inf_graph"):
        return stem[:-len("_inf_graph")] + "_frozen_graph" + (extension or ".pb")
    return stem + "_frozen" + (extension or ".pb")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    not_read = "export reads no data; the number of classes comes from the classes file"
    warn_ignored(parser, args, sys.argv[1:] if argv is None else argv, IGNORED_FLAGS + ("path_to_csv", "tfrecord_file"),
                 {"path_to_csv": not_read, "tfrecord_file": not_read})
    from engine.export import deploy
    from engine.export import inference_graph
    from engine.model import graph_metadata
    from engine.config import run_config
    from engine.model.checkpoints import resolve_checkpoint
    from engine.config.settings import check_same_run, decide_label_mode, resolve

    targets = deploy.Targets(args.saved_model, args.tflite, args.tflite_quantize, args.onnx)
    if not args.output_file and not args.frozen_graph and not targets:
        raise UserError("nothing to write: pass --output_file inception_v3_inf_graph.pb (the graph to freeze "
                        "with TensorFlow's freeze_graph), or --checkpoint_path <train_dir> --frozen_graph "
                        "frozen.pb to freeze it in one step, or --checkpoint_path <train_dir> with --saved_model DIR, "
                        "--tflite FILE or --onnx FILE")
    config, checkpoint = {}, None
    if args.checkpoint_path:
        checkpoint = resolve_checkpoint(args.checkpoint_path)
        config = run_config.read_config(args.checkpoint_path)
    elif args.frozen_graph or targets:
        raise UserError("%s needs the weights: pass --checkpoint_path with a checkpoint file "
                        "(output/model.ckpt-1000) or a training directory (its latest checkpoint)"
                        % ("--frozen_graph" if args.frozen_graph else "--saved_model/--tflite/--onnx"))
    deploy.check(targets)
    settings = resolve(args, config)
    if config:  # the command must name the run it exports
        check_same_run(run_config.config_dir(args.checkpoint_path), config, settings, "export")
    spec = inference_graph.ExportSpec(
        model_name=settings.model_name, image_size=settings.image_size, classes=settings.classes,
        label_mode=decide_label_mode(settings.label_mode), labels_offset=settings.labels_offset,
        batch_size=args.batch_size, preprocessing_name=settings.preprocessing_name,
        use_grayscale=settings.use_grayscale, is_training=args.is_training,
        mixed_precision=args.mixed_precision or config.get("mixed_precision") or "none")
    graph_def = inference_graph.build_inference_graph(spec)
    meta = inference_graph.metadata(spec)
    shape = [spec.batch_size if spec.batch_size else "any", spec.image_size, spec.image_size, 3]
    kind = "softmax" if spec.label_mode == "single" else "sigmoid (multi-label)"
    print("%s: input %r %s, %s over %d classes" % (spec.model_name, inference_graph.INPUT_NODE, shape, kind,
                                                     spec.num_classes))
    print("output node: %s" % spec.output_node)
    if args.output_file:
        inference_graph.write_graph(graph_def, args.output_file)
        if args.metadata_json:
            graph_metadata.write_metadata_file(meta, args.output_file)
        print("wrote inference graph %s" % args.output_file)
        if not args.frozen_graph:
            print(_freeze_hint(args, spec, checkpoint))
    if args.frozen_graph:
        frozen = inference_graph.freeze(graph_def, checkpoint, [spec.output_node],
                               use_moving_averages=args.moving_average_decay is not None)
        inference_graph.write_graph(frozen, args.frozen_graph)
        if args.metadata_json:
            graph_metadata.write_metadata_file(meta, args.frozen_graph)
        print("wrote frozen graph %s (weights of %s)" % (args.frozen_graph, checkpoint))
    if targets:
        deploy.write(spec, checkpoint, targets, use_moving_averages=args.moving_average_decay is not None,
                     metadata_json=args.metadata_json)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
