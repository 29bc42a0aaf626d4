"""core/atomic_files.py: a file or folder is replaced whole or left as it was, no temporary stays behind, and
temporaries are new files that a planted link cannot redirect."""
import json
import os
import stat

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


def test_a_link_planted_at_a_temporary_name_does_not_redirect_the_write(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    # The name the previous code used, `.NAME.PID.tmp`, and a spread of such names: none is written through.
    for name in [".metrics.json.%d.tmp" % os.getpid()] + [".metrics.json.%d.tmp" % pid for pid in range(1, 50)]:
        os.symlink(victim, tmp_path / name)
    atomic_files.write_json(str(tmp_path / "metrics.json"), {"a": 1})
    assert victim.read_text() == "keep me"
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"a": 1}


def test_temporaries_are_new_files_under_unpredictable_names_with_the_usual_permissions(tmp_path):
    path = str(tmp_path / "graph.pb")
    names = set()
    for _ in range(3):
        with atomic_files.replacing(path) as temporary:
            info = os.lstat(temporary)
            assert stat.S_ISREG(info.st_mode) and info.st_size == 0  # created here, exclusively, not a link
            names.add(os.path.basename(temporary))
    assert len(names) == 3 and all(name.startswith(".graph.pb.") and name.endswith(".tmp") for name in names)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask
    assert os.listdir(tmp_path) == ["graph.pb"]


def make_folder(path, text):
    os.makedirs(path)
    with open(os.path.join(path, "saved_model.pb"), "w") as handle:
        handle.write(text)


def test_a_folder_is_replaced_in_one_swap_or_left_as_it_was(tmp_path):
    path = str(tmp_path / "model")
    make_folder(path, "old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_files.replacing_folder(path) as temporary:
            make_folder(os.path.join(temporary, "half"), "x")
            raise KeyboardInterrupt
    assert open(os.path.join(path, "saved_model.pb")).read() == "old" and os.listdir(tmp_path) == ["model"]
    with atomic_files.replacing_folder(path) as temporary:
        with open(os.path.join(temporary, "saved_model.pb"), "w") as handle:
            handle.write("new")
    assert open(os.path.join(path, "saved_model.pb")).read() == "new" and os.listdir(tmp_path) == ["model"]


def test_exchange_swaps_two_folders_and_the_fallback_names_where_the_old_one_goes(tmp_path):
    first, second = str(tmp_path / "a"), str(tmp_path / "b")
    make_folder(first, "A")
    make_folder(second, "B")
    assert atomic_files.exchange(first, second)  # Linux 3.15+ on tmpfs, ext4, xfs, btrfs
    assert open(os.path.join(first, "saved_model.pb")).read() == "B"
    assert open(os.path.join(second, "saved_model.pb")).read() == "A"
    warnings = []
    aside = atomic_files.move_aside_then_in(first, second, warnings.append)  # where the swap is not supported
    assert open(os.path.join(second, "saved_model.pb")).read() == "B" and not os.path.exists(first)
    assert open(os.path.join(aside, "saved_model.pb")).read() == "A"
    assert len(warnings) == 1 and repr(aside) in warnings[0] and "cannot swap two folders" in warnings[0]
