"""Resolves what a run works on: command-line value, else what training recorded, else the default."""
import dataclasses

from datasets import defaults
from datasets.classes_file import read_classes
from engine.errors import UserError
from nets import nets_factory

DEFAULT_MODEL = "inception_v3"
DEFAULT_VALIDATION_PERCENTAGE = 25.0


@dataclasses.dataclass
class Settings:
    model_name: str
    image_size: int
    preprocessing_name: str
    use_grayscale: bool
    tfrecord_file: str
    path_to_csv: str
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


def resolve(args, config):
    """Settings from parsed `args` (dataset_parser + model_parser) over a recorded `config` dict."""
    model_name = _first(args.model_name, config.get("model_name"), DEFAULT_MODEL)
    spec = nets_factory.get_spec(model_name)
    image_size = _first(args.image_size, config.get("image_size"), spec.default_image_size)
    if image_size < spec.min_image_size:
        raise UserError("image size %d is too small for %s, which needs at least %d pixels; pass a larger "
                        "size (its default is %d)" % (image_size, model_name, spec.min_image_size,
                                                      spec.default_image_size))
    classes_file = _first(args.classes_file, config.get("classes_file"), defaults.CLASSES_PATH)
    if args.classes_file is None and config.get("classes"):
        classes = list(config["classes"])
    else:
        classes = read_classes(classes_file)
    labels_offset = _first(args.labels_offset, config.get("labels_offset"), 0)
    if not 0 <= labels_offset < len(classes):
        raise UserError("--labels_offset %d must be between 0 and the number of classes minus one (%d)"
                        % (labels_offset, len(classes) - 1))
    label_mode = _first(args.label_mode if args.label_mode != "auto" else None,
                        config.get("label_mode"), "auto")
    return Settings(
        model_name=model_name,
        image_size=int(image_size),
        preprocessing_name=_first(args.preprocessing_name, config.get("preprocessing_name"),
                                  spec.preprocessing_name),
        use_grayscale=bool(_first(args.use_grayscale, config.get("use_grayscale"), False)),
        tfrecord_file=_first(args.tfrecord_file, config.get("tfrecord_file"), defaults.TFRECORD_PATH),
        path_to_csv=_first(args.path_to_csv, config.get("path_to_csv"), defaults.CSV_PATH),
        classes_file=classes_file,
        classes=classes,
        validation_percentage=float(_first(args.validation_percentage, config.get("validation_percentage"),
                                           DEFAULT_VALIDATION_PERCENTAGE)),
        labels_offset=int(labels_offset),
        label_mode=label_mode,
    )
