"""Hostile and careless runs (issue 22, part B): nothing already written is lost, whatever the flags, a kill or a
second process; no traceback and no hang for any flag, checkpoint or configuration. Each test runs the real
scripts (a second training against a real first process, killed with SIGKILL; in-process for the refusals, which
happen before anything is written) and checks the message, the exit code and that every earlier output is
byte-identical. Damaged checkpoints, configurations and the cluster are in test_hostile_runs_files.py."""
import os
import signal
import socket
import sys

import numpy as np
import pytest

import eval_image_classifier
import export_inference_graph
import train_image_classifier
from core import dir_lock
from core.cli import run_main
from core.compat import tf
from core.errors import UserError
from engine.cluster import replicas
from engine.config.options import LearningRateOptions, OptimizerOptions, TrainOptions
from engine.config.settings import Settings
from engine.model import checkpoints
from engine.training import graph as training_graph
from engine.training import step_loop
from tests.faults import (
    STEP_LINE,
    assert_no_traceback,
    copy_run,
    file_digests,
    read_until,
    run_outputs,
    start,
    train_args,
    train_command,
)


def write_nan_checkpoint(train_dir, step, source="model.ckpt-3"):
    """model.ckpt-STEP in `train_dir`: the variables of `source` with every floating-point value NaN, saved by
    TensorFlow as a diverged run of an earlier version did (and named latest by the state file)."""
    reader = tf.train.load_checkpoint(str(train_dir / source))
    graph = tf.Graph()
    with graph.as_default():
        variables = []
        for name in reader.get_variable_to_shape_map():
            value = reader.get_tensor(name)
            value = np.int64(step) if name == "global_step" else np.full_like(value, np.nan)
            variables.append(tf.Variable(value, name=name))
        saver = tf.train.Saver(variables, save_relative_paths=True, max_to_keep=10)
        saver.recover_last_checkpoints([str(train_dir / source)])
        with tf.Session() as session:
            session.run(tf.global_variables_initializer())
            saver.save(session, str(train_dir / "model.ckpt"), global_step=step)


# --- one training process per --train_dir ----------------------------------------------------------------------

def test_a_second_training_is_refused_while_the_first_holds_the_directory_and_a_kill_9_frees_it(
        faces, tmp_path, capsys):
    train_dir = tmp_path / "run"
    first = start(train_command(faces, train_dir, 100000))
    try:
        lines = []
        assert read_until(first, STEP_LINE.match, lines), "".join(lines) + first.stderr.read()[-3000:]
        before = file_digests(str(train_dir))
        assert run_main(train_image_classifier.main, train_args(faces, train_dir, 5)) == 2
        err = capsys.readouterr().err
        assert_no_traceback(err)
        assert "--train_dir %s is in use by another training process: pid %d on host %s since " % (
            train_dir, first.pid, socket.gethostname()) in err
        assert "): %s %s --tfrecord_file" % (os.path.basename(sys.executable), train_command(faces, train_dir, 1)[1]) \
            in err  # the command of the first
        assert "kill %d" % first.pid in err and "or pass another --train_dir" in err
        after = file_digests(str(train_dir))
        for name in (dir_lock.LOCK_NAME, "train_config.json"):  # what the first wrote: untouched by the second
            assert after[name] == before[name], name
        assert first.poll() is None  # the first goes on
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate()
    assert first.returncode == -signal.SIGKILL
    # The kernel released the lock of the killed process: the same command trains at once.
    with open(train_dir / dir_lock.LOCK_NAME, encoding="utf-8") as handle:
        assert '"pid": %d' % first.pid in handle.read()  # left by the killed process, and no longer locked
    assert run_main(train_image_classifier.main, train_args(faces, train_dir, 2)) == 0
    out = capsys.readouterr().out
    assert "done: step 2" in out
    assert not (train_dir / dir_lock.LOCK_NAME).exists()  # removed when released


def test_only_the_process_that_writes_the_train_dir_locks_it(tmp_path):
    from engine.cluster.topology import Cluster
    from engine.training.setup import TrainingRun

    cluster = dict(ps=["h:1"], workers=["h:2", "h:3"])
    roles = {"alone": None, "chief": Cluster(job_name="worker", task_index=0, **cluster),
             "worker 1": Cluster(job_name="worker", task_index=1, **cluster)}
    for role, topology in roles.items():
        train_dir = tmp_path / role
        run = TrainingRun(None, TrainOptions(train_dir=str(train_dir)), topology)
        with run.holding_train_dir():
            assert (train_dir / dir_lock.LOCK_NAME).exists() == (role != "worker 1"), role
        assert not (train_dir / dir_lock.LOCK_NAME).exists()


# --- rates and factors refused up front -------------------------------------------------------------------------

@pytest.mark.parametrize("extra, shown", [
    (["--learning_rate", "nan"], "--learning_rate nan: it must be at least 0"),
    (["--learning_rate", "-0.01"], "--learning_rate -0.01: it must be at least 0"),
    (["--learning_rate", "inf"], "--learning_rate inf: it must be at least 0"),
    (["--end_learning_rate", "nan"], "--end_learning_rate nan: it must be at least 0"),
    (["--learning_rate_decay_factor", "0"], "--learning_rate_decay_factor 0.0: it must be greater than 0 and at "
                                            "most 1"),
    (["--num_epochs_per_decay", "nan"], "--num_epochs_per_decay nan: it must be greater than 0"),
    (["--optimizer", "adam", "--opt_epsilon", "-1"], "--opt_epsilon -1.0: it must be greater than 0"),
    (["--adam_beta2", "1"], "--adam_beta2 1.0: it must be at least 0 and less than 1"),
    (["--momentum", "-0.5"], "--momentum -0.5: it must be at least 0 and less than 1"),
    (["--rmsprop_decay", "nan"], "--rmsprop_decay nan: it must be from 0 to 1"),
    (["--ftrl_learning_rate_power", "0.5"], "--ftrl_learning_rate_power 0.5: it must be at most 0"),
    (["--adagrad_initial_accumulator_value", "0"], "--adagrad_initial_accumulator_value 0.0: it must be greater "
                                                   "than 0"),
    (["--weight_decay", "-1"], "--weight_decay -1.0: it must be at least 0"),
    (["--label_smoothing", "1.5"], "--label_smoothing 1.5: it must be from 0 to 1"),
    (["--moving_average_decay", "1"], "--moving_average_decay 1.0: it must be at least 0 and less than 1"),
    (["--batch_norm_decay", "inf"], "--batch_norm_decay inf: it must be from 0 to 1"),
    (["--save_interval_secs", "nan", "--num_readers", "0"],
     "2 values are out of range (--num_readers 0: it must be at least 1; --save_interval_secs nan: it must be at "
     "least 0)"),
    (["--cluster_timeout_secs", "nan"], "--cluster_timeout_secs nan: it must be greater than 0"),
    (["--worker_replicas", "0"], "--worker_replicas 0: it must be at least 1"),
])
def test_rates_and_factors_out_of_range_are_refused_before_anything_is_written(faces, tmp_path, capsys, extra,
                                                                               shown):
    train_dir = tmp_path / "run"
    assert run_main(train_image_classifier.main, train_args(faces, train_dir, 5, *extra)) == 2
    err = capsys.readouterr().err
    assert_no_traceback(err)
    assert shown in err and "fix " in err
    assert not train_dir.exists()


@pytest.mark.parametrize("extra, shown", [
    (["--moving_average_decay", "nan"], "--moving_average_decay nan: it must be at least 0 and less than 1"),
    (["--max_num_batches", "0"], "--max_num_batches 0: it must be at least 1"),
    (["--timeout", "nan"], "--timeout nan is out of range: it must be a finite number of seconds, at least 0"),
    (["--eval_interval_secs", "-5"], "--eval_interval_secs -5.0 is out of range"),
])
def test_evaluation_flags_out_of_range_are_refused_before_anything_is_read(lenet_run, tmp_path, capsys, extra,
                                                                           shown):
    before = file_digests(str(lenet_run))
    eval_dir = tmp_path / "eval"
    assert run_main(eval_image_classifier.main, ["--checkpoint_path", str(lenet_run), "--eval_dir", str(eval_dir)]
                    + extra) == 2
    err = capsys.readouterr().err
    assert_no_traceback(err)
    assert shown in err
    assert not eval_dir.exists() and file_digests(str(lenet_run)) == before


# --- a run that diverges ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("summaries, steps, what", [
    (["--save_summaries_steps", "0", "--save_summaries_secs", "100000"], 20, "the loss is "),
    (["--save_summaries_steps", "1"], 6, "values (TensorBoard summary "),
])
def test_a_diverging_run_stops_at_that_step_and_its_weights_never_become_the_latest_checkpoint(
        lenet_run, faces, tmp_path, capsys, summaries, steps, what):
    # From model.ckpt-3, a learning rate of 1e6 makes the weights huge at step 4 and infinite at step 5: the
    # loss of step 6 is NaN. A run to step 6 computes the histograms at its last step, which meet them first.
    train_dir = copy_run(lenet_run, tmp_path)
    before = run_outputs(train_dir)
    code = run_main(train_image_classifier.main, train_args(
        faces, train_dir, steps, "--learning_rate", "1e6", "--learning_rate_decay_type", "fixed", "--seed", "1",
        *summaries))
    out, err = capsys.readouterr()
    assert code == 2, out[-2000:] + err[-2000:]
    assert_no_traceback(err)
    assert "error: training diverged at step " in err and what in err
    assert ("It stops here, and no checkpoint of these weights is saved; model.ckpt-3 stays the latest checkpoint. "
            "Lower --learning_rate (1e+06 now), or check the data, then run the command again to resume from "
            "model.ckpt-3") in err
    assert "TFRecord" not in err  # a NaN is not a damaged record
    after = run_outputs(train_dir)
    assert {name: after[name] for name in before} == before
    assert all(name.startswith("events.out.tfevents") for name in set(after) - set(before))
    assert tf.train.latest_checkpoint(str(train_dir)).endswith("model.ckpt-3")


def test_weights_that_became_non_finite_while_the_loss_stayed_finite_are_never_saved(tmp_path):
    # The moving averages (--moving_average_decay) are not in the forward pass: NaN there leaves the loss finite,
    # and only the check before each save sees it.
    settings = Settings("lenet", 28, "lenet", False, "unused.tfrecord", "unused.txt", ["a", "b", "c"], 25.0, 0,
                        "multi")
    options = TrainOptions(train_dir=str(tmp_path), batch_size=4, max_number_of_steps=3, save_interval_secs=0,
                           moving_average_decay=0.9, optimization=OptimizerOptions(optimizer="sgd"),
                           schedule=LearningRateOptions(learning_rate_decay_type="fixed", learning_rate=0.01))
    rng = np.random.default_rng(0)
    graph = tf.Graph()
    with graph.as_default():
        batch = {"images": tf.constant(rng.uniform(-1, 1, [4, 28, 28, 3]).astype(np.float32)),
                 "labels": tf.constant(rng.integers(0, 2, [4, 3]).astype(np.float32))}
        ops = training_graph.build_train_graph(settings, options, "multi", 100, batch)
        shadow = next(v for v in tf.global_variables() if v.op.name.endswith(checkpoints.AVERAGE_SUFFIX))
        poison = shadow.assign(tf.fill(tf.shape(shadow), np.float32(np.nan)))
    with tf.Session(graph=graph) as session:
        session.run(ops.init_op)
        loop = step_loop.Loop(session, ops, replicas.NullWriter(), "unused.tfrecord")
        assert step_loop.run_steps(loop, options) == (3, None)  # sound weights: trained and saved
        assert tf.train.latest_checkpoint(str(tmp_path)).endswith("model.ckpt-3")
        before = file_digests(str(tmp_path))
        session.run(poison)
        options.max_number_of_steps = 5
        with pytest.raises(UserError) as raised:
            step_loop.run_steps(loop, options)
    message = str(raised.value)
    assert "training diverged at step 4: NaN or infinity in 1 variable (%s)" % shadow.op.name in message
    assert "model.ckpt-3 stays the latest checkpoint" in message
    assert file_digests(str(tmp_path)) == before


def test_a_checkpoint_of_non_finite_weights_is_refused_by_evaluation_and_export_and_skipped_by_resume(
        lenet_run, faces, tmp_path, capsys):
    train_dir = copy_run(lenet_run, tmp_path)
    write_nan_checkpoint(train_dir, 4)
    assert tf.train.latest_checkpoint(str(train_dir)).endswith("model.ckpt-4")
    before = file_digests(str(train_dir))
    eval_dir, frozen = tmp_path / "eval", tmp_path / "frozen.pb"
    assert run_main(eval_image_classifier.main, ["--checkpoint_path", str(train_dir), "--eval_dir", str(eval_dir),
                                                 "--batch_size", "8"]) == 2
    out, err = capsys.readouterr()
    assert_no_traceback(err)
    assert "error: checkpoint %r holds NaN or infinity in " % str(train_dir / "model.ckpt-4") in err
    assert "the training that wrote it diverged" in err and "Accuracy" not in out
    assert not (eval_dir / "metrics.json").exists()
    assert run_main(export_inference_graph.main, ["--checkpoint_path", str(train_dir), "--frozen_graph",
                                                   str(frozen)]) == 2
    err = capsys.readouterr().err
    assert_no_traceback(err)
    assert "error: checkpoint %r holds NaN or infinity in " % str(train_dir / "model.ckpt-4") in err
    assert not frozen.exists()
    assert file_digests(str(train_dir)) == before
    # Resuming takes the newest checkpoint whose weights are finite, and says which it skipped.
    assert run_main(train_image_classifier.main, train_args(faces, train_dir, 5)) == 0
    out, err = capsys.readouterr()
    assert "warning: model.ckpt-4 holds NaN or infinity in " in err
    assert "resuming from model.ckpt-3 instead, the newest intact checkpoint of %s" % train_dir in err
    assert "resuming from %s" % (train_dir / "model.ckpt-3") in out
    assert [int(m.group(1)) for m in map(STEP_LINE.match, out.splitlines()) if m] == [4, 5]
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(train_dir)))
    assert all(np.isfinite(reader.get_tensor(name)).all() for name in reader.get_variable_to_shape_map())
