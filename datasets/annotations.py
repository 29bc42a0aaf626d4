"""Annotation files: `LABELS_DIR/NAME.txt` holds the label names of image `NAME.EXT`, one per line.

Names match the classes file case-insensitively; surrounding spaces, blank lines, CRLF line ends and a
UTF-8 byte-order mark are ignored, and a file that is not UTF-8 is read as latin-1. An annotation file is
read only when it is a regular file of at most MAX_ANNOTATION_BYTES, in `--labels_dir` or reached through a
link that stays in it (unless --follow_links): core/files.py.
"""
import os
import unicodedata
from typing import NamedTuple

from core.files import read_bounded
from datasets.read_limits import MAX_ANNOTATION_BYTES

ANNOTATION_EXTENSION = ".txt"


def decode_text(raw):
    """Text of a small file's bytes: UTF-8 (with or without BOM), else latin-1."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def label_key(name):
    """The form under which label names are compared: stripped, NFC, case-folded."""
    return unicodedata.normalize("NFC", name.strip()).casefold()


def read_annotation(path, follow_links=False):
    """The label names of the annotation file `path` (found in its folder, `--labels_dir`), in file order,
    blank lines dropped. Raises core.files.FileRefused."""
    text = decode_text(read_bounded(path, MAX_ANNOTATION_BYTES, os.path.dirname(path), follow_links))
    return [line.strip() for line in text.splitlines() if line.strip()]


def annotation_index(labels_dir):
    """{image name: annotation path} for every `NAME.txt` (any case of `.txt`) in `labels_dir`."""
    index = {}
    for entry in sorted(os.listdir(labels_dir)):
        stem, extension = entry[:-len(ANNOTATION_EXTENSION)], entry[-len(ANNOTATION_EXTENSION):]
        if extension.lower() == ANNOTATION_EXTENSION and stem and not entry.startswith("."):
            # `NAME.txt` wins over `NAME.TXT` when both exist.
            if stem not in index or extension == ANNOTATION_EXTENSION:
                index[stem] = os.path.join(labels_dir, entry)
    return index


class LabelMatch(NamedTuple):
    """The label names of one annotation file against the classes file."""

    indexes: list  # sorted unique 0-based class indexes of the known names
    unknown: list  # the names the classes file does not hold, in file order


def match_labels(names, class_index):
    """The LabelMatch of an annotation's `names`; `class_index` maps label_key(name) to its index."""
    ids, unknown = set(), []
    for name in names:
        key = label_key(name)
        if key in class_index:
            ids.add(class_index[key])
        else:
            unknown.append(name)
    return LabelMatch(sorted(ids), unknown)
