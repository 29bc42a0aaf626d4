"""Sharded TFRecords (datasets/shards.py): download_and_convert_data.py --num_shards writes the same records as
one file would, split at record boundaries; every reader takes a file, a pattern, a list or the NAME of the
shards; workers read disjoint parts that together hold every record once; damage is traced to its shard."""
import os

import pytest

import download_and_convert_data
from core.cli import run_main
from core.compat import tf
from core.errors import UserError
from datasets import shards, tfrecord_integrity
from datasets.input_pipeline import PipelineOptions, build_dataset
from datasets.tfrecord_stats import scan
from tests.conftest import CLASSES_FILE
from tests.faults import damage, record_file_names

COUNT = 30


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """30 generated faces converted into one file and into 4 shards (same images, same CSV)."""
    from datasets import demo_faces

    root = tmp_path_factory.mktemp("shards")
    demo_faces.generate(str(root), COUNT, size=32, seed=3, log=lambda *_: None)
    single, sharded = str(root / "one" / "faces.tfrecord"), str(root / "four" / "faces.tfrecord")
    for path, count in ((single, 1), (sharded, 4)):
        assert convert(root, path, "--num_shards", str(count)) == 0
    return root, single, sharded


def convert(root, tfrecord, *extra):
    return run_main(download_and_convert_data.main, [
        "--image_dir", str(root / "images"), "--labels_dir", str(root / "annotations"),
        "--chemin_csv", str(root / "labels.csv"), "--chemin_tfrecords", tfrecord, "--classes", CLASSES_FILE,
        "--num_workers", "1"] + list(extra))


def names(dataset):
    return [name.decode("utf-8") for batch in dataset for name in batch["filenames"].numpy()]


def eval_dataset(spec, split="all", **kwargs):
    return build_dataset(spec, split, 11, lambda image, height, width: tf.image.resize(image, [height, width]),
                         8, 4, is_training=False, options=PipelineOptions(validation_percentage=25, **kwargs))


def test_conversion_writes_equal_shards_whose_records_are_the_single_files(converted, capsys):
    root, single, sharded = converted
    files = sorted(os.listdir(os.path.dirname(sharded)))
    assert files == ["faces.tfrecord-0000%d-of-00004" % index for index in range(4)]
    counts = [len(record_file_names(os.path.join(os.path.dirname(sharded), name))) for name in files]
    assert sum(counts) == COUNT and max(counts) - min(counts) <= 1
    joined = b"".join(open(os.path.join(os.path.dirname(sharded), name), "rb").read() for name in files)
    assert joined == open(single, "rb").read()  # byte for byte, in order


def test_converting_again_in_another_layout_replaces_the_old_files(converted, tmp_path, capsys):
    root, _single, _sharded = converted
    target = str(tmp_path / "faces.tfrecord")
    assert convert(root, target, "--num_shards", "3") == 0
    assert "wrote %d images to 3 shards" % COUNT in capsys.readouterr().out
    assert convert(root, target, "--num_shards", "2") == 0
    assert sorted(os.listdir(tmp_path)) == ["faces.tfrecord-00000-of-00002", "faces.tfrecord-00001-of-00002"]
    assert convert(root, target) == 0
    assert sorted(os.listdir(tmp_path)) == ["faces.tfrecord"]
    assert "removed 2 file(s) of a previous conversion" in capsys.readouterr().out


@pytest.mark.parametrize("value, message", [("0", "--num_shards must be at least 1"),
                                            (str(COUNT + 1), "more than the %d image(s)" % COUNT)])
def test_impossible_shard_counts_are_refused_and_leave_nothing(converted, tmp_path, capsys, value, message):
    root, _single, _sharded = converted
    assert convert(root, str(tmp_path / "f.tfrecord"), "--num_shards", value) == 2
    assert message in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_every_reader_takes_a_file_a_pattern_a_list_or_the_shards_name(converted):
    _root, single, sharded = converted
    expected = record_file_names(single)
    parts = shards.shard_names(sharded, 4)
    for spec in (sharded, sharded + "-*-of-00004", ",".join(parts), parts):
        assert shards.resolve(spec) == parts
        assert sorted(names(eval_dataset(spec))) == sorted(expected)  # files are read interleaved
    assert shards.resolve(single) == [single]
    assert scan(sharded, "train", 25) == scan(single, "train", 25)
    # the held-out split is the same function of the file name, whatever the layout
    assert sorted(names(eval_dataset(sharded + "-*", "test"))) == sorted(names(eval_dataset(single, "test")))


def test_missing_files_and_shards_are_named(converted, tmp_path):
    _root, _single, sharded = converted
    with pytest.raises(UserError, match="does not exist; create it with download_and_convert_data.py"):
        shards.resolve(str(tmp_path / "none.tfrecord"))
    with pytest.raises(UserError, match="pattern .* matches no file"):
        shards.resolve(str(tmp_path / "none-*"))
    partial = str(tmp_path / "faces.tfrecord")
    for index in (0, 1, 3):
        os.link(shards.shard_name(sharded, index, 4), shards.shard_name(partial, index, 4))
    with pytest.raises(UserError, match="1 of the 4 shards .* missing, e.g. .*faces.tfrecord-00002-of-00004"):
        shards.resolve(partial)


@pytest.mark.parametrize("layout, workers", [("four", 2), ("four", 4), ("one", 2), ("four", 3)])
def test_workers_read_disjoint_parts_that_hold_every_record_once(converted, layout, workers):
    _root, single, sharded = converted
    spec = sharded if layout == "four" else single
    parts = [names(eval_dataset(spec, num_workers=workers, worker_index=index)) for index in range(workers)]
    assert sorted(sum(parts, [])) == sorted(record_file_names(single))
    assert max(map(len, parts)) - min(map(len, parts)) <= 2  # balanced, within a record or two
    files, record_shard = shards.for_worker(shards.resolve(spec), workers, 1)
    if layout == "four" and 4 % workers == 0:  # whole shards per worker
        assert record_shard is None and len(files) == 4 // workers
    else:  # every n-th record
        assert record_shard == (workers, 1)


def test_a_damaged_shard_is_named_and_skip_corrupt_records_reads_the_others(converted, tmp_path, capsys):
    _root, single, sharded = converted
    copy = str(tmp_path / "faces.tfrecord")
    for index in range(4):
        source, target = shards.shard_name(sharded, index, 4), shards.shard_name(copy, index, 4)
        if index == 2:
            _offset, lost = damage(source, target, "flip_data", 1)
        else:
            os.link(source, target)
    with pytest.raises(tf.errors.DataLossError) as raised:
        names(eval_dataset(copy))
    message = str(tfrecord_integrity.reading_error(copy, raised.value))  # what training and evaluation say
    assert "faces.tfrecord-00002-of-00004' is corrupt or truncated: record 2" in message
    assert "faces.tfrecord-00002-of-00004' is corrupt" in str(tfrecord_integrity.damaged_file_error(copy + "-*"))
    read = names(eval_dataset(copy, skip_corrupt_records=True))
    assert len(read) == COUNT - len(lost)
    assert "faces.tfrecord-00002-of-00004' is corrupt" in capsys.readouterr().err
