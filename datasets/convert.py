"""The conversion behind download_and_convert_data.py: images + annotations -> CSV -> TFRecord.

1. The CSV of image-label associations (datasets/csv_file.py) is built from `--image_dir` and
   `--labels_dir` when it does not exist yet (or with --rebuild_csv). An existing CSV is checked against
   the classes file and, when the annotations are given, against the folders: when images were added or
   removed, or annotation files changed, since it was built, it is built again and the summary says what
   changed; `--keep_csv` pins it (a CSV edited by hand), and images of the folder it does not list are then
   named in a warning, never left out silently.
2. The TFRecord gets one tf.train.Example per image of the CSV (datasets/tfrecord_format.py).
When the CSV is built, both files are written in the same pass over the images, so each image is read
once and the CSV lists exactly the images the TFRecord holds.

Images are read and checked by a pool of worker processes (datasets/convert_worker.py). Bad files are
skipped with a one-line warning each and counted in the summary. Both outputs are written under a
temporary name in their own folder and renamed at the end: an interrupted or failed run leaves the
previous files as they were and removes its temporaries.
"""
import argparse
import collections
import contextlib
import multiprocessing
import os
import shutil

from core import atomic_files, signals
from core.cli import add_bool_flag
from core.errors import UserError, os_reason
from core.progress import PeriodicProgress, say, warn
from datasets import defaults, shards
from datasets.annotations import annotation_index
from datasets.classes_file import read_classes
from datasets.convert_worker import init as init_worker
from datasets.convert_worker import process, write_shard
from datasets.csv_file import group_by_image, image_rows, pandas_module, read_csv, write_csv
from datasets.image_files import IMAGE_EXTENSIONS

# Skip reasons found while listing the folders (the workers add those of datasets/convert_worker.py
# and datasets/image_files.py).
HIDDEN = "hidden file"
SUBFOLDER = "sub-folder"
NOT_IMAGE_NAME = "not an image file name (extension)"
BAD_FILE_NAME = "file name is not valid UTF-8"
NO_ANNOTATION = "no annotation file"
MISSING = "listed in the CSV but not in the image folder"

WARNINGS_PER_REASON = 20
NAMES_SHOWN = 5  # file names listed in a line about the CSV


def _load_tensorflow():
    from core.compat import tf as tensorflow
    return tensorflow


class _TensorFlow:
    """TensorFlow, imported on first use: `download_and_convert_data.py --help` does not load it."""

    def __getattr__(self, name):
        return getattr(_load_tensorflow(), name)


tf = _TensorFlow()
# Below this many images the work runs in this process: a pool costs more than it saves.
POOL_MIN_IMAGES = 64
# Images per pool job (and per shard file of the TFRecord).
SHARD_IMAGES = 64


def build_parser():
    parser = argparse.ArgumentParser(
        description="Builds the CSV of image-label associations (if it does not exist yet) and the TFRecord "
                    "the training and evaluation scripts read.")
    inputs = parser.add_argument_group("inputs")
    inputs.add_argument("--image_dir", required=True,
                        help="folder of the images NAME.EXT (jpg, jpeg, png, bmp, gif)")
    inputs.add_argument("--labels_dir", "--annotations_dir", dest="labels_dir", default=None,
                        help="folder of the annotation files NAME.txt, one label name per line "
                             "(needed to build the CSV and to check an existing one; default: none)")
    inputs.add_argument("--classes", "--chemin_liste_labels", "--classes_file", dest="classes_path",
                        default=defaults.CLASSES_PATH,
                        help="classes file of `N:name` lines; only these labels are converted "
                             "(default: %(default)s)")
    outputs = parser.add_argument_group("outputs")
    outputs.add_argument("--path_to_csv", "--chemin_csv", "--csv_file", dest="csv_path",
                         default=defaults.CSV_PATH,
                         help="CSV of image-label associations, built when it does not exist or no longer "
                              "matches the folders (default: %(default)s)")
    outputs.add_argument("--tfrecord_file", "--chemin_tfrecords", "--record_file", dest="tfrecord_path",
                         default=defaults.TFRECORD_PATH, help="TFRecord to write (default: %(default)s)")
    add_bool_flag(outputs, "rebuild_csv", False, "build the CSV again from the annotations even if it exists")
    outputs.add_argument("--num_shards", type=int, default=1,
                         help="write the TFRecord as N files of equal size, NAME-00000-of-0000N ..., so that "
                              "each worker of a cluster reads its own (default: %(default)s, one file NAME)")
    add_bool_flag(outputs, "keep_csv", False,
                  "use an existing CSV as it is (say, edited by hand), even when the folders changed since it was "
                  "built; images it does not list are named in a warning and left out")
    parser.add_argument("--num_workers", type=int, default=None,
                        help="processes reading the images (default: one per CPU core; 1: no pool)")
    return parser


class Summary:
    """What a conversion did: written images, associations per label, skipped files by reason."""

    def __init__(self, classes, csv_path, tfrecord_path):
        self.classes = classes
        self.csv_path = csv_path
        self.tfrecord_path = tfrecord_path
        self.csv_built = False
        self.csv_state = None  # what happened to the CSV, for the summary
        self.images_written = 0
        self.shard_sizes = None  # images per shard file when the TFRecord is sharded
        self.label_counts = collections.Counter()  # 0-based class index -> images
        self.skipped = collections.Counter()  # reason -> files
        self.ignored_labels = collections.Counter()  # label name not in the classes file -> lines

    def lines(self):
        written = self.tfrecord_path
        if self.shard_sizes:
            count = len(self.shard_sizes)
            written = "%d shards %s ... %s (%s images each)" % (
                count, shards.shard_name(self.tfrecord_path, 0, count),
                shards.shard_name(self.tfrecord_path, count - 1, count),
                "-".join(str(n) for n in sorted({min(self.shard_sizes), max(self.shard_sizes)})))
        lines = ["wrote %d images to %s" % (self.images_written, written),
                 "CSV %s: %s" % (self.csv_path, self.csv_state or ("built" if self.csv_built else "read")),
                 "associations per label:"]
        width = max(len(name) for name in self.classes)
        for index, name in enumerate(self.classes):
            lines.append("  %2d:%-*s %7d" % (index + 1, width, name, self.label_counts[index]))
        if self.skipped:
            lines.append("skipped %d files:" % sum(self.skipped.values()))
            for reason, count in sorted(self.skipped.items(), key=lambda item: (-item[1], item[0])):
                lines.append("  %-45s %7d" % (reason, count))
        for name, count in sorted(self.ignored_labels.items()):
            lines.append("ignored label %r (not in the classes file): %d annotation line(s)" % (name, count))
        return lines


class _Warnings:
    """One warning line per skipped file, at most WARNINGS_PER_REASON per reason."""

    def __init__(self, summary, warn_fn):
        self.summary = summary
        self.warn = warn_fn

    def skip(self, path, reason, detail=None):
        self.summary.skipped[reason] += 1
        count = self.summary.skipped[reason]
        if count <= WARNINGS_PER_REASON:
            self.warn("skipped %s: %s%s" % (path, reason, " (%s)" % detail if detail else ""))
        elif count == WARNINGS_PER_REASON + 1:
            self.warn("more files skipped for %r: only counted in the summary from now on" % reason)


def _output(path):
    """atomic_files.replacing(path), once the folder of `path` exists and `path` is not a folder."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise UserError("cannot create the folder %r for %r (%s)" % (folder, path, error.strerror or error))
    if os.path.isdir(path):
        raise UserError("%r is a folder; give a file path" % path)
    return atomic_files.replacing(path)


@contextlib.contextmanager
def _write_errors(tfrecord_path, csv_path):
    """A failed write (disk full, no permission) becomes a UserError; the temporaries are gone by then."""
    try:
        yield
    except (OSError, tf.errors.OpError) as error:
        raise UserError("cannot write %s and %s (%s): is the disk full? The previous files, if any, are unchanged"
                        % (tfrecord_path, csv_path, os_reason(error)))


def _check_folder(path, flag):
    if not os.path.isdir(path):
        what = "is not a folder" if os.path.exists(path) else "does not exist"
        raise UserError("%s %r %s; pass the folder that holds the %s" % (
            flag, path, what, "images" if flag == "--image_dir" else "annotation files NAME.txt"))


def _list_images(image_dir, labels_dir, warnings):
    """Tasks for the images of `image_dir` that have an annotation file: [(file name, task)]."""
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
            tasks.append(((stem, extension), (path, name, annotations[stem], None)))
    return tasks


def _is_utf8(name):
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _csv_tasks(rows, image_dir, warnings):
    tasks = []
    for (stem, extension), (_height, _width, labels) in group_by_image(rows).items():
        path = os.path.join(image_dir, "%s.%s" % (stem, extension))
        if os.path.isfile(path):
            tasks.append(((stem, extension), (path, "%s.%s" % (stem, extension), None, labels)))
        else:
            warnings.skip(path, MISSING)
    return tasks


def default_workers():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _write_records(tasks, classes, num_workers, record_path):
    """Writes the TFRecord of `tasks` to `record_path`; yields each task's process() result, in order.

    In a pool, each job of SHARD_IMAGES images is written by its worker to a shard file that this process
    appends to `record_path` (TFRecord files concatenate), so image bytes never travel between processes.
    """
    if num_workers <= 1:
        init_worker(classes, ignore_interrupts=False)
        with tf.io.TFRecordWriter(record_path) as writer:
            for task in tasks:
                result = process(task)
                if result[0] == "ok":
                    writer.write(result[1])
                yield result
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    shard_prefix = "%s.part" % record_path
    jobs = [("%s%06d" % (shard_prefix, start), tasks[start:start + SHARD_IMAGES])
            for start in range(0, len(tasks), SHARD_IMAGES)]
    try:
        with open(record_path, "wb") as output, \
                context.Pool(num_workers, initializer=init_worker, initargs=(classes,)) as pool:
            for (shard_path, _tasks), results in zip(jobs, pool.imap(write_shard, jobs)):
                if os.path.exists(shard_path):
                    with open(shard_path, "rb") as shard:
                        shutil.copyfileobj(shard, output, 1 << 20)
                    os.remove(shard_path)
                yield from results
    finally:
        for shard_path, _tasks in jobs:
            if os.path.exists(shard_path):
                os.remove(shard_path)


@contextlib.contextmanager
def _scratch(path):
    """A temporary path beside `path`, removed when the block ends."""
    temporary = atomic_files.temporary_name(path)
    try:
        yield temporary
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _remove_other_layouts(tfrecord_path, num_shards, log):
    """After a conversion into `num_shards` files, removes the previous outputs of the same NAME in another
    layout (the single file, or shards of another count), which readers would otherwise take for it."""
    stale = shards.other_layouts(tfrecord_path, num_shards)
    for path in stale:
        os.remove(path)
    if stale:
        log("removed %d file(s) of a previous conversion to %s in another layout, e.g. %s"
            % (len(stale), tfrecord_path, stale[0]))


def _names(keys, limit=NAMES_SHOWN):
    names = ["%s.%s" % key for key in keys]
    return ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")


def csv_changes(before, after):
    """What differs between the images of a CSV and those the folders give now, both
    {(stem, extension): (height, width, labels)}: a list of phrases, empty when they agree."""
    added = [key for key in after if key not in before]
    removed = [key for key in before if key not in after]
    relabelled = [key for key in after if key in before and before[key][2] != after[key][2]]
    return ["%d %s (%s)" % (len(keys), what, _names(keys)) for keys, what in (
        (added, "new image(s)"), (removed, "image(s) gone or no longer converted"),
        (relabelled, "image(s) with other labels in their annotation file")) if keys]


def _warn_left_out(image_dir, listed, warn_fn, pinned):
    """Warns about the images of `image_dir` that the CSV used as it is does not list."""
    left_out = []
    for name in sorted(os.listdir(image_dir)):
        stem, _, extension = name.rpartition(".")
        if stem and not name.startswith(".") and extension.lower() in IMAGE_EXTENSIONS \
                and (stem, extension) not in listed and os.path.isfile(os.path.join(image_dir, name)):
            left_out.append((stem, extension))
    if left_out:
        warn_fn("%d image(s) of %s are not in the CSV and were left out (%s): %s" % (
            len(left_out), image_dir, _names(left_out),
            "drop --keep_csv to build it again from the annotations" if pinned
            else "pass --labels_dir (and --rebuild_csv) to build the CSV again from the annotations"))
    return left_out


def convert(image_dir, labels_dir, csv_path, tfrecord_path, classes_path, rebuild_csv=False, num_workers=None,
            log=say, warn_fn=warn, progress_interval=5.0, keep_csv=False, num_shards=1):
    """Builds the CSV if needed and the TFRecord (`num_shards` files when more than 1); returns the Summary.
    Raises UserError on bad input or when no image could be written (the previous outputs are then left
    untouched).

    An existing CSV is checked against the folders when `labels_dir` is given and it is not pinned
    (`keep_csv`): the CSV is built anew from the annotations, and replaces the existing one only when its
    images or labels differ (the summary says how)."""
    # TensorFlow and pandas now: the pool's workers inherit them instead of each importing TensorFlow, and an
    # interrupt never lands in the middle of an import.
    _load_tensorflow()
    pandas_module()
    classes = read_classes(classes_path)
    _check_folder(image_dir, "--image_dir")
    if labels_dir is not None:
        _check_folder(labels_dir, "--labels_dir")
    summary = Summary(classes, csv_path, tfrecord_path)
    warnings = _Warnings(summary, warn_fn)
    build_csv = rebuild_csv or not os.path.exists(csv_path)
    existing = None  # the images of the existing CSV, when it is checked against the folders
    if not build_csv:
        if os.path.isdir(csv_path):
            raise UserError("--path_to_csv %r is a folder; give a file path" % csv_path)
        rows = read_csv(csv_path, classes)
        if labels_dir is not None and not keep_csv:
            existing = group_by_image(rows)
            build_csv = True
    if build_csv:
        if labels_dir is None:
            raise UserError("CSV %r does not exist (or --rebuild_csv was given) and building it needs the "
                            "annotations: pass --labels_dir <folder of NAME.txt files>" % csv_path)
        tasks = _list_images(image_dir, labels_dir, warnings)
    else:
        tasks = _csv_tasks(rows, image_dir, warnings)
        left_out = _warn_left_out(image_dir, set(group_by_image(rows)), warn_fn, keep_csv)
        summary.csv_state = "used as it is (%s)%s" % (
            "--keep_csv" if keep_csv else "no --labels_dir to check it against",
            "; %d image(s) of the folder left out" % len(left_out) if left_out else "")
    summary.csv_built = build_csv and existing is None
    if num_workers is None:
        num_workers = default_workers()
    if len(tasks) < POOL_MIN_IMAGES:
        num_workers = 1
    log("converting %d images with %d worker process(es)" % (len(tasks), max(1, num_workers)))

    with signals.interrupts() as interrupts, _write_errors(tfrecord_path, csv_path), \
            contextlib.ExitStack() as stack:
        # Leaving the stack without an exception renames the temporaries over the outputs, the CSV first
        # (stacked last); any exception removes them.
        if num_shards > 1:
            shard_temporaries = [stack.enter_context(_output(name))
                                 for name in shards.shard_names(tfrecord_path, num_shards)]
            record_temporary = stack.enter_context(_scratch(tfrecord_path))
        else:
            record_temporary = stack.enter_context(_output(tfrecord_path))
        csv_rows, converted = [], {}
        progress = PeriodicProgress(len(tasks), "converted", log=log, interval=progress_interval)
        # Driving the loop by the results runs the generator to its end, so the TFRecord (and the pool)
        # is closed before the renames; closing() also ends it when the loop is interrupted.
        results = stack.enter_context(contextlib.closing(_write_records(
            [task for _key, task in tasks], classes, num_workers, record_temporary)))
        for index, result in enumerate(results):
            interrupts.check()
            (stem, extension), task = tasks[index]
            for name in result[-1]:
                summary.ignored_labels[name] += 1
            if result[0] == "skip":
                warnings.skip(task[0], result[1], result[2])
            else:
                _status, _example, height, width, labels, _unknown = result
                if build_csv:
                    csv_rows.extend(image_rows(stem, extension, height, width, labels))
                    converted[(stem, extension)] = (height, width, sorted(labels))
                summary.images_written += 1
                summary.label_counts.update(labels)
            progress.update(1)
        progress.done()
        interrupts.check()
        if not summary.images_written:
            raise UserError("no image could be written (%s); check --image_dir %r, --labels_dir %r and the "
                            "classes file %r" % (_reasons(summary), image_dir, labels_dir, classes_path))
        if num_shards > summary.images_written:
            raise UserError("--num_shards %d is more than the %d image(s) written: each shard would not hold one"
                            % (num_shards, summary.images_written))
        if num_shards > 1:
            summary.shard_sizes = shards.split_file(record_temporary, shard_temporaries)
        changes = csv_changes(existing, converted) if existing is not None else None
        if build_csv and (existing is None or changes):
            # Replaced before the TFRecord (renamed when the stack closes), as both are written whole.
            with _output(csv_path) as csv_temporary:
                write_csv(csv_temporary, csv_rows, classes)
        if changes:
            summary.csv_state = "rebuilt from the annotations, as it no longer matched the folders: %s " \
                                "(--keep_csv uses a CSV as it is)" % "; ".join(changes)
            log("CSV %s no longer matched the folders (%s): rebuilt it" % (csv_path, "; ".join(changes)))
        elif existing is not None:
            summary.csv_state = "read; it matches the images and annotation files"
    _remove_other_layouts(tfrecord_path, num_shards, log)
    return summary


def _reasons(summary):
    if not summary.skipped:
        return "the image folder holds no image"
    return "skipped: " + ", ".join("%d %s" % (count, reason) for reason, count in summary.skipped.most_common())


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.num_workers is not None and args.num_workers < 1:
        raise UserError("--num_workers must be at least 1, got %d" % args.num_workers)
    if args.num_shards < 1:
        raise UserError("--num_shards must be at least 1, got %d" % args.num_shards)
    summary = convert(args.image_dir, args.labels_dir, args.csv_path, args.tfrecord_path, args.classes_path,
                      rebuild_csv=args.rebuild_csv, num_workers=args.num_workers, keep_csv=args.keep_csv,
                      num_shards=args.num_shards)
    for line in summary.lines():
        say(line)
    return 0
