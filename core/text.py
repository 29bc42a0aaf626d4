"""How messages show what came from outside: file names, label names, lines of files.

Anything read from a file or a folder may hold terminal escape sequences (ESC, CSI), other control
characters, bidirectional overrides or bytes that are not UTF-8 (a file name, through Python's
surrogateescape). `quote` shows one such value the way Python's repr does, every character that is not
printable escaped (`'\\x1b[31m'`), and cuts it after QUOTE_LIMIT characters, saying how long it was.
`printable` does the same to a whole message, keeping its line breaks: core/progress.py and core/cli.py
pass every line they print through it, so nothing raw reaches a terminal even where a message forgot to
quote. `json_line` is json.dumps with the same escapes, still valid JSON.

No TensorFlow here.
"""
import json
import os

QUOTE_LIMIT = 200  # characters of one quoted value
MESSAGE_LIMIT = 4000  # characters of one printed message


def _as_text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
        return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value
    return str(value)


def cut(text, limit):
    """`text` whole when it has at most `limit` characters, else its first `limit` and how long it was."""
    if len(text) <= limit:
        return text
    return "%s... (%d characters in all)" % (text[:limit], len(text))


def quote(value, limit=QUOTE_LIMIT):
    """`value` (a str, bytes or path) quoted for a message: repr's escapes, cut after `limit` characters."""
    text = _as_text(value)
    if len(text) <= limit:
        return repr(text)
    return "%s... (%d characters in all)" % (repr(text[:limit]), len(text))


def _escape(character):
    return repr(character)[1:-1]


def printable(message, limit=MESSAGE_LIMIT):
    """A message as it may reach a terminal: cut after `limit` characters, each character that is not
    printable escaped as repr escapes it (line breaks and tabs kept)."""
    text = cut(_as_text(message), limit)
    if text.isprintable():
        return text
    return "".join(character if character.isprintable() or character in "\n\t" else _escape(character)
                   for character in text)


def _json_escape(character):
    code = ord(character)
    if code < 0x10000:
        return "\\u%04x" % code
    code -= 0x10000
    return "\\u%04x\\u%04x" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))


def json_line(value):
    """json.dumps(value, ensure_ascii=False) with every character that is not printable escaped (\\uXXXX):
    the same JSON value, safe on a terminal."""
    text = json.dumps(value, ensure_ascii=False)
    if text.isprintable():
        return text
    return "".join(character if character.isprintable() else _json_escape(character) for character in text)
