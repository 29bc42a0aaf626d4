"""What training promises, each checked so that breaking it fails a test: a resumed run continues with the
restored weights, and clones average their gradients (research/slim's model_deploy)."""
import functools

import numpy as np
import pytest

import train_image_classifier
from core.cli import run_main
from core.compat import tf
from engine.config.options import LearningRateOptions, OptimizerOptions, TrainOptions
from engine.config.settings import Settings
from engine.training import graph as training_graph
from nets import nets_factory


def _checkpoint(path):
    reader = tf.train.load_checkpoint(str(path))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def test_resume_continues_with_the_restored_weights(faces, tmp_path):
    common = ["--tfrecord_file", faces.tfrecord, "--train_dir", str(tmp_path), "--model_name", "lenet",
              "--train_image_size", "28", "--batch_size", "8", "--optimizer", "sgd",
              "--learning_rate_decay_type", "fixed", "--log_every_n_steps", "1"]
    assert run_main(train_image_classifier.main, common + ["--max_number_of_steps", "3",
                                                           "--learning_rate", "0.1"]) == 0
    # One more step at learning rate 0: plain SGD then changes no variable, so the checkpoint of step 4
    # holds exactly the weights restored from step 3.
    assert run_main(train_image_classifier.main, common + ["--max_number_of_steps", "4",
                                                           "--learning_rate", "0"]) == 0
    before, after = _checkpoint(tmp_path / "model.ckpt-3"), _checkpoint(tmp_path / "model.ckpt-4")
    assert set(before) == set(after) and int(after["global_step"]) == 4
    weights = [name for name in before if name != "global_step"]
    assert weights
    for name in weights:
        np.testing.assert_array_equal(after[name], before[name], err_msg=name)
    assert any(np.abs(before[name]).sum() > 0 for name in weights)


def _no_dropout(get_network_fn):
    """nets_factory.get_network_fn whose networks drop nothing, so two graphs compute the same function."""

    @functools.wraps(get_network_fn)
    def wrapped(*args, **kwargs):
        network_fn = get_network_fn(*args, **kwargs)
        kept = functools.wraps(network_fn)(functools.partial(network_fn, dropout_keep_prob=1.0))
        kept.default_image_size, kept.model_name = network_fn.default_image_size, network_fn.model_name
        return kept

    return wrapped


def _one_step(num_clones, images, labels, initial):
    """Variable values after one SGD step (learning rate 1) of lenet with `num_clones` clones on the batch,
    starting from `initial` ({name: value}, or None: take the initializers' and return them too)."""
    settings = Settings("lenet", 28, "lenet", False, "unused.tfrecord", "unused.txt",
                        ["c%d" % i for i in range(labels.shape[1])], 25.0, 0, "multi")
    options = TrainOptions(train_dir="unused", batch_size=len(images), num_clones=num_clones, clone_on_cpu=True,
                           weight_decay=0.0, optimization=OptimizerOptions(optimizer="sgd"),
                           schedule=LearningRateOptions(learning_rate_decay_type="fixed", learning_rate=1.0))
    graph = tf.Graph()
    with graph.as_default():
        batch = {"images": tf.constant(images), "labels": tf.constant(labels)}
        ops = training_graph.build_train_graph(settings, options, "multi", 100, batch)
        variables = {v.op.name: v for v in tf.trainable_variables()}
        placeholders = {name: tf.placeholder(v.dtype.base_dtype, v.shape) for name, v in variables.items()}
        assign = tf.group(*[v.assign(placeholders[name]) for name, v in variables.items()])
    with tf.Session(graph=graph) as session:
        session.run(ops.init_op)
        if initial is None:
            initial = session.run(variables)
        session.run(assign, {placeholders[name]: value for name, value in initial.items()})
        session.run(ops.train_op)
        return session.run(variables), initial


def test_two_clones_average_their_gradients_like_one_clone_on_the_whole_batch(monkeypatch):
    monkeypatch.setattr(nets_factory, "get_network_fn", _no_dropout(nets_factory.get_network_fn))
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, [8, 28, 28, 3]).astype(np.float32)
    labels = rng.integers(0, 2, [8, 5]).astype(np.float32)
    one, initial = _one_step(1, images, labels, None)
    two, _ = _one_step(2, images, labels, initial)
    moved = max(float(np.abs(one[name] - initial[name]).max()) for name in one)
    assert moved > 1e-3  # the step did change the weights
    for name in one:
        np.testing.assert_allclose(two[name], one[name], atol=1e-5 * max(1.0, moved), err_msg=name)


def test_the_total_loss_is_the_classification_losses_plus_the_weight_decay_of_every_weight():
    # --weight_decay w adds w * sum(weights ** 2) / 2 over the weights of every layer (slim.l2_regularizer), which
    # the optimizer minimizes with the losses: left out of the total loss, --weight_decay would do nothing.
    settings = Settings("lenet", 28, "lenet", False, "unused.tfrecord", "unused.txt", ["c%d" % i for i in range(5)],
                        25.0, 0, "multi")
    options = TrainOptions(train_dir="unused", batch_size=4, weight_decay=0.01,
                           optimization=OptimizerOptions(optimizer="sgd"),
                           schedule=LearningRateOptions(learning_rate_decay_type="fixed"))
    rng = np.random.default_rng(0)
    graph = tf.Graph()
    with graph.as_default():
        batch = {"images": tf.constant(rng.uniform(-1, 1, [4, 28, 28, 3]).astype(np.float32)),
                 "labels": tf.constant(rng.integers(0, 2, [4, 5]).astype(np.float32))}
        ops = training_graph.build_train_graph(settings, options, "multi", 100, batch)
        losses = tf.losses.get_losses()
        weights = [v for v in tf.trainable_variables() if v.op.name.endswith("/weights")]
        with tf.Session(graph=graph) as session:
            session.run(ops.init_op)
            total, loss_values, weight_values = session.run([ops.total_loss, losses, weights])
    assert len(weights) == 4 and len(loss_values) == 1  # lenet's 2 convolutions and 2 fully connected layers
    decay = 0.01 * sum(float(np.sum(np.square(value, dtype=np.float64))) / 2 for value in weight_values)
    assert decay > 0.05 * loss_values[0]
    assert total == pytest.approx(loss_values[0] + decay, rel=1e-5)
