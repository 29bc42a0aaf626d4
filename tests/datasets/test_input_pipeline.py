"""datasets/input_pipeline.py: the label rows it yields for each image are the annotation's classes-file ids
minus one (and minus --labels_offset), read here independently from the annotation and classes files."""
import os

import numpy as np
import pytest

from core.compat import tf
from datasets.input_pipeline import PipelineOptions, build_dataset
from preprocessing import preprocessing_factory


def _class_ids(classes_file):
    """{lower-case name: N} of the `N:name` lines, parsed here without the project's reader."""
    ids = {}
    for line in open(classes_file, encoding="utf-8"):
        if line.strip():
            number, name = line.split(":", 1)
            ids[name.strip().lower()] = int(number)
    return ids


def _expected_rows(data, labels_offset):
    ids = _class_ids(data.classes)
    rows = {}
    for name in os.listdir(data.annotations):
        row = np.zeros(len(ids) - labels_offset, np.float32)
        for label in open(os.path.join(data.annotations, name), encoding="utf-8").read().splitlines():
            if label.strip().lower() in ids:
                index = ids[label.strip().lower()] - 1 - labels_offset
                if index >= 0:
                    row[index] = 1.0
        rows[os.path.splitext(name)[0]] = row
    return rows


def _pipeline_rows(data, labels_offset):
    num_classes = len(_class_ids(data.classes)) - labels_offset
    with tf.Graph().as_default():
        dataset = build_dataset(data.tfrecord, "all", num_classes, preprocessing_factory.get_preprocessing("lenet"),
                                28, 16, is_training=False, options=PipelineOptions(labels_offset=labels_offset))
        batch = tf.data.make_one_shot_iterator(dataset).get_next()
        rows = {}
        with tf.Session() as session:
            while True:
                try:
                    values = session.run({"labels": batch["labels"], "filenames": batch["filenames"]})
                except tf.errors.OutOfRangeError:
                    return rows
                for filename, row in zip(values["filenames"], values["labels"]):
                    rows[os.path.splitext(filename.decode("utf-8"))[0]] = row


@pytest.mark.parametrize("labels_offset", [0, 1])
def test_multi_label_rows_are_the_annotation_ids_minus_one_and_the_offset(faces, labels_offset):
    expected, got = _expected_rows(faces, labels_offset), _pipeline_rows(faces, labels_offset)
    assert set(got) == set(expected) and len(got) == 120
    for name, row in expected.items():
        np.testing.assert_array_equal(got[name], row, err_msg=name)
    assert min(row.sum() for row in got.values()) >= 4  # five attributes; the offset drops at most one


def test_single_label_rows_are_one_hot_on_the_annotation_id(gender_faces):
    expected, got = _expected_rows(gender_faces, 0), _pipeline_rows(gender_faces, 0)
    assert set(got) == set(expected)
    for name, row in expected.items():
        np.testing.assert_array_equal(got[name], row, err_msg=name)
        assert row.sum() == 1.0
