"""Resolves what a run works on: command-line value, else what training recorded, else the default.

`resolve_recorded` is the one call each script makes: the run recorded beside a path (train_config.json),
the settings of this command over it, and the check that the command names that run (`check_same_run`).
Also the label-mode policy of training, evaluation and export (`decide_label_mode`) and the check of the
classes against the class names the TFRecord carries (`check_classes`).
"""
import dataclasses
import os

from core.errors import UserError
from core.progress import warn
from datasets import defaults, label_groups, label_modes
from datasets.annotations import label_key
from datasets.classes_file import read_classes_file
from datasets.split import check_percentages
from engine.config import run_config
from nets import catalog as nets_catalog
from preprocessing import catalog as preprocessing_catalog

DEFAULT_MODEL = "inception_v3"


@dataclasses.dataclass
class Settings:
    model_name: str
    image_size: int
    preprocessing_name: str
    use_grayscale: bool
    tfrecord_file: str
    classes_file: str
    classes: list
    validation_percentage: float  # the test part (--test_percentage)
    labels_offset: int
    label_mode: str  # one of datasets.label_modes.CHOICES (AUTO: decided from the data)
    val_percentage: float = 0.0  # the val part; 0 for runs recorded before it existed
    # datasets.label_groups.LabelGroup tuple: declared in the classes file or recorded by the run (None: none)
    label_groups: tuple = None

    @property
    def num_classes(self):
        return len(self.classes) - self.labels_offset

    @property
    def outputs(self):
        """The names of the network's outputs: the classes after --labels_offset."""
        return list(self.classes[self.labels_offset:])

    def group_indexes(self):
        """[[output index of each class] per group] of label_groups ([] without groups)."""
        return label_groups.group_indexes(self.label_groups or (), self.outputs)

    def to_config(self):
        return dict(dataclasses.asdict(self), label_groups=label_groups.to_records(self.label_groups) or None)


def _first(*values):
    for value in values:
        if value is not None:
            return value
    return None


def preprocessing_family(name):
    """The preprocessing name of `name`: a preprocessing name itself, or a model name (research/slim's
    --preprocessing_name accepted both), whose registry entry names its preprocessing."""
    if name not in preprocessing_catalog.NAMES and name in nets_catalog.MODEL_NAMES:
        return nets_catalog.get_spec(name).preprocessing_name
    return preprocessing_catalog.check_name(name)


def decide_label_mode(label_mode, stats=None):
    """The label mode of a run (datasets.label_modes.decide) from `label_mode` and the data's `stats`
    (tfrecord_stats.scan's; None: no data read), with a warning when single-label training meets images with
    several labels."""
    most = stats["max_labels_per_image"] if stats else None
    if label_mode == label_modes.SINGLE and most and most > 1:
        warn("--label_mode single on images with up to %d labels: only one label per image counts" % most)
    return label_modes.decide(label_mode, most)


def check_labels_offset(labels_offset, classes):
    if not 0 <= labels_offset < len(classes):
        raise UserError("--labels_offset %d must be between 0 and the number of classes minus one (%d)"
                        % (labels_offset, len(classes) - 1))


def resolve(args, config):
    """Settings from parsed `args` (dataset_parser + model_parser) over a recorded `config` dict."""
    model_name = _first(args.model_name, config.get("model_name"), DEFAULT_MODEL)
    spec = nets_catalog.get_spec(model_name)
    image_size = _first(args.image_size, config.get("image_size"), spec.default_image_size)
    nets_catalog.check_image_size(model_name, image_size)
    classes_file = _first(args.classes_file, config.get("classes_file"), defaults.CLASSES_PATH)
    recorded_groups = label_groups.from_records(config.get("label_groups")) or None
    if args.classes_file is None and config.get("classes"):
        classes, groups = list(config["classes"]), recorded_groups
    else:  # the file's groups, else the run's (check_same_run refuses other classes than the run's)
        classes, groups = read_classes_file(classes_file)
        groups = groups or recorded_groups
    labels_offset = _first(args.labels_offset, config.get("labels_offset"), 0)
    check_labels_offset(labels_offset, classes)
    test_percentage = _first(args.validation_percentage, config.get("validation_percentage"),
                             defaults.VALIDATION_PERCENTAGE)
    # A run recorded before the val part existed keeps its split: no val part.
    val_percentage = _first(args.val_percentage, config.get("val_percentage"),
                            0.0 if config else defaults.VAL_PERCENTAGE)
    check_percentages(test_percentage, val_percentage)
    label_mode = _first(args.label_mode if args.label_mode != label_modes.AUTO else None,
                        config.get("label_mode"), label_modes.AUTO)
    return Settings(
        model_name=model_name,
        image_size=int(image_size),
        preprocessing_name=preprocessing_family(_first(args.preprocessing_name, config.get("preprocessing_name"),
                                                       spec.preprocessing_name)),
        use_grayscale=bool(_first(args.use_grayscale, config.get("use_grayscale"), False)),
        tfrecord_file=_first(args.tfrecord_file, config.get("tfrecord_file"), defaults.TFRECORD_PATH),
        classes_file=classes_file,
        classes=classes,
        validation_percentage=float(test_percentage),
        labels_offset=int(labels_offset),
        label_mode=label_mode,
        val_percentage=float(val_percentage),
        label_groups=groups,
    )


# What a command does with a recorded run: (verb for the run, verb for the command, the way out).
_PURPOSES = {
    "train": ("trains", "resume", "use another --train_dir"),
    "evaluate": ("trained", "evaluate", "pass another --checkpoint_path"),
    "export": ("trained", "export", "pass another --checkpoint_path"),
}
_MODE_WORDS = {label_modes.SINGLE: "single-label", label_modes.MULTI: "multi-label",
               label_modes.GROUPED: "with attribute groups"}
_IMAGE_SIZE_FLAGS = {"train": "--train_image_size", "evaluate": "--eval_image_size", "export": "--image_size"}


def _class_list(classes, limit=4):
    shown = ", ".join(classes[:limit]) + (", ..." if len(classes) > limit else "")
    return "%d class%s (%s)" % (len(classes), "" if len(classes) == 1 else "es", shown)


def _group_keys(groups):
    """What makes groups the same: their classes, in any order (a detected group's name is its classes)."""
    return sorted(sorted(label_key(name) for name in group.classes) for group in groups)


def check_same_run(run_dir, recorded, settings, purpose, optimizer=None):
    """Raises a UserError naming each setting of this command that differs from the run recorded in
    `run_dir` (model, classes, label mode, labels offset; for training also the image size, the split and the
    optimizer): "the run in output/ trains at 64 px; --train_image_size 32 would not resume it: drop the flag
    or use another --train_dir". Evaluation and export at another image size only get a warning (a
    convolutional network can take it). Values the run did not record are not compared."""
    run_verb, verb, way_out = _PURPOSES[purpose]
    differences = []  # (what the run does, what the command says)
    if recorded.get("model_name") and recorded["model_name"] != settings.model_name:
        differences.append((recorded["model_name"], "--model_name %s" % settings.model_name))
    size = recorded.get("image_size")
    if size and int(size) != settings.image_size:
        if purpose == "train":
            differences.append(("at %d px" % size, "%s %d" % (_IMAGE_SIZE_FLAGS[purpose], settings.image_size)))
        else:
            warn("the run in %s trained at %d px; %s at %d px as %s %d says" % (
                run_dir, size, "evaluating" if purpose == "evaluate" else "exporting", settings.image_size,
                _IMAGE_SIZE_FLAGS[purpose], settings.image_size))
    classes = recorded.get("classes")
    if classes and [label_key(name) for name in classes] != [label_key(name) for name in settings.classes]:
        order = " (the same names in another order)" if sorted(map(label_key, classes)) == sorted(
            map(label_key, settings.classes)) else ""
        differences.append(("with %s" % _class_list(list(classes)),
                            "--classes_file %s with %s%s" % (settings.classes_file, _class_list(settings.classes),
                                                               order)))
    if recorded.get("label_mode") in label_modes.LABEL_MODES and settings.label_mode in label_modes.LABEL_MODES \
            and recorded["label_mode"] != settings.label_mode:
        differences.append((_MODE_WORDS[recorded["label_mode"]], "--label_mode %s" % settings.label_mode))
    groups = label_groups.from_records(recorded.get("label_groups"))
    if groups and settings.label_groups and _group_keys(groups) != _group_keys(settings.label_groups):
        differences.append(("with the %s" % label_groups.describe(groups), "--classes_file %s with the %s" % (
            settings.classes_file, label_groups.describe(settings.label_groups))))
    if recorded.get("labels_offset") is not None and int(recorded["labels_offset"]) != settings.labels_offset:
        differences.append(("with --labels_offset %d" % recorded["labels_offset"],
                            "--labels_offset %d" % settings.labels_offset))
    if purpose == "train":  # another split would train on images held out so far
        for key, flag in (("validation_percentage", "--test_percentage"), ("val_percentage", "--val_percentage")):
            value = getattr(settings, key)
            if recorded.get(key, 0.0 if key == "val_percentage" else None) not in (None, value):
                differences.append(("with %s %g" % (flag, recorded.get(key, 0.0)), "%s %g" % (flag, value)))
    if purpose == "train" and optimizer and recorded.get("optimizer") and recorded["optimizer"] != optimizer:
        differences.append(("with %s" % recorded["optimizer"], "--optimizer %s" % optimizer))
    if differences:
        raise UserError("the run in %s %s %s; %s would not %s it: drop the flag%s or %s" % (
            run_dir, run_verb, ", ".join(run for run, _ in differences),
            " and ".join(flag for _, flag in differences), verb, "s" if len(differences) > 1 else "", way_out))


def check_classes(settings, stats, tfrecord_file, warn_missing=False):
    """Raises a UserError when the class names the TFRecord's records carry (`stats["class_names"]`,
    tfrecord_stats.scan's) disagree with `settings.classes`: a classes file other than the conversion's
    would train or evaluate another task without a word. With `warn_missing`, warns about classes that no
    image of the scanned split has (a training split: the network cannot learn them)."""
    names = stats.get("class_names") or {}
    classes = settings.classes
    beyond = [index for index in names if index >= len(classes)]
    wrong = ["the records use %d classes (up to %d:%s), the classes file has %d" % (
        max(beyond) + 1, max(beyond) + 1, names[max(beyond)], len(classes))] if beyond else []
    for index, name in sorted(names.items()):
        if index < len(classes) and label_key(classes[index]) != label_key(name):
            wrong.append("class %d is %r in the records, %r in the classes file" % (index + 1, name, classes[index]))
    if wrong:
        raise UserError("the classes (%s) do not match the TFRecord %r: %s%s. The TFRecord was converted with "
                        "another classes file: pass that one (--classes_file), or convert the images again "
                        "with this one (download_and_convert_data.py --classes_file %s --rebuild_csv)" % (
                            settings.classes_file, tfrecord_file, "; ".join(wrong[:3]),
                            "; and %d more" % (len(wrong) - 3) if len(wrong) > 3 else "", settings.classes_file))
    if warn_missing:
        counts = stats.get("label_counts") or {}
        missing = ["%d:%s" % (index + 1, name) for index, name in enumerate(classes)
                   if index >= settings.labels_offset and not counts.get(index)]
        if missing:
            warn("%d of the %d classes have no training image in %s: %s. The network cannot learn them; add "
                 "images of them, or leave them out of the classes file and convert again"
                 % (len(missing), len(classes) - settings.labels_offset, os.path.basename(tfrecord_file),
                    ", ".join(missing[:10]) + (", ..." if len(missing) > 10 else "")))


def resolve_recorded(args, run_path, purpose, compare=True, optimizer=None):
    """(Settings, recorded config dict) of a command: `args` over the run recorded beside `run_path` (a
    training directory or a checkpoint file; {} when nothing is recorded there). With `compare`, a recorded
    run must be the one the command names (`check_same_run`; `purpose` is "train", "evaluate" or "export")."""
    recorded = run_config.read_config(run_path) if run_path else {}
    settings = resolve(args, recorded)
    if recorded and compare:
        check_same_run(run_config.config_dir(run_path), recorded, settings, purpose, optimizer)
    return settings, recorded
