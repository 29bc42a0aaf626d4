import pytest

from core.compat import tf


@pytest.fixture(scope="module", autouse=True)
def tf1_graph_building():
    """Reference variables (as freezing needs) and TF1 tensor hashing (graph building is quadratic
    without it), for every test module of tests/nets."""
    tf.disable_resource_variables()
    tf.disable_tensor_equality()
    yield
    tf.enable_tensor_equality()
    tf.enable_resource_variables()
