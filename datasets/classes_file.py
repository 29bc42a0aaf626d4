"""The classes file: one `N:name` line per class, N counting from 1 (`labels/liste_labels.txt`).

Class N becomes the 0-based index N-1 in every tensor of the suite. A line may also name the attribute
group of its class, `N:name:group` (`1:homme:genre`, `2:femme:genre`, `9:jeune:age`, ...): then every line
names one, each group has two or more classes, and each image is to carry exactly one label of each group
(datasets/label_groups.py). A plain list of names, one per line (the format TensorFlow's label_image reads),
is accepted by `read_label_names` only.
"""
import os
from typing import NamedTuple

from core.errors import UserError
from datasets.annotations import decode_text
from datasets.defaults import CLASSES_PATH
from datasets.flags import CLASSES_FILE
from datasets.label_groups import LabelGroup


class ClassesFile(NamedTuple):
    """What a classes file says: the class names in id order, and the groups its lines name (None: none)."""

    names: list
    groups: tuple = None


def _lines(path, missing=None):
    """The lines of the text file `path`; when it does not exist, a UserError saying `missing` (default: how
    to pass a classes file)."""
    if not os.path.isfile(path):
        raise UserError(missing or "classes file %r does not exist; pass %s with the path of a file of "
                        "`N:name` lines such as %s" % (path, CLASSES_FILE, CLASSES_PATH))
    with open(path, "rb") as handle:
        return decode_text(handle.read()).splitlines()


def read_classes(path):
    """Returns the class names of an `N:name` (or `N:name:group`) classes file, in id order (index = N - 1)."""
    return read_classes_file(path).names


def read_classes_file(path):
    """The ClassesFile of `path`: its class names in id order (index = N - 1) and its groups."""
    by_id, group_of = {}, {}
    for number, line in enumerate(_lines(path), start=1):
        line = line.strip()
        if not line:
            continue
        where = "%s line %d (%r)" % (path, number, line)
        if ":" not in line:
            raise UserError("%s: expected `N:name`, e.g. `1:homme`, or `N:name:group`, e.g. `1:homme:genre`" % where)
        ident, name, *group = (part.strip() for part in line.split(":", 2))
        if not ident.isdigit() or int(ident) < 1:
            raise UserError("%s: the id before ':' must be a whole number from 1" % where)
        if not name:
            raise UserError("%s: the class name after ':' is empty" % where)
        ident = int(ident)
        if ident in by_id:
            raise UserError("%s: id %d is already used by %r" % (where, ident, by_id[ident]))
        if name.lower() in (known.lower() for known in by_id.values()):
            raise UserError("%s: class name %r appears twice" % (where, name))
        if group and not group[0]:
            raise UserError("%s: the group name after the second ':' is empty" % where)
        by_id[ident] = name
        group_of[ident] = group[0] if group else None
    if not by_id:
        raise UserError("classes file %r holds no `N:name` line" % path)
    missing = sorted(set(range(1, max(by_id) + 1)) - set(by_id))
    if missing:
        raise UserError("classes file %r skips id(s) %s: ids must run 1, 2, 3, ... without gaps"
                        % (path, ", ".join(map(str, missing))))
    order = sorted(by_id)
    return ClassesFile([by_id[ident] for ident in order], _groups(path, order, by_id, group_of))


def _groups(path, order, by_id, group_of):
    """The LabelGroup tuple the lines name, in order of first appearance (None when no line names one)."""
    ungrouped = [by_id[ident] for ident in order if group_of[ident] is None]
    if len(ungrouped) == len(order):
        return None
    if ungrouped:
        raise UserError("classes file %r gives a group to some classes but not to %s: give every class a group "
                        "(`N:name:group`), or none" % (path, ", ".join(ungrouped[:5])))
    members = {}
    for ident in order:
        members.setdefault(group_of[ident], []).append(by_id[ident])
    alone = [name for name, classes in members.items() if len(classes) < 2]
    if alone:
        raise UserError("classes file %r: group(s) %s have a single class; a group needs two or more (a yes/no "
                        "attribute is two classes, e.g. `12:lunettes:lunettes` and `13:sans_lunettes:lunettes`)"
                        % (path, ", ".join(alone)))
    return tuple(LabelGroup(name, tuple(classes)) for name, classes in members.items())


def read_label_names(path):
    """Names from a classes file (`N:name`) or a plain list (one name per line), in order."""
    missing = "labels file %r does not exist; pass a classes file of `N:name` lines or a list of names" % path
    lines = [line.strip() for line in _lines(path, missing) if line.strip()]
    if lines and all(":" in line and line.split(":", 1)[0].strip().isdigit() for line in lines):
        return read_classes(path)
    if not lines:
        raise UserError("labels file %r is empty" % path)
    return lines
