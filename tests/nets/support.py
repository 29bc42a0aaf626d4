"""Building networks in a fresh graph and describing what they built, for the nets tests.

`REFERENCE` is tests/nets/data/research_slim_nets.json: what research/slim's own code builds for
each model name (see ../shared/reference/README.md where it came from), measured in graph mode with
`nets_factory.get_network_fn(name, num_classes=1001, is_training=True)` on a [1, size, size, 3]
placeholder at the network's default size, with a global step in the graph.
"""
import dataclasses
import json
import math
import os

from core.compat import slim, tf

REFERENCE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "research_slim_nets.json")
with open(REFERENCE_PATH, encoding="utf-8") as _handle:
    REFERENCE = json.load(_handle)


@dataclasses.dataclass
class Built:
    """What one build put in its graph."""
    output: tf.Tensor
    end_points: dict
    graph: tf.Graph
    variables: dict  # name -> shape, every global variable

    @property
    def shapes(self):
        """End point name -> static shape (a list, None where unknown)."""
        return {name: tensor.shape.as_list() for name, tensor in self.end_points.items()}

    def op_types(self):
        return {operation.type for operation in self.graph.get_operations()}

    def dilated(self, scope):
        """Whether a convolution under `scope` is dilated (TensorFlow runs most dilated convolutions
        as a plain one between SpaceToBatchND and BatchToSpaceND)."""
        ops = [op for op in self.graph.get_operations() if op.name.startswith(scope + "/")]
        return any(op.type == "SpaceToBatchND" for op in ops) or any(
            op.get_attr("dilations") != [1, 1, 1, 1] for op in ops
            if op.type in ("Conv2D", "DepthwiseConv2dNative"))

    def count(self, prefix=""):
        """Variables whose name starts with `prefix`."""
        return sum(1 for name in self.variables if name.startswith(prefix))

    def parameters(self, skip=(), skip_moving_statistics=False):
        return sum(math.prod(shape) for name, shape in self.variables.items()
                   if name != "global_step" and not any(name.startswith(prefix) for prefix in skip)
                   and not (skip_moving_statistics and "/moving_" in name))


def build(network_fn, input_shape, arg_scope=None, global_step=True, **kwargs):
    """`network_fn(placeholder, **kwargs)` in a new graph, inside `arg_scope` if given."""
    graph = tf.Graph()
    with graph.as_default():
        if global_step:
            tf.train.get_or_create_global_step()
        images = tf.placeholder(tf.float32, input_shape, name="images")
        if arg_scope is None:
            output, end_points = network_fn(images, **kwargs)
        else:
            with slim.arg_scope(arg_scope):
                output, end_points = network_fn(images, **kwargs)
        variables = {variable.op.name: variable.shape.as_list() for variable in tf.global_variables()}
    return Built(output, end_points, graph, variables)
