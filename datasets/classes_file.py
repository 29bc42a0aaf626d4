"""The classes file: one `N:name` line per class, N counting from 1 (`labels/liste_labels.txt`).

Class N becomes the 0-based index N-1 in every tensor of the suite. A plain list of names, one per line
(the format TensorFlow's label_image reads), is accepted by `read_label_names` only.
"""
import os

from core.errors import UserError
from datasets.annotations import decode_text
from datasets.defaults import CLASSES_PATH
from datasets.flags import CLASSES_FILE


def _lines(path, missing=None):
    """The lines of the text file `path`; when it does not exist, a UserError saying `missing` (default: how
    to pass a classes file)."""
    if not os.path.isfile(path):
        raise UserError(missing or "classes file %r does not exist; pass %s with the path of a file of "
                        "`N:name` lines such as %s" % (path, CLASSES_FILE, CLASSES_PATH))
    with open(path, "rb") as handle:
        return decode_text(handle.read()).splitlines()


def read_classes(path):
    """Returns the class names of an `N:name` classes file, in id order (index = N - 1)."""
    by_id = {}
    for number, line in enumerate(_lines(path), start=1):
        line = line.strip()
        if not line:
            continue
        where = "%s line %d (%r)" % (path, number, line)
        if ":" not in line:
            raise UserError("%s: expected `N:name`, e.g. `1:homme`" % where)
        ident, name = (part.strip() for part in line.split(":", 1))
        if not ident.isdigit() or int(ident) < 1:
            raise UserError("%s: the id before ':' must be a whole number from 1" % where)
        if not name:
            raise UserError("%s: the class name after ':' is empty" % where)
        ident = int(ident)
        if ident in by_id:
            raise UserError("%s: id %d is already used by %r" % (where, ident, by_id[ident]))
        if name.lower() in (known.lower() for known in by_id.values()):
            raise UserError("%s: class name %r appears twice" % (where, name))
        by_id[ident] = name
    if not by_id:
        raise UserError("classes file %r holds no `N:name` line" % path)
    missing = sorted(set(range(1, max(by_id) + 1)) - set(by_id))
    if missing:
        raise UserError("classes file %r skips id(s) %s: ids must run 1, 2, 3, ... without gaps"
                        % (path, ", ".join(map(str, missing))))
    return [by_id[ident] for ident in sorted(by_id)]


def read_label_names(path):
    """Names from a classes file (`N:name`) or a plain list (one name per line), in order."""
    missing = "labels file %r does not exist; pass a classes file of `N:name` lines or a list of names" % path
    lines = [line.strip() for line in _lines(path, missing) if line.strip()]
    if lines and all(":" in line and line.split(":", 1)[0].strip().isdigit() for line in lines):
        return read_classes(path)
    if not lines:
        raise UserError("labels file %r is empty" % path)
    return lines
