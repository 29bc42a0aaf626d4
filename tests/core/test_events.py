import os

from core import events
from core.compat import tf


def _steps(folder):
    return sorted(event.step for name in os.listdir(folder)
                  for event in tf.compat.v1.train.summary_iterator(os.path.join(folder, name))
                  if event.summary.value)


def test_writers_opened_in_the_same_second_keep_each_others_events(tmp_path):
    # TensorFlow names an event file after the second and the host: evaluations a moment apart (validation every
    # few steps) truncated each other's file, and TensorBoard showed the last point only.
    for step in (2, 4, 6):
        with tf.Graph().as_default():  # as engine/evaluation/reports.py writes them
            writer = events.EventsWriter(str(tmp_path))
            writer.add_summary(tf.compat.v1.Summary(value=[tf.compat.v1.Summary.Value(tag="eval/x",
                                                                                      simple_value=step)]), step)
            writer.close()
    assert _steps(str(tmp_path)) == [2, 4, 6]
    assert len(os.listdir(tmp_path)) == 3
