"""Writes tests/nets/data/<model>.txt: every global variable of a model as `name shape`.

Run from the repository root, e.g. `python tests/nets/data/record_variables.py mobilenet_v1`
(no names: every registered model). Each model is built at its default image size with 1001 classes
and resource variables off, as research/slim's checkpoints were. The test suite only reads these
files; rerun this script only after checking a change against research/slim's architecture.
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, ROOT)

from core.compat import tf  # noqa: E402
from nets import nets_factory  # noqa: E402

NUM_CLASSES = 1001
HERE = os.path.dirname(os.path.abspath(__file__))


def variable_lines(name, num_classes=NUM_CLASSES):
    spec = nets_factory.get_spec(name)
    size = spec.default_image_size
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [1, size, size, 3])
        nets_factory.get_network_fn(name, num_classes)(images)
        return ["%s %s" % (v.op.name, ",".join(str(d) for d in v.shape.as_list()))
                for v in tf.global_variables()]


def main(argv):
    tf.disable_eager_execution()
    tf.disable_resource_variables()
    for name in argv or nets_factory.list_models():
        lines = variable_lines(name)
        with open(os.path.join(HERE, name + ".txt"), "w") as handle:
            handle.write("\n".join(lines) + "\n")
        print("%s: %d variables" % (name, len(lines)))


if __name__ == "__main__":
    main(sys.argv[1:])
