"""nets_factory: every registered network builds what research/slim's own code builds.

The reference (tests/nets/support.py, REFERENCE) was measured by running research/slim's networks:
for each of its 32 model names, the variables (names and shapes), the end points (names and static
shapes) and the logits op. Each network is built here the same way (graph mode,
`get_network_fn(name, 1001, is_training=True)`, a [1, size, size, 3] placeholder at its default
size, a global step in the graph) and must equal it exactly: then research/slim's checkpoints
restore unchanged and code reading research/slim's end points finds the same tensors.
"""
import functools

import numpy as np
import pytest

from core.compat import tf
from core.errors import UserError
from nets import nets_factory
from preprocessing import preprocessing_factory
from tests.nets.support import REFERENCE, build

NUM_CLASSES = 1001  # what the reference was measured with
ADDS_SOFTMAX = ("alexnet_v2", "overfeat", "vgg_16", "vgg_19", "vgg_a")


@functools.lru_cache(maxsize=None)
def _reference_build(name):
    """The network `name` built as the reference was measured (once per name for all tests)."""
    size = REFERENCE[name]["image_size"]
    network_fn = nets_factory.get_network_fn(name, NUM_CLASSES, is_training=True)
    built = build(network_fn, [1, size, size, 3])
    softmax = sorted(op.name for op in built.graph.get_operations() if op.type == "Softmax")
    output_node = built.graph.get_operation_by_name(nets_factory.get_spec(name).output_node)
    return {"variables": built.variables, "end_points": built.shapes,
            "logits": [built.output.op.name, built.output.shape.as_list()], "softmax_ops": softmax,
            "default_image_size": network_fn.default_image_size,
            "predictions": nets_factory.predictions_end_point(built.end_points).op.name,
            "output_node_type": output_node.type, "output_node_shape": output_node.outputs[0].shape.as_list()}


def test_the_reference_holds_the_32_research_slim_models_and_the_factory_all_of_them():
    assert len(REFERENCE) == 32
    assert nets_factory.list_models() == sorted(REFERENCE)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_variables_equal_research_slims(name):
    assert _reference_build(name)["variables"] == REFERENCE[name]["variables"]


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_end_points_equal_research_slims(name):
    assert _reference_build(name)["end_points"] == REFERENCE[name]["end_points"]


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_logits_op_equals_research_slims(name):
    assert _reference_build(name)["logits"] == REFERENCE[name]["logits"]


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_default_image_size_equals_research_slims(name):
    assert _reference_build(name)["default_image_size"] == REFERENCE[name]["image_size"]
    assert nets_factory.get_spec(name).default_image_size == REFERENCE[name]["image_size"]


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_output_node_is_the_softmax_of_the_logits(name):
    built = _reference_build(name)
    spec = nets_factory.get_spec(name)
    assert built["predictions"] == spec.output_node
    assert built["output_node_shape"] == [1, NUM_CLASSES]
    if name in ADDS_SOFTMAX:
        # research/slim builds no softmax here: the factory's one is the only addition to its graph,
        # and it is not an end point.
        assert spec.adds_softmax
        assert REFERENCE[name]["softmax_ops"] == []
        assert built["softmax_ops"] == [spec.output_node.rsplit("/", 1)[0] + "/Softmax"]
    else:
        assert not spec.adds_softmax
        assert built["softmax_ops"] == REFERENCE[name]["softmax_ops"]


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_logits_scopes_hold_the_class_dependent_variables(name):
    """Excluding the logits scopes when fine-tuning drops every variable sized by num_classes."""
    spec = nets_factory.get_spec(name)
    variables = REFERENCE[name]["variables"]
    sized_by_classes = [var for var, shape in variables.items() if shape and shape[-1] == NUM_CLASSES]
    assert sized_by_classes
    for var in sized_by_classes:
        assert any(var.startswith(scope + "/") for scope in spec.logits_scopes), var
    for scope in spec.logits_scopes:
        assert any(var.startswith(scope + "/") for var in variables), scope
    assert spec.preprocessing_name in preprocessing_factory.FAMILIES
    assert spec.min_image_size <= spec.default_image_size


# One model per network function whose features are not checked in its family's tests (VGG, AlexNet,
# OverFeat, MobileNet, ResNet and NASNet / PNASNet are, in tests/nets/test_*.py).
FEATURE_MODELS = [("lenet", {}), ("cifarnet", {}), ("inception_v1", {}), ("inception_v2", {}),
                  ("inception_v3", {}), ("inception_v4", {}), ("inception_resnet_v2", {})]


@pytest.mark.parametrize("name, kwargs", FEATURE_MODELS, ids=[name for name, _ in FEATURE_MODELS])
def test_without_classes_every_network_returns_its_pre_logits_features(name, kwargs):
    spec = nets_factory.get_spec(name)
    no_classes = None if len(name) % 2 else 0  # research/slim takes both
    network_fn = nets_factory.get_network_fn(name, no_classes, is_training=True)
    built = build(network_fn, [1, spec.min_image_size, spec.min_image_size, 3], **kwargs)
    assert any(built.output is tensor for tensor in built.end_points.values())
    assert not {"Logits", "AuxLogits", "Predictions", "predictions"} & set(built.end_points)
    assert not [var for var in built.variables if any(var.startswith(scope + "/") for scope in spec.logits_scopes)]
    if not kwargs:
        assert all(var in REFERENCE[name]["variables"] for var in built.variables)
    with built.graph.as_default():
        assert not [op for op in built.graph.get_operations() if op.type == "Softmax"]


# Published parameter counts, for 1000 classes (here: 1001, one more row of weights and one bias).
@pytest.mark.parametrize("name, aux_scope, published, features", [
    # Keras Applications' counts: every variable, batch norm moving statistics included, no aux head.
    ("mobilenet_v1", None, 4253864, 1024),
    ("mobilenet_v2", None, 3538984, 1280),
    ("inception_v3", "InceptionV3/AuxLogits", 23851784, 2048),
    ("inception_resnet_v2", "InceptionResnetV2/AuxLogits", 55873736, 1536),
    ("vgg_16", None, 138357544, 4096),
    ("vgg_19", None, 143667240, 4096),
    ("nasnet_mobile", "aux_7", 5326716, 1056),
    ("nasnet_large", "aux_11", 88949818, 4032),
])
def test_parameter_counts_equal_keras_applications(name, aux_scope, published, features):
    built = _reference_build(name)["variables"]
    count = sum(int(np.prod(shape)) for var, shape in built.items()
                if var != "global_step" and not (aux_scope and var.startswith(aux_scope + "/")))
    assert count == published + features + 1


def _trainable_without_aux(name, aux_scope, features):
    """Weights, biases and batch norm offsets/scales of the 1000-class network, aux head excluded."""
    built = _reference_build(name)["variables"]
    count = sum(int(np.prod(shape)) for var, shape in built.items()
                if var != "global_step" and "/moving_" not in var and not var.startswith(aux_scope + "/"))
    return count - (features + 1)


def test_pnasnet_parameter_counts_equal_the_papers():
    # Liu et al., Progressive Neural Architecture Search (2018): PNASNet-5 mobile 5.1M, large 86.1M;
    # timm's port of these weights lists 86.06M for the large one.
    assert round(_trainable_without_aux("pnasnet_mobile", "aux_5", 1080) / 1e5) == 51
    assert round(_trainable_without_aux("pnasnet_large", "aux_7", 4320) / 1e4) == 8606


def test_inception_v4_parameter_count_equals_timms_port():
    # timm's PyTorch port of research/slim's Inception v4 weights has 42.68M parameters: the same
    # layers, plus a batch norm scale per channel (research/slim's Inception batch norms have none;
    # there is one moving variance per channel).
    built = _reference_build("inception_v4")["variables"]
    scales = sum(shape[0] for var, shape in built.items()
                 if var.endswith("/moving_variance") and not var.startswith("InceptionV4/AuxLogits/"))
    count = _trainable_without_aux("inception_v4", "InceptionV4/AuxLogits", 1536) + scales
    assert round(count / 1e4) == 4268


def test_two_clones_share_variables():
    with tf.Graph().as_default():
        network_fn = nets_factory.get_network_fn("mobilenet_v1_025", 3, is_training=True)
        images = tf.zeros([1, 32, 32, 3])
        with tf.name_scope("clone_0"):
            network_fn(images)
        count = len(tf.global_variables())
        with tf.name_scope("clone_1"):
            logits, end_points = network_fn(images, reuse=True)
        assert len(tf.global_variables()) == count
        assert end_points["Predictions"].op.name == "clone_1/MobilenetV1/Predictions/Reshape_1"
        with tf.variable_scope(tf.get_variable_scope(), reuse=True):
            nets_factory.get_network_fn("mobilenet_v1_025", 3)(images)
        assert len(tf.global_variables()) == count


def test_added_softmax_of_each_clone_is_found_from_its_end_points():
    with tf.Graph().as_default():
        network_fn = nets_factory.get_network_fn("alexnet_v2", 3, is_training=True)
        images = tf.zeros([2, 224, 224, 3])
        with tf.name_scope("clone_0"):
            logits_0, end_points_0 = network_fn(images)
        with tf.name_scope("clone_1"):
            logits_1, end_points_1 = network_fn(images, reuse=True)
        assert not {"predictions", "Predictions"} & set(end_points_0)
        assert nets_factory.predictions_end_point(end_points_0).op.name == \
            "clone_0/alexnet_v2/predictions/Reshape_1"
        assert nets_factory.predictions_end_point(end_points_1).op.name == \
            "clone_1/alexnet_v2/predictions/Reshape_1"
        with pytest.raises(KeyError):
            nets_factory.predictions_end_point({"features": images})


def test_keyword_arguments_reach_the_network():
    """network_fn(images, **kwargs) passes research/slim's arguments through, e.g. spatial_squeeze."""
    with tf.Graph().as_default():
        network_fn = nets_factory.get_network_fn("vgg_a", 3)
        logits, end_points = network_fn(tf.zeros([1, 256, 256, 3]), spatial_squeeze=False)
        assert logits.shape.as_list() == [1, 2, 2, 3]
        assert nets_factory.predictions_end_point(end_points).shape.as_list() == [1, 2, 2, 3]


@pytest.mark.parametrize("name", ["lenet", "cifarnet", "alexnet_v2", "mobilenet_v2_035"])
def test_output_node_gives_probabilities(name):
    spec = nets_factory.get_spec(name)
    with tf.Graph().as_default() as graph:
        images = tf.random.uniform([2, spec.default_image_size, spec.default_image_size, 3], -1, 1, seed=1)
        logits, _ = nets_factory.get_network_fn(name, 5, is_training=False)(images)
        output = graph.get_operation_by_name(spec.output_node).outputs[0]
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            logits_value, probabilities = session.run([logits, output])
    assert np.all(np.isfinite(logits_value)) and probabilities.shape == (2, 5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_weight_decay_adds_regularization_losses():
    with tf.Graph().as_default():
        nets_factory.get_network_fn("lenet", 3, weight_decay=0.01)(tf.zeros([1, 28, 28, 3]))
        assert len(tf.losses.get_regularization_losses()) == 4  # conv1, conv2, fc3, fc4 weights


def test_batch_norm_decay_is_refused_for_a_network_without_batch_norm():
    with pytest.raises(UserError, match="no batch normalization"):
        nets_factory.get_network_fn("vgg_16", 3, batch_norm_decay=0.9)


def test_too_small_images_are_refused_with_the_network_default():
    with tf.Graph().as_default():
        with pytest.raises(UserError, match="vgg_16 cannot take 64x64 images.*224"):
            nets_factory.get_network_fn("vgg_16", 3)(tf.zeros([1, 64, 64, 3]))


def test_unknown_model_names_valid_ones():
    with pytest.raises(UserError) as error:
        nets_factory.get_spec("resnet_v3")
    assert "resnet_v3" in str(error.value) and "mobilenet_v1" in str(error.value)
