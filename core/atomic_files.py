"""Files that appear whole or not at all: written under a temporary name beside their final path, then
renamed over it. An interrupted or failed write leaves the previous file as it was and no temporary.

No TensorFlow here: the conversion's worker processes and the demo data generator use it too.
"""
import contextlib
import json
import os


def temporary_name(path):
    """A hidden name in the folder of `path`, unique to this process (the rename stays on one disk)."""
    folder, name = os.path.split(os.path.abspath(path))
    return os.path.join(folder, ".%s.%d.tmp" % (name, os.getpid()))


@contextlib.contextmanager
def replacing(path):
    """Yields a temporary path to write; when the block ends without an exception the temporary replaces
    `path`, otherwise it is removed. Creates the folder of `path` if needed."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temporary = temporary_name(path)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_bytes(path, data):
    with replacing(path) as temporary, open(temporary, "wb") as handle:
        handle.write(data)
    return path


def write_json(path, value, sort_keys=False):
    """`value` as indented UTF-8 JSON with a final newline."""
    with replacing(path) as temporary, open(temporary, "w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=2, sort_keys=sort_keys, ensure_ascii=False)
        handle.write("\n")
    return path
