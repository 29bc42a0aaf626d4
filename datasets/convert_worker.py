"""The per-image work of the conversion, run in worker processes (no TensorFlow import here).

A task is (image_path, annotation_path, label_indexes): with an annotation path the labels are read
from it (the CSV is being built), otherwise `label_indexes` come from the CSV.
"""
import signal

from datasets.annotations import match_labels, read_annotation
from datasets.image_files import ImageProblem, read_image

NO_KNOWN_LABEL = "no label of the classes file"
UNREADABLE_ANNOTATION = "unreadable annotation file"

_class_index = {}


def init(class_index, ignore_interrupts=True):
    """Pool initializer: the {label_key: 0-based index} map. Ctrl-C is left to the parent process, and
    SIGTERM (the pool's way to stop its workers) ends a worker quietly."""
    global _class_index
    _class_index = class_index
    if ignore_interrupts:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def process(task):
    """('ok', encoded, format, height, width, label_indexes, unknown_names)
    or ('skip', reason, detail, unknown_names)."""
    image_path, annotation_path, label_indexes = task
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
    return "ok", encoded, image_format, height, width, label_indexes, unknown
