"""What an export_inference_graph.py command writes, resolved in one call from its parsed flags: the network
to export (flags over the run recorded beside --checkpoint_path), the checkpoint, and the outputs.
"""
import dataclasses
import os

from core.errors import UserError
from core.paths import NamedPath, check_distinct
from core.progress import say, warn
from core.text import printable, quote
from datasets import label_groups, label_modes
from datasets.annotations import label_key
from engine.config import run_config
from engine.config import settings as settings_module
from engine.config.label_choice import decide_labels
from engine.export import deploy, inference_graph
from engine.export.inference_graph import ExportSpec
from engine.model.checkpoints import checkpoint_step, resolve_checkpoint
from engine.model.graph_metadata import metadata_path
from engine.model.output_checks import checkpoint_inputs


@dataclasses.dataclass
class ExportRun:
    spec: ExportSpec
    checkpoint: str  # None: the graph alone, with its variables (--output_file only)
    output_file: str = None  # the inference GraphDef, to freeze with TensorFlow's freeze_graph
    frozen_graph: str = None
    targets: deploy.Targets = dataclasses.field(default_factory=deploy.Targets)
    use_moving_averages: bool = False
    metadata_json: bool = True


def check_outputs(args, targets, checkpoint, classes_file):
    """A UserError, before any work, when an output (a graph, a model, their metadata JSON files) is another
    output, lies in the SavedModel folder (replaced whole), or is an input: a file of the checkpoint, of its
    training directory, or the classes file."""
    files = [("--output_file", args.output_file), ("--frozen_graph", args.frozen_graph),
             ("--tflite", targets.tflite), ("--onnx", targets.onnx)]
    outputs = [NamedPath(flag, path) for flag, path in files]
    if args.metadata_json:
        # x.pb, x.tflite and x.onnx share x.json: every format writes the same metadata, so one file serves all.
        shared = {}
        for flag, path in files:
            if path:
                shared.setdefault(os.path.realpath(metadata_path(path)), (flag, metadata_path(path)))
        outputs += [NamedPath("the metadata file of %s" % flag, path) for flag, path in shared.values()]
    outputs.append(NamedPath("--saved_model", targets.saved_model, is_folder=True))
    inputs = checkpoint_inputs(checkpoint) + [NamedPath("the classes file", classes_file)]
    check_distinct(outputs, inputs, "pass a different path for each (x.pb writes its metadata to x.json; "
                                    "--nometadata_json writes none)")


def resolve_export(args):
    """The ExportRun of parsed export_inference_graph.py `args`; refuses what cannot be written before any
    work is done."""
    targets = deploy.Targets(args.saved_model, args.tflite, args.tflite_quantize, args.onnx)
    if not args.output_file and not args.frozen_graph and not targets:
        raise UserError("nothing to write: pass --output_file inception_v3_inf_graph.pb (the graph to freeze "
                        "with TensorFlow's freeze_graph), or --checkpoint_path <train_dir> --frozen_graph "
                        "frozen.pb to freeze it in one step, or --checkpoint_path <train_dir> with --saved_model DIR, "
                        "--tflite FILE or --onnx FILE")
    checkpoint = None
    if args.checkpoint_path:
        checkpoint = resolve_checkpoint(args.checkpoint_path)
    elif args.frozen_graph or targets:
        raise UserError("%s needs the weights: pass --checkpoint_path with a checkpoint file "
                        "(output/model.ckpt-1000) or a training directory (its latest checkpoint)"
                        % ("--frozen_graph" if args.frozen_graph else "--saved_model/--tflite/--onnx"))
    deploy.check(targets)
    settings, recorded = settings_module.resolve_recorded(args, args.checkpoint_path, "export")
    check_outputs(args, targets, checkpoint, settings.classes_file)
    choice = decide_labels(settings.label_mode, None, settings.classes, settings.label_groups, settings.labels_offset)
    spec = ExportSpec(
        model_name=settings.model_name, image_size=settings.image_size, classes=settings.classes,
        label_mode=choice.mode, labels_offset=settings.labels_offset,
        batch_size=args.batch_size, preprocessing_name=settings.preprocessing_name,
        use_grayscale=settings.use_grayscale, is_training=args.is_training,
        mixed_precision=args.mixed_precision or recorded.get("mixed_precision") or "none", label_groups=choice.groups,
        thresholds=chosen_thresholds(args.thresholds_file, args.checkpoint_path, checkpoint, choice.mode,
                                     settings.outputs))
    # The moving averages training kept, unless the command says otherwise (0: the weights themselves).
    average_decay = (args.moving_average_decay if args.moving_average_decay is not None
                     else recorded.get("moving_average_decay"))
    return ExportRun(spec, checkpoint, args.output_file, args.frozen_graph, targets,
                     use_moving_averages=bool(average_decay), metadata_json=args.metadata_json)


def freeze_checkpoint_dir(directory):
    """The frozen GraphDef (any batch) of the latest checkpoint of `directory`, a training directory or its
    best/, with the network, classes, label mode, groups, thresholds and moving averages its train_config.json
    records: what `export_inference_graph.py --checkpoint_path DIRECTORY --frozen_graph F` writes, kept in
    memory."""
    recorded = run_config.read_config(directory)
    if not recorded.get("model_name") or not recorded.get("classes"):
        raise UserError("%s holds checkpoints but no train_config.json naming their network and classes: export "
                        "them with export_inference_graph.py --checkpoint_path %s --model_name NAME --classes_file "
                        "FILE --frozen_graph frozen.pb" % (quote(directory), quote(directory)))
    checkpoint = resolve_checkpoint(directory)
    classes, offset = list(recorded["classes"]), int(recorded.get("labels_offset") or 0)
    choice = decide_labels(recorded.get("label_mode"), None, classes,
                           label_groups.from_records(recorded.get("label_groups")) or None, offset)
    spec = ExportSpec(
        model_name=recorded["model_name"], image_size=int(recorded["image_size"]), classes=classes,
        label_mode=choice.mode, labels_offset=offset, preprocessing_name=recorded.get("preprocessing_name"),
        use_grayscale=bool(recorded.get("use_grayscale")), mixed_precision=recorded.get("mixed_precision") or "none",
        label_groups=choice.groups,
        thresholds=chosen_thresholds(None, directory, checkpoint, choice.mode, classes[offset:]))
    return inference_graph.freeze(inference_graph.build_inference_graph(spec), checkpoint, [spec.output_node],
                                  use_moving_averages=bool(recorded.get("moving_average_decay")))


def chosen_thresholds(thresholds_file, checkpoint_path, checkpoint, label_mode, outputs):
    """{"criterion", "values": [one per output]} of the thresholds evaluation chose for a multi-label
    `checkpoint` (--thresholds_file, else the training directory's eval/thresholds.json), or None: none
    were chosen, or they were chosen for another checkpoint (a warning says so)."""
    path = thresholds_file or (run_config.default_thresholds_path(checkpoint_path) if checkpoint_path else None)
    if label_mode != label_modes.MULTI:
        if thresholds_file:
            raise UserError("--thresholds_file is for multi-label models; this one is %s" % label_mode)
        return None
    if not path or not os.path.isfile(path):
        if thresholds_file:
            raise UserError("--thresholds_file %s does not exist; evaluate the run (eval_image_classifier.py) to "
                            "choose them, or drop the flag" % quote(thresholds_file))
        return None
    recorded = run_config.read_thresholds(path)
    values = {label_key(name): value for name, value in recorded["thresholds"].items()}
    missing = [name for name in outputs if label_key(name) not in values]
    if missing:
        raise UserError("%s has no threshold for %s: it was chosen for another model; evaluate this one again"
                        % (quote(path), ", ".join(quote(name, 80) for name in missing[:5])))
    step = checkpoint_step(checkpoint) if checkpoint else None
    if step is not None and recorded.get("global_step") != step:
        warn("the thresholds of %s were chosen for step %s, not for the exported step %d: exported without them "
             "(label_image shows the best labels); evaluate this checkpoint to choose them" % (
                 quote(path), printable(str(recorded.get("global_step")), 40), step))
        return None
    say("thresholds chosen on the %s part (%s), recorded for label_image: %s" % (
        printable(str(recorded.get("split", "val")), 40), printable(str(recorded.get("criterion", "?")), 40),
        quote(path)))
    return {"criterion": recorded.get("criterion"), "values": [float(values[label_key(name)]) for name in outputs]}
