import os

import numpy as np
import pytest
from PIL import Image

from datasets import demo_faces
from datasets.classes_file import read_classes


def test_cli_writes_images_and_one_label_per_attribute(tmp_path):
    out = tmp_path / "démo ç"
    assert demo_faces.main(["--output_dir", str(out), "--count", "17", "--size", "64", "--seed", "3"]) == 0
    images = sorted(os.listdir(out / "images"))
    annotations = sorted(os.listdir(out / "annotations"))
    assert len(images) == len(annotations) == 17
    assert {name.rsplit(".", 1)[1] for name in images} == {"jpg", "png"}
    classes = read_classes("labels/liste_labels.txt")
    for name in images:
        image = Image.open(out / "images" / name)
        assert image.size == (64, 64) and image.mode == "RGB"
        labels = (out / "annotations" / (name.rsplit(".", 1)[0] + ".txt")).read_text().split()
        assert all(label in classes for label in labels)
        assert [sum(label in group for label in labels) for group in demo_faces.ATTRIBUTES] == [1] * 5


def test_same_seed_same_files_and_fewer_images_remove_stale_ones(tmp_path):
    demo_faces.generate(str(tmp_path / "a"), 9, 48, seed=1, log=lambda _: None)
    demo_faces.generate(str(tmp_path / "b"), 9, 48, seed=1, log=lambda _: None)
    for name in os.listdir(tmp_path / "a" / "images"):
        assert (tmp_path / "a" / "images" / name).read_bytes() == (tmp_path / "b" / "images" / name).read_bytes()
    demo_faces.generate(str(tmp_path / "a"), 4, 48, seed=1, log=lambda _: None)
    assert len(os.listdir(tmp_path / "a" / "images")) == len(os.listdir(tmp_path / "a" / "annotations")) == 4


@pytest.mark.parametrize("attribute", range(len(demo_faces.ATTRIBUTES)))
def test_every_attribute_is_a_large_visible_cue(attribute):
    """Changing one attribute alone changes many pixels of the same face (same random draws)."""
    size = 96
    for seed in range(4):
        _, labels = demo_faces.draw_face(np.random.default_rng(seed), size)
        for other in demo_faces.ATTRIBUTES[attribute]:
            if other == labels[attribute]:
                continue
            forced = list(labels)
            forced[attribute] = other
            a, _ = demo_faces.draw_face(np.random.default_rng(seed), size, labels)
            b, got = demo_faces.draw_face(np.random.default_rng(seed), size, forced)
            assert got == forced
            changed = np.abs(np.asarray(a, np.int16) - np.asarray(b, np.int16)).max(axis=2) > 40
            assert changed.mean() > 0.008, (labels, forced, changed.mean())


def test_bad_count_is_a_user_error(tmp_path):
    from core.cli import run_main
    assert run_main(demo_faces.main, ["--output_dir", str(tmp_path), "--count", "0"]) == 2
