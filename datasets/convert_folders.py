"""The conversion's inputs on disk: the image and annotation folders are checked, and listed into the
Tasks of datasets/convert_worker.py, either from the folders (the CSV is being built) or from the CSV's
images. Files that cannot go in are named in a warning and counted by reason (datasets/convert_summary.py).

A CSV names files of the image folder only: a row whose name is a path (a separator, `..`, an absolute
path), a hidden file or another extension than an image's is skipped, so nothing outside the folder the
user named is read. The outputs are checked against the inputs and each other before anything is read.
"""
import os

from core.errors import UserError
from core.paths import NamedPath, check_distinct
from core.text import cut, quote
from datasets import shards
from datasets.annotations import ANNOTATION_EXTENSION, annotation_index
from datasets.convert_worker import Task
from datasets.flags import CLASSES_FILE, CSV_FILE, IMAGE_DIR, LABELS_DIR, TFRECORD_FILE
from datasets.image_files import IMAGE_EXTENSIONS

# Skip reasons found while listing the folders (the workers add those of datasets/convert_worker.py
# and datasets/image_files.py).
HIDDEN = "hidden file"
SUBFOLDER = "sub-folder"
NOT_IMAGE_NAME = "not an image file name (extension)"
BAD_FILE_NAME = "file name is not valid UTF-8"
NO_ANNOTATION = "no annotation file"
MISSING = "listed in the CSV but not in the image folder"
NOT_A_FILE_NAME = "CSV name that is a path"

NAME_SEPARATORS = ("/", "\\", "\0")  # a CSV name with one of these is a path: `../x`, `/etc/x`, `a\\b`
SHARDS_CHECKED = 10000  # shard names compared with the inputs (more are refused later, as too many)

NAMES_SHOWN = 5  # file names listed in a line about the CSV


def check_folder(path, flag):
    """A UserError unless `path`, given with PathFlag `flag` (IMAGE_DIR or LABELS_DIR), is a folder."""
    if not os.path.isdir(path):
        what = "is not a folder" if os.path.exists(path) else "does not exist"
        raise UserError("%s %s %s; pass the folder that holds the %s" % (
            flag, quote(path), what, "images" if flag == IMAGE_DIR else "annotation files NAME.txt"))


def _read_in(path, image_dir, labels_dir):
    """The folder flag when `path` is an existing file that the conversion reads from the image or
    annotation folder (an image, an annotation file), else None."""
    if not os.path.lexists(path):
        return None
    folder, name = os.path.split(os.path.abspath(path))
    extension = name.rpartition(".")[2].lower()
    for flag, root, read in ((IMAGE_DIR, image_dir, extension in IMAGE_EXTENSIONS),
                             (LABELS_DIR, labels_dir, "." + extension == ANNOTATION_EXTENSION)):
        if root is not None and read and os.path.realpath(folder) == os.path.realpath(root):
            return flag
    return None


def check_outputs(options):
    """A UserError, before anything is read or written, when an output of ConversionOptions `options` (the
    CSV, the TFRecord or its shards) is an input (the classes file, a folder, a file of a folder) or the
    other output."""
    records = [options.tfrecord_file]
    if 1 < options.num_shards <= SHARDS_CHECKED:
        records = shards.shard_names(options.tfrecord_file, options.num_shards)
    outputs = [NamedPath(str(CSV_FILE), options.csv_file)] + [NamedPath(str(TFRECORD_FILE), path) for path in records]
    check_distinct(outputs, [NamedPath(str(CLASSES_FILE), options.classes_file),
                             NamedPath(str(IMAGE_DIR), options.image_dir),
                             NamedPath(str(LABELS_DIR), options.labels_dir)])
    for output in outputs:
        folder = _read_in(output.path, options.image_dir, options.labels_dir)
        if folder:
            raise UserError("%s %s is a file of %s, which this command reads: writing it would destroy it; pass "
                            "a path outside that folder" % (output.what, quote(output.path), folder))


def csv_name_problem(stem, extension):
    """Why the CSV's image `stem`.`extension` is not a file of the image folder to read, else None."""
    name = "%s.%s" % (stem, extension)
    if any(separator in name for separator in NAME_SEPARATORS) or os.path.isabs(name):
        return NOT_A_FILE_NAME
    if name.startswith("."):
        return HIDDEN
    if extension.lower() not in IMAGE_EXTENSIONS:
        return NOT_IMAGE_NAME
    return None


def list_images(image_dir, labels_dir, warnings):
    """The Tasks of the images of `image_dir` that have an annotation file in `labels_dir`, by file name;
    the other files go to `warnings` (SkipWarnings)."""
    annotations = annotation_index(labels_dir)
    tasks = []
    for entry in sorted(os.scandir(image_dir), key=lambda entry: entry.name):
        name = entry.name
        path = entry.path
        stem, _, extension = name.rpartition(".")
        if name.startswith("."):
            warnings.skip(path, HIDDEN)
        elif os.path.isdir(path):  # entry.is_dir() raises on a link to itself
            warnings.skip(path, SUBFOLDER)
        elif not stem or extension.lower() not in IMAGE_EXTENSIONS:
            warnings.skip(path, NOT_IMAGE_NAME)
        elif not _is_utf8(name):
            warnings.skip(path, BAD_FILE_NAME, "rename it")
        elif stem not in annotations:
            warnings.skip(path, NO_ANNOTATION, "expected %s" % quote(os.path.join(labels_dir, stem + ".txt")))
        else:
            tasks.append(Task(stem, extension, path, annotation_path=annotations[stem]))
    return tasks


def _is_utf8(name):
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def csv_tasks(images, image_dir, warnings):
    """The Tasks of the CSV's `images` ({(stem, extension): CsvImage}) found in `image_dir`; the missing
    ones go to `warnings` (SkipWarnings)."""
    tasks = []
    for (stem, extension), image in images.items():
        problem = csv_name_problem(stem, extension)
        if problem:
            warnings.skip("%s.%s" % (stem, extension), problem, "in CSV; %s reads %s only"
                          % (IMAGE_DIR, quote(image_dir)))
            continue
        path = os.path.join(image_dir, "%s.%s" % (stem, extension))
        if os.path.lexists(path):  # read, or refused with its reason, by the worker
            tasks.append(Task(stem, extension, path, label_indexes=image.labels))
        else:
            warnings.skip(path, MISSING)
    return tasks


def warn_left_out(image_dir, listed, warn_fn, pinned):
    """Warns about the images of `image_dir` that the CSV used as it is does not list (`listed`: its
    (stem, extension) keys; `pinned`: --keep_csv was given); returns their keys."""
    left_out = []
    for name in sorted(os.listdir(image_dir)):
        stem, _, extension = name.rpartition(".")
        if stem and not name.startswith(".") and extension.lower() in IMAGE_EXTENSIONS \
                and (stem, extension) not in listed and os.path.isfile(os.path.join(image_dir, name)):
            left_out.append((stem, extension))
    if left_out:
        warn_fn("%d image(s) of %s are not in the CSV and were left out (%s): %s" % (
            len(left_out), quote(image_dir), image_names(left_out),
            "drop --keep_csv to build it again from the annotations" if pinned
            else "pass %s (and --rebuild_csv) to build the CSV again from the annotations" % LABELS_DIR))
    return left_out


def image_names(keys, limit=NAMES_SHOWN):
    """The first `limit` file names of the (stem, extension) `keys`, for a line about the CSV."""
    names = [cut("%s.%s" % key, 60) for key in keys]
    return ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")

