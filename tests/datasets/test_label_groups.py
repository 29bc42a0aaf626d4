"""datasets/label_groups.py and the classes file's `N:name:group` lines: attribute groups found in the labels,
declared groups checked against them, and the original project's labels.csv found to be five groups."""
import csv
import os

import pytest
from PIL import Image

from core.errors import UserError
from datasets import label_groups
from datasets.classes_file import read_classes, read_classes_file, read_label_names
from datasets.demo_faces import ATTRIBUTES
from tests.conftest import CLASSES_FILE

CLASSES = [name for group in ATTRIBUTES for name in group]  # labels/liste_labels.txt's order
ORIGINAL_CSV = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "original_labels.csv")


def faces(count, broken=()):
    """Label sets of `count` faces, one label of each attribute, cycling through them; `broken`: extra sets
    (one image each). Returns ({tuple of indexes: images}, {tuple: [file names]})."""
    sets, names = {}, {}
    for image in range(count):
        key = tuple(sorted(CLASSES.index(group[(image // (2 ** position)) % len(group)])
                           for position, group in enumerate(ATTRIBUTES)))
        sets[key] = sets.get(key, 0) + 1
        names.setdefault(key, []).append("face_%03d.jpg" % image)
    for number, labels in enumerate(broken):
        key = tuple(sorted(CLASSES.index(name) for name in labels))
        sets[key] = sets.get(key, 0) + 1
        names.setdefault(key, []).insert(0, "odd_%d.jpg" % number)
    return sets, names


def test_labels_with_one_of_each_attribute_fall_into_the_attributes():
    sets, names = faces(200)
    found = label_groups.detect(sets, CLASSES, names)
    assert [group.classes for group in found.groups] == list(ATTRIBUTES)
    assert found.groups[0].name == "homme|femme" and not found.reason and not found.violations
    assert label_groups.describe(found.groups).startswith("5 groups: homme|femme, yeux_ronds|yeux_amandes, ")


def test_labels_that_are_not_one_of_each_group_are_not_grouped():
    # Independent tags: any two of them appear together on some image.
    tags = ["a", "b", "c", "d"]
    sets = {(0,): 5, (1, 2): 5, (0, 3): 5, (2, 3): 5, (0, 1): 5, (1, 3): 5, (0, 2): 5}
    found = label_groups.detect(sets, tags)
    assert not found.groups and "a, b, c, d appear with every other label, so no group holds them" in found.reason
    # Labels never together, but most images have none of them: not a group.
    sets = {(0, 2): 10, (1, 2): 10, (2, 3): 10, (2,): 20}
    found = label_groups.detect(sets, tags)
    assert not found.groups and "c appear with every other label" in found.reason
    sets = {(0, 2): 10, (1, 3): 10, (0, 3): 10, (1, 2): 10, (2,): 20}  # a|b and c|d, but 20 images lack a or b
    found = label_groups.detect(sets, tags)
    assert "20 of 60 images do not have exactly one label of each of the 2 groups: a|b, c|d" in found.reason
    # One label per image: a single group (a single-label task).
    assert "do not fall into two or more groups" in label_groups.detect({(0,): 3, (1,): 4}, tags[:2]).reason
    # A class that no image has cannot be placed.
    found = label_groups.detect(faces(50)[0], CLASSES + ["lunettes"])
    assert not found.groups and "no image has lunettes" in found.reason


def test_attributes_joined_by_a_rare_pair_never_seen_together_are_found_again():
    # Skewed faces, as bench/measure_labels.py draws them: few femme, few vieux, and no femme is vieux, so
    # femme and vieux are never together and the gender and age labels make one set of five.
    sets, names = faces(400)
    femme, vieux = CLASSES.index("femme"), CLASSES.index("vieux")
    sets = {key: count for key, count in sets.items() if not {femme, vieux} <= set(key)}
    assert label_groups._components(label_groups._cooccurrences(sets, len(CLASSES)) <= 3)[0] == [0, 1, 8, 9, 10]
    found = label_groups.detect(sets, CLASSES, names)
    assert [group.classes for group in found.groups] == list(ATTRIBUTES) and not found.reason
    # Two ways to cut a set of four labels (a|b with c|d, or a|d with b|c): no groups are guessed.
    found = label_groups.detect({(0, 2): 10, (1, 3): 10}, ["a", "b", "c", "d"])
    assert not found.groups and "do not fall into two or more groups" in found.reason


def test_a_multi_label_run_without_groups_says_why_and_how_to_declare_them(capsys):
    from engine.config.label_choice import decide_labels

    tags = {(0, 1): 5, (1, 2): 5, (0, 2): 5, (0, 1, 2): 5}  # any two together: no attributes
    choice = decide_labels("auto", {"label_sets": tags, "max_labels_per_image": 3}, ["a", "b", "c"],
                           what="training images")
    assert choice.mode == "multi"
    out = capsys.readouterr().out
    assert ("no attribute groups found in the labels of 20 training images (label(s) a, b, c appear with every "
            "other label, so no group holds them): a sigmoid per label. If each image has one label of each "
            "attribute, declare the attributes in the classes file (`N:name:group` lines)") in out


def test_one_image_that_breaks_the_groups_is_named_and_more_than_one_percent_are_refused():
    sets, names = faces(120, broken=[("femme", "yeux_ronds", "nez_rond", "visage_carre", "jeune", "age_moyen")])
    found = label_groups.detect(sets, CLASSES, names)
    assert [group.classes for group in found.groups] == list(ATTRIBUTES) and not found.reason
    assert found.violating_images == 1
    assert found.violation_lines() == ["odd_0.jpg has 2 labels of jeune|age_moyen|vieux (jeune, age_moyen)"]
    missing = [("homme", "yeux_ronds", "nez_rond", "visage_carre")] * 3  # no age, three times: > 1% of 123
    sets, names = faces(120, broken=missing)
    found = label_groups.detect(sets, CLASSES, names)
    assert "3 of 123 images do not have exactly one label of each of the 5 groups" in found.reason
    assert found.groups  # what the groups would be, for --label_mode grouped
    assert found.violation_lines() == ["odd_2.jpg has no label of jeune|age_moyen|vieux and 2 more images with "
                                       "the same labels"]


def test_declared_groups_are_checked_against_the_labels():
    groups = (label_groups.LabelGroup("genre", ("homme", "femme")),
              label_groups.LabelGroup("visage", ("yeux_ronds", "yeux_amandes", "nez_rond", "nez_pointu",
                                                 "visage_rond", "visage_carre")),
              label_groups.LabelGroup("age", ("jeune", "age_moyen", "vieux")))
    sets, names = faces(96)  # each set of labels twice
    found = label_groups.check(groups, sets, CLASSES, names)
    # "visage" holds three attributes: every face has three of its labels.
    assert found.violating_images == 96 and len(found.violations) == 48
    assert found.violations[0].describe() == ("face_000.jpg has 3 labels of visage (yeux_ronds, nez_rond, "
                                              "visage_rond) and 1 more image with the same labels")
    right = tuple(label_groups.LabelGroup(str(i), group) for i, group in enumerate(ATTRIBUTES))
    assert label_groups.check(right, sets, CLASSES, names).violating_images == 0
    with pytest.raises(UserError, match="leave out class"):
        label_groups.check(right[:4], sets, CLASSES, names)
    with pytest.raises(UserError, match="names class.*lunettes.*that the model does not have"):
        label_groups.check(right + (label_groups.LabelGroup("x", ("lunettes", "sans")),), sets, CLASSES, names)


def test_the_classes_file_declares_groups_with_a_third_field(tmp_path):
    path = tmp_path / "groups.txt"
    path.write_text("1:homme:genre\n2:femme:genre\n3:jeune:age\n4:vieux:age\n")
    content = read_classes_file(str(path))
    assert content.names == read_classes(str(path)) == read_label_names(str(path)) == ["homme", "femme", "jeune",
                                                                                         "vieux"]
    assert content.groups == (label_groups.LabelGroup("genre", ("homme", "femme")),
                              label_groups.LabelGroup("age", ("jeune", "vieux")))
    assert read_classes_file(CLASSES_FILE).groups is None  # the original's `N:name` file, as it is
    for text, message in (("1:homme:genre\n2:femme\n", "gives a group to some classes but not to 'femme'"),
                          ("1:homme:genre\n2:femme:genre\n3:jeune:age\n", r"group\(s\) 'age' have a single class"),
                          ("1:homme:\n2:femme:genre\n", "the group name after the second ':' is empty")):
        path.write_text(text)
        with pytest.raises(UserError, match=message):
            read_classes_file(str(path))


def test_the_original_projects_labels_csv_is_five_groups_and_names_the_face_with_two_ages(tmp_path, capsys):
    import download_and_convert_data
    from datasets import tfrecord_stats
    from engine.config.label_choice import decide_labels

    images = tmp_path / "images"
    images.mkdir()
    with open(ORIGINAL_CSV, encoding="utf-8") as handle:
        rows = {(row[0], row[1]) for row in csv.reader(handle) if len(row) == 5}
    for name, extension in rows:  # a plain image for each face of the CSV
        Image.new("RGB", (8, 8), (90, 60, 40)).save(images / ("%s.%s" % (name, extension)),
                                                     "PNG" if extension == "png" else "JPEG")
    labels_csv = tmp_path / "labels.csv"
    labels_csv.write_bytes(open(ORIGINAL_CSV, "rb").read())
    tfrecord = tmp_path / "faces.tfrecord"
    assert download_and_convert_data.main(["--image_dir", str(images), "--chemin_csv", str(labels_csv),
                                           "--chemin_tfrecords", str(tfrecord), "--classes", CLASSES_FILE,
                                           "--keep_csv"]) == 0
    stats = tfrecord_stats.scan(str(tfrecord), "all", 25)
    assert stats["num_images"] == 1160
    capsys.readouterr()
    choice = decide_labels("auto", stats, read_classes(CLASSES_FILE))
    assert choice.mode == "grouped" and [group.classes for group in choice.groups] == list(ATTRIBUTES)
    captured = capsys.readouterr()
    assert "attribute groups found in the labels of 1160 images: 5 groups: homme|femme" in captured.out
    assert "1 of 1160 images break the groups" in captured.err
    assert "visage_249.jpg has 2 labels of jeune|age_moyen|vieux (jeune, age_moyen)" in captured.err
