"""Errors a user can fix, and the one line of any error worth showing them.

The scripts print a UserError's message and exit non-zero, without a traceback.
"""


class UserError(Exception):
    """Bad input, a missing file, an unknown name: the message says what was given and what to do."""


def first_line(error, limit=300):
    """The line of an exception that says what went wrong, at most `limit` characters.

    TensorFlow's graph execution errors start with "Graph execution error:" and a node trace; the
    reason comes after the `Node: ...` line, so that is the line returned for them (or the line after
    "Graph execution error:" where no node trace came, as for an error inside a tf.data function).
    """
    text = getattr(error, "message", None) or str(error)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
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
