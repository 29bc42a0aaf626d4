"""The per-image work of the conversion, run in worker processes: read the labels and the image, check
the image and build its serialized tf.train.Example, so the parent process only writes.

A task is (image_path, file_name, annotation_path, label_indexes): with an annotation path the labels
are read from it (the CSV is being built), otherwise `label_indexes` come from the CSV.
TensorFlow (for the Example message) is imported by init(), not by this module: forked workers
inherit the parent's import.
"""
import os
import signal

from datasets.annotations import label_key, match_labels, read_annotation
from datasets.image_files import ImageProblem, read_image

NO_KNOWN_LABEL = "no label of the classes file"
UNREADABLE_ANNOTATION = "unreadable annotation file"

_classes = []
_class_index = {}
_make_example = None
_record_writer = None


def init(classes, ignore_interrupts=True):
    """Pool initializer: the class names in id order. Ctrl-C is left to the parent process, and
    SIGTERM (the pool's way to stop its workers) ends a worker quietly."""
    global _classes, _class_index, _make_example, _record_writer
    from core.compat import tf
    from datasets.tfrecord_format import make_example
    _make_example = make_example
    _record_writer = tf.io.TFRecordWriter
    _classes = list(classes)
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
    """('ok', serialized example, height, width, label_indexes, unknown_names)
    or ('skip', reason, detail, unknown_names)."""
    image_path, file_name, annotation_path, label_indexes = task
    unknown = []
    if annotation_path is not None:
        try:
            names = read_annotation(annotation_path)
        except OSError as error:
            return "skip", UNREADABLE_ANNOTATION, error.strerror or str(error), unknown
        label_indexes, unknown = match_labels(names, _class_index)
        if not label_indexes:
            detail = "labels: %s" % ", ".join(names) if names else "empty annotation file"
            return "skip", NO_KNOWN_LABEL, detail, unknown
    try:
        encoded, image_format, height, width = read_image(image_path)
    except ImageProblem as problem:
        return "skip", problem.reason, problem.detail, unknown
    example = _make_example(encoded, image_format, height, width, file_name, label_indexes,
                            [_classes[index] for index in label_indexes])
    return "ok", example, height, width, label_indexes, unknown


def write_shard(job):
    """Pool job (shard_path, tasks): writes the examples of the tasks' good images to the TFRecord file
    `shard_path` (created only if one is good) and returns the results of process() without the example
    bytes, so the parent only appends the shard to the output instead of receiving every image."""
    shard_path, tasks = job
    results = []
    writer = None
    try:
        for task in tasks:
            result = process(task)
            if result[0] == "ok":
                if writer is None:
                    writer = _record_writer(shard_path)
                writer.write(result[1])
                result = ("ok", None) + result[2:]
            results.append(result)
    finally:
        if writer is not None:
            writer.close()
    return results
