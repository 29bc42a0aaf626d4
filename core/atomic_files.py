"""Outputs that are the old or the new one at every instant: each is written under a temporary name beside
its final path, then renamed over it. An interrupted or failed write leaves the previous output as it was
and no temporary.

Temporaries are created exclusively (O_EXCL) under unpredictable names, `.NAME.XXXXXXXX.tmp`
(tempfile.mkstemp), so a link planted beside the output cannot redirect the write; they get the
permissions a new file would get (0666 less the umask). A folder (a SavedModel) is built under such a
temporary folder and swapped with the previous one in one step, renameat2(RENAME_EXCHANGE), on Linux 3.15+;
where the system cannot swap two folders, the previous one is moved aside first, with a warning naming
where it is while the new one moves in.

No TensorFlow here: the conversion's worker processes and the demo data generator use it.
"""
import contextlib
import ctypes
import errno
import json
import os
import shutil
import sys
import tempfile

from core.text import quote

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _umask():
    """The process's umask: read from /proc on Linux, else set and set back."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()


def _name_parts(path):
    folder, name = os.path.split(os.path.abspath(path))
    return folder, "." + name + ".", ".tmp"


def create_temporary(path):
    """A new empty file beside `path`, created exclusively under an unpredictable hidden name; its path."""
    folder, prefix, suffix = _name_parts(path)
    descriptor, temporary = tempfile.mkstemp(suffix, prefix, folder)
    try:
        os.fchmod(descriptor, 0o666 & ~_UMASK)
    finally:
        os.close(descriptor)
    return temporary


def create_temporary_folder(path):
    """A new empty folder beside `path`, created exclusively under an unpredictable hidden name; its path."""
    folder, prefix, suffix = _name_parts(path)
    temporary = tempfile.mkdtemp(suffix, prefix, folder)
    os.chmod(temporary, 0o777 & ~_UMASK)
    return temporary


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.remove(path)


@contextlib.contextmanager
def replacing(path):
    """Yields the path of a new temporary file to write; when the block ends without an exception it
    replaces `path`, otherwise it is removed. Creates the folder of `path` if needed."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temporary = create_temporary(path)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        _remove(temporary)


def write_bytes(path, data):
    with replacing(path) as temporary, open(temporary, "wb") as handle:
        handle.write(data)
    return path


def write_json(path, value, sort_keys=False):
    """`value` as indented UTF-8 JSON with a final newline."""
    with replacing(path) as temporary, open(temporary, "w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=2, sort_keys=sort_keys, ensure_ascii=False)
        handle.write("\n")
    return path


def exchange(first, second):
    """Swaps the paths `first` and `second` (two folders, or files) in one step: True when done, False
    when this system cannot (no renameat2, or a file system without RENAME_EXCHANGE). Raises OSError for
    any other failure."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    sys.audit("os.rename", first, second, None, None)  # the event os.rename raises: audit hooks see this one too
    if renameat2(_AT_FDCWD, os.fsencode(os.path.abspath(first)), _AT_FDCWD, os.fsencode(os.path.abspath(second)),
                 _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), first)


def move_aside_then_in(new, path, warn):
    """Replaces the folder `path` by the folder `new` in two renames, for a system without `exchange`:
    the previous folder goes to a hidden sibling first, which `warn` names (a kill between the two
    renames leaves it there). Returns the hidden sibling, to delete."""
    aside = create_temporary_folder(path)
    warn("this system cannot swap two folders in one step (renameat2 RENAME_EXCHANGE): %s is moved to %s "
         "while the new one moves in" % (quote(path), quote(aside)))
    os.replace(path, aside)
    try:
        os.replace(new, path)
    except OSError:
        os.replace(aside, path)
        raise
    return aside


@contextlib.contextmanager
def replacing_folder(path, warn=None):
    """Yields the path of a new temporary folder to fill; when the block ends without an exception it
    takes the place of the folder `path` (swapped with the previous one in one step), otherwise it is
    removed. The previous folder is deleted afterwards."""
    if warn is None:
        from core.progress import warn
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temporary = create_temporary_folder(path)
    try:
        yield temporary
        if not os.path.isdir(path):
            os.replace(temporary, path)
        elif not exchange(temporary, path):  # after the swap, `temporary` holds the previous folder
            _remove(move_aside_then_in(temporary, path, warn))
    finally:
        _remove(temporary)
