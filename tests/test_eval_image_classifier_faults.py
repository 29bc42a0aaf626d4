"""Evaluation under faults, in real processes: following a training run that writes and deletes a
checkpoint every step, into an eval directory that does not exist yet; a disk full when the results
are written."""
import json
import os
import re
import signal
import time

import eval_image_classifier
import train_image_classifier
from core.cli import run_main
from tests.faults import (
    assert_no_traceback,
    file_digests,
    latest_step,
    read_until,
    run,
    script,
    start,
    tiny_filesystem,
    train_command,
)

TARGET = 30
EVALUATED = re.compile(r"eval/Accuracy [0-9.]+ at step (\d+);")


def test_following_a_run_that_saves_and_deletes_every_step_never_crashes(faces, tmp_path):
    # Neither the training directory nor the eval directory exist yet when the follower starts.
    train_dir, eval_dir = tmp_path / "train", tmp_path / "pas encore créé" / "éval"
    follower = start(script("eval_image_classifier.py") + [
        "--checkpoint_path", str(train_dir), "--eval_dir", str(eval_dir), "--eval_interval_secs", "0",
        "--timeout", "300", "--batch_size", "64"])
    lines, trainer = [], None
    try:
        # Training starts once the follower waits; it keeps its last 5 checkpoints: each is deleted about
        # 5 steps after it appears.
        assert read_until(follower, lambda line: line.startswith("no checkpoint in "), lines), (
            "".join(lines) + follower.stderr.read()[-3000:])
        trainer = start(train_command(faces, train_dir, TARGET, "--save_interval_secs", "0"))
        # Training is held (SIGSTOP) at its first checkpoints until the follower has evaluated one, so that
        # however slowly the follower builds its graph on a loaded machine, it sees the run move on after.
        deadline = time.monotonic() + 240
        while not (train_dir / "checkpoint").exists():
            assert trainer.poll() is None, trainer.stderr.read()[-3000:]  # it ended: its whole output
            assert time.monotonic() < deadline, "training wrote no checkpoint in 240 s"
            time.sleep(0.02)
        trainer.send_signal(signal.SIGSTOP)
        try:
            assert read_until(follower, EVALUATED.search, lines), "".join(lines) + follower.stderr.read()[-3000:]
        finally:
            trainer.send_signal(signal.SIGCONT)
        assert read_until(follower, lambda line: "at step %d;" % TARGET in line, lines), (
            "".join(lines) + follower.stderr.read()[-3000:])
        follower.send_signal(signal.SIGTERM)  # the user stops following
        out, err = follower.communicate(timeout=60)
        trainer_out, trainer_err = trainer.communicate(timeout=60)
    finally:
        for process in (follower, trainer):
            if process is not None:
                process.kill()
    assert trainer.returncode == 0, trainer_err[-3000:]
    assert follower.returncode == 130 and "interrupted" in err
    assert_no_traceback(err)
    evaluated = [int(step) for step in EVALUATED.findall("".join(lines))]
    skipped = re.findall(r"warning: (.*) disappeared while being read", err)
    assert len(evaluated) >= 2 and evaluated == sorted(evaluated), (lines, skipped)
    assert evaluated[-1] == TARGET == latest_step(train_dir)
    with open(eval_dir / "metrics.json", encoding="utf-8") as handle:
        assert json.load(handle)["global_step"] == TARGET


def test_disk_full_when_writing_the_results_is_a_message_and_keeps_the_previous_ones(faces, tmp_path, capsys):
    assert run_main(train_image_classifier.main, train_command(faces, tmp_path / "train", 1)[2:]) == 0
    disk = tmp_path / "disk"
    with tiny_filesystem(disk, 64 << 10, largest_file=1024) as limit:  # metrics.json: several KB
        eval_dir = disk / "éval"
        os.makedirs(eval_dir)
        (eval_dir / "metrics.json").write_text('{"global_step": 0}\n', encoding="utf-8")
        before = file_digests(str(eval_dir))
        argv = ["--checkpoint_path", str(tmp_path / "train"), "--eval_dir", str(eval_dir)]
        if limit is None:
            with open(disk / "filler", "wb", buffering=0) as handle:  # fill the filesystem
                try:
                    while handle.write(b"\0" * 4096):
                        pass
                except OSError:
                    pass
            code = run_main(eval_image_classifier.main, argv)
            err = capsys.readouterr().err
        else:
            code, _out, err = run(script("eval_image_classifier.py") + argv, preexec_fn=limit)
        assert code == 2
        assert_no_traceback(err)
        assert re.search(r"error: cannot write .*éval/metrics.json' \((No space left on device|File too large)\): "
                         r"is the disk full\? The previous metrics.json, if any, is unchanged", err), err
        after = file_digests(str(eval_dir))
        assert after["metrics.json"] == before["metrics.json"]
        assert [name for name in after if not name.startswith("events.out")] == ["metrics.json"]
