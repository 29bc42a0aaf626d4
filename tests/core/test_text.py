"""core/text.py: names and lines from files reach a terminal escaped and cut; JSON stays JSON."""
import json
import os

from core.errors import WRITE_HINTS, out_of_space, write_failure, write_hint
from core.text import QUOTE_LIMIT, json_line, printable, quote

HOSTILE = "évil\x1b[31mred\x07\x9b2J\u202egnp.exe\udcff"  # ESC, BEL, C1 CSI, bidi override, an undecodable byte


def test_quote_escapes_every_unprintable_character_and_equals_repr_for_plain_names():
    quoted = quote(HOSTILE)
    assert quoted.isprintable() and quoted == repr(HOSTILE)
    assert "\\x1b[31m" in quoted and "\\x9b" in quoted and "\\u202e" in quoted and "\\udcff" in quoted
    assert quote("labels/liste_labels.txt") == "'labels/liste_labels.txt'"
    assert quote(os.fsencode("a\udcffb")) == repr("a\udcffb")  # bytes of a file name


def test_quote_cuts_long_values_and_says_how_long_they_were():
    line = "x" * 689_000
    quoted = quote(line)
    assert quoted == "'%s'... (689000 characters in all)" % ("x" * QUOTE_LIMIT)
    assert len(quote(line, 10)) < 60


def test_printable_keeps_line_breaks_escapes_the_rest_and_cuts_a_long_message():
    assert printable("a\nb\tc") == "a\nb\tc"
    escaped = printable("skipped %s" % HOSTILE)
    assert "\x1b" not in escaped and "\x9b" not in escaped and "\u202e" not in escaped and "\udcff" not in escaped
    escaped.encode("utf-8")  # printable: no lone surrogate left to fail the terminal's encoding
    assert len(printable("y" * 689_000)) < 4100


def test_json_line_is_the_same_json_value_with_nothing_raw():
    value = {"image": HOSTILE, "predictions": [{"label": "femme\x9b", "score": 0.5}]}
    line = json_line(value)
    assert line.isprintable() and json.loads(line) == value
    assert json_line({"label": "âgé"}) == '{"label": "âgé"}'  # printable characters stay as they are


def test_a_read_only_file_system_is_said_as_such_not_as_a_full_disk():
    read_only = OSError(30, os.strerror(30))  # EROFS
    assert "read-only" in write_hint(read_only) and "full" not in write_hint(read_only)
    assert write_hint(OSError(28, os.strerror(28))) == "is the disk full?"  # ENOSPC
    assert "permission" in write_hint(PermissionError(13, os.strerror(13)))
    # A TensorFlow file error has no errno: its wording says it.
    assert write_hint(RuntimeError("could not write f.tfrecord; Read-only file system")) == WRITE_HINTS[30]
    assert write_hint(ValueError("something else")) == ""


def test_a_failed_write_is_said_with_its_reason_and_what_to_do():
    assert write_failure(OSError(28, os.strerror(28))) == "(No space left on device): is the disk full?"
    assert write_failure(OSError(30, os.strerror(30)), "unused") == "(Read-only file system): " + WRITE_HINTS[30]
    assert write_failure(OSError(5, os.strerror(5))) == "(Input/output error): check that folder."
    assert write_failure(OSError(5, os.strerror(5)), "choose another path.") == (
        "(Input/output error): choose another path.")
    assert out_of_space(OSError(28, os.strerror(28))) and out_of_space(RuntimeError("write failed; File too large"))
    assert not out_of_space(OSError(30, os.strerror(30))) and not out_of_space(ValueError("something else"))
