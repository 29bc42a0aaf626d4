"""TFRecord files in shards: their names, which files a `--tfrecord_file` value means, splitting a file
into shards at record boundaries, and which shards (or records) each worker of a cluster reads.

The conversion writes `--num_shards N` files named `NAME-00000-of-0000N` ... `NAME-0000(N-1)-of-0000N`,
where NAME is the `--tfrecord_file` path, as TensorFlow's own data sets are sharded. Every reader takes:
- a single file;
- a shard pattern (`labels/faces.tfrecord-*-of-00004`, any glob);
- a comma-separated list of files or patterns;
- NAME itself when only its shards exist, so the same default path works for 1 or N shards.
No TensorFlow here: a record's length is read from its header.
"""
import glob
import os
import re
import struct
from typing import NamedTuple

from core.errors import UserError
from core.files import file_kind
from core.text import quote

_SHARD = re.compile(r"^(?P<name>.+)-(?P<index>\d{5,})-of-(?P<count>\d{5,})$")
_HEADER_BYTES = 12  # length (8) + its checksum (4)
_FOOTER_BYTES = 4  # checksum of the data
_GLOB_CHARACTERS = set("*?[")


def shard_name(path, index, count):
    """`path-IIIII-of-CCCCC`: shard `index` (0-based) of `count`."""
    return "%s-%05d-of-%05d" % (path, index, count)


def shard_names(path, count):
    """The `count` shard file names of `path` (just `path` when count is 1)."""
    if count == 1:
        return [path]
    return [shard_name(path, index, count) for index in range(count)]


def existing_shards(path):
    """The shard files of NAME `path` on disk, in order; [] when there are none. Raises UserError when
    some shard of the set is missing, or when shards of several counts are there."""
    found = {}
    for candidate in glob.glob(glob.escape(path) + "-*-of-*"):
        match = _SHARD.match(candidate)
        if match and match.group("name") == path:
            found.setdefault(int(match.group("count")), {})[int(match.group("index"))] = candidate
    if not found:
        return []
    if len(found) > 1:
        raise UserError("%r has shards of several counts (%s): remove the old ones, or name the shards with "
                        "a pattern such as %s" % (path, ", ".join(str(c) for c in sorted(found)),
                                                  shard_name(path, 0, max(found)).replace("00000-of", "*-of")))
    count, files = next(iter(found.items()))
    missing = [shard_name(path, index, count) for index in range(count) if index not in files]
    if missing:
        raise UserError("%d of the %d shards of %r are missing, e.g. %s; convert the data again "
                        "(download_and_convert_data.py --num_shards %d)" % (len(missing), count, path,
                                                                             missing[0], count))
    return [files[index] for index in range(count)]


def other_layouts(path, count):
    """The files on disk that belong to NAME `path` in another layout than `count` shards: the single file
    `path` and shards of other counts."""
    keep = set(shard_names(path, count))
    found = [path] if os.path.isfile(path) else []
    for candidate in glob.glob(glob.escape(path) + "-*-of-*"):
        match = _SHARD.match(candidate)
        if match and match.group("name") == path:
            found.append(candidate)
    return sorted(name for name in found if name not in keep)


def resolve(spec):
    """The list of TFRecord files that `spec` means: a path, a glob pattern, NAME of a set of shards, or a
    comma-separated string (or a list) of them. Raises UserError when one of them matches no file."""
    items = spec if isinstance(spec, (list, tuple)) else [part.strip() for part in str(spec).split(",")]
    files = []
    for item in items:
        item = os.fspath(item)
        if not item:
            continue
        if os.path.isfile(item):
            files.append(item)
        elif _GLOB_CHARACTERS & set(item):
            matches = sorted(path for path in glob.glob(item) if os.path.isfile(path))
            if not matches:
                raise UserError("TFRecord pattern %r matches no file; create the data with "
                                "download_and_convert_data.py (or pass another --tfrecord_file)" % item)
            files.extend(matches)
        elif os.path.exists(item):  # a folder, a FIFO, a device: never opened (a FIFO would block the reader)
            raise UserError("TFRecord %s is a %s, not a file; pass --tfrecord_file with the TFRecord written by "
                            "download_and_convert_data.py" % (quote(item), file_kind(os.stat(item).st_mode)))
        else:
            shards = existing_shards(item)
            if not shards:
                raise UserError("TFRecord file %r does not exist; create it with download_and_convert_data.py "
                                "--image_dir <images> --labels_dir <annotations> (or pass --tfrecord_file)" % item)
            files.extend(shards)
    if not files:
        raise UserError("no TFRecord file given (--tfrecord_file %r)" % (spec,))
    return files


def describe(spec):
    """A short name of what `spec` means for messages: the path, or 'N files (first ... last)'."""
    files = spec if isinstance(spec, (list, tuple)) else None
    if files is None:
        return str(spec)
    if len(files) == 1:
        return files[0]
    return "%d files (%s ... %s)" % (len(files), files[0], files[-1])


class RecordShard(NamedTuple):
    """Keep every `num_shards`-th record from record `index` (tf.data.Dataset.shard's arguments)."""

    num_shards: int
    index: int


class WorkerShare(NamedTuple):
    """What one worker of a cluster reads: `files`, and of their records only `record_shard` (None: all)."""

    files: list
    record_shard: RecordShard = None


def for_worker(files, num_workers, worker_index):
    """The WorkerShare of worker `worker_index` of `num_workers`. When the files divide evenly among the
    workers, worker i takes files i, i + n, i + 2n ...; otherwise every worker reads every file and keeps
    every n-th record from record i. Either way the workers together read each record once, and equal
    shares of them."""
    if num_workers <= 1:
        return WorkerShare(list(files))
    if not 0 <= worker_index < num_workers:
        raise ValueError("worker index %d out of range for %d workers" % (worker_index, num_workers))
    if len(files) % num_workers == 0:
        return WorkerShare(list(files[worker_index::num_workers]))
    return WorkerShare(list(files), RecordShard(num_workers, worker_index))


class RecordSpan(NamedTuple):
    """Where one record lies in its TFRecord file: from byte `offset`, `length` bytes with its header and
    footer."""

    offset: int
    length: int


def record_offsets(path):
    """The RecordSpan of each record of the TFRecord file `path`, read from the length headers (the
    checksums are not checked: the file's readers do that)."""
    size = os.path.getsize(path)
    offsets, offset = [], 0
    with open(path, "rb") as handle:
        while offset + _HEADER_BYTES <= size:
            handle.seek(offset)
            length = _HEADER_BYTES + struct.unpack("<Q", handle.read(8))[0] + _FOOTER_BYTES
            offsets.append(RecordSpan(offset, length))
            offset += length
    if offset != size:
        raise ValueError("%s does not end at a record boundary" % path)
    return offsets


def split_file(source, targets):
    """Copies the records of TFRecord `source` into the files `targets`, in order and in runs of equal
    size (within one record), byte for byte. Returns the number of records of each target."""
    offsets = record_offsets(source)
    count = len(targets)
    bounds = [len(offsets) * index // count for index in range(count + 1)]
    with open(source, "rb") as handle:
        for index, target in enumerate(targets):
            first, last = bounds[index], bounds[index + 1]
            with open(target, "wb") as output:
                if last > first:
                    start = offsets[first].offset
                    end = offsets[last - 1].offset + offsets[last - 1].length
                    handle.seek(start)
                    remaining = end - start
                    while remaining:
                        chunk = handle.read(min(remaining, 1 << 20))
                        output.write(chunk)
                        remaining -= len(chunk)
    return [bounds[index + 1] - bounds[index] for index in range(count)]
