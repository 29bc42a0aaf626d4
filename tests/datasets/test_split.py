"""The held-out split: deterministic, disjoint, and the same in Python listings and in the pipeline."""
import os
from pathlib import Path

from datasets import tfrecord_stats
from datasets.split import main as split_main
from datasets.split import names_in_split


def test_train_and_test_partition_the_images_and_match_the_tfrecord_split(faces, capsys):
    names = sorted(os.listdir(faces.images))
    test = names_in_split(names, "test", 25)
    train = names_in_split(names, "train", 25)
    assert sorted(test + train) == names and not set(test) & set(train)
    assert 10 < len(test) < 50  # about a quarter of 120
    assert len(test) == tfrecord_stats.scan(faces.tfrecord, "test", 25)["num_images"]
    assert names_in_split(names, "test", 25) == test  # deterministic
    assert names_in_split(names, "test", 0) == [] and names_in_split(names, "all", 25) == names
    assert split_main([faces.images, "--split", "test"]) == 0
    assert capsys.readouterr().out.split() == test


def test_the_split_is_the_committed_golden_one_in_a_separate_process(tmp_path):
    """A split that depended on the process (a salted hash, say) would put an image in training for the
    training process and in the held-out set for the evaluation process: the split of a fixed list of names
    is pinned by a committed golden file and computed by a child process."""
    import json
    import subprocess
    import sys

    from tests.conftest import ROOT

    golden = json.loads((Path(__file__).parent / "data" / "split_golden.json").read_text(encoding="utf-8"))
    for name in golden["names"]:
        (tmp_path / name).touch()
    for percentage, expected in golden["test"].items():
        result = subprocess.run([sys.executable, "-m", "datasets.split", str(tmp_path), "--split", "test",
                                 "--validation_percentage", percentage], cwd=ROOT, capture_output=True,
                                text=True, timeout=120, env=dict(os.environ, PYTHONHASHSEED="random"))
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.split("\n")[:-1] == expected, percentage


def test_the_val_part_comes_out_of_train_and_leaves_test_as_it_was(faces):
    names = sorted(os.listdir(faces.images))
    test_before = names_in_split(names, "test", 25)
    train_before = names_in_split(names, "train", 25)
    test, val, train = (names_in_split(names, split, 25, 20) for split in ("test", "val", "train"))
    assert test == test_before  # a run recorded before the val part keeps its test images
    assert sorted(val + train) == train_before and not set(val) & set(train)
    assert 10 < len(val) < 45  # about a fifth of 120
    assert names_in_split(names, "val", 25, 0) == [] and names_in_split(names, "train", 25, 0) == train_before
    assert len(val) == tfrecord_stats.scan(faces.tfrecord, "val", 25, val_percentage=20)["num_images"]


def test_percentages_that_leave_nothing_to_train_on_are_refused():
    import pytest

    from core.errors import UserError
    from datasets.split import check_percentages

    for test, val, message in ((80, 30, "hold out more than every image"), (25, float("nan"), "--val_percentage"),
                               (-1, 0, "--test_percentage -1 is not a percentage")):
        with pytest.raises(UserError, match=message):
            check_percentages(test, val)
    check_percentages(90, 10)
