"""Damaged TFRecord files: which record is at fault, and reading past it.

A TFRecord file is a chain of records: an 8-byte length, a checksum of the length, the data and a
checksum of the data. TensorFlow's reader stops at the first record that fails a checksum (a byte
changed) or that the end of the file cuts short (a half-copied file). `find_damage` walks the chain with
TensorFlow's own record reader and lists the damaged stretches; `readable_records` yields every record
outside them (--skip_corrupt_records). After a damaged record whose length is intact the chain goes on
right after it; after a damaged length, at the next byte where a whole record reads.
"""
import dataclasses
import os
import re
import struct
from typing import NamedTuple

from core.compat import tf  # isort: skip (before any other TensorFlow import: its shims run first)
from core.errors import UserError, first_line
from core.progress import warn
from datasets import shards

# TensorFlow's random-access record reader: read(offset) -> (record, next offset), raising DataLossError
# on a damaged record. It is not exported under tf.*; the module is loaded after core.compat's shims.
from tensorflow.python.lib.io import tf_record as _tf_record  # noqa: E402  isort: skip

_HEADER_BYTES = 12  # length (8) + its checksum (4)
_FOOTER_BYTES = 4  # checksum of the data


@dataclasses.dataclass
class Damage:
    """A damaged stretch of a TFRecord file: from byte `offset` (record `record`, counting from 1) to
    byte `resume`, where reading goes on (the file size when nothing after it reads)."""
    record: int
    offset: int
    resume: int
    truncated: bool

    def describe(self, size):
        if self.truncated:
            return "record %d (byte %d) is cut short: the file ends at byte %d" % (self.record, self.offset, size)
        return "record %d (byte %d) fails its checksum (damaged bytes between %d and %d)" % (
            self.record, self.offset, self.offset, self.resume)


def _readable_at(reader, offset):
    try:
        reader.read(offset)
        return True
    except (tf.errors.DataLossError, IndexError):
        return False


def _resume_offset(reader, handle, offset, size, error):
    """Where reading goes on after the damaged record at `offset`."""
    # TensorFlow names the byte it failed at: the data (offset + 12) when the length passed its checksum.
    match = re.search(r"record at (\d+)", str(error))
    if match and int(match.group(1)) > offset:
        handle.seek(offset)
        length = struct.unpack("<Q", handle.read(8))[0]
        end = offset + _HEADER_BYTES + length + _FOOTER_BYTES
        if end <= size:
            return end
    for candidate in range(offset + 1, size - _HEADER_BYTES - _FOOTER_BYTES + 1):
        if _readable_at(reader, candidate):
            return candidate
    return size


def _walk(path, known=None):
    """Yields the bytes of each readable record and a Damage for each damaged stretch, in file order.
    `known` maps the offsets of damage found before to where reading goes on."""
    size = os.path.getsize(path)
    reader = _tf_record.tf_record_random_reader(path)
    offset, number = 0, 0
    with open(path, "rb") as handle:
        while offset < size:
            number += 1
            try:
                record, next_offset = reader.read(offset)
            except (tf.errors.DataLossError, IndexError) as error:
                # IndexError: fewer bytes left than a record header.
                truncated = isinstance(error, IndexError) or "truncated" in str(error)
                if known and offset in known:
                    resume = known[offset]
                else:
                    resume = size if truncated else _resume_offset(reader, handle, offset, size, error)
                yield Damage(number, offset, resume, truncated)
                offset = resume
                continue
            yield record
            offset = next_offset


class FileCheck(NamedTuple):
    """What find_damage found in one TFRecord file: its damaged stretches and how many records read whole."""

    damages: list  # [Damage], in file order; empty for a sound file
    readable: int


_FOUND = {}  # (path, size, mtime) -> FileCheck


def find_damage(path):
    """The FileCheck of the TFRecord file `path`; reads the whole file once per version of it."""
    stat = os.stat(path)
    key = (os.path.realpath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _FOUND:
        damages, readable = [], 0
        for item in _walk(path):
            if isinstance(item, Damage):
                damages.append(item)
            else:
                readable += 1
        _FOUND[key] = FileCheck(damages, readable)
    return _FOUND[key]


def readable_records(path):
    """The serialized records of `path` outside its damaged stretches, in file order."""
    known = {damage.offset: damage.resume for damage in find_damage(path).damages}
    for item in _walk(path, known):
        if not isinstance(item, Damage):
            yield item


def summary(path, check):
    """What FileCheck `check` of the file `path` found, for a message."""
    size = os.path.getsize(path)
    text = check.damages[0].describe(size)
    if len(check.damages) > 1:
        text += " (and %d more damaged stretch(es))" % (len(check.damages) - 1)
    return "%s; %d record(s) read whole" % (text, check.readable)


def _files(spec):
    """The existing files of `spec` (a path, a pattern or a list: datasets/shards.py), [] if it names none."""
    try:
        return shards.resolve(spec)
    except UserError:
        return []


def damaged_file_error(path, error=None):
    """The UserError for a TFRecord that TensorFlow reported damaged: the file, the record at fault and
    what to do. `path` may name several files (a shard pattern or a list): the damaged one is named."""
    files = _files(path)
    check = None
    for candidate in files:
        check = find_damage(candidate)
        if check.damages:
            path = candidate
            break
    if check is not None and check.damages:
        detail = summary(path, check)
    else:
        detail = re.sub(r"\{\{.*?\}\}\s*", "", str(error or "")).split("[Op:")[0].strip().rstrip(" ;.")
        if len(files) == 1:
            path = files[0]
    return UserError("TFRecord %r is corrupt or truncated: %s. Build it again with download_and_convert_data.py, "
                     "or pass --skip_corrupt_records to use the records that read whole" % (path, detail))


def _decoding_failed(error):
    """Whether a TensorFlow error is an image decoder's: raised by the input pipeline (no op, or its
    iterator), and its reason or the nodes it names speak of decoding. The op-definition traceback that
    TensorFlow appends (file names such as train_image_classifier.py) is not read: a NaN in a summary
    histogram is not a damaged TFRecord."""
    op = getattr(error, "op", None)
    if op is not None and not op.type.startswith("IteratorGetNext"):
        return False
    message = getattr(error, "message", None) or str(error)
    nodes = " ".join(re.findall(r"\{\{node ([^}]*)\}\}", message))
    reason = first_line(error, limit=1000)
    return any(word in (reason + " " + nodes).lower() for word in ("decode", "image", "jpeg"))


def reading_error(path, error):
    """The UserError for an error TensorFlow raised while reading the images of TFRecord `path` (a file, a
    pattern or a list): a damaged file (DataLossError) or an image that cannot be decoded; None for any
    other error."""
    if isinstance(error, tf.errors.DataLossError):
        return damaged_file_error(path, error)
    if isinstance(error, tf.errors.InvalidArgumentError) and _decoding_failed(error):
        return UserError("an image of TFRecord %r cannot be decoded (%s); rebuild it with "
                         "download_and_convert_data.py or pass --skip_corrupt_records" % (path, first_line(error)))
    return None


def chain_ends_at_file_end(path):
    """Whether the record lengths, followed from the start, end exactly at the end of the file. Cheap (no
    data read); catches a cut inside a record header, which TensorFlow's reader takes for the end."""
    size = os.path.getsize(path)
    offset = 0
    with open(path, "rb") as handle:
        while offset + _HEADER_BYTES <= size:
            handle.seek(offset)
            offset += _HEADER_BYTES + struct.unpack("<Q", handle.read(8))[0] + _FOOTER_BYTES
    return offset == size


_WARNED = set()


def record_dataset(path, skip_corrupt_records=False, num_parallel_reads=None):
    """tf.data.Dataset of the serialized records of `path`: a file, a shard pattern or a list of them
    (datasets/shards.py), read in order. With `skip_corrupt_records` a damaged file is read past its
    damaged stretches (with one warning saying which), otherwise TensorFlow stops at the first one with a
    DataLossError."""
    files = shards.resolve(path)
    parts, damaged = [], False
    for name in files:
        if skip_corrupt_records:
            check = find_damage(name)
            if check.damages:
                damaged = True
                if name not in _WARNED:
                    _WARNED.add(name)
                    warn("TFRecord %r is corrupt or truncated: %s; --skip_corrupt_records: skipping the damaged "
                         "record(s)" % (name, summary(name, check)))
                parts.append(tf.data.Dataset.from_generator(
                    lambda name=name: readable_records(name), output_signature=tf.TensorSpec([], tf.string)))
                continue
        elif not chain_ends_at_file_end(name):
            raise damaged_file_error(name)
        parts.append(tf.data.TFRecordDataset([name]))
    if not damaged:
        return tf.data.TFRecordDataset(files, num_parallel_reads=num_parallel_reads)
    dataset = parts[0]
    for part in parts[1:]:
        dataset = dataset.concatenate(part)
    return dataset
