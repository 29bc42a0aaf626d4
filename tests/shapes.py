"""A small two-class image set that any working classifier learns: circles against squares.

`make_shapes(root, count, size)` draws `count` images of `size` pixels, each one filled circle or square of
random size, position and colours on a random background, writes an annotation file per image and a
classes file `1:cercle 2:carre`, and converts them with download_and_convert_data.py.
"""
import os

import numpy as np
from PIL import Image, ImageDraw

CLASSES = ("cercle", "carre")


def draw(kind, size, rng):
    """One image: a filled circle or square of 72 to 95% of the image side, centred within 2 pixels, in a
    colour far from the background's. Its centre is inside the shape whatever the kind: only the outline
    tells them apart (a network shown a central crop of half the side sees one colour)."""
    background = tuple(int(v) for v in rng.randint(0, 256, 3))
    colour = tuple(int((b + rng.randint(96, 160)) % 256) for b in background)
    image = Image.new("RGB", (size, size), background)
    side = int(rng.randint(int(size * 0.72), int(size * 0.95) + 1))
    left, top = (int(v) for v in (size - side) // 2 + rng.randint(-2, 3, 2))
    left, top = min(max(left, 0), size - side), min(max(top, 0), size - side)
    pen = ImageDraw.Draw(image)
    (pen.ellipse if kind == "cercle" else pen.rectangle)((left, top, left + side - 1, top + side - 1), fill=colour)
    return image


def make_shapes(root, count, size, seed=0):
    """Images, annotations, classes file, CSV and TFRecord under `root`; returns their paths."""
    import download_and_convert_data

    root = str(root)
    images, annotations = os.path.join(root, "images"), os.path.join(root, "annotations")
    os.makedirs(images, exist_ok=True)
    os.makedirs(annotations, exist_ok=True)
    rng = np.random.RandomState(seed)
    for index in range(count):
        kind = CLASSES[index % 2]
        draw(kind, size, rng).save(os.path.join(images, "shape_%04d.png" % index))
        with open(os.path.join(annotations, "shape_%04d.txt" % index), "w", encoding="utf-8") as handle:
            handle.write(kind + "\n")
    paths = {"root": root, "images": images, "annotations": annotations,
             "classes": os.path.join(root, "shapes.txt"), "csv": os.path.join(root, "shapes.csv"),
             "tfrecord": os.path.join(root, "shapes.tfrecord")}
    with open(paths["classes"], "w", encoding="utf-8") as handle:
        handle.write("".join("%d:%s\n" % (i + 1, name) for i, name in enumerate(CLASSES)))
    assert download_and_convert_data.main([
        "--image_dir", images, "--labels_dir", annotations, "--classes", paths["classes"],
        "--chemin_csv", paths["csv"], "--chemin_tfrecords", paths["tfrecord"]]) == 0
    return paths
