"""The per-image work of the conversion, run in worker processes: read the labels and the image, check
the image and build its serialized tf.train.Example, so the parent process only writes.

A Task names one image: with an annotation path its labels are read from that file (the CSV is being
built), otherwise its `label_indexes` come from the CSV. process() answers a Converted or a Skipped.
TensorFlow (for the Example message) is imported by init(), not by this module: forked workers
inherit the parent's import.
"""
import dataclasses
import os
import signal

from core.files import FileRefused
from core.text import quote
from datasets.annotations import label_key, match_labels, read_annotation
from datasets.image_files import ImageProblem, read_image
from datasets.read_limits import DEFAULT_LIMITS

NO_KNOWN_LABEL = "no label of the classes file"
ANNOTATION = "annotation: %s"  # an annotation file refused, by the reason of core/files.py
LABELS_SHOWN = 10  # label names quoted in a warning

_classes = []
_class_index = {}
_limits = DEFAULT_LIMITS
_make_example = None
_record_writer = None


@dataclasses.dataclass(frozen=True)
class Task:
    """One image to convert: `stem`.`extension` in the image folder, at `path`; its labels come from the
    annotation file `annotation_path`, or are the CSV's `label_indexes` (0-based) when that is None."""

    stem: str
    extension: str
    path: str
    annotation_path: str = None
    label_indexes: list = None

    @property
    def key(self):
        """(stem, extension): how the CSV names the image."""
        return self.stem, self.extension

    @property
    def file_name(self):
        return "%s.%s" % (self.stem, self.extension)


@dataclasses.dataclass(frozen=True)
class Converted:
    """An image that goes into the TFRecord. `example` is its serialized tf.train.Example, None once a pool
    worker wrote it to its shard file; `unknown_labels` are the annotation's names not in the classes file."""

    example: bytes
    height: int
    width: int
    label_indexes: list
    unknown_labels: list


@dataclasses.dataclass(frozen=True)
class Skipped:
    """An image left out: `reason` is counted in the summary, `detail` shown in its warning."""

    reason: str
    detail: str
    unknown_labels: list


def init(classes, limits=DEFAULT_LIMITS, ignore_interrupts=True):
    """Pool initializer: the class names in id order and the ReadLimits of the images. Ctrl-C is left to
    the parent process, and SIGTERM (the pool's way to stop its workers) ends a worker quietly."""
    global _classes, _class_index, _limits, _make_example, _record_writer
    from core.compat import tf
    from datasets.tfrecord_format import make_example
    _make_example = make_example
    _record_writer = tf.io.TFRecordWriter
    _classes = list(classes)
    _limits = limits
    _class_index = {label_key(name): index for index, name in enumerate(classes)}
    if ignore_interrupts:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _die_with_parent()


def _die_with_parent():
    """Linux: the worker is killed when the conversion process dies, even by kill -9 (a pool worker left
    behind would wait forever for its next task)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before prctl
        os._exit(1)


def process(task):
    """The Converted image of `task`, or why it is Skipped."""
    label_indexes = task.label_indexes
    unknown = []
    if task.annotation_path is not None:
        try:
            names = read_annotation(task.annotation_path, _limits.follow_links)
        except FileRefused as refused:
            return Skipped(ANNOTATION % refused.reason, "%s: %s" % (quote(task.annotation_path), refused.detail),
                           unknown)
        match = match_labels(names, _class_index)
        label_indexes, unknown = match.indexes, match.unknown
        if not label_indexes:
            return Skipped(NO_KNOWN_LABEL, label_list(names) if names else "empty annotation file", unknown)
    try:
        image = read_image(task.path, _limits, os.path.dirname(task.path))
    except ImageProblem as problem:
        return Skipped(problem.reason, problem.detail, unknown)
    example = _make_example(image.encoded, image.format, image.height, image.width, task.file_name,
                            label_indexes, [_classes[index] for index in label_indexes])
    return Converted(example, image.height, image.width, label_indexes, unknown)


def label_list(names, limit=LABELS_SHOWN):
    """`labels: 'a', 'b', ...` for a warning: the first `limit` names of an annotation file, quoted."""
    shown = ", ".join(quote(name, 60) for name in names[:limit])
    return "labels: %s%s" % (shown, ", ... (%d in all)" % len(names) if len(names) > limit else "")


@dataclasses.dataclass(frozen=True)
class ShardJob:
    """A pool job: the Tasks whose good images go to the TFRecord file `path`."""

    path: str
    tasks: list


def write_shard(job):
    """Writes the examples of the good images of ShardJob `job` to its file (created only if one is good)
    and returns the results of process() without the example bytes, so the parent only appends the shard
    to the output instead of receiving every image."""
    results = []
    writer = None
    try:
        for task in job.tasks:
            result = process(task)
            if isinstance(result, Converted):
                if writer is None:
                    writer = _record_writer(job.path)
                writer.write(result.example)
                result = dataclasses.replace(result, example=None)
            results.append(result)
    finally:
        if writer is not None:
            writer.close()
    return results
