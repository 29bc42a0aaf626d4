"""The README's TensorBoard commands, run with the real `tensorboard` server on a training and its
evaluations: its HTTP API must list the train and eval runs with their scalars (and the eval's
precision-recall curves). The original's command, which TensorBoard 2 reads as one directory name,
shows nothing, as the README says."""
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

import eval_image_classifier
import train_image_classifier
from core.cli import run_main
from tests.conftest import ROOT

TENSORBOARD = os.path.join(os.path.dirname(sys.executable), "tensorboard")
SEED_COMMAND = "tensorboard --logdir=train:output/,eval:output_eval/"  # the original README's and demo's
WAIT_SECONDS = 180


def readme_commands():
    """The `tensorboard ...` lines of the README's code blocks."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        blocks = re.findall(r"```bash\n(.*?)```", handle.read(), re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip().startswith("tensorboard ")]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as response:
        return json.loads(response.read().decode("utf-8"))


class Server:
    """`command` (a README line, its paths mapped into the test's folder) on 127.0.0.1 and a free port."""

    def __init__(self, command, paths, log):
        arguments = shlex.split(command)
        assert arguments[0] == "tensorboard"
        for name, path in paths.items():
            arguments = [argument.replace(name, path) for argument in arguments]
        self.port = free_port()
        self.log = log
        self.process = subprocess.Popen([TENSORBOARD] + arguments[1:] + ["--host", "127.0.0.1", "--port",
                                                                         str(self.port)],
                                        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def get(self, path):
        assert self.process.poll() is None, "tensorboard exited: %s" % self.output()
        try:
            return get(self.port, path)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None  # not serving yet

    def output(self):
        self.log.flush()
        with open(self.log.name, encoding="utf-8", errors="replace") as handle:
            return handle.read()[-3000:]

    def stop(self):
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)


def wait_for(server, path, predicate):
    """The first answer of `path` that satisfies `predicate`, polled until WAIT_SECONDS pass."""
    deadline, answer = time.monotonic() + WAIT_SECONDS, None
    while time.monotonic() < deadline:
        answer = server.get(path)
        if answer is not None and predicate(answer):
            return answer
        time.sleep(1.0)
    pytest.fail("tensorboard never listed what was expected at %s; last answer %r; its output:\n%s"
                % (path, answer, server.output()))


@pytest.fixture(scope="module")
def runs(faces, tmp_path_factory):
    """A short training in output/, evaluated into its default eval dir and, as the original did, into
    output_eval/."""
    root = tmp_path_factory.mktemp("tensorboard")
    output, output_eval = str(root / "output"), str(root / "output_eval")
    assert run_main(train_image_classifier.main, [
        "--tfrecord_file", faces.tfrecord, "--chemin_liste_labels", faces.classes, "--train_dir", output,
        "--model_name", "lenet", "--max_number_of_steps", "20", "--batch_size", "8", "--optimizer", "adam",
        "--log_every_n_steps", "10"]) == 0
    assert run_main(eval_image_classifier.main, ["--checkpoint_path", output]) == 0
    assert run_main(eval_image_classifier.main, ["--checkpoint_path", output, "--eval_dir", output_eval]) == 0
    return root, {"output_eval/": output_eval + "/", "output/": output + "/"}


@pytest.mark.slow
def test_the_readme_commands_show_the_train_and_eval_runs_and_the_original_one_shows_nothing(runs):
    root, paths = runs
    commands = readme_commands()
    plain = [command for command in commands if re.fullmatch(r"tensorboard --logdir output/", command)]
    spec = [command for command in commands if command.startswith("tensorboard --logdir_spec ")]
    assert plain and spec, commands
    # The runs each command must show: TensorBoard names a run by its folder below the logdir ('.' for the
    # logdir itself), prefixed with its name in a --logdir_spec.
    expected = {plain[0]: {".": "total_loss", "eval": "eval/Accuracy"},
                spec[0]: {"train/.": "total_loss", "eval/.": "eval/Accuracy"}}
    servers = {}
    try:
        for index, command in enumerate([plain[0], spec[0], SEED_COMMAND]):
            servers[command] = Server(command, paths, open(root / ("tensorboard_%d.log" % index), "w"))
        for command, wanted in expected.items():
            tags = wait_for(servers[command], "/data/plugin/scalars/tags",
                            lambda answer, wanted=wanted: all(tag in answer.get(run, {})
                                                                  for run, tag in wanted.items()))
            train_run = [run for run in wanted if wanted[run] == "total_loss"][0]
            assert {"total_loss", "learning_rate"} <= set(tags[train_run])
            # a grouped run (the faces' five attributes): a loss per group, losses/loss/homme_femme, ...
            assert [tag for tag in tags[train_run] if tag.startswith("losses/loss")], tags[train_run]
            eval_run = [run for run in wanted if wanted[run] == "eval/Accuracy"][0]
            curves = wait_for(servers[command], "/data/plugin/pr_curves/tags",
                              lambda answer, eval_run=eval_run: eval_run in answer)
            assert "eval/pr_curve/homme/pr_curves" in curves[eval_run]
        # The original's command: one directory named 'train:output/,eval:output_eval/', which does not exist.
        # It started with the others, which have loaded their runs by now: once it serves, it shows none.
        assert wait_for(servers[SEED_COMMAND], "/data/plugin/scalars/tags", lambda answer: True) == {}
        assert servers[SEED_COMMAND].get("/data/runs") == []
    finally:
        for server in servers.values():
            server.stop()
            server.log.close()
    for server in servers.values():
        assert server.process.returncode is not None
