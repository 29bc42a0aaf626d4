"""core/files.py and core/paths.py on real files: FIFOs, devices, links to themselves and out of their
folder, files larger than the limit; outputs that are inputs or each other."""
import os

import pytest

from core import files
from core.errors import UserError
from core.paths import NamedPath, check_distinct, same_file


@pytest.fixture
def folder(tmp_path):
    inside = tmp_path / "images"
    inside.mkdir()
    (tmp_path / "outside.png").write_bytes(b"outside")
    (inside / "a.png").write_bytes(b"12345")
    os.symlink("a.png", inside / "alias.png")  # a link that stays in the folder
    os.symlink(tmp_path / "outside.png", inside / "out.png")
    os.symlink("loop.png", inside / "loop.png")
    os.symlink("/dev/zero", inside / "zero.png")
    os.mkfifo(inside / "fifo.png")
    return inside


def refusal(path, limit=100, **kwargs):
    with pytest.raises(files.FileRefused) as caught:
        files.read_bounded(str(path), limit, **kwargs)
    return caught.value


def test_regular_files_and_links_that_stay_in_the_folder_are_read(folder):
    assert files.read_bounded(str(folder / "a.png"), 5, str(folder)) == b"12345"
    assert files.read_bounded(str(folder / "alias.png"), 5, str(folder)) == b"12345"


def test_a_link_out_of_the_folder_is_refused_unless_followed(folder, tmp_path):
    refused = refusal(folder / "out.png", folder=str(folder))
    assert refused.reason == files.LEAVES_FOLDER and repr(str(tmp_path / "outside.png")) in refused.detail
    assert files.read_bounded(str(folder / "out.png"), 100, str(folder), follow_links=True) == b"outside"
    assert files.read_bounded(str(folder / "out.png"), 100) == b"outside"  # a path the user named


def test_fifos_devices_and_links_to_themselves_are_refused_at_once(folder):
    # Each would block forever (a FIFO without writer), fill the memory (/dev/zero) or fail (ELOOP).
    assert refusal(folder / "fifo.png").detail == "a FIFO (named pipe)"
    assert refusal(folder / "zero.png", follow_links=True, folder=str(folder)).detail == "a character device"
    assert refusal("/dev/zero").reason == files.SPECIAL_FILE
    assert refusal(folder).detail == "a folder"
    loop = refusal(folder / "loop.png", folder=str(folder))
    assert loop.reason == files.UNREADABLE and "symbolic links" in loop.detail


def test_a_file_larger_than_the_limit_is_refused_with_both_sizes(folder):
    refused = refusal(folder / "a.png", limit=4, limit_name="--max_image_bytes")
    assert refused.reason == files.TOO_LARGE and refused.detail == "5 bytes, more than --max_image_bytes 4 bytes"
    assert files.read_bounded(str(folder / "a.png"), 5) == b"12345"


def test_outputs_equal_to_an_input_or_to_each_other_are_refused(tmp_path):
    classes = tmp_path / "classes.txt"
    classes.write_text("1:a\n")
    os.symlink(classes, tmp_path / "link.txt")
    os.link(classes, tmp_path / "hard.txt")
    assert same_file(str(tmp_path / "link.txt"), str(classes)) and same_file(str(tmp_path / "hard.txt"), str(classes))
    assert same_file(str(tmp_path / "x" / ".." / "new.csv"), str(tmp_path / "new.csv"))  # neither exists
    with pytest.raises(UserError, match=r"--csv_file '.*link.txt' is the same file as --classes_file .* which this "
                                        r"command reads: writing it would destroy it"):
        check_distinct([NamedPath("--csv_file", str(tmp_path / "link.txt"))],
                       [NamedPath("--classes_file", str(classes))])
    with pytest.raises(UserError, match="one would overwrite the other"):
        check_distinct([NamedPath("--csv_file", str(tmp_path / "o")),
                        NamedPath("--tfrecord_file", str(tmp_path / "o"))])
    with pytest.raises(UserError, match="--saved_model .* is a folder replaced whole, and holds --tflite"):
        check_distinct([NamedPath("--saved_model", str(tmp_path / "sm"), is_folder=True),
                        NamedPath("--tflite", str(tmp_path / "sm" / "m.tflite"))])
    check_distinct([NamedPath("--csv_file", str(tmp_path / "l.csv")), NamedPath("--tfrecord_file", None)],
                   [NamedPath("--classes_file", str(classes))])


def test_the_default_pixel_limit_is_pillows():
    from PIL import Image

    from datasets.read_limits import DEFAULT_MAX_IMAGE_PIXELS

    assert DEFAULT_MAX_IMAGE_PIXELS == Image.MAX_IMAGE_PIXELS
