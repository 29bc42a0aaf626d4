"""datasets/flags.py: each dataset path flag declared once, under its canonical name and every old spelling,
and the conversion's messages print the canonical name."""
import argparse
import subprocess
import sys

import pytest

from core.cli import run_main
from datasets import flags
from datasets.convert import ConversionOptions, build_parser
from tests.conftest import ROOT

SPELLINGS = {
    "tfrecord_file": ("--tfrecord_file", "--chemin_tfrecords", "--record_file"),
    "classes_file": ("--classes_file", "--chemin_liste_labels", "--classes"),
    "csv_file": ("--csv_file", "--chemin_csv", "--path_to_csv"),
    "image_dir": ("--image_dir",),
    "labels_dir": ("--labels_dir", "--annotations_dir"),
}
ADDERS = {"tfrecord_file": flags.add_tfrecord_flag, "classes_file": flags.add_classes_flag,
          "csv_file": flags.add_csv_flag, "image_dir": flags.add_image_dir_flag,
          "labels_dir": flags.add_labels_dir_flag}


@pytest.mark.parametrize("dest", sorted(SPELLINGS))
def test_each_flag_takes_every_spelling_into_one_dest_with_the_given_default_and_help(dest):
    parser = argparse.ArgumentParser()
    group = parser.add_argument_group("dataset")
    action = ADDERS[dest](group, default="d", help="the help (default: %(default)s)")
    assert tuple(action.option_strings) == SPELLINGS[dest] and action.dest == dest
    assert getattr(parser.parse_args([]), dest) == "d"
    for spelling in SPELLINGS[dest]:
        assert vars(parser.parse_args([spelling, "x y"])) == {dest: "x y"}
    assert "the help (default: d)" in parser.format_help()


def test_the_records_hold_the_canonical_names_and_the_conversion_declares_them_once():
    assert {flag.dest: (flag.name,) + flag.aliases for flag in flags.PATH_FLAGS} == SPELLINGS
    declared = [option for action in build_parser()._actions for option in action.option_strings]
    assert len(declared) == len(set(declared))
    for flag in flags.PATH_FLAGS:
        action = next(action for action in build_parser()._actions if action.dest == flag.dest)
        assert action.option_strings[0] == str(flag) == flag.name


def test_the_original_readme_command_fills_the_conversion_options():
    args = build_parser().parse_args(["--image_dir", "i", "--labels_dir", "a", "--chemin_csv", "c.csv",
                                      "--chemin_tfrecords", "t.tfrecord", "--classes", "l.txt"])
    assert ConversionOptions.from_args(args) == ConversionOptions(
        "i", "a", csv_file="c.csv", tfrecord_file="t.tfrecord", classes_file="l.txt")


def test_the_flags_module_loads_neither_tensorflow_nor_pandas():
    code = ("import sys; import datasets.flags; "
            "print(sorted(m for m in ('tensorflow', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr


@pytest.mark.parametrize("spelling", SPELLINGS["csv_file"])
def test_a_message_about_a_flag_prints_its_canonical_name_whatever_spelling_was_given(tmp_path, capsys, spelling):
    import download_and_convert_data

    images = tmp_path / "images"
    images.mkdir()
    assert run_main(download_and_convert_data.main, ["--image_dir", str(images), spelling, str(tmp_path)]) == 2
    assert "--csv_file %r is a folder" % str(tmp_path) in capsys.readouterr().err


def test_a_missing_classes_file_names_the_canonical_flag(tmp_path, capsys):
    import download_and_convert_data

    missing = str(tmp_path / "missing.txt")
    assert run_main(download_and_convert_data.main, ["--image_dir", str(tmp_path), "--classes", missing]) == 2
    err = capsys.readouterr().err
    assert "pass --classes_file" in err and "--chemin_liste_labels" not in err


@pytest.mark.parametrize("field, value", [("num_workers", 0), ("num_shards", 0)])
def test_conversion_options_refuse_counts_below_one(field, value):
    from core.errors import UserError

    with pytest.raises(UserError, match="--%s must be at least 1, got 0" % field):
        ConversionOptions("images", **{field: value})
