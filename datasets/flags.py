"""The dataset path flags, each declared once: its canonical name (the one every message prints), the
spellings the original project and research/slim used (accepted as aliases) and its `dest`.

The conversion (download_and_convert_data.py) and the scripts that read its outputs declare the same flags
with other defaults and help sentences (outputs with default paths there, inputs defaulting to the training
run's here), so each `add_*_flag` function takes both:

    group = parser.add_argument_group("dataset")
    add_tfrecord_flag(group, default=None, help="TFRecord written by download_and_convert_data.py")

No TensorFlow and no pandas here: the scripts' --help reads it.
"""
import dataclasses


@dataclasses.dataclass(frozen=True)
class PathFlag:
    """One dataset path flag: `name` is canonical, `aliases` are accepted too, `dest` names the value."""

    name: str
    aliases: tuple
    dest: str

    def add(self, group, default=None, help=None, **kwargs):
        """Declares the flag on `group` (a parser or an argument group); returns the argparse action."""
        return group.add_argument(self.name, *self.aliases, dest=self.dest, default=default, help=help, **kwargs)

    def __str__(self):
        return self.name


TFRECORD_FILE = PathFlag("--tfrecord_file", ("--chemin_tfrecords", "--record_file"), "tfrecord_file")
CLASSES_FILE = PathFlag("--classes_file", ("--chemin_liste_labels", "--classes"), "classes_file")
CSV_FILE = PathFlag("--csv_file", ("--chemin_csv", "--path_to_csv"), "csv_file")
IMAGE_DIR = PathFlag("--image_dir", (), "image_dir")
LABELS_DIR = PathFlag("--labels_dir", ("--annotations_dir",), "labels_dir")
PATH_FLAGS = (TFRECORD_FILE, CLASSES_FILE, CSV_FILE, IMAGE_DIR, LABELS_DIR)


def add_tfrecord_flag(group, default=None, help=None, **kwargs):
    """`--tfrecord_file` (aliases `--chemin_tfrecords`, `--record_file`) -> `tfrecord_file`."""
    return TFRECORD_FILE.add(group, default, help, **kwargs)


def add_classes_flag(group, default=None, help=None, **kwargs):
    """`--classes_file` (aliases `--chemin_liste_labels`, `--classes`) -> `classes_file`."""
    return CLASSES_FILE.add(group, default, help, **kwargs)


def add_csv_flag(group, default=None, help=None, **kwargs):
    """`--csv_file` (aliases `--chemin_csv`, `--path_to_csv`) -> `csv_file`."""
    return CSV_FILE.add(group, default, help, **kwargs)


def add_image_dir_flag(group, default=None, help=None, **kwargs):
    """`--image_dir` -> `image_dir`."""
    return IMAGE_DIR.add(group, default, help, **kwargs)


def add_labels_dir_flag(group, default=None, help=None, **kwargs):
    """`--labels_dir` (alias `--annotations_dir`) -> `labels_dir`."""
    return LABELS_DIR.add(group, default, help, **kwargs)
