"""download_and_convert_data.py end to end, on generated folders (paths with spaces and accents)."""
import io
import os
import re
import signal

import numpy as np
import pytest
from PIL import Image

import download_and_convert_data
from core.cli import run_main
from core.compat import tf
from datasets import convert_worker, demo_faces

CLASSES = "labels/liste_labels.txt"
ALL_CLASSES = [line.split(":", 1)[1] for line in open(CLASSES, encoding="utf-8").read().split()]


def read_records(path):
    """{file name: (height, width, labels, texts, decoded shape)} read back with plain tf.data."""
    spec = {
        "image/encoded": tf.io.FixedLenFeature([], tf.string),
        "image/format": tf.io.FixedLenFeature([], tf.string),
        "image/height": tf.io.FixedLenFeature([], tf.int64),
        "image/width": tf.io.FixedLenFeature([], tf.int64),
        "image/filename": tf.io.FixedLenFeature([], tf.string),
        "image/class/label": tf.io.VarLenFeature(tf.int64),
        "image/class/text": tf.io.VarLenFeature(tf.string),
    }
    records = {}
    for serialized in tf.data.TFRecordDataset([path]):
        features = tf.io.parse_single_example(serialized, spec)
        image = tf.io.decode_image(features["image/encoded"], channels=3)
        assert image.dtype == tf.uint8
        name = features["image/filename"].numpy().decode("utf-8")
        assert name not in records
        records[name] = (int(features["image/height"]), int(features["image/width"]),
                         features["image/class/label"].values.numpy().tolist(),
                         [t.decode() for t in features["image/class/text"].values.numpy()],
                         tuple(image.shape))
    return records


def paths(tmp_path):
    root = tmp_path / "jeu de données ç"
    return {"images": root / "images", "annotations": root / "annotations",
            "csv": root / "sortie é" / "labels.csv", "tfrecord": root / "sortie é" / "labels.tfrecord"}


def run(p, *extra, labels_dir=True, classes=CLASSES):
    argv = ["--image_dir", str(p["images"]), "--chemin_csv", str(p["csv"]),
            "--chemin_tfrecords", str(p["tfrecord"]), "--classes", str(classes)]
    if labels_dir:
        argv += ["--labels_dir", str(p["annotations"])]
    return run_main(download_and_convert_data.main, argv + list(extra))


@pytest.fixture
def demo(tmp_path):
    p = paths(tmp_path)
    labels = demo_faces.generate(str(p["images"].parent), 10, 48, seed=5, log=lambda _: None)
    return p, labels


def leftovers(folder):
    return [name for name in os.listdir(folder) if name.endswith(".tmp") or ".part" in name]


def test_happy_path_csv_and_tfrecord(demo, capsys):
    p, labels = demo
    assert run(p) == 0
    out = capsys.readouterr()
    assert "wrote 10 images" in out.out and "Traceback" not in out.err and "warning" not in out.err
    lines = p["csv"].read_text(encoding="utf-8").splitlines()
    assert lines[0] == "image,extension,height,width,label_id,label"
    assert len(lines) == 1 + 10 * 5
    records = read_records(str(p["tfrecord"]))
    assert len(records) == 10
    for name, names in labels.items():
        file_name = [f for f in records if f.rsplit(".", 1)[0] == name][0]
        height, width, ids, texts, shape = records[file_name]
        assert (height, width) == (48, 48) and shape == (48, 48, 3)
        assert ids == sorted(ALL_CLASSES.index(n) for n in names)
        assert texts == [ALL_CLASSES[i] for i in ids]
    homme = sum("homme" in names for names in labels.values())
    assert re.search(r"\b1:homme +%d\n" % homme, out.out)
    assert leftovers(p["csv"].parent) == []


def test_pool_of_workers_writes_every_image_once_in_order(tmp_path):
    p = paths(tmp_path)
    demo_faces.generate(str(p["images"].parent), 100, 32, seed=2, log=lambda _: None)
    assert run(p, "--num_workers", "2") == 0
    names = [name for name in read_records(str(p["tfrecord"]))]
    assert names == sorted(os.listdir(p["images"]))
    assert leftovers(p["csv"].parent) == []


def save(image, path, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def test_bad_inputs_are_skipped_with_one_warning_each(tmp_path, capsys):
    p = paths(tmp_path)
    images, annotations = p["images"], p["annotations"]
    images.mkdir(parents=True)
    annotations.mkdir()
    rng = np.random.default_rng(0)
    face = Image.fromarray(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8))  # 30 high, 40 wide
    good = {
        "plain.jpg": lambda path: save(face, path, "JPEG"),
        "UPPER.JPG": lambda path: save(face, path, "JPEG"),
        "a.name.with.dots.jpeg": lambda path: save(face, path, "JPEG"),
        "gray.png": lambda path: save(face.convert("L"), path, "PNG"),
        "rgba.png": lambda path: save(face.convert("RGBA"), path, "PNG"),
        "palette.png": lambda path: save(face.convert("P"), path, "PNG"),
        "cmyk.jpg": lambda path: save(face.convert("CMYK"), path, "JPEG"),
        "deep.png": lambda path: save(Image.fromarray((np.arange(1200).reshape(30, 40) * 50).astype(np.uint16)),
                                      path, "PNG"),
        "anim.gif": lambda path: face.convert("P").save(path, "GIF", save_all=True,
                                                        append_images=[face.convert("P").rotate(90)]),
        "bitmap.bmp": lambda path: save(face, path, "BMP"),
        "visage é.jpg": lambda path: save(face, path, "JPEG"),
    }
    for name, write in good.items():
        write(images / name)
        (annotations / (name.rsplit(".", 1)[0] + ".txt")).write_text("homme\nvieux\n", encoding="utf-8")
    # Annotation quirks: BOM, CRLF, blank lines, case, spaces; latin-1; an unknown label beside a known one.
    (annotations / "plain.txt").write_bytes(b"\xef\xbb\xbf  HOMME \r\n\r\n Vieux\r\nnez_rond")
    (annotations / "UPPER.txt").write_bytes("femme\nchapeau\n".encode("latin-1"))
    (annotations / "gray.txt").write_bytes("Femme\n\nbarbe_é\n".encode("latin-1"))
    bad = {
        "random.jpg": ("not an image", lambda path: path.write_bytes(bytes(range(256)) * 3)),
        "truncated.jpg": ("corrupt or truncated image",
                          lambda path: path.write_bytes(save(face, path, "JPEG")[:400])),
        "truncated.png": ("corrupt or truncated image",
                          lambda path: path.write_bytes(save(face, path, "PNG")[:-30])),
        "empty.png": ("not an image", lambda path: path.write_bytes(b"")),
        "notes.txt": ("not an image file name (extension)", lambda path: path.write_text("hello")),
        ".DS_Store": ("hidden file", lambda path: path.write_bytes(b"\0\1")),
        "nested.jpg": ("sub-folder", lambda path: path.mkdir()),
        "orphan.jpg": ("no annotation file", lambda path: save(face, path, "JPEG")),
        "unknown.jpg": ("no label of the classes file", lambda path: save(face, path, "JPEG")),
        "blank.jpg": ("no label of the classes file", lambda path: save(face, path, "JPEG")),
    }
    for name, (_reason, write) in bad.items():
        write(images / name)
        if name not in ("orphan.jpg", "notes.txt", ".DS_Store", "nested.jpg"):
            (annotations / (name.rsplit(".", 1)[0] + ".txt")).write_text("homme\n", encoding="utf-8")
    (annotations / "unknown.txt").write_text("licorne\n", encoding="utf-8")
    (annotations / "blank.txt").write_text("\n  \n", encoding="utf-8")

    assert run(p) == 0
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    warnings = [line for line in out.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == len(bad)
    for name, (reason, _write) in bad.items():
        assert sum(name in line and reason in line for line in warnings) == 1, (name, reason, warnings)
    assert "skipped %d files:" % len(bad) in out.out
    assert "ignored label 'chapeau'" in out.out and "ignored label 'barbe_é'" in out.out

    records = read_records(str(p["tfrecord"]))
    assert sorted(records) == sorted(good)
    for name, (height, width, _ids, _texts, shape) in records.items():
        assert (height, width) == (30, 40) and shape == (30, 40, 3), name
    assert records["plain.jpg"][3] == ["homme", "nez_rond", "vieux"]
    assert records["UPPER.JPG"][3] == ["femme"] and records["gray.png"][3] == ["femme"]
    rows = p["csv"].read_text(encoding="utf-8").splitlines()
    assert "a.name.with.dots,jpeg,30,40,1,homme" in rows and "UPPER,JPG,30,40,2,femme" in rows
    assert "visage é,jpg,30,40,11,vieux" in rows


def test_latin1_annotation_matches_accented_class_names(tmp_path, capsys):
    p = paths(tmp_path)
    p["images"].mkdir(parents=True)
    p["annotations"].mkdir()
    classes = tmp_path / "classes é.txt"
    classes.write_text("1:jeune\n2:âgé", encoding="utf-8")  # no final newline
    save(Image.new("RGB", (20, 20)), p["images"] / "x.png", "PNG")
    (p["annotations"] / "x.txt").write_bytes("ÂGÉ\n".encode("latin-1"))
    assert run(p, classes=classes) == 0
    assert read_records(str(p["tfrecord"]))["x.png"][2:4] == ([1], ["âgé"])


@pytest.mark.parametrize("broken, message", [
    ("images", "--image_dir"), ("annotations", "--labels_dir"), ("classes", "classes file"),
    ("bad classes", "expected `N:name`"), ("nothing good", "no image could be written"),
])
def test_bad_setup_exits_2_with_a_message_and_writes_nothing(demo, tmp_path, capsys, broken, message):
    p, _ = demo
    classes = CLASSES
    if broken in ("images", "annotations"):
        p[broken] = tmp_path / "missing folder"
    elif broken == "classes":
        classes = tmp_path / "missing.txt"
    elif broken == "bad classes":
        classes = tmp_path / "bad.txt"
        classes.write_text("homme\nfemme\n")
    else:
        for image in p["images"].iterdir():
            image.write_bytes(image.read_bytes()[:100])
    assert run(p, classes=classes) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not p["csv"].exists() and not p["tfrecord"].exists()
    if p["csv"].parent.exists():
        assert leftovers(p["csv"].parent) == []


def write_legacy_csv(p, labels):
    """The original's CSV: no header, image,extension,height,width,label_id, then nbre_images,<count>."""
    lines = []
    for name, names in labels.items():
        extension = "png" if (p["images"] / (name + ".png")).exists() else "jpg"
        lines += ["%s,%s,48,48,%d" % (name, extension, ALL_CLASSES.index(n) + 1) for n in names]
    p["csv"].parent.mkdir(parents=True, exist_ok=True)
    p["csv"].write_text("\n".join(lines + ["nbre_images,%d" % len(labels)]) + "\n")


def test_legacy_csv_is_read_and_not_rebuilt(demo):
    p, labels = demo
    write_legacy_csv(p, labels)
    before = p["csv"].read_bytes()
    assert run(p, labels_dir=False) == 0
    assert p["csv"].read_bytes() == before
    records = read_records(str(p["tfrecord"]))
    assert {name.rsplit(".", 1)[0]: record[3] for name, record in records.items()} == {
        name: sorted(names, key=ALL_CLASSES.index) for name, names in labels.items()}


def test_an_unchanged_csv_is_read_and_left_as_it_is(demo, capsys):
    p, labels = demo
    assert run(p) == 0
    before = p["csv"].read_bytes()
    capsys.readouterr()
    assert run(p) == 0
    out = capsys.readouterr()
    assert "matches the images and annotation files" in out.out and "warning" not in out.err
    assert "skipped no file" not in out.out
    assert p["csv"].read_bytes() == before and len(read_records(str(p["tfrecord"]))) == len(labels)


def add_face(p, name, labels):
    """Copies face_00001's image under `name` with annotation `labels`."""
    source = [f for f in os.listdir(p["images"]) if f.startswith("face_00001.")][0]
    extension = source.rsplit(".", 1)[1]
    (p["images"] / ("%s.%s" % (name, extension))).write_bytes((p["images"] / source).read_bytes())
    (p["annotations"] / (name + ".txt")).write_text("\n".join(labels) + "\n")
    return "%s.%s" % (name, extension)


def test_a_csv_that_no_longer_matches_the_folders_is_rebuilt_saying_why(demo, capsys):
    # Before: conversion with an existing CSV ignored images added since and annotation files edited since.
    p, labels = demo
    assert run(p) == 0
    added = add_face(p, "face_new", ["femme", "vieux"])
    gone = [f for f in os.listdir(p["images"]) if f.startswith("face_00002.")][0]
    os.remove(p["images"] / gone)
    (p["annotations"] / "face_00003.txt").write_text("homme\njeune\n")
    capsys.readouterr()
    assert run(p) == 0
    out = capsys.readouterr().out
    assert "no longer matched the folders" in out
    assert "1 new image(s) (%s)" % added in out
    assert "1 image(s) gone or no longer converted (%s)" % gone in out
    assert "1 image(s) with other labels in their annotation file (face_00003." in out
    records = {name.rsplit(".", 1)[0]: record[3] for name, record in read_records(str(p["tfrecord"])).items()}
    assert records["face_new"] == ["femme", "vieux"] and records["face_00003"] == ["homme", "jeune"]
    assert "face_00002" not in records and len(records) == len(labels)
    csv_images = {row.split(",")[0] for row in p["csv"].read_text().splitlines()[1:]}
    assert csv_images == set(records)


def test_a_pinned_csv_is_used_as_it_is_and_the_images_it_leaves_out_are_named(demo, capsys):
    p, labels = demo
    assert run(p) == 0
    rows = p["csv"].read_text().splitlines()
    kept = [row for row in rows if not row.startswith("face_00000,")]
    p["csv"].write_text("\n".join(kept) + "\n")
    edited = p["csv"].read_bytes()
    capsys.readouterr()
    assert run(p, "--keep_csv") == 0
    out = capsys.readouterr()
    assert p["csv"].read_bytes() == edited and len(read_records(str(p["tfrecord"]))) == len(labels) - 1
    assert re.search(r"warning: 1 image\(s\) of .* are not in the CSV and were left out \(face_00000\.", out.err)
    assert "drop --keep_csv" in out.err
    # Without the annotations the CSV cannot be checked: the images it leaves out are named all the same.
    assert run(p, labels_dir=False) == 0
    assert "left out (face_00000." in capsys.readouterr().err
    # Unpinned, the CSV is checked against the folders: the image comes back.
    assert run(p) == 0
    assert "1 new image(s) (face_00000." in capsys.readouterr().out
    assert len(read_records(str(p["tfrecord"]))) == len(labels)
    assert run(p, "--rebuild_csv") == 0
    assert len(read_records(str(p["tfrecord"]))) == len(labels)


def test_subset_classes_file_makes_a_smaller_task(demo, tmp_path, capsys):
    p, labels = demo
    classes = tmp_path / "genre.txt"
    classes.write_text("1:homme\n2:femme\n")
    assert run(p, classes=classes) == 0
    out = capsys.readouterr()
    assert "warning" not in out.err
    assert "ignored label 'vieux'" in out.out or "ignored label 'jeune'" in out.out
    for name, record in read_records(str(p["tfrecord"])).items():
        expected = [n for n in labels[name.rsplit(".", 1)[0]] if n in ("homme", "femme")]
        assert record[3] == expected
    ids = {row.split(",")[4] for row in p["csv"].read_text().splitlines()[1:]}
    assert ids <= {"1", "2"}


def test_stale_csv_is_refused_until_rebuilt(demo, tmp_path, capsys):
    p, _ = demo
    assert run(p) == 0
    tfrecord = p["tfrecord"].read_bytes()
    classes = tmp_path / "genre.txt"
    classes.write_text("1:homme\n2:femme\n")
    assert run(p, classes=classes) == 2
    err = capsys.readouterr().err
    assert "--rebuild_csv" in err and "Traceback" not in err
    assert p["tfrecord"].read_bytes() == tfrecord
    # Same number of classes but another order: the label names in the CSV give it away.
    swapped = tmp_path / "swapped.txt"
    swapped.write_text("\n".join("%d:%s" % (i + 1, n) for i, n in enumerate([ALL_CLASSES[1], ALL_CLASSES[0]]
                                                                           + ALL_CLASSES[2:])))
    assert run(p, classes=swapped) == 2
    assert "--rebuild_csv" in capsys.readouterr().err
    assert run(p, "--rebuild_csv", classes=classes) == 0


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_interrupted_run_keeps_previous_outputs_and_removes_temporaries(demo, monkeypatch, how):
    p, _ = demo
    assert run(p) == 0
    csv_before, tfrecord_before = p["csv"].read_bytes(), p["tfrecord"].read_bytes()
    real_process = convert_worker.process
    calls = []

    def interrupting(task):
        calls.append(task)
        if len(calls) == 4:
            if how == "sigterm":
                os.kill(os.getpid(), signal.SIGTERM)
            else:
                raise KeyboardInterrupt
        return real_process(task)
    monkeypatch.setattr("datasets.convert_records.process", interrupting)
    assert run(p, "--rebuild_csv") == 130
    assert p["csv"].read_bytes() == csv_before and p["tfrecord"].read_bytes() == tfrecord_before
    assert leftovers(p["csv"].parent) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_progress_lines_show_rate_and_eta(demo):
    from datasets.convert import ConversionOptions, convert
    p, _ = demo
    lines = []
    options = ConversionOptions(str(p["images"]), str(p["annotations"]), csv_file=str(p["csv"]),
                                tfrecord_file=str(p["tfrecord"]), classes_file=CLASSES)
    convert(options, log=lines.append, warn_fn=lines.append, progress_interval=0)
    progress = [line for line in lines if line.startswith("converted ")]
    assert progress and "/10 images" in progress[0] and "images/s" in progress[0] and "ETA" in progress[0]
