"""engine/model/mixed_precision.py: float32 variables under bf16/fp16 compute, loss scaling, support checks, and
`--mixed_precision` end to end (checkpoints that evaluate in float32)."""
import json
import os

import numpy as np
import pytest

import train_image_classifier
from core.cli import run_main
from core.compat import tf
from core.errors import UserError
from engine.config.options import OptimizerOptions, TrainOptions
from engine.config.settings import Settings
from engine.model import mixed_precision
from engine.training.trainer import build_train_graph
from nets import nets_factory

HAS_GPU = bool(tf.config.list_physical_devices("GPU"))


def _settings(model, size, classes=5, label_mode="multi"):
    return Settings(model, size, nets_factory.get_spec(model).preprocessing_name, False, "unused.tfrecord",
                    "unused.txt", ["c%d" % i for i in range(classes)], 25.0, 0, label_mode)


def _train_graph(model, size, mode, optimizer="adam", seed=1):
    """A training graph on one fixed random batch; returns (graph, TrainGraph)."""
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(seed)
        rng = np.random.default_rng(seed)
        batch = {"images": tf.constant(rng.uniform(-1, 1, [4, size, size, 3]).astype(np.float32)),
                 "labels": tf.constant(rng.integers(0, 2, [4, 5]).astype(np.float32))}
        options = TrainOptions(train_dir="unused", batch_size=4, mixed_precision=mode,
                               optimization=OptimizerOptions(optimizer=optimizer, opt_epsilon=1e-8))
        options.schedule.learning_rate_decay_type, options.schedule.learning_rate = "fixed", 0.01
        ops = build_train_graph(_settings(model, size), options, "multi", 100, batch)
    return graph, ops


def _variables(graph):
    with graph.as_default():
        return sorted((v.op.name, v.dtype.base_dtype.name, tuple(v.shape.as_list()))
                      for v in tf.global_variables())


def _op_dtypes(graph, op_type):
    return {op.get_attr("T").name for op in graph.get_operations() if op.type == op_type}


@pytest.mark.parametrize("model,size", [("lenet", 28), ("mobilenet_v1_025", 64)])
def test_bf16_keeps_the_float32_variables_of_a_float32_run_and_computes_in_bf16(model, size):
    float_graph, _ = _train_graph(model, size, "none")
    bf16_graph, ops = _train_graph(model, size, "bf16")
    assert _variables(bf16_graph) == _variables(float_graph)
    assert {dtype for _, dtype, _ in _variables(bf16_graph)} <= {"float32", "int64"}
    assert _op_dtypes(bf16_graph, "Conv2D") == {"bfloat16"}
    assert _op_dtypes(float_graph, "Conv2D") == {"float32"}
    if model.startswith("mobilenet"):  # fused batch norm on bf16 activations, float32 statistics
        assert _op_dtypes(bf16_graph, "FusedBatchNormV3") == {"bfloat16"}
    assert ops.train_op[0].dtype == tf.float32
    with bf16_graph.as_default():
        assert tf.get_default_graph().get_tensor_by_name("total_loss:0").dtype == tf.float32


@pytest.mark.parametrize("model,size", [("lenet", 28), ("mobilenet_v1_025", 64)])
def test_bf16_logits_match_float32_from_the_same_checkpoint(model, size, tmp_path):
    images = np.random.default_rng(0).uniform(-1, 1, [4, size, size, 3]).astype(np.float32)
    logits = {}
    for mode in ("none", "bf16"):
        with tf.Graph().as_default():
            # One checkpoint, the same on every run: at its initial weights mobilenet_v1_025's logits are ~1e-16,
            # and bf16's relative error there ranged from 1.4% to 4.5% over 12 weight draws (6% once in CI).
            tf.set_random_seed(0)
            network_fn = nets_factory.get_network_fn(model, 5, is_training=False)
            output, end_points = mixed_precision.wrap_network_fn(network_fn, mode)(tf.constant(images))
            assert output.dtype == tf.float32
            assert all(tensor.dtype == tf.float32 for tensor in end_points.values())
            saver = tf.train.Saver()
            with tf.Session() as session:
                session.run(tf.global_variables_initializer())
                if mode == "none":
                    start = saver.save(session, str(tmp_path / "start"))
                else:  # the float32 checkpoint restores as it is
                    saver.restore(session, start)
                logits[mode] = session.run(output)
    scale = np.abs(logits["none"]).max()
    assert np.abs(logits["bf16"] - logits["none"]).max() < 0.05 * scale  # bf16 keeps ~3 significant digits
    assert not np.array_equal(logits["bf16"], logits["none"])  # it did compute in bf16


@pytest.mark.parametrize("model,size", [("lenet", 28), ("mobilenet_v1_025", 64)])
def test_bf16_weight_decay_is_float32_and_reaches_the_weights_whole(model, size):
    # Before: slim's layers computed the L2 loss on the bf16 cast of their weights, and its gradient (4e-5 times
    # the weights) was added to the bf16 data gradient below its precision: on inception_v3 a median 31% of
    # the decay reached the variables, on lenet none.
    decay = 4e-5
    with tf.Graph().as_default():
        images = tf.constant(np.random.default_rng(0).uniform(-1, 1, [4, size, size, 3]).astype(np.float32))
        network_fn = nets_factory.get_network_fn(model, 5, weight_decay=decay, is_training=True)
        logits, _ = mixed_precision.wrap_network_fn(network_fn, "bf16")(images)
        regularization = tf.losses.get_regularization_losses()
        assert regularization and {loss.dtype for loss in regularization} == {tf.float32}
        data_loss = 1e-3 * tf.reduce_mean(logits)  # gradients 10 to 1000 times the decay's
        weights = [v for v in tf.trainable_variables() if v.op.name.endswith("/weights")]
        with_decay = tf.gradients(data_loss + tf.add_n(regularization), weights)
        without = tf.gradients(data_loss, weights)
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            values, with_decay, without, total = session.run([weights, with_decay, without, tf.add_n(regularization)])
    for value, whole, data in zip(values, with_decay, without):
        np.testing.assert_allclose(whole - data, decay * value, rtol=1e-3, atol=1e-6 * np.abs(data).max())  # float32
    assert total == pytest.approx(decay * sum(float(np.sum(np.square(v.astype(np.float64)))) / 2 for v in values),
                                  rel=1e-6)


def test_bf16_training_learns_a_fixed_batch():
    graph, ops = _train_graph("lenet", 28, "bf16")
    with tf.Session(graph=graph) as session:
        session.run(ops.init_op)
        losses = [float(session.run(ops.train_op)[0]) for _ in range(30)]
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:3])


def test_fp16_training_step_runs_with_a_loss_scale_in_local_variables():
    graph, ops = _train_graph("lenet", 28, "fp16")
    with graph.as_default():
        local = {v.op.name for v in tf.local_variables()}
        saved = {v.op.name for v in tf.global_variables()}
    assert {"loss_scale/scale", "loss_scale/good_steps"} <= local
    assert not any(name.startswith("loss_scale") for name in saved)  # checkpoints are the same in every mode
    assert _variables(graph) == _variables(_train_graph("lenet", 28, "none")[0])
    with tf.Session(graph=graph) as session:
        session.run(ops.init_op)
        losses = [session.run(ops.train_op) for _ in range(3)]
    assert [int(step) for _, step in losses] == [1, 2, 3]
    assert all(np.isfinite(loss) for loss, _ in losses)


def test_dynamic_loss_scale_skips_non_finite_steps_and_adapts_the_scale():
    with tf.Graph().as_default():
        weight = tf.get_variable("w", initializer=tf.constant(1.0))
        factor = tf.placeholder(tf.float32, [])
        global_step = tf.train.get_or_create_global_step()
        optimizer = tf.train.GradientDescentOptimizer(0.1)
        scale = mixed_precision.DynamicLossScale(initial=8.0, growth_interval=2)
        pairs = scale.compute_gradients(optimizer, weight * factor, [weight])
        step_op = scale.apply_gradients(optimizer, pairs, global_step)
        with tf.Session() as session:
            session.run([tf.global_variables_initializer(), tf.local_variables_initializer()])
            session.run(step_op, {factor: np.inf})
            assert session.run([weight, scale.scale, global_step]) == [1.0, 4.0, 1]  # skipped, halved
            session.run(step_op, {factor: 1.0})
            assert session.run(weight) == pytest.approx(0.9)  # gradient unscaled: 1.0, not 4.0
            assert session.run(scale.scale) == 4.0
            session.run(step_op, {factor: 1.0})
            assert session.run([scale.scale, global_step]) == [8.0, 3]  # doubled after 2 finite steps


def test_a_network_with_an_op_lacking_a_bf16_kernel_is_refused_by_name():
    with tf.Graph().as_default():
        network_fn = mixed_precision.wrap_network_fn(nets_factory.get_network_fn("cifarnet", 10), "bf16")
        with pytest.raises(UserError, match="cifarnet uses LRN.*--mixed_precision none"):
            network_fn(tf.zeros([1, 32, 32, 3]))


def test_support_checks_read_the_cpu_flags(tmp_path):
    plain = tmp_path / "cpuinfo"
    plain.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\n")
    supported, reason = mixed_precision.check_support("bf16", str(plain))
    assert not supported and "AVX512_BF16 or AMX" in reason
    with pytest.raises(UserError, match="--mixed_precision bf16 is not supported here"):
        mixed_precision.require_support("bf16", str(plain))
    with_bf16 = tmp_path / "cpuinfo_bf16"
    with_bf16.write_text("processor\t: 0\nflags\t\t: avx512f avx512_bf16 amx_tile amx_bf16\n")
    supported, reason = mixed_precision.check_support("bf16", str(with_bf16))
    assert supported and "avx512_bf16" in reason  # the tiny bf16 convolution ran and matched float32
    assert mixed_precision.check_support("none") == (True, "float32 compute")
    with pytest.raises(UserError, match="unknown --mixed_precision 'fp8'"):
        mixed_precision.check_support("fp8")


@pytest.mark.skipif(HAS_GPU, reason="this machine has a GPU")
def test_fp16_without_a_gpu_is_refused(faces, tmp_path, capsys):
    code = run_main(train_image_classifier.main, [
        "--tfrecord_file", faces.tfrecord, "--train_dir", str(tmp_path), "--model_name", "lenet",
        "--train_image_size", "28", "--max_number_of_steps", "1", "--mixed_precision", "fp16"])
    assert code != 0
    assert "fp16 needs a GPU" in capsys.readouterr().err
    assert not list(tmp_path.glob("model.ckpt*"))


def test_bf16_training_writes_float32_checkpoints_that_evaluate_and_resume(faces, tmp_path, capsys, monkeypatch):
    # This machine may lack AVX512_BF16: pretend it has it, the emulated kernels give the same numbers.
    monkeypatch.setattr(mixed_precision, "check_support", lambda mode, *_: (True, "test: bf16 allowed"))
    train_dir = tmp_path / "train"
    common = ["--tfrecord_file", faces.tfrecord, "--train_dir", str(train_dir), "--model_name", "lenet",
              "--train_image_size", "28", "--batch_size", "8", "--optimizer", "adam",
              "--learning_rate", "0.002", "--opt_epsilon", "1e-8"]
    assert run_main(train_image_classifier.main, common + ["--max_number_of_steps", "4",
                                                           "--mixed_precision", "bf16"]) == 0
    assert "mixed precision bf16" in capsys.readouterr().out
    assert json.loads((train_dir / "train_config.json").read_text())["mixed_precision"] == "bf16"
    reader = tf.train.load_checkpoint(str(train_dir / "model.ckpt-4"))
    dtypes = reader.get_variable_to_dtype_map()
    assert dtypes["LeNet/conv1/weights"] == tf.float32
    assert all(dtype in (tf.float32, tf.int64) for dtype in dtypes.values())
    assert run_main(train_image_classifier.main, common + ["--max_number_of_steps", "6"]) == 0
    output = capsys.readouterr().out
    assert "resuming from" in output and "mixed precision bf16" in output  # the recorded mode by default

    import eval_image_classifier
    results = {}
    for mode in ("none", "bf16"):
        eval_dir = tmp_path / ("eval_" + mode)
        assert run_main(eval_image_classifier.main, ["--checkpoint_path", str(train_dir), "--eval_dir", str(eval_dir),
                                                     "--batch_size", "16", "--mixed_precision", mode]) == 0
        results[mode] = json.loads((eval_dir / "metrics.json").read_text())
    assert "mixed precision bf16" in capsys.readouterr().out
    assert results["none"]["global_step"] == results["bf16"]["global_step"] == 6
    # The float32 checkpoint evaluates in bf16: the same images, per-label accuracies within a few images.
    assert results["bf16"]["num_images"] == results["none"]["num_images"] > 0
    for name, entry in results["none"]["per_label"].items():
        assert abs(results["bf16"]["per_label"][name]["accuracy"] - entry["accuracy"]) <= 0.1, name


def _rewrite(config):
    return config.graph_options.rewrite_options.auto_mixed_precision_onednn_bfloat16


@pytest.mark.parametrize("method, getter, rewrite", [("getter", True, False), ("grappler", False, True),
                                                     ("both", True, True)])
def test_each_bf16_method_builds_its_graph_and_session(method, getter, rewrite):
    with tf.Graph().as_default() as graph:
        network_fn = nets_factory.get_network_fn("lenet", 5)
        mixed_precision.wrap_network_fn(network_fn, "bf16", method)(tf.zeros([1, 28, 28, 3]))
    assert _op_dtypes(graph, "Conv2D") == ({"bfloat16"} if getter else {"float32"})
    assert bool(_rewrite(mixed_precision.session_config("bf16", method))) == rewrite
    assert not _rewrite(mixed_precision.session_config("none", method))
    with pytest.raises(UserError, match="unknown bf16 method 'fast'"):
        mixed_precision.session_config("bf16", "fast")


GRAPPLER_CHILD = r"""
import json, sys
import numpy as np
from core.compat import tf
from engine.model import mixed_precision
from nets import nets_factory

graph = tf.Graph()
with graph.as_default():
    tf.set_random_seed(3)
    images = tf.random.uniform([4, 28, 28, 3], -1, 1, seed=4)
    logits, _ = nets_factory.get_network_fn("lenet", 5)(images)
    init = tf.global_variables_initializer()
values = {}
for mode, method in (("none", None), ("bf16", "grappler")):
    with tf.Session(graph=graph, config=mixed_precision.session_config(mode, method)) as session:
        session.run(init)
        values[mode] = session.run(logits)
print(json.dumps({"max_abs": float(np.abs(values["bf16"] - values["none"]).max()),
                  "scale": float(np.abs(values["none"]).max())}))
"""


def test_grappler_method_computes_the_float32_graph_in_bf16_with_onednn(tmp_path):
    # The rewrite needs oneDNN, which TensorFlow turns on only at start-up (on AVX512 CPUs by default).
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    script = tmp_path / "child.py"
    script.write_text(GRAPPLER_CHILD)
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="1", PYTHONPATH=ROOT)
    result = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    # bf16 keeps 8 bits of mantissa: the logits move, by much less than their size.
    assert 0 < figures["max_abs"] < 0.05 * figures["scale"], figures


@pytest.mark.parametrize("mode, dtype", [("none", "float32"), ("bf16", "bfloat16")])
def test_evaluation_builds_the_network_in_the_mode_asked(faces, mode, dtype):
    from engine.config.options import EvalOptions
    from engine.evaluation import evaluate

    settings = _settings("lenet", 28, classes=11)
    settings.tfrecord_file = faces.tfrecord
    with evaluate.Evaluator(settings, "multi", EvalOptions(eval_dir="unused", mixed_precision=mode)) as evaluator:
        assert _op_dtypes(evaluator.graph, "Conv2D") == {dtype}
        assert evaluator.fetches["probabilities"].dtype == tf.float32


def test_export_records_the_runs_mode_and_label_image_runs_bf16_only_where_the_cpu_does(
        faces, tmp_path, capsys, monkeypatch):
    import export_inference_graph
    import label_image
    from engine.inference import runtimes
    from engine.model import graph_metadata
    from tests.export_support import load_graph_def

    monkeypatch.setattr(mixed_precision, "check_support", lambda mode, *_: (True, "test: bf16 allowed"))
    train_dir = tmp_path / "train"
    assert run_main(train_image_classifier.main, [
        "--tfrecord_file", faces.tfrecord, "--train_dir", str(train_dir), "--model_name", "lenet",
        "--train_image_size", "28", "--batch_size", "8", "--max_number_of_steps", "2",
        "--mixed_precision", "bf16"]) == 0
    frozen = str(tmp_path / "frozen.pb")
    assert run_main(export_inference_graph.main, ["--checkpoint_path", str(train_dir), "--frozen_graph", frozen]) == 0
    meta = graph_metadata.read_metadata(load_graph_def(frozen))
    assert meta["mixed_precision"] == "bf16"
    assert _op_dtypes_of(load_graph_def(frozen), "Conv2D") == {"float32"}  # the graph itself stays float32

    # Where the CPU runs bf16: the oneDNN rewrite is asked for; elsewhere, float32 without a word.
    assert _rewrite(runtimes._session_config("auto", meta))
    assert not runtimes._session_config("none", meta)
    assert not runtimes._session_config("auto", dict(meta, mixed_precision="none"))
    monkeypatch.setattr(mixed_precision, "check_support", lambda mode, *_: (False, "no AVX512_BF16 here"))
    assert runtimes._session_config("auto", meta) is None
    image = os.path.join(faces.images, sorted(os.listdir(faces.images))[0])
    capsys.readouterr()
    assert run_main(label_image.main, ["--image", image, "--graph", frozen]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 5
    assert run_main(label_image.main, ["--image", image, "--graph", frozen, "--mixed_precision", "bf16"]) == 2
    assert "--mixed_precision bf16 is not supported here: no AVX512_BF16 here" in capsys.readouterr().err


def _op_dtypes_of(graph_def, op_type):
    return {tf.as_dtype(node.attr["T"].type).name for node in graph_def.node if node.op == op_type}
