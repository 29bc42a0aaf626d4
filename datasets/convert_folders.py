"""The conversion's inputs on disk: the image and annotation folders are checked, and listed into the
Tasks of datasets/convert_worker.py, either from the folders (the CSV is being built) or from the CSV's
images. Files that cannot go in are named in a warning and counted by reason (datasets/convert_summary.py).
"""
import os

from core.errors import UserError
from datasets.annotations import annotation_index
from datasets.convert_worker import Task
from datasets.flags import IMAGE_DIR, LABELS_DIR
from datasets.image_files import IMAGE_EXTENSIONS

# Skip reasons found while listing the folders (the workers add those of datasets/convert_worker.py
# and datasets/image_files.py).
HIDDEN = "hidden file"
SUBFOLDER = "sub-folder"
NOT_IMAGE_NAME = "not an image file name (extension)"
BAD_FILE_NAME = "file name is not valid UTF-8"
NO_ANNOTATION = "no annotation file"
MISSING = "listed in the CSV but not in the image folder"

NAMES_SHOWN = 5  # file names listed in a line about the CSV


def check_folder(path, flag):
    """A UserError unless `path`, given with PathFlag `flag` (IMAGE_DIR or LABELS_DIR), is a folder."""
    if not os.path.isdir(path):
        what = "is not a folder" if os.path.exists(path) else "does not exist"
        raise UserError("%s %r %s; pass the folder that holds the %s" % (
            flag, path, what, "images" if flag == IMAGE_DIR else "annotation files NAME.txt"))


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
        elif entry.is_dir():
            warnings.skip(path, SUBFOLDER)
        elif not stem or extension.lower() not in IMAGE_EXTENSIONS:
            warnings.skip(path, NOT_IMAGE_NAME)
        elif not _is_utf8(name):
            warnings.skip(path.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), BAD_FILE_NAME,
                          "rename it")
        elif stem not in annotations:
            warnings.skip(path, NO_ANNOTATION, "expected %s" % os.path.join(labels_dir, stem + ".txt"))
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
        path = os.path.join(image_dir, "%s.%s" % (stem, extension))
        if os.path.isfile(path):
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
            len(left_out), image_dir, image_names(left_out),
            "drop --keep_csv to build it again from the annotations" if pinned
            else "pass %s (and --rebuild_csv) to build the CSV again from the annotations" % LABELS_DIR))
    return left_out


def image_names(keys, limit=NAMES_SHOWN):
    """The first `limit` file names of the (stem, extension) `keys`, for a line about the CSV."""
    names = ["%s.%s" % key for key in keys]
    return ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")

