r"""Labels images with a frozen graph, as TensorFlow's label_image example does, with pip TensorFlow (no Bazel).

    python label_image.py --image face.jpg --graph inception_v3_frozen_graph.pb \
        --labels labels/liste_labels.txt

prints one line per label, best first: `name (score = 0.12345)`: the best label of each attribute group of a
grouped model, the labels at or above their chosen thresholds of a multi-label model that records them, else
the 5 best (--top_k N: the N best, 0: all). With no other flag the image goes
through the evaluation preprocessing the export recorded in the graph, so the scores equal those of
eval_image_classifier.py; --input_layer, --output_layer, --input_height, --input_width, --input_mean
and --input_std override it (with a mean or std: resize to height x width, then (x - mean) / std).
--image may name a folder (every image in it); --json prints one JSON object per image. Images are read
within --max_image_bytes and --max_image_pixels (checked from the header, before decoding), and links from
the folder to files outside it are followed only with --follow_links.
--graph may also be a SavedModel directory, a TFLite or an ONNX model from export_inference_graph.py,
recognised by its content (engine/inference/runtimes.py), or a training directory or its best/ (its latest
checkpoint, frozen in memory as export_inference_graph.py would); the output is the same.
"""
import os
import sys

from core.cli import add_bool_flag, run_main
from core.errors import UserError
from core.progress import warn
from core.text import json_line, printable, quote
from datasets import read_limits
from datasets.classes_file import read_label_names
from engine.config.flags import script_parser
from engine.model.graph_metadata import DEFAULT_MEAN, DEFAULT_STD, INPUT_NODE


def build_parser():
    parser = script_parser(__doc__)
    group = parser.add_argument_group("inputs")
    group.add_argument("--image", required=True, help="image file (JPEG, PNG, BMP, GIF) or folder of images")
    group.add_argument("--graph", required=True,
                       help="model from export_inference_graph.py, recognised by its content: a frozen graph "
                       "(.pb, also freeze_graph's), a SavedModel directory, a TFLite model (run with LiteRT) or "
                       "an ONNX model (run with onnxruntime); or a training directory, or its best/ (its latest "
                       "checkpoint, frozen in memory)")
    group.add_argument("--labels", default=None,
                       help="labels file: one name per line, or the `N:name` classes file (default: the class "
                       "names the export recorded)")
    layers = parser.add_argument_group("graph")
    layers.add_argument("--input_layer", default=None,
                        help="input node (default: the recorded one, else %s)" % INPUT_NODE)
    layers.add_argument("--output_layer", default=None,
                        help="output node (default: the recorded one, e.g. InceptionV3/Predictions/Reshape_1)")
    scaling = parser.add_argument_group("preprocessing (default: the recorded evaluation preprocessing)")
    scaling.add_argument("--input_height", type=int, default=None,
                         help="image height fed to the graph (default: the recorded image size, else the graph's "
                         "input height)")
    scaling.add_argument("--input_width", type=int, default=None,
                         help="image width fed to the graph (default: the recorded image size, else the graph's "
                         "input width)")
    scaling.add_argument("--input_mean", type=float, default=None,
                         help="with --input_std: resize, then (x - mean) / std (default: the recorded "
                         "preprocessing; with --input_std alone %g)" % DEFAULT_MEAN)
    scaling.add_argument("--input_std", type=float, default=None,
                         help="with --input_mean: resize, then (x - mean) / std (default: the recorded "
                         "preprocessing; with --input_mean alone %g)" % DEFAULT_STD)
    scaling.add_argument("--mixed_precision", choices=("auto", "none", "bf16"), default="auto",
                         help="bf16: run a frozen graph in bfloat16 (TensorFlow's oneDNN rewrite; CPUs with "
                         "AVX512_BF16 or AMX); auto: bf16 when the export recorded it and this CPU has them, else "
                         "float32 (default: auto)")
    output = parser.add_argument_group("output")
    output.add_argument("--top_k", type=int, default=None,
                        help="labels shown per image, best first, 0 for all (default: one per attribute group of a "
                        "grouped model, those at or above their threshold of a multi-label model that records "
                        "thresholds, else 5)")
    add_bool_flag(output, "json", False, "print one JSON object per image: {image, predictions: [{label, score}]} "
                  "(and each label's group or threshold where the model records them)")
    read_limits.add_flags(parser, "reading the images")
    return parser


def _freeze_checkpoint_dir(directory):
    """A training directory (or its best/) as a frozen graph, in memory: network code is loaded only here."""
    from engine.export.setup import freeze_checkpoint_dir

    return freeze_checkpoint_dir(directory)


def _label_names(args, meta, num_outputs):
    if args.labels:
        names = read_label_names(args.labels)
        source = "labels file %s has %d names" % (quote(args.labels), len(names))
        offset = meta.get("labels_offset") or 0
        if offset and num_outputs is not None and len(names) == num_outputs + offset:
            names = names[offset:]  # the whole classes file of a model exported with --labels_offset
    elif meta.get("classes"):
        names = list(meta["classes"])
        source = "the graph records %d class names" % len(names)
    else:
        return [str(index) for index in range(num_outputs or 0)] or None
    if num_outputs is not None and len(names) != num_outputs:
        raise UserError("%s but the graph's output gives %d scores per image; pass the labels (or classes) "
                        "file the model was trained with" % (source, num_outputs))
    return names


def _print(path, predictions, as_json, many):
    """Prints the predictions of one image; names and paths with their unprintable characters escaped."""
    if as_json:
        print(json_line({"image": path, "predictions": [
            {key: value for key, value in prediction._asdict().items() if value is not None}
            for prediction in predictions]}))
        return
    if many:
        print("%s:" % printable(path))
    for prediction in predictions:
        print("%s (score = %.5f)" % (printable(prediction.label), prediction.score))
    if many:
        print()


def _check_sizes(args):
    for flag, value in (("--input_height", args.input_height), ("--input_width", args.input_width)):
        if value is not None and value < 1:
            raise UserError("%s must be at least 1, got %d" % (flag, value))


def _check_input_pixels(options, limits):
    """Refuses an input size (flags, recorded, or the graph's) whose images pass --max_image_pixels."""
    problem = read_limits.check_pixels(options.height, options.width, limits.max_image_pixels)
    if problem:
        raise UserError("the images fed to the model would be %s (--input_height, --input_width, or the "
                        "size the model records)" % problem)


def main(argv=None):
    args = build_parser().parse_args(argv)
    limits = read_limits.ReadLimits.from_args(args)
    _check_sizes(args)
    from engine.inference import labeling, runtimes
    from engine.model import inputs

    paths = labeling.list_images(args.image)
    classifier, meta = runtimes.open_model(args.graph, args.input_layer, args.output_layer, args.mixed_precision,
                                           freeze=_freeze_checkpoint_dir)
    if not meta and args.input_mean is None and args.input_std is None:
        warn("%s records no export metadata: scaling pixels as (x - %g) / %g; pass --input_mean and "
             "--input_std to match the training" % (args.graph, DEFAULT_MEAN, DEFAULT_STD))
    names = _label_names(args, meta, classifier.num_outputs)
    options = inputs.input_options(meta, classifier.input_dims, args.input_height, args.input_width,
                                     args.input_mean, args.input_std)
    _check_input_pixels(options, limits)
    reader = labeling.ImageReader(options, limits, args.image if os.path.isdir(args.image) else None)
    try:
        failures = _label_all(paths, reader, classifier, names, args, meta)
    except BrokenPipeError:  # output piped into `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    if failures:
        raise UserError("%d of %d images could not be read (%s); the others are labeled above"
                        % (len(failures), len(paths), ", ".join(quote(path) for path in failures[:5])))
    return 0


def _label_all(paths, reader, classifier, names, args, meta):
    """Labels `paths` in batches and prints them; returns the paths that could not be read."""
    from engine.inference import labeling

    failures = []
    chunk = classifier.batch_size or 32
    for start in range(0, len(paths), chunk):
        batch_paths, images = [], []
        for path in paths[start:start + chunk]:
            try:
                images.append(reader.read(path))
                batch_paths.append(path)
            except UserError as error:
                if len(paths) == 1:
                    raise
                warn("skipped: %s" % error)
                failures.append(path)
        if not images:
            continue
        scores = classifier.predict(images)
        if names is None or len(names) != scores.shape[1]:
            names = _label_names(args, meta, scores.shape[1])
        for path, row in zip(batch_paths, scores):
            _print(path, labeling.predictions(row, names, meta, args.top_k), args.json, len(paths) > 1)
        sys.stdout.flush()
    return failures


if __name__ == "__main__":
    sys.exit(run_main(main))
