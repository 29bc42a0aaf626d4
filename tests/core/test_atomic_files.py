"""core/atomic_files.py: a file is replaced whole or left as it was, and no temporary stays behind."""
import json
import os

import pytest

from core import atomic_files


def test_write_json_creates_the_folder_and_replaces_the_previous_file(tmp_path):
    path = tmp_path / "new folder" / "metrics.json"
    atomic_files.write_json(str(path), {"é": 1})
    atomic_files.write_json(str(path), {"b": 2, "a": 1}, sort_keys=True)
    assert path.read_text(encoding="utf-8") == '{\n  "a": 1,\n  "b": 2\n}\n'
    assert os.listdir(path.parent) == ["metrics.json"]


def test_a_failed_write_keeps_the_previous_file_and_removes_the_temporary(tmp_path):
    path = tmp_path / "config.json"
    atomic_files.write_json(str(path), {"step": 1})
    with pytest.raises(TypeError):
        atomic_files.write_json(str(path), {"step": object()})  # not serializable, after a partial write
    assert json.loads(path.read_text()) == {"step": 1}
    assert os.listdir(tmp_path) == ["config.json"]


def test_replacing_renames_only_when_the_block_succeeds(tmp_path):
    path = tmp_path / "graph.pb"
    path.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_files.replacing(str(path)) as temporary:
            with open(temporary, "wb") as handle:
                handle.write(b"half")
            raise KeyboardInterrupt
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["graph.pb"]
    with atomic_files.replacing(str(path)) as temporary:
        assert os.path.dirname(temporary) == str(tmp_path) and os.path.basename(temporary).startswith(".")
        with open(temporary, "wb") as handle:
            handle.write(b"new")
    assert path.read_bytes() == b"new" and os.listdir(tmp_path) == ["graph.pb"]
