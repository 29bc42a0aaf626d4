"""Faults during training, injected into real processes: kill -9 at random steps, SIGINT and SIGTERM at
any moment, a disk that fills while a checkpoint is saved. Nothing trained and saved is lost, no
traceback is printed, and running the same command again reaches --max_number_of_steps exactly."""
import os
import random
import re
import shutil
import signal

import train_image_classifier
from core.cli import run_main
from core.compat import tf
from tests.faults import (
    LENET,
    STEP_LINE,
    assert_no_traceback,
    file_digests,
    latest_step,
    read_until,
    run,
    start,
    tiny_filesystem,
    train_command,
    wait_gone,
)

TARGET = 20


def test_kill_9_at_random_steps_and_sigint_during_a_save_then_the_same_command_stops_at_the_target(
        faces, tmp_path):
    # A checkpoint every step (--save_interval_secs 0): most kills land while one is being written.
    command = train_command(faces, tmp_path, TARGET, "--save_interval_secs", "0")
    rng = random.Random(20240601)
    saved = 0
    for signum in (signal.SIGKILL, signal.SIGKILL, signal.SIGINT):
        process = start(command)
        send_after = saved + rng.randint(2, 5)
        lines = []
        try:
            reached = read_until(process, lambda line, send_after=send_after: (STEP_LINE.match(line) and
                                                        int(STEP_LINE.match(line).group(1)) >= send_after), lines)
            assert reached, "".join(lines) + process.stderr.read()[-3000:]
            first = next(int(STEP_LINE.match(line).group(1)) for line in lines if STEP_LINE.match(line))
            assert first == saved + 1, (saved, lines)  # resumed from the last complete checkpoint
            if saved:
                assert "resuming from %s" % os.path.join(str(tmp_path), "model.ckpt-%d" % saved) in "".join(lines)
            if rng.random() < 0.5:  # a random moment: in a step, in a save, or between them
                lines.append(process.stdout.readline())
            process.send_signal(signum)
            assert wait_gone(process, 60) < 20
            out, err = process.communicate()
        finally:
            process.kill()
        step = latest_step(tmp_path)  # reads every tensor: the checkpoint named by the state file is whole
        assert step >= send_after - 1 and step >= saved, (step, saved, send_after)
        if signum == signal.SIGINT:
            # Ctrl-C: the current step is saved, a message, exit 130.
            assert process.returncode == 130
            assert_no_traceback(err)
            printed = [int(m.group(1)) for m in map(STEP_LINE.match, lines + out.splitlines()) if m]
            assert "SIGINT received: saved model.ckpt-%d at step %d; run the same command again" % (
                max(printed), max(printed)) in out
            assert step == max(printed)
        saved = step
    code, out, err = run(command)
    assert code == 0, err[-3000:]
    assert_no_traceback(err)
    steps = [int(match.group(1)) for match in map(STEP_LINE.match, out.splitlines()) if match]
    assert steps == list(range(saved + 1, TARGET + 1))  # continues the global step, stops exactly there
    assert "resuming from" in out and "done: step %d" % TARGET in out
    assert latest_step(tmp_path) == TARGET
    # Training keeps its last 5 checkpoints across restarts; no staging folder of a killed save remains.
    state = tf.train.get_checkpoint_state(str(tmp_path))
    kept = sorted(name for name in os.listdir(tmp_path) if name.endswith(".index"))
    assert len(kept) == len(state.all_model_checkpoint_paths) == 5, kept
    assert not [name for name in os.listdir(tmp_path) if name.endswith("_temp")]


def test_sigterm_while_the_graph_is_built_exits_130_with_a_message(faces, tmp_path):
    process = start(train_command(faces, tmp_path, TARGET))
    lines = []
    assert read_until(process, lambda line: line.startswith("training lenet"), lines)
    process.send_signal(signal.SIGTERM)
    assert wait_gone(process, 60) < 20
    out, err = process.communicate()
    assert process.returncode == 130, err[-3000:]
    assert_no_traceback(err)
    assert "interrupted" in err or "received: saved" in out


def train_in_process(data, train_dir, steps, *extra):
    return run_main(train_image_classifier.main, [
        "--tfrecord_file", data.tfrecord, "--chemin_liste_labels", data.classes, "--train_dir", str(train_dir),
        "--max_number_of_steps", str(steps)] + LENET + list(extra))


def test_disk_full_while_saving_keeps_the_previous_checkpoint_and_the_run_resumes(faces, tmp_path):
    # One lenet checkpoint is 13 MB: the 20 MB filesystem holds the first, not a second.
    disk = tmp_path / "disk"
    with tiny_filesystem(disk, 20 << 20, largest_file=8 << 20) as limit:
        train_dir = str(disk / "run é")
        assert train_in_process(faces, train_dir, 1) == 0
        before = file_digests(train_dir, "model.ckpt-1.")
        assert len(before) == 3
        code, out, err = run(train_command(faces, train_dir, 3, "--save_interval_secs", "0"), preexec_fn=limit)
        assert code == 2, (out, err[-3000:])
        assert_no_traceback(err)
        assert re.search(r"error: cannot save the checkpoint of step 2 in .*run é \((No space left on device|File "
                         r"too large)\): is the disk full\? The previous checkpoint model.ckpt-1 is intact", err), err
        assert file_digests(train_dir, "model.ckpt-1.") == before
        assert not [name for name in os.listdir(train_dir) if name.startswith("model.ckpt-2")]
        assert latest_step(train_dir) == 1
        # The user moves the run to a bigger disk and runs the same command again there.
        moved = str(tmp_path / "bigger disk")
        shutil.copytree(train_dir, moved)
    assert train_in_process(faces, moved, 3) == 0
    assert latest_step(moved) == 3
