"""Reading what the user named, and nothing more: every read is bounded, only regular files are opened,
and a file found in a folder the user named is not read through a link that leads out of that folder
unless the user asked for it (`--follow_links`).

`read_bounded` answers the bytes of a file or raises FileRefused, whose `reason` is one of the closed set
below (the conversion counts its skipped files by reason) and whose `detail` says what the file is. A
FIFO would block the read forever, a device such as /dev/zero would fill the memory, a link to itself
fails with ELOOP: each is refused from its stat, before it is opened, and checked again on the open file
(it may have been swapped in between).

No TensorFlow here: the conversion's worker processes use it.
"""
import os
import stat

from core.text import quote

# Why a file is refused (FileRefused.reason).
UNREADABLE = "unreadable file"
SPECIAL_FILE = "not a regular file"
LEAVES_FOLDER = "link out of its folder"
TOO_LARGE = "file larger than the limit"
REASONS = (UNREADABLE, SPECIAL_FILE, LEAVES_FOLDER, TOO_LARGE)

MIB = 1 << 20
_KINDS = ((stat.S_ISDIR, "folder"), (stat.S_ISFIFO, "FIFO (named pipe)"), (stat.S_ISCHR, "character device"),
          (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket"))


class FileRefused(Exception):
    """A file that is not read: `reason` is one of REASONS, `detail` says what it is."""

    def __init__(self, reason, detail):
        super().__init__("%s (%s)" % (reason, detail))
        self.reason = reason
        self.detail = detail


def file_kind(mode):
    """What a stat mode is, in words: `regular file`, `FIFO (named pipe)`, `character device`, ..."""
    if stat.S_ISREG(mode):
        return "regular file"
    return next((kind for test, kind in _KINDS if test(mode)), "special file")


def size_text(size):
    """A byte count for a message: `1234 bytes`, `12.5 MiB`."""
    return "%d bytes" % size if size < MIB else "%.1f MiB" % (size / MIB)


def is_inside(path, folder):
    """Whether `path`, its links resolved, lies in `folder` (its links resolved too)."""
    root = os.path.realpath(folder)
    return os.path.commonpath([root, os.path.realpath(path)]) == root


def link_out_of(path, folder):
    """Where `path` leads when it is a link out of `folder`, else None."""
    if not os.path.islink(path) or is_inside(path, folder):
        return None
    return os.path.realpath(path)


def _check_regular(info):
    if not stat.S_ISREG(info.st_mode):
        raise FileRefused(SPECIAL_FILE, "a %s" % file_kind(info.st_mode))


def _check_size(size, limit, limit_name):
    if size > limit:
        raise FileRefused(TOO_LARGE, "%s, more than %s %s" % (size_text(size), limit_name or "the limit of",
                                                               size_text(limit)))


def read_bounded(path, limit, folder=None, follow_links=False, limit_name=None):
    """The bytes of the regular file `path`, at most `limit` of them (a larger file is refused).

    `folder`: the folder the user named, where `path` was found; unless `follow_links`, a link from it
    to a file outside is refused. `limit_name` names the limit in the message (`--max_image_bytes`).
    Raises FileRefused."""
    if folder is not None and not follow_links:
        target = link_out_of(path, folder)
        if target is not None:
            raise FileRefused(LEAVES_FOLDER, "to %s; --follow_links reads it" % quote(target))
    try:
        info = os.stat(path)
        _check_regular(info)
        _check_size(info.st_size, limit, limit_name)
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise FileRefused(UNREADABLE, error.strerror or str(error))
    try:
        _check_regular(os.fstat(descriptor))  # the file opened is the one checked
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(descriptor, min(limit + 1 - size, 16 * MIB))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        _check_size(size, limit, limit_name)  # it grew since its stat
        return b"".join(chunks)
    except OSError as error:
        raise FileRefused(UNREADABLE, error.strerror or str(error))
    finally:
        os.close(descriptor)
