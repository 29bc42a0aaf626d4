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
    # Blank lines, a latin-1 name and quoted commas, as the original's tools could leave them.
    path.write_bytes('"a, b",jpg,1,2,1\n\nCaf\xe9 1,png,3,4,3\nnbre_images,2\n'.encode("latin-1"))
    assert read_csv(str(path), CLASSES) == [Row("a, b", "jpg", 1, 2, 1), Row("Caf\xe9 1", "png", 3, 4, 3)]


def test_the_csv_is_read_and_written_with_pandas(tmp_path):
    import pandas

    rows = [Row("face 1", "jpg", 30, 40, 2), Row("x,y", "png", 5, 6, 3)]
    path = tmp_path / "l.csv"
    write_csv(str(path), rows, CLASSES)
    frame = pandas.read_csv(path)  # what a pandas user reads: the header names the columns
    assert list(frame.columns) == ["image", "extension", "height", "width", "label_id", "label"]
    assert frame.to_dict("list") == {"image": ["face 1", "x,y"], "extension": ["jpg", "png"], "height": [30, 5],
                                     "width": [40, 6], "label_id": [2, 3], "label": ["femme", "jeune"]}
    # A file a user edited with pandas (other column order, an index column) still reads.
    frame[["label", "label_id", "width", "height", "extension", "image"]].to_csv(path)
    assert read_csv(str(path), CLASSES) == rows


@pytest.mark.parametrize("text, message", [
    ("x,jpg,1,1,4\n", "--rebuild_csv"),
    ("image,extension,height,width,label_id,label\nx,jpg,1,1,1,femme\n", "--rebuild_csv"),
    ("x,jpg,tall,1,1\n", "not a whole number"),
    ("x,jpg,1\n", "column"),
    ("x,jpg,1,1,1\nx,jpg,1\n", "line 2 has 3 column"),
    ("x,jpg,1,1,1\nx,jpg,1,1,1,9,9\n", "malformed"),
    ("x,,1,1,1\n", "empty image name or extension"),
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
    assert everything == {"num_images": 40, "max_labels_per_image": 2, "label_counts": {0: 20, 1: 20, 2: 14},
                          "class_names": {0: "homme", 1: "femme", 2: "jeune"},
                          # each set of labels with its images, and the names of the first three of them
                          "label_sets": {(0,): 13, (0, 2): 7, (1,): 13, (1, 2): 7},
                          "label_set_examples": {(0,): ["img002.png", "img004.png", "img008.png"],
                                                 (0, 2): ["img000.png", "img006.png", "img012.png"],
                                                 (1,): ["img001.png", "img005.png", "img007.png"],
                                                 (1, 2): ["img003.png", "img009.png", "img015.png"]}}
    train, test = scan(str(path), "train", 25), scan(str(path), "test", 25)
    held_out = sum(bool(in_split(tf.constant("img%03d.png" % i), "test", 25)) for i in range(40))
    assert (train["num_images"], test["num_images"]) == (40 - held_out, held_out)
    with tf.Graph().as_default():  # called while a graph is being built: still eager inside
        assert scan(str(path), "test", 25) == test


def test_scan_reads_the_class_names_the_records_carry_and_none_from_records_without_them(tmp_path):
    path = tmp_path / "names.tfrecord"
    with tf.io.TFRecordWriter(str(path)) as writer:
        writer.write(fmt.make_example(b"x", "png", 1, 1, "a.png", [0, 2], ["homme", "jeune"]))
        writer.write(fmt.make_example(b"x", "png", 1, 1, "b.png", [1], []))  # an older writer: no names
        writer.write(fmt.make_example(b"x", "png", 1, 1, "c.png", [3], ["vieux"]))
    stats = scan(str(path), "all", 25)
    assert stats["class_names"] == {0: "homme", 2: "jeune", 3: "vieux"}
    assert stats["label_counts"] == {0: 1, 1: 1, 2: 1, 3: 1}


def test_scan_names_the_script_when_missing_and_the_file_when_corrupt(tmp_path):
    with pytest.raises(UserError, match="download_and_convert_data.py"):
        scan(str(tmp_path / "none.tfrecord"), "all", 25)
    path = tmp_path / "cut.tfrecord"
    write_records(path, 10)
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(UserError, match="cut.tfrecord.*corrupt"):
        scan(str(path), "all", 25)
