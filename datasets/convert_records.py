"""Writing the conversion's TFRecord: the Tasks of datasets/convert_worker.py run in this process or in a
pool of worker processes, and the records go to a temporary file beside the output, renamed over it (or
split into its shard files) once every image is done. An interrupted or failed run leaves the previous
files as they were and removes its temporaries.
"""
import contextlib
import multiprocessing
import os
import shutil

from core import atomic_files
from core.errors import UserError, write_failure
from core.text import quote
from datasets import shards
from datasets.convert_worker import Converted, ShardJob, process, write_shard
from datasets.convert_worker import init as init_worker

# Below this many images the work runs in this process: a pool costs more than it saves.
POOL_MIN_IMAGES = 64
# Images per pool job (and per shard file of the TFRecord).
SHARD_IMAGES = 64


def load_tensorflow():
    from core.compat import tf as tensorflow
    return tensorflow


class _TensorFlow:
    """TensorFlow, imported on first use: `download_and_convert_data.py --help` does not load it."""

    def __getattr__(self, name):
        return getattr(load_tensorflow(), name)


tf = _TensorFlow()


def default_workers():
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def max_workers():
    """The most worker processes a conversion may start: 4 per CPU core."""
    return 4 * default_workers()


def workers_for(num_tasks, requested=None):
    """The worker processes for `num_tasks` images: `requested` (default: one per CPU core), or 1 when
    there are too few images for a pool to pay."""
    if num_tasks < POOL_MIN_IMAGES:
        return 1
    return max(1, default_workers() if requested is None else requested)


def write_records(tasks, classes, num_workers, record_path, limits):
    """Writes the TFRecord of `tasks` to `record_path`; yields each task's process() result, in order.
    `limits`: the ReadLimits of datasets/read_limits.py.

    In a pool, each job of SHARD_IMAGES images is written by its worker to a shard file that this process
    appends to `record_path` (TFRecord files concatenate), so image bytes never travel between processes.
    """
    if num_workers <= 1:
        init_worker(classes, limits, ignore_interrupts=False)
        with tf.io.TFRecordWriter(record_path) as writer:
            for task in tasks:
                result = process(task)
                if isinstance(result, Converted):
                    writer.write(result.example)
                yield result
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    shard_prefix = "%s.part" % record_path
    jobs = [ShardJob("%s%06d" % (shard_prefix, start), tasks[start:start + SHARD_IMAGES])
            for start in range(0, len(tasks), SHARD_IMAGES)]
    try:
        with open(record_path, "wb") as output, \
                context.Pool(num_workers, initializer=init_worker, initargs=(classes, limits)) as pool:
            for job, results in zip(jobs, pool.imap(write_shard, jobs)):
                if os.path.exists(job.path):
                    with open(job.path, "rb") as shard:
                        shutil.copyfileobj(shard, output, 1 << 20)
                    os.remove(job.path)
                yield from results
    finally:
        for job in jobs:
            if os.path.exists(job.path):
                os.remove(job.path)


def output(path):
    """atomic_files.replacing(path), once the folder of `path` exists and `path` is not a folder."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as error:
        raise UserError("cannot create the folder %s for %s (%s)" % (quote(folder), quote(path),
                                                                     error.strerror or error))
    if os.path.isdir(path):
        raise UserError("%s is a folder; give a file path" % quote(path))
    return atomic_files.replacing(path)


@contextlib.contextmanager
def _scratch(path):
    """A temporary path beside `path`, removed when the block ends."""
    temporary = atomic_files.create_temporary(path)
    try:
        yield temporary
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


class RecordOutput:
    """Where the TFRecord `path` is written: `temporary`, renamed over `path` when `stack` (a
    contextlib.ExitStack) closes without an exception, or split into `num_shards` shard files."""

    def __init__(self, stack, path, num_shards):
        self.shard_temporaries = []
        if num_shards > 1:
            self.shard_temporaries = [stack.enter_context(output(name))
                                      for name in shards.shard_names(path, num_shards)]
            self.temporary = stack.enter_context(_scratch(path))
        else:
            self.temporary = stack.enter_context(output(path))

    def split(self):
        """Once the records are written, splits them into the shard files; returns the images of each
        shard, None for a single file."""
        if not self.shard_temporaries:
            return None
        return shards.split_file(self.temporary, self.shard_temporaries)


@contextlib.contextmanager
def write_errors(tfrecord_file, csv_file):
    """A failed write (disk full, no permission) becomes a UserError; the temporaries are gone by then."""
    try:
        yield
    except (OSError, tf.errors.OpError) as error:
        raise UserError("cannot write %s and %s %s The previous files, if any, are unchanged"
                        % (quote(tfrecord_file), quote(csv_file), write_failure(error)))


def remove_other_layouts(tfrecord_file, num_shards, log):
    """After a conversion into `num_shards` files, removes the previous outputs of the same NAME in another
    layout (the single file, or shards of another count), which readers would otherwise take for it."""
    stale = shards.other_layouts(tfrecord_file, num_shards)
    for path in stale:
        os.remove(path)
    if stale:
        log("removed %d file(s) of a previous conversion to %s in another layout, e.g. %s"
            % (len(stale), tfrecord_file, stale[0]))
