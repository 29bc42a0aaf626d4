"""Damaged and hostile input: TFRecords with a flipped byte or cut short, random bytes as images,
annotation and classes files in other encodings or broken, conversion killed or out of disk, paths
with spaces and accents. Each is handled or refused with a message naming the file and the record or
line at fault; nothing is written under a final name unless it is complete; no traceback."""
import json
import os
import random
import re
import shutil
import signal
import time

import pytest

import download_and_convert_data
import eval_image_classifier
import train_image_classifier
from core.cli import run_main
from datasets.tfrecord_stats import scan
from tests.conftest import CLASSES_FILE, DemoData
from tests.faults import (
    LENET,
    assert_no_traceback,
    damage,
    file_digests,
    read_until,
    record_file_names,
    record_offsets,
    run,
    script,
    split_count,
    start,
    tiny_filesystem,
    train_command,
    wait_gone,
)


def train(data_tfrecord, classes, train_dir, steps, *extra):
    return run_main(train_image_classifier.main, [
        "--tfrecord_file", str(data_tfrecord), "--chemin_liste_labels", classes, "--train_dir", str(train_dir),
        "--max_number_of_steps", str(steps)] + LENET + list(extra))


def evaluate(checkpoint, eval_dir, *extra):
    return run_main(eval_image_classifier.main,
                    ["--checkpoint_path", str(checkpoint), "--eval_dir", str(eval_dir)] + list(extra))


def convert(images, annotations, out, classes=CLASSES_FILE, *extra):
    return run_main(download_and_convert_data.main, [
        "--image_dir", str(images), "--labels_dir", str(annotations), "--chemin_csv", os.path.join(str(out), "l.csv"),
        "--chemin_tfrecords", os.path.join(str(out), "f.tfrecord"), "--classes", str(classes)] + list(extra))


# --- damaged TFRecords ---------------------------------------------------------------------------------

@pytest.mark.parametrize("how, record", [("flip_data", 7), ("flip_length", 30), ("cut", 100), ("cut_header", 119)])
def test_damaged_tfrecord_names_the_record_and_skip_corrupt_records_uses_the_rest(
        faces, tmp_path, capsys, how, record):
    path = str(tmp_path / ("damaged %s é.tfrecord" % how))
    offset, lost = damage(faces.tfrecord, path, how, record, seed=record)
    names = record_file_names(faces.tfrecord)
    assert len(names) == 120

    assert train(path, faces.classes, tmp_path / "refused", 1) == 2
    err = capsys.readouterr().err
    assert "TFRecord %r is corrupt or truncated: record %d (byte %d)" % (path, record + 1, offset) in err, err
    assert ("is cut short" if how.startswith("cut") else "fails its checksum") in err
    assert "--skip_corrupt_records" in err
    assert not os.path.exists(tmp_path / "refused" / "checkpoint")

    readable = [name for index, name in enumerate(names) if index not in lost]
    if how.startswith("cut"):  # the same reader as the flips: count what training would read
        assert scan(path, "train", 25, skip_corrupt_records=True, val_percentage=10)["num_images"] == split_count(
            readable, "train")
        return
    assert train(path, faces.classes, tmp_path / "skipping", 2, "--skip_corrupt_records") == 0
    out, err = capsys.readouterr()
    assert "training lenet on %d images" % split_count(readable, "train") in out
    assert "record %d (byte %d)" % (record + 1, offset) in err and "%d record(s) read whole" % len(readable) in err
    if how == "flip_data":
        # Evaluation: the same message without the flag, the readable held-out images with it.
        assert evaluate(tmp_path / "skipping", tmp_path / "eval", "--tfrecord_file", path) == 2
        assert "record %d (byte %d)" % (record + 1, offset) in capsys.readouterr().err
        assert evaluate(tmp_path / "skipping", tmp_path / "eval", "--tfrecord_file", path,
                        "--skip_corrupt_records") == 0
        metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text(encoding="utf-8"))
        assert metrics["num_images"] == split_count(readable, "test")


def test_random_bytes_as_a_tfrecord_is_refused_by_a_real_process_without_traceback(faces, tmp_path):
    path = tmp_path / "noise.tfrecord"
    path.write_bytes(random.Random(3).randbytes(5000))
    code, out, err = run(train_command(faces, tmp_path / "run", 2, "--tfrecord_file", str(path)))
    assert code == 2
    assert_no_traceback(err)
    assert "TFRecord %r is corrupt or truncated: record 1 (byte 0)" % str(path) in err


# --- conversion: hostile input ---------------------------------------------------------------------

def small_dataset(root, count=6):
    from datasets import demo_faces
    labels = demo_faces.generate(str(root), count, size=32, seed=11, log=lambda *_: None)
    return root / "images", root / "annotations", labels


def test_random_bytes_and_cut_images_are_skipped_naming_each_file(tmp_path, capsys):
    images, annotations, labels = small_dataset(tmp_path / "data")
    rng = random.Random(5)
    bad = []
    for index, extension in enumerate(["jpg", "png", "gif", "bmp", "JPEG", "png"]):
        name = "bruit %d é.%s" % (index, extension)
        content = rng.randbytes(rng.randrange(0, 3000)) if index < 5 else b""
        (images / name).write_bytes(content)
        (annotations / name.rsplit(".", 1)[0]).with_suffix(".txt").write_text("homme\n", encoding="utf-8")
        bad.append(name)
    real = sorted(os.listdir(images))[0]  # a JPEG cut after 200 bytes
    (images / "coupée.jpg").write_bytes((images / real).read_bytes()[:200])
    (annotations / "coupée.txt").write_text("femme\n", encoding="utf-8")
    bad.append("coupée.jpg")
    assert convert(images, annotations, tmp_path / "out") == 0
    out, err = capsys.readouterr()
    assert "wrote %d images" % len(labels) in out
    for name in bad:
        assert re.search(r"skipped .*%s': " % re.escape(name), err), (name, err)
    assert_no_traceback(err)


def test_annotations_in_latin1_bom_crlf_and_blank_lines_are_read(tmp_path, capsys):
    images, annotations, labels = small_dataset(tmp_path / "data", count=4)
    files = sorted(os.listdir(annotations))
    encodings = [("latin-1", "\n"), ("utf-8-sig", "\r\n"), ("utf-8", "\r\n"), ("latin-1", "\r")]
    for (encoding, newline), name in zip(encodings, files):
        names = (annotations / name).read_text(encoding="utf-8").split()
        text = newline.join(["", "  " + names[0].upper() + "  ", ""] + names[1:] + [""])
        (annotations / name).write_bytes(text.encode(encoding))
    assert convert(images, annotations, tmp_path / "out") == 0
    out, err = capsys.readouterr()
    assert "wrote 4 images" in out and "skipped" not in out, err  # nothing skipped: no line about it
    rows = (tmp_path / "out" / "l.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + sum(len(names) for names in labels.values())


CLASSES_CASES = {
    "blank lines, CRLF, BOM": (b"\xef\xbb\xbf\r\n1:homme\r\n\r\n2:femme\r\n\r\n", None),
    "latin-1 name": ("1:homme\n2:femme\n3:âgé\n".encode("latin-1"), None),
    "duplicate name": (b"1:homme\n2:femme\n3:Homme\n", r"line 3 \('3:Homme'\): class name 'Homme' appears twice"),
    "duplicate id": (b"1:homme\n2:femme\n2:jeune\n", r"line 3 \('2:jeune'\): id 2 is already used by 'femme'"),
    "missing colon": (b"1:homme\n2 femme\n", r"line 2 \('2 femme'\): expected `N:name`"),
    "id not a number": (b"1:homme\ndeux:femme\n", r"line 2 \('deux:femme'\): the id before ':' must be a whole"),
    "random bytes": (random.Random(8).randbytes(300).replace(b":", b"."), r"line \d+ \(.*\): expected `N:name`"),
}


@pytest.mark.parametrize("case", sorted(CLASSES_CASES))
def test_classes_files_are_read_or_refused_naming_the_line(tmp_path, capsys, case):
    content, refusal = CLASSES_CASES[case]
    images, annotations, _labels = small_dataset(tmp_path / "data", count=3)
    classes = tmp_path / "classes é.txt"
    classes.write_bytes(content)
    code = convert(images, annotations, tmp_path / "out", classes)
    out, err = capsys.readouterr()
    assert_no_traceback(err)
    if refusal is None:
        assert code == 0 and "wrote 3 images" in out, err
    else:
        assert code == 2
        assert re.search(r"error: %s %s" % (re.escape(repr(str(classes))), refusal), err), err
        assert not os.path.exists(tmp_path / "out" / "f.tfrecord")


# --- conversion: interrupted, out of disk --------------------------------------------------------------

def conversion_command(data, out):
    return script("download_and_convert_data.py") + [
        "--image_dir", data.images, "--labels_dir", data.annotations, "--chemin_csv", os.path.join(out, "l.csv"),
        "--chemin_tfrecords", os.path.join(out, "f.tfrecord"), "--classes", data.classes, "--num_workers", "2"]


def processes_with(text):
    """Process ids whose command line holds `text` (Linux /proc)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")) if os.path.isdir("/proc") else []:
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                if text.encode("utf-8") in handle.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def test_conversion_killed_at_a_random_moment_leaves_no_partial_output_under_the_final_names(faces, tmp_path):
    rng = random.Random(12)
    for signum in (signal.SIGTERM, signal.SIGKILL):  # SIGINT: tests/datasets/test_convert.py
        out = str(tmp_path / signum.name)
        process = start(conversion_command(faces, out))
        lines = []
        assert read_until(process, lambda line: line.startswith("converting"), lines)
        time.sleep(rng.uniform(0.0, 0.15))  # conversion of 120 small faces takes about 0.3 s
        process.send_signal(signum)
        assert wait_gone(process, 60) < 20
        # No worker of its pool is left behind (it would hold the pipes open, and wait forever).
        stdout, err = process.communicate(timeout=30)
        assert not processes_with(out)
        tfrecord, csv = os.path.join(out, "f.tfrecord"), os.path.join(out, "l.csv")
        if os.path.exists(tfrecord):  # renamed before the signal: then both outputs are whole
            assert len(record_offsets(tfrecord)) == 120
            assert len(open(csv, encoding="utf-8").read().splitlines()) == 1 + 120 * 5
        else:
            assert not os.path.exists(csv)
        if signum != signal.SIGKILL:
            if os.path.exists(tfrecord):  # finished: 0, or 130 / killed while it was exiting
                assert process.returncode in (0, 130, -signum)
            else:
                assert process.returncode == 130 and "interrupted" in err
            assert_no_traceback(err)
            assert sorted(set(os.listdir(out)) - {"f.tfrecord", "l.csv"}) == []  # temporaries removed
    # Once more without a signal: complete outputs (a kill -9 leaves only hidden temporaries beside them).
    assert convert(faces.images, faces.annotations, tmp_path / "SIGKILL") == 0
    assert len(record_offsets(str(tmp_path / "SIGKILL" / "f.tfrecord"))) == 120


def test_disk_full_during_conversion_is_a_message_and_keeps_the_previous_outputs(faces, tmp_path, capsys):
    disk = tmp_path / "disk"
    with tiny_filesystem(disk, 200 << 10, largest_file=100 << 10) as limit:
        out = str(disk / "sortie é")
        os.makedirs(out)
        with open(os.path.join(out, "f.tfrecord"), "wb") as handle:
            handle.write(b"previous")
        shutil.copy(os.path.join(faces.root, "labels.csv"), os.path.join(out, "l.csv"))
        before = file_digests(out)
        argv = conversion_command(faces, out)[2:] + ["--rebuild_csv"]
        if limit is None:  # a real full filesystem: the script's main() in this process
            code = run_main(download_and_convert_data.main, argv)
            err = capsys.readouterr().err
        else:
            code, _out, err = run(script("download_and_convert_data.py") + argv, preexec_fn=limit)
        assert code == 2, err[-3000:]
        assert_no_traceback(err)
        assert re.search(r"error: cannot write .*f.tfrecord' and .*l.csv' "
                         r"\((No space left on device|File too large)\): "
                         r"is the disk full\? The previous files, if any, are unchanged", err), err
        assert file_digests(out) == before  # no temporary left, previous outputs as they were


# --- paths with spaces and accents --------------------------------------------------------------------

def test_paths_with_spaces_and_accents_work_from_conversion_to_labelling(tmp_path, capsys):
    root = tmp_path / "données d'été ç"
    images, annotations, labels = small_dataset(root / "visages é", count=12)
    for name in sorted(os.listdir(images))[:4]:  # accented image names too
        stem, extension = name.rsplit(".", 1)
        os.rename(images / name, images / ("é ç %s.%s" % (stem, extension)))
        os.rename(annotations / (stem + ".txt"), annotations / ("é ç %s.txt" % stem))
    out = root / "sortie ç"
    assert convert(images, annotations, out) == 0
    tfrecord, classes = out / "f.tfrecord", CLASSES_FILE
    assert len(record_offsets(str(tfrecord))) == 12
    train_dir = root / "entraînement 1"
    # Training in a real process under the C locale: arguments and paths stay UTF-8.
    data = DemoData(str(root), str(images), str(annotations), str(out / "l.csv"), str(tfrecord), classes)
    code, stdout, err = run(train_command(data, train_dir, 2), env=dict(os.environ, LC_ALL="C", LANG="C"))
    assert code == 0, err[-3000:]
    assert_no_traceback(err)
    assert evaluate(train_dir, root / "évaluation é" / "profond", "--dataset_split_name", "all") == 0
    assert (root / "évaluation é" / "profond" / "metrics.json").exists()
    capsys.readouterr()
    if os.path.exists(os.path.join(os.path.dirname(download_and_convert_data.__file__), "label_image.py")):
        import export_inference_graph
        import label_image
        frozen = root / "modèle gelé.pb"
        assert run_main(export_inference_graph.main, ["--checkpoint_path", str(train_dir),
                                                      "--frozen_graph", str(frozen)]) == 0
        one = sorted(os.listdir(images))[0]
        assert run_main(label_image.main, ["--graph", str(frozen), "--image", str(images / one)]) == 0
        assert "score" in capsys.readouterr().out
