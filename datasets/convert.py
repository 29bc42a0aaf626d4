"""The conversion behind download_and_convert_data.py: images + annotations -> CSV -> TFRecord.

1. The CSV of image-label associations (datasets/csv_file.py) is built from `--image_dir` and
   `--labels_dir` when it does not exist yet (or with --rebuild_csv). An existing CSV is checked against
   the classes file and, when the annotations are given, against the folders: when images were added or
   removed, or annotation files changed, since it was built, it is built again and the summary says what
   changed; `--keep_csv` pins it (a CSV edited by hand), and images of the folder it does not list are then
   named in a warning, never left out silently (datasets/convert_csv.py).
2. The TFRecord gets one tf.train.Example per image of the CSV (datasets/tfrecord_format.py).
When the CSV is built, both files are written in the same pass over the images, so each image is read
once and the CSV lists exactly the images the TFRecord holds.

The folders are listed by datasets/convert_folders.py; the images are read and checked by a pool of worker
processes (datasets/convert_worker.py, datasets/convert_records.py). Bad files are skipped with a one-line
warning each and counted in the summary (datasets/convert_summary.py). Both outputs are written under a
temporary name in their own folder and renamed at the end: an interrupted or failed run leaves the
previous files as they were and removes its temporaries.
"""
import argparse
import contextlib
import dataclasses

from core import signals
from core.cli import add_bool_flag
from core.errors import UserError
from core.progress import PeriodicProgress, say, warn
from datasets import defaults, flags, read_limits
from datasets.classes_file import read_classes
from datasets.convert_csv import converted_image, csv_rows, pinned_state, plan_csv
from datasets.convert_folders import check_folder, check_outputs, csv_tasks, list_images, warn_left_out
from datasets.convert_records import (
    RecordOutput,
    load_tensorflow,
    max_workers,
    output,
    remove_other_layouts,
    workers_for,
    write_errors,
    write_records,
)
from datasets.convert_summary import SkipWarnings, Summary
from datasets.convert_worker import Skipped
from datasets.csv_file import pandas_module, write_csv


@dataclasses.dataclass(frozen=True)
class ConversionOptions:
    """What to convert and where: the flags of build_parser, by their dests."""

    image_dir: str
    labels_dir: str = None
    csv_file: str = defaults.CSV_PATH
    tfrecord_file: str = defaults.TFRECORD_PATH
    classes_file: str = defaults.CLASSES_PATH
    rebuild_csv: bool = False
    keep_csv: bool = False
    num_shards: int = 1
    num_workers: int = None  # None: one per CPU core
    max_image_pixels: int = read_limits.DEFAULT_MAX_IMAGE_PIXELS
    max_image_bytes: int = read_limits.DEFAULT_MAX_IMAGE_BYTES
    follow_links: bool = False

    def __post_init__(self):
        if self.num_workers is not None and self.num_workers < 1:
            raise UserError("--num_workers must be at least 1, got %d" % self.num_workers)
        if self.num_workers is not None and self.num_workers > max_workers():
            raise UserError("--num_workers %d is more than %d, 4 processes per CPU core: pass fewer"
                            % (self.num_workers, max_workers()))
        if self.num_shards < 1:
            raise UserError("--num_shards must be at least 1, got %d" % self.num_shards)
        read_limits.ReadLimits(self.max_image_pixels, self.max_image_bytes, self.follow_links)  # checks them

    @property
    def limits(self):
        """The ReadLimits of the images and annotation files (datasets/read_limits.py)."""
        return read_limits.ReadLimits(self.max_image_pixels, self.max_image_bytes, self.follow_links)

    @classmethod
    def from_args(cls, args):
        """The options of parsed flags (build_parser's argparse.Namespace)."""
        return cls(**{field.name: getattr(args, field.name) for field in dataclasses.fields(cls)})


def build_parser():
    parser = argparse.ArgumentParser(
        description="Builds the CSV of image-label associations (if it does not exist yet) and the TFRecord "
                    "the training and evaluation scripts read.")
    inputs = parser.add_argument_group("inputs")
    flags.add_image_dir_flag(inputs, required=True,
                             help="folder of the images NAME.EXT (jpg, jpeg, png, bmp, gif)")
    flags.add_labels_dir_flag(inputs, help="folder of the annotation files NAME.txt, one label name per line "
                                           "(needed to build the CSV and to check an existing one; default: none)")
    flags.add_classes_flag(inputs, defaults.CLASSES_PATH, "classes file of `N:name` lines; only these labels are "
                                                          "converted (default: %(default)s)")
    outputs = parser.add_argument_group("outputs")
    flags.add_csv_flag(outputs, defaults.CSV_PATH, "CSV of image-label associations, built when it does not "
                                                   "exist or no longer matches the folders (default: %(default)s)")
    flags.add_tfrecord_flag(outputs, defaults.TFRECORD_PATH, "TFRecord to write (default: %(default)s)")
    add_bool_flag(outputs, "rebuild_csv", False, "build the CSV again from the annotations even if it exists")
    outputs.add_argument("--num_shards", type=int, default=1,
                         help="write the TFRecord as N files of equal size, NAME-00000-of-0000N ..., so that "
                              "each worker of a cluster reads its own (default: %(default)s, one file NAME)")
    add_bool_flag(outputs, "keep_csv", False,
                  "use an existing CSV as it is (say, edited by hand), even when the folders changed since it was "
                  "built; images it does not list are named in a warning and left out")
    parser.add_argument("--num_workers", type=int, default=None,
                        help="processes reading the images (default: one per CPU core; 1: no pool)")
    read_limits.add_flags(parser)
    return parser


def convert(options, log=say, warn_fn=warn, progress_interval=5.0):
    """Builds the CSV if needed and the TFRecord (`num_shards` files when more than 1) that
    ConversionOptions `options` name; returns the Summary. Raises UserError on bad input or when no image
    could be written (the previous outputs are then left untouched).

    An existing CSV is checked against the folders when `labels_dir` is given and it is not pinned
    (`keep_csv`): the CSV is built anew from the annotations, and replaces the existing one only when its
    images or labels differ (the summary says how)."""
    # TensorFlow and pandas now: the pool's workers inherit them instead of each importing TensorFlow, and an
    # interrupt never lands in the middle of an import.
    load_tensorflow()
    pandas_module()
    check_folder(options.image_dir, flags.IMAGE_DIR)
    if options.labels_dir is not None:
        check_folder(options.labels_dir, flags.LABELS_DIR)
    check_outputs(options)
    classes = read_classes(options.classes_file)
    summary = Summary(classes, options.csv_file, options.tfrecord_file)
    warnings = SkipWarnings(summary.skipped, warn_fn)
    plan = plan_csv(options, classes)
    tasks = _tasks(options, plan, summary, warnings, warn_fn)
    summary.csv_built = plan.built_anew
    if len(tasks) and options.num_shards > len(tasks):
        raise UserError("--num_shards %d is more than the %d image(s) to convert: each shard would not hold one"
                        % (options.num_shards, len(tasks)))
    num_workers = workers_for(len(tasks), options.num_workers)
    log("converting %d images with %d worker process(es)" % (len(tasks), num_workers))
    with signals.interrupts() as interrupts, write_errors(options.tfrecord_file, options.csv_file), \
            contextlib.ExitStack() as stack:
        # Leaving the stack without an exception renames the temporaries over the outputs, the CSV first
        # (stacked last); any exception removes them.
        record = RecordOutput(stack, options.tfrecord_file, options.num_shards)
        # closing() ends the writing (and the pool) when the loop is interrupted.
        results = stack.enter_context(contextlib.closing(write_records(tasks, classes, num_workers,
                                                                       record.temporary, options.limits)))
        progress = PeriodicProgress(len(tasks), "converted", log=log, interval=progress_interval)
        converted = _collect(results, tasks, summary, warnings, interrupts, progress)
        _check_written(options, summary)
        summary.shard_sizes = record.split()
        _settle_csv(plan, converted, classes, summary, log)
    remove_other_layouts(options.tfrecord_file, options.num_shards, log)
    return summary


def _tasks(options, plan, summary, warnings, warn_fn):
    """The Tasks of the conversion: the annotated images of the folder when the CSV is built, else the
    CSV's images (then the folder's images it does not list are named in a warning)."""
    if plan.build:
        return list_images(options.image_dir, options.labels_dir, warnings)
    tasks = csv_tasks(plan.images, options.image_dir, warnings)
    left_out = warn_left_out(options.image_dir, set(plan.images), warn_fn, options.keep_csv)
    summary.csv_state = pinned_state(options.keep_csv, left_out)
    return tasks


def _collect(results, tasks, summary, warnings, interrupts, progress):
    """Counts the process() `results` of `tasks` in `summary` as they come; returns the converted images,
    {(stem, extension): CsvImage}, in task order."""
    converted = {}
    # Driving the loop by the results runs their generator to its end, so the TFRecord (and the pool) is
    # closed before the renames.
    for index, result in enumerate(results):
        interrupts.check()
        task = tasks[index]
        summary.add(result)
        if isinstance(result, Skipped):
            warnings.skip(task.path, result.reason, result.detail)
        else:
            converted[task.key] = converted_image(result)
        progress.update(1)
    progress.done()
    interrupts.check()
    return converted


def _check_written(options, summary):
    """A UserError when no image was written, or too few for the shards."""
    if not summary.images_written:
        raise UserError("no image could be written (%s); check %s %r, %s %r and the classes file %r" % (
            summary.reasons(), flags.IMAGE_DIR, options.image_dir, flags.LABELS_DIR, options.labels_dir,
            options.classes_file))
    if options.num_shards > summary.images_written:
        raise UserError("--num_shards %d is more than the %d image(s) written: each shard would not hold one"
                        % (options.num_shards, summary.images_written))


def _settle_csv(plan, converted, classes, summary, log):
    """Writes the CSV of the `converted` images when it is built anew or no longer matches the folders,
    and says so in `summary`."""
    changes = plan.changes(converted)
    if plan.built_anew or changes:
        # Replaced before the TFRecord (renamed when the stack closes), as both are written whole.
        with output(summary.csv_file) as csv_temporary:
            write_csv(csv_temporary, csv_rows(converted), classes)
    summary.csv_state = plan.state(changes) or summary.csv_state
    if changes:
        log("CSV %s no longer matched the folders (%s): rebuilt it" % (summary.csv_file, "; ".join(changes)))


def main(argv=None):
    options = ConversionOptions.from_args(build_parser().parse_args(argv))
    summary = convert(options)
    for line in summary.lines():
        say(line)
    return 0
