"""Errors a user can fix, and the one line of any error worth showing them.

The scripts print a UserError's message and exit non-zero, without a traceback.
"""
import errno
import os

# What to do when a write fails, by the operating system's reason (errno).
_SPACE = "is the disk full?"
WRITE_HINTS = {
    errno.ENOSPC: _SPACE,
    errno.EDQUOT: _SPACE,
    errno.EFBIG: _SPACE,
    errno.EROFS: "the file system is read-only: choose a folder on a writable disk.",
    errno.EACCES: "no permission to write there: choose another folder or change its permissions.",
    errno.EPERM: "no permission to write there: choose another folder or change its permissions.",
}


class UserError(Exception):
    """Bad input, a missing file, an unknown name: the message says what was given and what to do."""


def first_line(error, limit=300):
    """The line of an exception that says what went wrong, at most `limit` characters.

    TensorFlow's graph execution errors start with "Graph execution error:" and a node trace; the
    reason comes after the `Node: ...` line, so that is the line returned for them (or the line after
    "Graph execution error:" where no node trace came, as for an error inside a tf.data function).
    """
    text = getattr(error, "message", None) or str(error)
    lines = [line.strip() for line in text.splitlines() if any(char.isalnum() for char in line)]  # no rules (====)
    for index, line in enumerate(lines):
        if line.startswith("Node: ") and index + 1 < len(lines):
            return lines[index + 1][:limit]
    if len(lines) > 1 and lines[0] == "Graph execution error:":
        return lines[1][:limit]
    return (lines[0] if lines else type(error).__name__)[:limit]


def os_reason(error):
    """Why a write failed, as the operating system put it (`No space left on device`): OSError's
    strerror, or the last clause of a TensorFlow file error's first line."""
    return getattr(error, "strerror", None) or first_line(error).rsplit("; ", 1)[-1]


def os_errno(error):
    """The errno of an OSError, or of a TensorFlow file error recognised by its operating-system wording
    (`...; Read-only file system`); None when neither says."""
    code = getattr(error, "errno", None)
    if code:
        return code
    reason = os_reason(error)
    for code in WRITE_HINTS:
        if reason == os.strerror(code):
            return code
    return None


def write_hint(error):
    """What to tell a user whose write failed with `error`: `is the disk full?` for a full disk, a
    read-only file system or a missing permission said as such, else an empty string."""
    return WRITE_HINTS.get(os_errno(error), "")


def write_failure(error, otherwise="check that folder."):
    """`(reason): what to do` of a message on a failed write: os_reason, then write_hint or `otherwise`."""
    return "(%s): %s" % (os_reason(error), write_hint(error) or otherwise)


def out_of_space(error):
    """Whether a write failed for want of space (a full disk or quota, a file too large)."""
    return WRITE_HINTS.get(os_errno(error)) == _SPACE
