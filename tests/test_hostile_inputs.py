"""Hostile and careless input, the read side (issue 22): nothing is read that the user did not name, every
read is bounded, and nothing exhausts the machine or reaches the terminal raw.

The folders of tests/hostile.py hold FIFOs, a link to /dev/zero, a link to itself, links out of the folder
(an image, and an annotation file whose text holds escape sequences), an image whose header says 20000x20000,
an image and an annotation file over their byte limits, and a file name with an escape sequence. The
conversion and label_image run on them as real processes (a FIFO that is opened blocks them forever: the
timeout would say so), and each file is named in one warning with its reason, its output escaped."""
import os
import re
import subprocess

import pytest

import download_and_convert_data
import label_image
from core.cli import run_main
from tests import hostile
from tests.conftest import CLASSES_FILE, ROOT
from tests.faults import assert_no_traceback, record_file_names, script

TIMEOUT = 300  # seconds: a conversion or label_image blocked on a FIFO would end here


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("hostile"))
    images, annotations = hostile.hostile_folders(root)
    return root, images, annotations


def conversion_argv(images, annotations, out, *extra):
    return ["--image_dir", images, "--labels_dir", annotations, "--csv_file", os.path.join(out, "l.csv"),
            "--tfrecord_file", os.path.join(out, "f.tfrecord"), "--classes_file", CLASSES_FILE,
            "--max_image_bytes", str(hostile.MAX_IMAGE_BYTES)] + list(extra)


def assert_nothing_raw(*texts):
    for text in texts:
        assert "\x1b" not in text and "\x07" not in text, text[-2000:]


def skip_line(err, name):
    lines = [line for line in err.splitlines() if line.startswith("warning: skipped '") and
             re.search(r"/%s': " % re.escape(name), line)]
    assert len(lines) == 1, (name, err)
    return lines[0]


def test_conversion_skips_each_hostile_file_naming_it_and_reads_nothing_outside(folders):
    root, images, annotations = folders
    out = os.path.join(root, "out")
    result = subprocess.run(script("download_and_convert_data.py") + conversion_argv(images, annotations, out),
                            cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_no_traceback(result.stderr)
    assert_nothing_raw(result.stdout, result.stderr)
    for name, reason in list(hostile.HOSTILE_IMAGES.items()) + list(hostile.HOSTILE_ANNOTATIONS.items()):
        assert reason in skip_line(result.stderr, name), name
    assert "labels: 'barbe\\x1b[31m'" in skip_line(result.stderr, "evil\\x1b[31m.png")
    assert "root:x" not in result.stdout + result.stderr  # the text of the file outside was never read
    assert "wrote 3 images" in result.stdout
    assert sorted(record_file_names(os.path.join(out, "f.tfrecord"))) == list(hostile.GOOD)
    for reason, count in (("not a regular file", 1), ("link out of its folder", 2), ("unreadable file", 1),
                          ("more pixels than --max_image_pixels", 1), ("file larger than --max_image_bytes", 1),
                          ("annotation: link out of its folder", 1), ("annotation: not a regular file", 1),
                          ("annotation: file larger than the limit", 1), ("no label of the classes file", 1)):
        assert re.search(r"^  %s +%d$" % (re.escape(reason), count), result.stdout, re.M), (reason, result.stdout)


def test_follow_links_reads_through_them_but_never_a_device_and_escapes_what_it_read(folders, tmp_path, capsys):
    _root, images, annotations = folders
    argv = conversion_argv(images, annotations, str(tmp_path), "--follow_links")
    assert run_main(download_and_convert_data.main, argv) == 0
    out, err = capsys.readouterr()
    assert_nothing_raw(out, err)
    assert "wrote 5 images" in out  # out.png, and passwd.png with the label of its annotation outside
    assert "not a regular file (a character device)" in skip_line(err, "zero.png")
    assert "ignored label 'root:x:0:0:secret\\x1b]0;pwned\\x07'" in out  # the text read, escaped
    assert sorted(record_file_names(str(tmp_path / "f.tfrecord"))) == sorted(hostile.GOOD + ("out.png", "passwd.png"))


def write_csv(path, rows):
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("image,extension,height,width,label_id,label\n")
        handle.writelines("%s,%s,16,16,1,homme\n" % row for row in rows)


def test_csv_rows_that_name_paths_are_skipped_and_nothing_valid_left_is_an_error(folders, tmp_path, capsys):
    _root, images, _annotations = folders
    csv = str(tmp_path / "l.csv")
    bad = [("../outside", "png"), ("/etc/passwd", "png"), ("..\\secret", "png"), (".hidden", "png"),
           ("good1", "txt"), ("good2", "png/../../outside.png")]
    write_csv(csv, [("good0", "png")] + bad)
    argv = ["--image_dir", images, "--csv_file", csv, "--tfrecord_file", str(tmp_path / "f.tfrecord"),
            "--classes_file", CLASSES_FILE]
    assert run_main(download_and_convert_data.main, argv) == 0
    out, err = capsys.readouterr()
    for stem, extension in bad:
        assert re.search(r"^warning: skipped %s: " % re.escape(repr("%s.%s" % (stem, extension))), err, re.M), stem
    assert re.search(r"^  CSV name that is a path +4$", out, re.M), out
    assert record_file_names(str(tmp_path / "f.tfrecord")) == ["good0.png"]

    before = hostile.tree_digests(str(tmp_path))
    write_csv(str(tmp_path / "only_bad.csv"), bad)
    argv[3] = str(tmp_path / "only_bad.csv")
    assert run_main(download_and_convert_data.main, argv) == 2
    err = capsys.readouterr().err
    assert_no_traceback(err)
    assert "error: no image could be written (skipped: 4 CSV name that is a path" in err
    before["only_bad.csv"] = hostile.tree_digests(str(tmp_path))["only_bad.csv"]
    assert hostile.tree_digests(str(tmp_path)) == before  # the previous TFRecord as it was


@pytest.mark.parametrize("classes, message", [
    ("1:homme\n1000000000000000000000000000000:femme\n", "is more than the 100000 classes a classes file may hold"),
    ("1:homme\n100000:femme\n", "skips id(s) 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, ... (99998 in all)"),
    ("1:homme\n²:femme\n", "the id before ':' must be a whole number from 1"),
    ("1:homme\n%s\n" % ("x" * 689000), "(689000 characters in all)): expected `N:name`"),
])
def test_class_ids_are_bounded_and_long_lines_cut(folders, tmp_path, capsys, classes, message):
    _root, images, annotations = folders
    (tmp_path / "classes.txt").write_text(classes, encoding="utf-8")
    argv = conversion_argv(images, annotations, str(tmp_path))
    argv[argv.index("--classes_file") + 1] = str(tmp_path / "classes.txt")
    assert run_main(download_and_convert_data.main, argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err) < 1000, err[:2000]


def test_a_csv_id_of_ten_to_the_thirty_is_reported_as_written(folders, tmp_path, capsys):
    _root, images, _annotations = folders
    csv = tmp_path / "l.csv"
    csv.write_text("image,extension,height,width,label_id,label\ngood0,png,16,16,%d,homme\n" % 10 ** 30)
    argv = ["--image_dir", images, "--csv_file", str(csv), "--tfrecord_file", str(tmp_path / "f.tfrecord"),
            "--classes_file", CLASSES_FILE]
    assert run_main(download_and_convert_data.main, argv) == 2
    err = capsys.readouterr().err
    assert "line 2: label_id '%d' is out of range (0 to 2147483647)" % 10 ** 30 in err, err
    assert "-9223372036854775808" not in err


# --- label_image ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def graph(folders):
    root = folders[0]
    path = hostile.tiny_frozen_graph(os.path.join(root, "tiny.pb"))
    with open(os.path.join(root, "names.txt"), "w", encoding="utf-8") as handle:
        handle.write("chat\nchien%s\n" % hostile.ESCAPE)
    return path, os.path.join(root, "names.txt")


def labelling_argv(image, graph, *extra):
    return ["--image", image, "--graph", graph[0], "--labels", graph[1], "--output_layer", "out",
            "--input_mean", "0", "--input_std", "255", "--input_height", "8", "--input_width", "8"] + [
                str(arg) for arg in extra]


def test_label_image_skips_each_hostile_image_of_a_folder_and_labels_the_others(folders, graph, tmp_path):
    _root, images, _annotations = folders
    animated = tmp_path / "animated"  # a folder of its own: the GIF's frames count against the pixel limit
    animated.mkdir()
    (animated / "anim.gif").write_bytes(hostile.animated_gif(10))
    (animated / "still.gif").write_bytes(hostile.animated_gif(1))
    for folder, extra in ((images, ()), (str(animated), ("--max_image_pixels", 1000))):
        result = subprocess.run(script("label_image.py") + labelling_argv(
            folder, graph, "--max_image_bytes", hostile.MAX_IMAGE_BYTES, *extra),
            cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT)
        assert result.returncode == 2, result.stderr[-3000:]
        assert_no_traceback(result.stderr)
        assert_nothing_raw(result.stdout, result.stderr)
        if folder == images:
            for name, reason in hostile.HOSTILE_IMAGES.items():
                assert re.search(r"^warning: skipped: cannot read image '.*/%s': %s" % (
                    re.escape(name), re.escape(reason)), result.stderr, re.M), (name, result.stderr)
            assert "error: 6 of 13 images could not be read" in result.stderr
            assert "chien\\x1b[31m (score = " in result.stdout and "evil\\x1b[31m.png:" in result.stdout
        else:
            assert "anim.gif': more pixels than --max_image_pixels (10 frames of 16x16 pixels: 2560, more than " \
                   "--max_image_pixels 1000" in result.stderr
            assert "still.gif:\n" in result.stdout and "error: 1 of 2 images could not be read" in result.stderr


@pytest.mark.parametrize("flag, value, message", [
    ("--graph", "/dev/zero", "is not a model label_image reads (not a regular file: a character device)"),
    ("--graph", "FIFO", "is not a model label_image reads (not a regular file: a FIFO (named pipe))"),
    ("--labels", "FIFO", "cannot read labels file '{tmp}/fifo': not a regular file (a FIFO (named pipe))"),
    ("--input_height", "100000", "the images fed to the model would be 100000x100000 pixels: 10000000000, more "
                                 "than --max_image_pixels 89478485"),
    ("--max_image_pixels", "0", "--max_image_pixels must be at least 1, got 0"),
])
def test_label_image_refuses_what_would_block_or_exhaust_it(folders, graph, tmp_path, capsys, flag, value, message):
    os.mkfifo(tmp_path / "fifo")
    argv = labelling_argv(os.path.join(folders[1], hostile.GOOD[0]), graph)
    if flag in ("--graph", "--labels"):
        argv[argv.index(flag) + 1] = str(tmp_path / "fifo") if value == "FIFO" else value
    elif flag == "--input_height":
        argv[argv.index("--input_height") + 1] = argv[argv.index("--input_width") + 1] = value
    else:
        argv += [flag, value]
    assert run_main(label_image.main, argv) == 2
    err = capsys.readouterr().err
    assert_no_traceback(err)
    assert message.format(tmp=tmp_path) in err, err


@pytest.mark.parametrize("meta, message", [
    ('"image_size": "abc"', "is damaged: image_size is 'abc', expected a whole number from 1"),
    ('"image_size": 1e300', "is damaged: image_size is 1e+300, expected a whole number from 1"),
    ('"classes": [1, 2]', "is damaged: classes is [1, 2], expected a list of at most 100000 class names"),
    ('"output_node": 5', "is damaged: output_node is 5, expected a string"),
    ('"image_size": 1000000', "would be 1000000x1000000 pixels: 1000000000000, more than --max_image_pixels"),
])
def test_label_image_refuses_export_metadata_of_the_wrong_type_or_size(folders, tmp_path, capsys, meta, message):
    graph = hostile.tiny_frozen_graph(str(tmp_path / "g.pb"))
    (tmp_path / "g.json").write_text('{"format": 1, "input_node": "input", %s}' % meta)
    assert run_main(label_image.main, ["--image", os.path.join(folders[1], hostile.GOOD[0]), "--graph", graph,
                                       "--output_layer", "out"]) == 2
    err = capsys.readouterr().err
    assert_no_traceback(err)
    assert message in err, err
