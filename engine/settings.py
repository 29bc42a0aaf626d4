"""Resolves what a run works on: command-line value, else what training recorded, else the default.

Also the one label-mode policy of training, evaluation and export (`decide_label_mode`).
"""
import dataclasses

from core.errors import UserError
from core.progress import warn
from datasets import defaults
from datasets.classes_file import read_classes
from engine.options import LABEL_MODES
from nets import nets_factory
from preprocessing import preprocessing_factory

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
    validation_percentage: float
    labels_offset: int
    label_mode: str  # "auto", "single" or "multi"

    @property
    def num_classes(self):
        return len(self.classes) - self.labels_offset

    def to_config(self):
        return dataclasses.asdict(self)


def _first(*values):
    for value in values:
        if value is not None:
            return value
    return None


def preprocessing_family(name):
    """The preprocessing name of `name`: a preprocessing name itself, or a model name (research/slim's
    --preprocessing_name accepted both), whose registry entry names its preprocessing."""
    if name not in preprocessing_factory.FAMILIES and name in nets_factory.list_models():
        return nets_factory.get_spec(name).preprocessing_name
    return preprocessing_factory.check_name(name)


def decide_label_mode(label_mode, stats=None):
    """"single" or "multi": `label_mode` when it is one of them (a warning when single-label training
    meets images with several labels), else chosen from `stats` (tfrecord_stats.scan's), else "single"."""
    if label_mode in LABEL_MODES:
        if label_mode == "single" and stats and stats["max_labels_per_image"] > 1:
            warn("--label_mode single on images with up to %d labels: only one label per image counts"
                 % stats["max_labels_per_image"])
        return label_mode
    if stats is None:
        return "single"
    return "multi" if stats["max_labels_per_image"] > 1 else "single"


def check_labels_offset(labels_offset, classes):
    if not 0 <= labels_offset < len(classes):
        raise UserError("--labels_offset %d must be between 0 and the number of classes minus one (%d)"
                        % (labels_offset, len(classes) - 1))


def resolve(args, config):
    """Settings from parsed `args` (dataset_parser + model_parser) over a recorded `config` dict."""
    model_name = _first(args.model_name, config.get("model_name"), DEFAULT_MODEL)
    spec = nets_factory.get_spec(model_name)
    image_size = _first(args.image_size, config.get("image_size"), spec.default_image_size)
    nets_factory.check_image_size(model_name, image_size)
    classes_file = _first(args.classes_file, config.get("classes_file"), defaults.CLASSES_PATH)
    if args.classes_file is None and config.get("classes"):
        classes = list(config["classes"])
    else:
        classes = read_classes(classes_file)
    labels_offset = _first(args.labels_offset, config.get("labels_offset"), 0)
    check_labels_offset(labels_offset, classes)
    label_mode = _first(args.label_mode if args.label_mode != "auto" else None,
                        config.get("label_mode"), "auto")
    return Settings(
        model_name=model_name,
        image_size=int(image_size),
        preprocessing_name=preprocessing_family(_first(args.preprocessing_name, config.get("preprocessing_name"),
                                                       spec.preprocessing_name)),
        use_grayscale=bool(_first(args.use_grayscale, config.get("use_grayscale"), False)),
        tfrecord_file=_first(args.tfrecord_file, config.get("tfrecord_file"), defaults.TFRECORD_PATH),
        classes_file=classes_file,
        classes=classes,
        validation_percentage=float(_first(args.validation_percentage, config.get("validation_percentage"),
                                           defaults.VALIDATION_PERCENTAGE)),
        labels_offset=int(labels_offset),
        label_mode=label_mode,
    )
