"""What the conversion does with the CSV of image-label associations (datasets/csv_file.py):

- none yet, or --rebuild_csv: it is built from the annotations;
- one exists and the annotations are given: it is built anew and replaces the existing one only when its
  images or labels differ (the summary says how);
- one exists and no annotations are given, or --keep_csv: it is used as it is, and the images of the
  folder it does not list are named in a warning.
"""
import dataclasses
import os

from core.errors import UserError
from datasets.convert_folders import image_names
from datasets.csv_file import CsvImage, group_by_image, image_rows, read_csv
from datasets.flags import CSV_FILE, LABELS_DIR


@dataclasses.dataclass(frozen=True)
class CsvPlan:
    """`build`: the CSV is built from the annotations; `images`: those of the existing CSV
    ({(stem, extension): CsvImage}), None when it is not read."""

    build: bool
    images: dict = None

    @property
    def checked(self):
        """Whether the existing CSV is compared with the one the folders give now."""
        return self.build and self.images is not None

    @property
    def built_anew(self):
        """Whether the CSV is written whatever it held (it did not exist, or --rebuild_csv)."""
        return self.build and self.images is None

    def changes(self, converted):
        """What differs between the existing CSV and the `converted` images (csv_changes); [] when the CSV
        is not checked."""
        return csv_changes(self.images, converted) if self.checked else []

    def state(self, changes):
        """What happened to a checked CSV, for the summary; None when it was not checked."""
        if changes:
            return "rebuilt from the annotations, as it no longer matched the folders: %s " \
                   "(--keep_csv uses a CSV as it is)" % "; ".join(changes)
        return "read; it matches the images and annotation files" if self.checked else None


def plan_csv(options, classes):
    """The CsvPlan for ConversionOptions `options`; reads an existing CSV, checked against `classes`."""
    path = options.csv_file
    if options.rebuild_csv or not os.path.exists(path):
        if options.labels_dir is None:
            raise UserError("CSV %r does not exist (or --rebuild_csv was given) and building it needs the "
                            "annotations: pass %s <folder of NAME.txt files>" % (path, LABELS_DIR))
        return CsvPlan(build=True)
    if os.path.isdir(path):
        raise UserError("%s %r is a folder; give a file path" % (CSV_FILE, path))
    images = group_by_image(read_csv(path, classes))
    return CsvPlan(build=options.labels_dir is not None and not options.keep_csv, images=images)


def pinned_state(keep_csv, left_out):
    """The summary's words for a CSV used as it is; `left_out`: the folder's images it does not list."""
    return "used as it is (%s)%s" % (
        "--keep_csv" if keep_csv else "no %s to check it against" % LABELS_DIR,
        "; %d image(s) of the folder left out" % len(left_out) if left_out else "")


def converted_image(result):
    """The CsvImage of a Converted result of datasets/convert_worker.py."""
    return CsvImage(result.height, result.width, sorted(result.label_indexes))


def csv_rows(converted):
    """The CSV rows of the `converted` images ({(stem, extension): CsvImage}), in their order."""
    return [row for (stem, extension), image in converted.items()
            for row in image_rows(stem, extension, image.height, image.width, image.labels)]


def csv_changes(before, after):
    """What differs between the images of a CSV and those the folders give now, both
    {(stem, extension): CsvImage}: a list of phrases, empty when they agree."""
    added = [key for key in after if key not in before]
    removed = [key for key in before if key not in after]
    relabelled = [key for key in after if key in before and before[key].labels != after[key].labels]
    return ["%d %s (%s)" % (len(keys), what, image_names(keys)) for keys, what in (
        (added, "new image(s)"), (removed, "image(s) gone or no longer converted"),
        (relabelled, "image(s) with other labels in their annotation file")) if keys]
