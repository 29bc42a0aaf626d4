"""Helpers of the fault-injection tests (test_faults_*.py; no tests here): the scripts run as real
processes, checkpoints read back whole, a tiny full filesystem, damaged TFRecord files."""
import contextlib
import hashlib
import os
import random
import re
import resource
import shutil
import struct
import subprocess
import sys
import time

from core.compat import tf
from tests.conftest import ROOT

# lenet at 28 pixels with plain SGD: a 13 MB checkpoint, steps in milliseconds.
LENET = ["--model_name", "lenet", "--train_image_size", "28", "--batch_size", "8", "--optimizer", "sgd",
         "--learning_rate", "0.01", "--log_every_n_steps", "1"]
STEP_LINE = re.compile(r"^step (\d+)/(\d+):")


def script(name):
    return [sys.executable, os.path.join(ROOT, name)]


def train_args(data, train_dir, steps, *extra):
    """The flags of a quick lenet training on `data` (a tests.conftest.DemoData) into `train_dir`."""
    return ["--tfrecord_file", data.tfrecord, "--chemin_liste_labels", data.classes, "--train_dir", str(train_dir),
            "--max_number_of_steps", str(steps)] + LENET + [str(arg) for arg in extra]


def train_command(data, train_dir, steps, *extra):
    return script("train_image_classifier.py") + train_args(data, train_dir, steps, *extra)


def run(command, timeout=300, **kwargs):
    """Runs a script to its end: (exit code, stdout, stderr)."""
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, **kwargs)
    return result.returncode, result.stdout, result.stderr


def start(command, **kwargs):
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)


def read_until(process, predicate, lines):
    """Reads `process`'s stdout into `lines` until a line satisfies `predicate`; False at end of output."""
    for line in process.stdout:
        lines.append(line)
        if predicate(line):
            return True
    return False


def assert_no_traceback(err):
    assert "Traceback" not in err and "Exception ignored" not in err, err[-3000:]


def checkpoint_step(prefix):
    """The global step inside checkpoint `prefix`, after reading every tensor of it (a damaged checkpoint
    fails here)."""
    reader = tf.train.load_checkpoint(prefix)
    for name in reader.get_variable_to_shape_map():
        reader.get_tensor(name)
    return int(reader.get_tensor("global_step"))


def latest_step(train_dir):
    """(the latest checkpoint's step, checked whole, or 0 when there is none)."""
    latest = tf.train.latest_checkpoint(str(train_dir))
    if latest is None:
        return 0
    step = checkpoint_step(latest)
    assert latest.endswith("model.ckpt-%d" % step), (latest, step)
    return step


def file_digests(folder, prefix=""):
    return {name: hashlib.sha256(open(os.path.join(folder, name), "rb").read()).hexdigest()
            for name in sorted(os.listdir(folder)) if name.startswith(prefix)
            and os.path.isfile(os.path.join(folder, name))}


def run_outputs(train_dir):
    """file_digests of a training directory, but its lock file (which names the process that holds it)."""
    from core.dir_lock import LOCK_NAME
    return {name: digest for name, digest in file_digests(str(train_dir)).items() if name != LOCK_NAME}


def copy_run(train_dir, tmp_path):
    """A copy of the training directory `train_dir`, to damage: tmp_path/run."""
    target = os.path.join(str(tmp_path), "run")
    shutil.copytree(str(train_dir), target)
    return type(tmp_path)(target)


@contextlib.contextmanager
def tiny_filesystem(folder, size, largest_file):
    """A filesystem of `size` bytes mounted at `folder` (tmpfs, as root): yields None. Where mounting is
    not allowed, yields a preexec_fn instead: a child started with it cannot write a file larger than
    `largest_file` bytes (RLIMIT_FSIZE: its writes fail with EFBIG, as on a full disk). FAULTS_NO_MOUNT=1
    in the environment chooses the second way."""
    os.makedirs(folder, exist_ok=True)
    mounted = False
    if os.environ.get("FAULTS_NO_MOUNT") != "1" and hasattr(os, "geteuid") and os.geteuid() == 0 \
            and shutil.which("mount"):
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % size, "faults", str(folder)],
                                 capture_output=True).returncode == 0
    if mounted:
        try:
            yield None
        finally:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)
        return

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (largest_file, largest_file))
    yield limit


# --- damaged TFRecord files ---------------------------------------------------------------------------

def record_offsets(path):
    """[(offset, data length)] of every record of a sound TFRecord file."""
    data = open(path, "rb").read()
    offsets, offset = [], 0
    while offset < len(data):
        length = struct.unpack("<Q", data[offset:offset + 8])[0]
        offsets.append((offset, length))
        offset += 12 + length + 4
    assert offset == len(data)
    return offsets


def damage(source, target, how, record, seed=0):
    """Copies TFRecord `source` to `target` with record number `record` (0-based) damaged `how`:
    flip_data (one byte of its data), flip_length (one byte of its length), cut (the file ends inside its
    data) or cut_header (the file ends inside its header). Returns the 0-based records lost."""
    data = bytearray(open(source, "rb").read())
    offsets = record_offsets(source)
    offset, length = offsets[record]
    rng = random.Random(seed)
    if how == "flip_data":
        data[offset + 12 + rng.randrange(length)] ^= 0xFF
        lost = [record]
    elif how == "flip_length":
        data[offset + rng.randrange(8)] ^= 0x01
        lost = [record]
    elif how == "cut":
        data = data[:offset + 12 + rng.randrange(1, length)]
        lost = list(range(record, len(offsets)))
    elif how == "cut_header":
        data = data[:offset + rng.randrange(1, 12)]
        lost = list(range(record, len(offsets)))
    else:
        raise ValueError(how)
    with open(target, "wb") as handle:
        handle.write(bytes(data))
    return offset, lost


def record_file_names(path):
    """The image/filename of every record of a sound TFRecord file, in order."""
    names = []
    for serialized in tf.compat.v1.io.tf_record_iterator(path):
        example = tf.train.Example.FromString(serialized)
        names.append(example.features.feature["image/filename"].bytes_list.value[0].decode("utf-8"))
    return names


def split_count(names, split, percentage=25, val_percentage=10):
    """How many of `names` fall in `split` of a new run (its default test and val parts)."""
    from datasets.split import in_split
    return sum(bool(in_split(tf.constant(name), split, percentage, val_percentage)) for name in names)


def wait_gone(process, seconds):
    """Waits for `process` to exit; the time it took."""
    started = time.monotonic()
    process.wait(timeout=seconds)
    return time.monotonic() - started

