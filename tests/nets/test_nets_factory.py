"""nets_factory: every registered model builds, runs, names its nodes and variables as research/slim.

Each model is built once, in graph mode with resource variables off (as freezing needs), at its
smallest size (CifarNet and LeNet: their default size) with 3 classes, and run once from a random initialization. Its variables are compared
with tests/nets/data/<model>.txt, recorded at 1001 classes and the default size by
tests/nets/data/record_variables.py: the same names, the same shapes outside the logits scopes (so
excluding those scopes when fine-tuning keeps every variable that does not depend on num_classes),
and 3 instead of 1001 in the class dimension inside them.
"""
import math
import os

import numpy as np
import pytest

from core.compat import tf
from core.errors import UserError
from nets import nets_factory
from preprocessing import preprocessing_factory

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
NUM_CLASSES = 3
RECORDED_CLASSES = 1001
# Built at their default size: CifarNet's and LeNet's fully connected layers follow the image size
# (and the default is small), Inception v3 names its auxiliary convolution after its kernel size.
DEFAULT_SIZE_MODELS = ("cifarnet", "lenet", "inception_v3")
# The deepest variants repeat a tested sibling's code (resnet_*_50/101); building them takes most
# of a minute on two cores, so they run only with NETS_TEST_ALL=1. Their recorded variables are
# still checked against their specs below.
SLOW_MODELS = ("resnet_v1_152", "resnet_v1_200", "resnet_v2_152", "resnet_v2_200", "nasnet_large",
               "pnasnet_large")
_RUN_ALL = bool(os.environ.get("NETS_TEST_ALL"))
# research/slim builds NASNet's and PNASNet's auxiliary heads 'aux_<cell>' only when training: the
# inference builds below and the recorded lists have none of their variables.
TRAINING_ONLY_SCOPES = ("aux_5", "aux_7", "aux_11")


def _build_params():
    return [pytest.param(name, marks=pytest.mark.skipif(
                name in SLOW_MODELS and not _RUN_ALL, reason="slow; set NETS_TEST_ALL=1"))
            for name in nets_factory.list_models()]


@pytest.fixture(scope="module", autouse=True)
def graph_mode_settings():
    """Reference variables and TF1 tensor hashing (graph building is quadratic without it)."""
    tf.disable_resource_variables()
    tf.disable_tensor_equality()
    yield
    tf.enable_tensor_equality()
    tf.enable_resource_variables()


def _recorded(name):
    variables = {}
    with open(os.path.join(DATA, name + ".txt")) as handle:
        for line in handle:
            var_name, shape = line.split()
            variables[var_name] = [int(d) for d in shape.split(",")] if shape else []
    return variables


def _in_scopes(var_name, scopes):
    return any(var_name == scope or var_name.startswith(scope + "/") for scope in scopes)


@pytest.mark.parametrize("name", _build_params())
def test_network_builds_runs_and_matches_research_slim(name):
    spec = nets_factory.get_spec(name)
    size = spec.default_image_size if name in DEFAULT_SIZE_MODELS else spec.min_image_size
    with tf.Graph().as_default() as graph:
        images = tf.random.uniform([1, size, size, 3], -1.0, 1.0, seed=1)
        network_fn = nets_factory.get_network_fn(name, NUM_CLASSES)
        assert network_fn.default_image_size == spec.default_image_size
        logits, end_points = network_fn(images)

        assert logits.shape.as_list() == [1, NUM_CLASSES]
        predictions = nets_factory.predictions_end_point(end_points)
        output = graph.get_operation_by_name(spec.output_node).outputs[0]
        assert output is predictions or output.op.name == predictions.op.name
        if "AuxLogits" in end_points:
            assert end_points["AuxLogits"].shape.as_list() == [1, NUM_CLASSES]
            assert any(scope.endswith("/AuxLogits") for scope in spec.logits_scopes)

        built = {v.op.name: v.shape.as_list() for v in tf.global_variables()}
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            logits_value, output_value = sess.run([logits, output])

    assert np.all(np.isfinite(logits_value))
    assert output_value.shape == (1, NUM_CLASSES)
    np.testing.assert_allclose(output_value.sum(axis=1), 1.0, rtol=1e-5)

    recorded = _recorded(name)
    assert sorted(built) == sorted(recorded)
    for var in built:
        if not _in_scopes(var, spec.logits_scopes):  # nothing outside depends on num_classes
            assert built[var] == recorded[var], var
        elif recorded[var][-1] == RECORDED_CLASSES:  # inside, the class dimension follows it
            assert built[var][-1] == NUM_CLASSES, var
    for scope in set(spec.logits_scopes) - set(TRAINING_ONLY_SCOPES):
        assert any(_in_scopes(var, [scope]) and built[var][-1] == NUM_CLASSES for var in built), scope


@pytest.mark.parametrize("name", nets_factory.list_models())
def test_spec_agrees_with_preprocessing(name):
    spec = nets_factory.get_spec(name)
    assert spec.preprocessing_name in preprocessing_factory.FAMILIES
    assert spec.min_image_size <= spec.default_image_size
    recorded = _recorded(name)
    for scope in set(spec.logits_scopes) - set(TRAINING_ONLY_SCOPES):
        assert any(_in_scopes(var, [scope]) for var in recorded), scope


def _parameter_count(name, skip_scopes=()):
    return sum(math.prod(shape) for var, shape in _recorded(name).items()
               if not _in_scopes(var, skip_scopes))


@pytest.mark.parametrize("name, skip_scopes, published_1000_classes, features", [
    # Keras Applications' parameter counts (same layers, 1000 classes, no auxiliary head).
    ("mobilenet_v1", (), 4253864, 1024),
    ("mobilenet_v2", (), 3538984, 1280),
    ("inception_v3", ("InceptionV3/AuxLogits",), 23851784, 2048),
    ("inception_resnet_v2", ("InceptionResnetV2/AuxLogits",), 55873736, 1536),
    ("vgg_16", (), 138357544, 4096),
    ("vgg_19", (), 143667240, 4096),
    ("nasnet_mobile", (), 5326716, 1056),  # recorded without the auxiliary head (training only)
    ("nasnet_large", (), 88949818, 4032),
])
def test_recorded_sizes_match_published_parameter_counts(name, skip_scopes, published_1000_classes,
                                                         features):
    extra_class = features + 1  # one more class: one more row of weights and one bias
    assert _parameter_count(name, skip_scopes) == published_1000_classes + extra_class


def test_recorded_mobilenet_v1_075_body_matches_research_slim_table():
    # research/slim's mobilenet_v1.py lists 1,800,144 convolution weights for the 0.75 body.
    recorded = _recorded("mobilenet_v1_075")
    body = sum(math.prod(shape) for var, shape in recorded.items()
               if var.endswith("weights") and "/Logits/" not in var)
    assert body == 1800144


def test_key_variable_names_match_research_slim():
    expected = {
        "mobilenet_v1": {"MobilenetV1/Conv2d_0/weights": [3, 3, 3, 32],
                         "MobilenetV1/Conv2d_1_depthwise/depthwise_weights": [3, 3, 32, 1],
                         "MobilenetV1/Conv2d_13_pointwise/BatchNorm/moving_variance": [1024],
                         "MobilenetV1/Logits/Conv2d_1c_1x1/biases": [1001]},
        "mobilenet_v2": {"MobilenetV2/expanded_conv/depthwise/depthwise_weights": [3, 3, 32, 1],
                         "MobilenetV2/expanded_conv_1/expand/weights": [1, 1, 16, 96],
                         "MobilenetV2/expanded_conv_16/project/weights": [1, 1, 960, 320],
                         "MobilenetV2/Conv_1/weights": [1, 1, 320, 1280]},
        "inception_v3": {"InceptionV3/Conv2d_1a_3x3/weights": [3, 3, 3, 32],
                         "InceptionV3/Logits/Conv2d_1c_1x1/weights": [1, 1, 2048, 1001]},
        "inception_v4": {"InceptionV4/Mixed_7d/Branch_2/Conv2d_0e_3x1/weights": [3, 1, 512, 256],
                         "InceptionV4/Logits/Logits/weights": [1536, 1001],
                         "InceptionV4/AuxLogits/Aux_logits/weights": [768, 1001]},
        "inception_resnet_v2": {
            "InceptionResnetV2/Repeat/block35_10/Conv2d_1x1/weights": [1, 1, 128, 320],
            "InceptionResnetV2/Repeat_1/block17_20/Conv2d_1x1/biases": [1088],
            "InceptionResnetV2/Block8/Conv2d_1x1/weights": [1, 1, 448, 2080],
            "InceptionResnetV2/AuxLogits/Conv2d_2a_5x5/weights": [5, 5, 128, 768]},
        "resnet_v1_50": {"resnet_v1_50/conv1/weights": [7, 7, 3, 64],
                         "resnet_v1_50/block4/unit_3/bottleneck_v1/conv3/weights": [1, 1, 512, 2048],
                         "resnet_v1_50/logits/weights": [1, 1, 2048, 1001]},
        "resnet_v2_50": {"resnet_v2_50/postnorm/gamma": [2048]},
        "cifarnet": {"CifarNet/conv1/weights": [5, 5, 3, 64], "CifarNet/fc3/weights": [4096, 384],
                     "CifarNet/logits/weights": [192, 1001]},
        "lenet": {"LeNet/fc3/weights": [3136, 1024], "LeNet/fc4/weights": [1024, 1001]},
        "vgg_16": {"vgg_16/fc6/weights": [7, 7, 512, 4096], "vgg_16/fc8/biases": [1001]},
    }
    for name, variables in expected.items():
        recorded = _recorded(name)
        for var, shape in variables.items():
            assert recorded.get(var) == shape, (name, var)


def test_two_clones_share_variables():
    with tf.Graph().as_default():
        network_fn = nets_factory.get_network_fn("mobilenet_v1_025", NUM_CLASSES, is_training=True)
        images = tf.zeros([1, 32, 32, 3])
        with tf.name_scope("clone_0"):
            network_fn(images)
        count = len(tf.global_variables())
        with tf.name_scope("clone_1"):
            logits, end_points = network_fn(images, reuse=True)
        assert len(tf.global_variables()) == count
        assert end_points["Predictions"].op.name == "clone_1/MobilenetV1/Predictions/Reshape_1"
        with tf.variable_scope(tf.get_variable_scope(), reuse=True):
            nets_factory.get_network_fn("mobilenet_v1_025", NUM_CLASSES)(images)
        assert len(tf.global_variables()) == count


def test_resnet_logits_are_squeezed_with_unchanged_names():
    with tf.Graph().as_default() as graph:
        logits, end_points = nets_factory.get_network_fn("resnet_v1_50", NUM_CLASSES)(
            tf.zeros([2, 32, 32, 3]))
        assert logits.op.name == "resnet_v1_50/SpatialSqueeze"
        assert end_points["resnet_v1_50/logits"].shape.as_list() == [2, 1, 1, NUM_CLASSES]
        assert end_points["predictions"].shape.as_list() == [2, NUM_CLASSES]
        graph.get_operation_by_name("resnet_v1_50/predictions/Reshape_1")


def test_weight_decay_adds_regularization_losses():
    with tf.Graph().as_default():
        nets_factory.get_network_fn("lenet", NUM_CLASSES, weight_decay=0.01)(tf.zeros([1, 28, 28, 3]))
        assert len(tf.losses.get_regularization_losses()) == 4  # conv1, conv2, fc3, fc4 weights


def test_unknown_model_names_valid_ones():
    with pytest.raises(UserError) as error:
        nets_factory.get_spec("resnet_v3")
    assert "resnet_v3" in str(error.value) and "mobilenet_v1" in str(error.value)
