"""datasets/convert_csv.py: what the conversion does with an existing CSV, and how it says what changed."""
import pytest

from core.errors import UserError
from datasets.convert import ConversionOptions
from datasets.convert_csv import csv_changes, plan_csv
from datasets.csv_file import CsvImage, Row, write_csv

CLASSES = ["homme", "femme", "jeune"]


@pytest.fixture
def existing_csv(tmp_path):
    path = tmp_path / "labels.csv"
    write_csv(str(path), [Row("a", "jpg", 4, 5, 1), Row("a", "jpg", 4, 5, 3), Row("b", "png", 6, 7, 2)], CLASSES)
    return str(path)


@pytest.mark.parametrize("labels_dir, keep_csv, rebuild_csv, build, read, checked", [
    ("annotations", False, False, True, True, True),  # checked against the folders
    ("annotations", True, False, False, True, False),  # pinned by --keep_csv
    (None, False, False, False, True, False),  # nothing to check it against
    ("annotations", False, True, True, False, False),  # --rebuild_csv: built anew, not read
])
def test_an_existing_csv_is_checked_pinned_or_rebuilt(existing_csv, labels_dir, keep_csv, rebuild_csv, build, read,
                                                      checked):
    plan = plan_csv(ConversionOptions("images", labels_dir, csv_file=existing_csv, keep_csv=keep_csv,
                                      rebuild_csv=rebuild_csv), CLASSES)
    assert (plan.build, plan.images is not None, plan.checked, plan.built_anew) == (build, read, checked,
                                                                                    build and not read)
    if read:
        assert plan.images == {("a", "jpg"): CsvImage(4, 5, [0, 2]), ("b", "png"): CsvImage(6, 7, [1])}


def test_a_missing_csv_without_annotations_asks_for_labels_dir(tmp_path):
    with pytest.raises(UserError, match="pass --labels_dir"):
        plan_csv(ConversionOptions("images", csv_file=str(tmp_path / "none.csv")), CLASSES)


def test_changes_name_the_added_gone_and_relabelled_images():
    before = {("a", "jpg"): CsvImage(4, 5, [0]), ("b", "png"): CsvImage(6, 7, [1])}
    after = {("a", "jpg"): CsvImage(4, 5, [0, 2]), ("c", "jpg"): CsvImage(1, 1, [0])}
    assert csv_changes(before, after) == ["1 new image(s) (c.jpg)", "1 image(s) gone or no longer converted (b.png)",
                                          "1 image(s) with other labels in their annotation file (a.jpg)"]
    assert csv_changes(before, dict(before)) == []
