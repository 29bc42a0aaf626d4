"""Outputs that would destroy an input or each other, refused before anything is written.

A command names its outputs and its inputs as NamedPath records (what the path is, for the message, and
the path). Two of them are the same file when their paths, links resolved, are equal, or when both exist
and are the same file (os.path.samefile); an output inside a folder that is replaced whole (a SavedModel)
counts as the same too. `check_distinct` raises a UserError naming the first such pair.

No TensorFlow here.
"""
import os
from typing import NamedTuple

from core.errors import UserError
from core.text import quote


class NamedPath(NamedTuple):
    """A path a command reads or writes: `what` says which (`--csv_file`, `the metadata of --tflite`)."""

    what: str
    path: str
    is_folder: bool = False  # an output folder replaced whole: nothing else may be written inside it


def same_file(first, second):
    """Whether the paths `first` and `second` name the same file (links resolved, hard links found)."""
    if os.path.realpath(first) == os.path.realpath(second):
        return True
    try:
        return os.path.samefile(first, second)
    except OSError:  # one of them does not exist (yet)
        return False


def within(path, folder):
    """Whether `path` lies inside `folder` (links resolved), `folder` itself excluded."""
    root, target = os.path.realpath(folder), os.path.realpath(path)
    return target != root and os.path.commonpath([root, target]) == root


def _clash(output, other):
    if same_file(output.path, other.path):
        return "is the same file as"
    if output.is_folder and within(other.path, output.path):
        return "is a folder replaced whole, and holds"
    if other.is_folder and within(output.path, other.path):
        return "lies inside"
    return None


def check_distinct(outputs, inputs=(), hint="pass a different path for each"):
    """A UserError when an output (NamedPath) is an input or another output; `hint` says what to do.
    None paths are left out."""
    outputs = [item for item in outputs if item.path]
    inputs = [item for item in inputs if item.path]
    for index, output in enumerate(outputs):
        for other in outputs[index + 1:]:
            clash = _clash(output, other)
            if clash:
                raise UserError("%s %s %s %s %s: one would overwrite the other; %s"
                                % (output.what, quote(output.path), clash, other.what, quote(other.path), hint))
        for other in inputs:
            clash = _clash(output, other)
            if clash:
                raise UserError("%s %s %s %s %s, which this command reads: writing it would destroy it; %s"
                                % (output.what, quote(output.path), clash, other.what, quote(other.path), hint))
