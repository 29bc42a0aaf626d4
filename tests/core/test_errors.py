"""core/errors.py: the line of an error worth showing a user."""
import pytest

from core.compat import tf
from core.errors import first_line, os_reason


def test_graph_execution_errors_give_the_reason_after_the_node_line():
    with tf.Graph().as_default():
        decoded = tf.io.decode_image(tf.constant(b"not an image"), channels=3)
        with tf.Session() as session, pytest.raises(tf.errors.OpError) as caught:
            session.run(decoded)
    line = first_line(caught.value)
    assert line and not line.startswith("Graph execution error")
    assert "image" in line.lower()


def test_plain_errors_give_their_first_non_blank_line_cut_to_the_limit():
    assert first_line(ValueError("\n  shape mismatch  \nmore detail")) == "shape mismatch"
    assert first_line(ValueError("x" * 500), limit=10) == "x" * 10
    assert first_line(ValueError()) == "ValueError"


def test_rule_lines_are_skipped():
    # The start of what a chief's Saver raised when its ps had been killed (TensorFlow 2.21, gRPC runtime).
    lost = tf.errors.UnavailableError(None, None, "Graph execution error:\n\n=====================\nUNAVAILABLE: From "
                                      "/job:worker/replica:0/task:0:\nfailed to connect to all addresses\n=====")
    assert first_line(lost) == "UNAVAILABLE: From /job:worker/replica:0/task:0:"
    assert first_line(ValueError("----\n\nbad value")) == "bad value"


def test_os_reason_is_the_os_wording():
    assert os_reason(OSError(28, "No space left on device")) == "No space left on device"
    assert os_reason(RuntimeError("write failed; No space left on device")) == "No space left on device"
