"""The held-out split: deterministic, disjoint, and the same in Python listings and in the pipeline."""
import os

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
