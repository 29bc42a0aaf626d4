"""The classes file: one `N:name` line per class, N counting from 1 (`labels/liste_labels.txt`).

Class N becomes the 0-based index N-1 in every tensor of the suite. A line may also name the attribute
group of its class, `N:name:group` (`1:homme:genre`, `2:femme:genre`, `9:jeune:age`, ...): then every line
names one, each group has two or more classes, and each image is to carry exactly one label of each group
(datasets/label_groups.py). A plain list of names, one per line (the format TensorFlow's label_image reads),
is accepted by `read_label_names` only. Either holds at most MAX_CLASSES classes in at most
MAX_CLASSES_FILE_BYTES (datasets/read_limits.py).
"""
import os
from typing import NamedTuple

from core.errors import UserError
from core.files import FileRefused, read_bounded
from core.text import quote
from datasets.annotations import decode_text
from datasets.defaults import CLASSES_PATH
from datasets.flags import CLASSES_FILE
from datasets.label_groups import LabelGroup
from datasets.read_limits import MAX_CLASSES, MAX_CLASSES_FILE_BYTES

GAPS_SHOWN = 10  # missing ids named in the message


class ClassesFile(NamedTuple):
    """What a classes file says: the class names in id order, and the groups its lines name (None: none)."""

    names: list
    groups: tuple = None


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
    """Returns the class names of an `N:name` (or `N:name:group`) classes file, in id order (index = N - 1)."""
    return read_classes_file(path).names


def read_classes_file(path):
    """The ClassesFile of `path`: its class names in id order (index = N - 1) and its groups."""
    by_id, keys, group_of = {}, set(), {}
    for number, line in enumerate(_lines(path), start=1):
        line = line.strip()
        if not line:
            continue
        where = "%s line %d (%s)" % (quote(path), number, quote(line, 80))
        if ":" not in line:
            raise UserError("%s: expected `N:name`, e.g. `1:homme`, or `N:name:group`, e.g. `1:homme:genre`" % where)
        ident, name, *group = (part.strip() for part in line.split(":", 2))
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
        if group and not group[0]:
            raise UserError("%s: the group name after the second ':' is empty" % where)
        by_id[ident] = name
        keys.add(name.lower())
        group_of[ident] = group[0] if group else None
    if not by_id:
        raise UserError("classes file %s holds no `N:name` line" % quote(path))
    gaps = max(by_id) - len(by_id)  # the ids are distinct, from 1 to the largest
    if gaps:
        last = min(max(by_id), len(by_id) + GAPS_SHOWN)
        shown = [ident for ident in range(1, last + 1) if ident not in by_id][:GAPS_SHOWN]
        raise UserError("classes file %s skips id(s) %s%s: ids must run 1, 2, 3, ... without gaps" % (
            quote(path), ", ".join(map(str, shown)), ", ... (%d in all)" % gaps if gaps > len(shown) else ""))
    order = sorted(by_id)
    return ClassesFile([by_id[ident] for ident in order], _groups(path, order, by_id, group_of))


def _groups(path, order, by_id, group_of):
    """The LabelGroup tuple the lines name, in order of first appearance (None when no line names one)."""
    ungrouped = [by_id[ident] for ident in order if group_of[ident] is None]
    if len(ungrouped) == len(order):
        return None
    if ungrouped:
        raise UserError("classes file %s gives a group to some classes but not to %s: give every class a group "
                        "(`N:name:group`), or none"
                        % (quote(path), ", ".join(quote(name, 80) for name in ungrouped[:5])))
    members = {}
    for ident in order:
        members.setdefault(group_of[ident], []).append(by_id[ident])
    alone = [name for name, classes in members.items() if len(classes) < 2]
    if alone:
        raise UserError("classes file %s: group(s) %s have a single class; a group needs two or more (a yes/no "
                        "attribute is two classes, e.g. `12:lunettes:lunettes` and `13:sans_lunettes:lunettes`)"
                        % (quote(path), ", ".join(quote(name, 80) for name in alone)))
    return tuple(LabelGroup(name, tuple(classes)) for name, classes in members.items())


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
