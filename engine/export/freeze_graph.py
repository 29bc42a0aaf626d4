"""`python -m engine.export.freeze_graph`: TensorFlow's own freeze_graph tool, with its flags, run quietly.

TensorFlow's tool (`python -m tensorflow.python.tools.freeze_graph`) works as it is on the graphs
export_inference_graph.py writes, but prints a page of deprecation notices and, on CPUs where oneDNN is on by
default, TensorFlow's C++ start-up lines. This entry point imports TensorFlow the way every script of the
suite does (core.compat hides the start-up lines), silences the notices, and hands the command line to the
tool unchanged.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from core.cli import run_main  # noqa: E402
from core.compat import tf  # noqa: E402  (first: it hides TensorFlow's start-up lines)
from core.errors import UserError, first_line  # noqa: E402


def main(argv=None):
    """Runs TensorFlow's freeze_graph on `argv` (its own flags); a failure is one line, not a traceback."""
    from tensorflow.python.tools import freeze_graph

    tf.get_logger().setLevel("ERROR")
    sys.argv = [freeze_graph.__file__] + list(sys.argv[1:] if argv is None else argv)
    try:
        freeze_graph.run_main()
    except SystemExit as exit_:  # absl's app.run ends with sys.exit(main(...))
        if exit_.code not in (None, 0):
            raise
    except (AssertionError, ValueError, OSError, tf.errors.OpError) as error:
        raise UserError("TensorFlow's freeze_graph failed: %s. Check --input_graph, --input_checkpoint and "
                        "--output_node_names (export_inference_graph.py prints the output node)" % first_line(error))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
