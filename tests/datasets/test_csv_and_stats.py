import pytest

from core.compat import tf
from core.errors import UserError
from datasets import tfrecord_format as fmt
from datasets.csv_file import Row, group_by_image, read_csv, write_csv
from datasets.split import in_split
from datasets.tfrecord_stats import scan

CLASSES = ["homme", "femme", "jeune"]


def test_csv_round_trip_and_grouping(tmp_path):
    rows = [Row("a.b", "jpg", 30, 40, 1), Row("a.b", "jpg", 30, 40, 3), Row("c, d", "PNG", 5, 6, 2)]
    path = tmp_path / "l.csv"
    write_csv(str(path), rows, CLASSES)
    assert path.read_text().splitlines()[:2] == ["image,extension,height,width,label_id,label", "a.b,jpg,30,40,1,homme"]
    assert read_csv(str(path), CLASSES) == rows
    assert group_by_image(rows) == {("a.b", "jpg"): (30, 40, [0, 2]), ("c, d", "PNG"): (5, 6, [1])}


def test_legacy_csv(tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_text("x,.jpg,40,30,2\r\nx,.jpg,40,30,3\r\nnbre_images,1\r\n")
    assert read_csv(str(path), CLASSES) == [Row("x", "jpg", 40, 30, 2), Row("x", "jpg", 40, 30, 3)]


@pytest.mark.parametrize("text, message", [
    ("x,jpg,1,1,4\n", "--rebuild_csv"),
    ("image,extension,height,width,label_id,label\nx,jpg,1,1,1,femme\n", "--rebuild_csv"),
    ("x,jpg,tall,1,1\n", "not a whole number"),
    ("x,jpg,1\n", "column"),
    ("image,extension,height,width,label_id,label\n", "no image-label row"),
])
def test_bad_or_stale_csv_is_refused(tmp_path, text, message):
    path = tmp_path / "l.csv"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        read_csv(str(path), CLASSES)


def write_records(path, count):
    with tf.io.TFRecordWriter(str(path)) as writer:
        for index in range(count):
            labels = [index % 2] + ([2] if index % 3 == 0 else [])
            writer.write(fmt.make_example(b"x", "png", 1, 1, "img%03d.png" % index, labels,
                                          [CLASSES[i] for i in labels]))


def test_scan_counts_the_split_without_decoding(tmp_path):
    path = tmp_path / "r é.tfrecord"
    write_records(path, 40)
    everything = scan(str(path), "all", 25)
    assert everything == {"num_images": 40, "max_labels_per_image": 2, "label_counts": {0: 20, 1: 20, 2: 14}}
    train, test = scan(str(path), "train", 25), scan(str(path), "test", 25)
    held_out = sum(bool(in_split(tf.constant("img%03d.png" % i), "test", 25)) for i in range(40))
    assert (train["num_images"], test["num_images"]) == (40 - held_out, held_out)
    with tf.Graph().as_default():  # called while a graph is being built: still eager inside
        assert scan(str(path), "test", 25) == test


def test_scan_names_the_script_when_missing_and_the_file_when_corrupt(tmp_path):
    with pytest.raises(UserError, match="download_and_convert_data.py"):
        scan(str(tmp_path / "none.tfrecord"), "all", 25)
    path = tmp_path / "cut.tfrecord"
    write_records(path, 10)
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(UserError, match="cut.tfrecord.*corrupt"):
        scan(str(path), "all", 25)
