"""engine/training/summaries.py, summary_budget.py and their use by the step loop: histograms TensorBoard reads
that count every value, detail summaries within their share of a run's time, one set of fetches for every
step, and a value that is not finite named as what it is (never as a damaged TFRecord)."""
import os
import re

import numpy as np
import pytest

import train_image_classifier
from core.cli import run_main
from core.compat import tf
from datasets import tfrecord_format as fmt
from engine.training import step_loop, summaries
from engine.training.summary_budget import DETAIL_SHARE, DetailBudget
from tests.faults import run, script

LENET = ["--model_name", "lenet", "--train_image_size", "28", "--batch_size", "8", "--log_every_n_steps", "1"]


def train(data, train_dir, steps, *extra, tfrecord=None):
    return run_main(train_image_classifier.main, [
        "--tfrecord_file", tfrecord or data.tfrecord, "--chemin_liste_labels", data.classes, "--train_dir",
        str(train_dir), "--max_number_of_steps", str(steps)] + LENET + list(extra))


def events(train_dir):
    """[(step, Summary.Value)] of the event files of `train_dir`."""
    found = []
    for name in sorted(os.listdir(train_dir)):
        if name.startswith("events.out.tfevents"):
            for event in tf.train.summary_iterator(os.path.join(str(train_dir), name)):
                found.extend((event.step, value) for value in event.summary.value)
    return found


def test_histograms_are_tensorboard_histogram_tensors_that_count_every_value(faces, tmp_path):
    assert train(faces, tmp_path, 3, "--optimizer", "sgd", "--learning_rate", "0.01") == 0
    histograms = {(step, value.tag): tf.make_ndarray(value.tensor) for step, value in events(tmp_path)
                  if value.metadata.plugin_data.plugin_name == summaries.HISTOGRAM_PLUGIN}
    assert {tag for step, tag in histograms if step == 3} >= {"LeNet/conv1/weights", "activations/Logits"}
    shapes = tf.train.load_checkpoint(str(tmp_path)).get_variable_to_shape_map()
    for (_, tag), buckets in histograms.items():
        assert buckets.shape == (summaries.HISTOGRAM_BUCKETS, 3)
        assert np.all(buckets[:, 0] < buckets[:, 1]) and np.allclose(buckets[1:, 0], buckets[:-1, 1])
        if tag in shapes:  # a variable: every value counted once
            assert buckets[:, 2].sum() == np.prod(shapes[tag]), tag
    assert histograms[(3, "activations/Logits")][:, 2].sum() == 8 * 11  # a batch of 8, 11 classes


def test_histogram_buckets_hold_each_value_between_the_extremes():
    values = np.array([-2.0, -1.0, 0.0, 0.5, 3.0, 3.0], np.float32)
    with tf.Graph().as_default(), tf.Session() as session:
        buckets, constant = session.run([summaries.histogram_buckets(values, buckets=5),
                                         summaries.histogram_buckets(np.full([4], 7.0, np.float32), buckets=5)])
    np.testing.assert_allclose(buckets[:, 0], [-2, -1, 0, 1, 2])
    np.testing.assert_allclose(buckets[:, 2], [1, 1, 2, 0, 2])  # the maximum lands in the last bucket
    assert constant[0, 0] == 7.0 and constant[:, 2].tolist() == [4, 0, 0, 0, 0]


def simulated_run(steps, step_seconds, detail_seconds, summary_every=1, first_seconds=10.0):
    """Drives a DetailBudget as the step loop does, on a simulated clock: (detail steps, seconds spent on
    details before the last step, the whole run's seconds)."""
    budget, now, written, spent = DetailBudget(start=0.0), 0.0, [], 0.0
    for step in range(steps):
        last = step + 1 == steps
        details = (step % summary_every == 0 or last) and budget.allows(now, last)
        seconds = (first_seconds if step == 0 else step_seconds) + (detail_seconds if details else 0.0)
        if step:
            budget.record(seconds, details)
        now += seconds
        if details:
            written.append(step + 1)
            spent += detail_seconds if not last else 0.0
    return written, spent, now


@pytest.mark.parametrize("steps, detail_seconds", [(28, 0.8), (28, 20.0), (1000, 0.8), (1000, 0.005), (5000, 3.0)])
def test_detail_summaries_keep_to_their_share_of_the_run_and_come_at_the_last_step(steps, detail_seconds):
    written, spent, total = simulated_run(steps, 0.5, detail_seconds)
    assert written[-1] == steps  # whatever they cost
    assert spent <= DETAIL_SHARE * total + 1e-9
    if detail_seconds * 2 < DETAIL_SHARE * steps * 0.5:  # room for more than one: the budget is used
        assert spent >= DETAIL_SHARE * total / 3, written


def test_cheap_details_come_at_every_summary_step_after_the_first_steps():
    written, _, _ = simulated_run(1000, 0.5, 0.001, summary_every=100)
    assert written == [101, 201, 301, 401, 501, 601, 701, 801, 901, 1000]


class RecordingSession(tf.Session):
    """A session that records the fetches and feeds of each run (the step loop's own calls)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = []

    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        self.calls.append((fetches, feed_dict))
        return super().run(fetches, feed_dict, options, run_metadata)


def test_every_step_runs_the_same_fetches_and_feeds_its_summary_level(faces, tmp_path):
    from engine.config.options import TrainOptions
    from engine.training.graph import build_train_graph
    from tests.engine.test_mixed_precision import _settings

    with tf.Graph().as_default() as graph:
        rng = np.random.default_rng(0)
        batch = {"images": tf.constant(rng.uniform(-1, 1, [8, 28, 28, 3]).astype(np.float32)),
                 "labels": tf.constant(rng.integers(0, 2, [8, 5]).astype(np.float32))}
        options = TrainOptions(train_dir=str(tmp_path), batch_size=8, max_number_of_steps=20, save_summaries_steps=5)
        ops = build_train_graph(_settings("lenet", 28), options, "multi", 100, batch)
        with RecordingSession(graph=graph) as recording:
            recording.run(ops.init_op)
            writer = tf.summary.FileWriter(str(tmp_path))
            loop = step_loop.Loop(recording, ops, writer, "unused.tfrecord")
            assert step_loop.run_steps(loop, options) == (20, None)
            writer.close()
    steps = [(fetches, feed) for fetches, feed in recording.calls if isinstance(fetches, list)]
    assert len(steps) == 20
    assert all(fetches == steps[0][0] for fetches, _ in steps)
    levels = [feed[ops.summaries.level] for _, feed in steps]
    assert [index + 1 for index, level in enumerate(levels) if level] == [1, 5, 10, 15, 20]
    assert levels[-1] == summaries.DETAILS and levels[0] == summaries.SCALARS
    tags = {}
    for step, value in events(tmp_path):
        tags.setdefault(value.tag, []).append(step)
    assert tags["total_loss"] == [1, 5, 10, 15, 20]
    assert 20 in tags["activations/Logits"] and set(tags["activations/Logits"]) <= {5, 10, 15, 20}


def test_a_diverging_run_names_the_tensor_and_the_step_and_saves_nothing_of_it(faces, tmp_path):
    # Before: "an image of TFRecord ... cannot be decoded ...; rebuild it": TensorFlow's "Nan in summary
    # histogram" error was read as a decoding one (its op trace names train_image_classifier.py). A real
    # process: histograms of infinite values would abort it.
    code, _, err = run(script("train_image_classifier.py") + [
        "--tfrecord_file", faces.tfrecord, "--chemin_liste_labels", faces.classes, "--train_dir", str(tmp_path),
        "--max_number_of_steps", "2"] + LENET + ["--optimizer", "sgd", "--learning_rate", "1e30"])
    assert code == 2 and "Traceback" not in err, err[-3000:]
    assert re.search(r"training diverged at step 2: (the variable LeNet/\S+|the end point \S+ of the network) "
                     r"holds (NaN|infinite) values", err), err
    assert "TFRecord" not in err and "decoded" not in err
    assert not [name for name in os.listdir(tmp_path) if name.startswith("model.ckpt-2")]


def test_an_image_that_cannot_be_decoded_is_named_with_the_decoders_reason(faces, tmp_path, capsys):
    damaged = str(tmp_path / "faces.tfrecord")
    with tf.io.TFRecordWriter(damaged) as writer:
        for serialized in tf.compat.v1.io.tf_record_iterator(faces.tfrecord):
            example = tf.train.Example.FromString(serialized)
            encoded = example.features.feature[fmt.ENCODED].bytes_list
            encoded.value[0] = encoded.value[0][:40]  # a JPEG cut after its header
            writer.write(example.SerializeToString())
    assert train(faces, tmp_path / "run", 2, tfrecord=damaged) == 2
    err = capsys.readouterr().err
    assert "an image of TFRecord %r cannot be decoded (" % damaged in err
    assert "Graph execution error" not in err and ("jpeg" in err.lower() or "png" in err.lower()), err


def test_an_error_of_an_op_named_images_is_not_taken_for_a_damaged_tfrecord(tmp_path):
    # Before: any InvalidArgumentError whose text said "image" (an op name, train_image_classifier.py in its
    # trace) was reported as an image of the TFRecord that cannot be decoded.
    from datasets import tfrecord_integrity

    with tf.Graph().as_default():
        checked = tf.debugging.check_numerics(tf.constant([1.0, float("nan")]), "images", name="images/check")
        with tf.Session() as session, pytest.raises(tf.errors.InvalidArgumentError) as raised:
            session.run(checked)
    assert tfrecord_integrity.reading_error(str(tmp_path / "faces.tfrecord"), raised.value) is None
