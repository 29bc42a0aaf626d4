"""What an export_inference_graph.py command writes, resolved in one call from its parsed flags: the network
to export (flags over the run recorded beside --checkpoint_path), the checkpoint, and the outputs.
"""
import dataclasses
import os

from core.errors import UserError
from core.progress import say, warn
from datasets import label_modes
from datasets.annotations import label_key
from engine.config import run_config
from engine.config import settings as settings_module
from engine.config.label_choice import decide_labels
from engine.export import deploy
from engine.export.inference_graph import ExportSpec
from engine.model.checkpoints import checkpoint_step, resolve_checkpoint


@dataclasses.dataclass
class ExportRun:
    spec: ExportSpec
    checkpoint: str  # None: the graph alone, with its variables (--output_file only)
    output_file: str = None  # the inference GraphDef, to freeze with TensorFlow's freeze_graph
    frozen_graph: str = None
    targets: deploy.Targets = dataclasses.field(default_factory=deploy.Targets)
    use_moving_averages: bool = False
    metadata_json: bool = True


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
    choice = decide_labels(settings.label_mode, None, settings.classes, settings.label_groups, settings.labels_offset)
    spec = ExportSpec(
        model_name=settings.model_name, image_size=settings.image_size, classes=settings.classes,
        label_mode=choice.mode, labels_offset=settings.labels_offset,
        batch_size=args.batch_size, preprocessing_name=settings.preprocessing_name,
        use_grayscale=settings.use_grayscale, is_training=args.is_training,
        mixed_precision=args.mixed_precision or recorded.get("mixed_precision") or "none", label_groups=choice.groups,
        thresholds=chosen_thresholds(args.thresholds_file, args.checkpoint_path, checkpoint, choice.mode,
                                     settings.outputs))
    return ExportRun(spec, checkpoint, args.output_file, args.frozen_graph, targets,
                     use_moving_averages=args.moving_average_decay is not None, metadata_json=args.metadata_json)


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
            raise UserError("--thresholds_file %r does not exist; evaluate the run (eval_image_classifier.py) to "
                            "choose them, or drop the flag" % thresholds_file)
        return None
    recorded = run_config.read_thresholds(path)
    values = {label_key(name): value for name, value in recorded["thresholds"].items()}
    missing = [name for name in outputs if label_key(name) not in values]
    if missing:
        raise UserError("%s has no threshold for %s: it was chosen for another model; evaluate this one again"
                        % (path, ", ".join(missing[:5])))
    step = checkpoint_step(checkpoint) if checkpoint else None
    if step is not None and recorded.get("global_step") != step:
        warn("the thresholds of %s were chosen for step %s, not for the exported step %d: exported without them "
             "(label_image shows the best labels); evaluate this checkpoint to choose them" % (
                 path, recorded.get("global_step"), step))
        return None
    say("thresholds chosen on the %s part (%s), recorded for label_image: %s" % (
        recorded.get("split", "val"), recorded.get("criterion", "?"), path))
    return {"criterion": recorded.get("criterion"), "values": [float(values[label_key(name)]) for name in outputs]}
