"""The classes file: one `N:name` line per class, N counting from 1 (`labels/liste_labels.txt`).

Class N becomes the 0-based index N-1 in every tensor of the suite. A plain list of names, one per line
(the format TensorFlow's label_image reads), is accepted by `read_label_names` only. Either holds at most
MAX_CLASSES classes in at most MAX_CLASSES_FILE_BYTES (datasets/read_limits.py).
"""
import os

from core.errors import UserError
from core.files import FileRefused, read_bounded
from core.text import quote
from datasets.annotations import decode_text
from datasets.defaults import CLASSES_PATH
from datasets.flags import CLASSES_FILE
from datasets.read_limits import MAX_CLASSES, MAX_CLASSES_FILE_BYTES

GAPS_SHOWN = 10  # missing ids named in the message


def _lines(path, missing=None, what="classes file"):
    """The lines of the text file `path`; when it does not exist, a UserError saying `missing` (default: how
    to pass a classes file)."""
    if not os.path.exists(path):
        raise UserError(missing or "classes file %s does not exist; pass %s with the path of a file of "
                        "`N:name` lines such as %s" % (quote(path), CLASSES_FILE, CLASSES_PATH))
    try:
        data = read_bounded(path, MAX_CLASSES_FILE_BYTES)
    except FileRefused as refused:
        raise UserError("cannot read %s %s: %s (%s); pass a text file of `N:name` lines"
                        % (what, quote(path), refused.reason, refused.detail))
    return decode_text(data).splitlines()


def _is_id(text):
    return text.isascii() and text.isdigit()


def read_classes(path):
    """Returns the class names of an `N:name` classes file, in id order (index = N - 1)."""
    by_id, keys = {}, set()
    for number, line in enumerate(_lines(path), start=1):
        line = line.strip()
        if not line:
            continue
        where = "%s line %d (%s)" % (quote(path), number, quote(line, 80))
        if ":" not in line:
            raise UserError("%s: expected `N:name`, e.g. `1:homme`" % where)
        ident, name = (part.strip() for part in line.split(":", 1))
        if not _is_id(ident) or int(ident) < 1:
            raise UserError("%s: the id before ':' must be a whole number from 1" % where)
        if len(ident) > len(str(MAX_CLASSES)) or int(ident) > MAX_CLASSES:
            raise UserError("%s: id %s is more than the %d classes a classes file may hold"
                            % (where, quote(ident, 40), MAX_CLASSES))
        if not name:
            raise UserError("%s: the class name after ':' is empty" % where)
        ident = int(ident)
        if ident in by_id:
            raise UserError("%s: id %d is already used by %s" % (where, ident, quote(by_id[ident], 80)))
        if name.lower() in keys:
            raise UserError("%s: class name %s appears twice" % (where, quote(name, 80)))
        by_id[ident] = name
        keys.add(name.lower())
    if not by_id:
        raise UserError("classes file %s holds no `N:name` line" % quote(path))
    gaps = max(by_id) - len(by_id)  # the ids are distinct, from 1 to the largest
    if gaps:
        last = min(max(by_id), len(by_id) + GAPS_SHOWN)
        shown = [ident for ident in range(1, last + 1) if ident not in by_id][:GAPS_SHOWN]
        raise UserError("classes file %s skips id(s) %s%s: ids must run 1, 2, 3, ... without gaps" % (
            quote(path), ", ".join(map(str, shown)), ", ... (%d in all)" % gaps if gaps > len(shown) else ""))
    return [by_id[ident] for ident in sorted(by_id)]


def read_label_names(path):
    """Names from a classes file (`N:name`) or a plain list (one name per line), in order."""
    missing = "labels file %s does not exist; pass a classes file of `N:name` lines or a list of names" % quote(path)
    lines = [line.strip() for line in _lines(path, missing, "labels file") if line.strip()]
    if lines and all(":" in line and _is_id(line.split(":", 1)[0].strip()) for line in lines):
        return read_classes(path)
    if not lines:
        raise UserError("labels file %s is empty" % quote(path))
    if len(lines) > MAX_CLASSES:
        raise UserError("labels file %s has %d names, more than the %d classes a labels file may hold"
                        % (quote(path), len(lines), MAX_CLASSES))
    return lines
