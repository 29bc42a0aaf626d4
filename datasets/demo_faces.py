"""Synthetic face images drawn with Pillow: the embedded demo dataset (nothing is downloaded).

Every face carries exactly one label of each of the five attributes of `labels/liste_labels.txt`, and
each attribute is drawn as a large cue a small CNN learns from a few hundred images:
  gender  homme: short hair cap and a beard          femme: long hair falling to the shoulders
  eyes    yeux_ronds: round eyes                     yeux_amandes: wide, thin almond eyes
  nose    nez_rond: a big round red blob             nez_pointu: a long pointed blue triangle
  face    visage_rond: an ellipse                    visage_carre: a square with small rounded corners
  age     jeune: dark hair, no wrinkle   age_moyen: grey hair, two lines   vieux: white hair, wrinkles
Background colour, skin tone, position and scale vary a little, and light noise is added.

The output is the input format of download_and_convert_data.py:
  OUTPUT_DIR/images/face_00000.jpg (every 8th image is a .png)
  OUTPUT_DIR/annotations/face_00000.txt  (one label name per line)

    python -m datasets.demo_faces --output_dir demo --count 400 --size 128 --seed 0

Image i depends only on (seed, i), so a larger --count adds images without changing the first ones.
"""
import argparse
import dataclasses
import os
import re
import sys
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw

from core import atomic_files
from core.cli import run_main
from core.errors import UserError
from core.progress import PeriodicProgress

# One tuple per attribute: its labels, as named in labels/liste_labels.txt.
ATTRIBUTES = (
    ("homme", "femme"),
    ("yeux_ronds", "yeux_amandes"),
    ("nez_rond", "nez_pointu"),
    ("visage_rond", "visage_carre"),
    ("jeune", "age_moyen", "vieux"),
)
IMAGES_DIR = "images"
ANNOTATIONS_DIR = "annotations"
PNG_EVERY = 8
_NAME = re.compile(r"^face_\d{5,}\.(jpg|png|txt)$")

_SKIN_TONES = ((255, 224, 196), (241, 194, 158), (224, 172, 105), (198, 134, 66), (141, 85, 36),
               (92, 58, 36))
_YOUNG_HAIR = ((25, 20, 18), (60, 38, 22), (95, 55, 25), (120, 50, 20))


def _jitter(rng, colour, amount):
    return tuple(int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in colour)


def _scaled(colour, factor):
    return tuple(int(min(255, c * factor)) for c in colour)


def _hair_colour(rng, age):
    if age == "jeune":
        return _jitter(rng, _YOUNG_HAIR[rng.integers(len(_YOUNG_HAIR))], 12)
    if age == "age_moyen":
        grey = int(rng.integers(125, 160))
        return (grey, grey, grey + 4)
    white = int(rng.integers(228, 250))
    return (white, white, white)


class Face(NamedTuple):
    """A drawn face: the RGB PIL image and its label names, one per attribute."""

    image: Image.Image
    labels: list


@dataclasses.dataclass(frozen=True)
class _Layout:
    """Where and in which colours the parts of one face are drawn."""

    size: float
    cx: float  # centre of the face
    cy: float
    fw: float  # half width of the face
    fh: float  # half height of the face
    stroke: int  # line width
    background: tuple
    skin: tuple
    hair: tuple
    line: tuple  # wrinkles
    outline: tuple  # of the face and the nose


def _layout(rng, size, face, age):
    """The _Layout of a face of shape `face` and age `age`: every random draw of the face but the noise."""
    s = float(size)
    background = tuple(int(v) for v in rng.integers(40, 230, size=3))
    skin = _jitter(rng, _SKIN_TONES[rng.integers(len(_SKIN_TONES))], 10)
    hair = _hair_colour(rng, age)
    scale = rng.uniform(0.92, 1.08)
    cx = s / 2 + rng.uniform(-0.04, 0.04) * s
    cy = s * 0.54 + rng.uniform(-0.03, 0.03) * s
    fw = s * 0.25 * scale
    fh = s * 0.30 * scale
    if face == "visage_carre":
        fw = fh = s * 0.27 * scale
    # The outline makes the face's shape stand out from dark hair on dark skin too.
    outline = _scaled(skin, 0.5) if sum(skin) > 330 else _scaled(skin, 1.8)
    return _Layout(s, cx, cy, fw, fh, max(1, int(round(s / 64))), background, skin, hair, _scaled(skin, 0.55),
                   outline)


def draw_face(rng, size, labels=None):
    """Draws one face with random attributes; returns its Face (RGB PIL image, [label names, one per
    attribute]).

    `labels` (one name per attribute) forces the attributes; the random draws are the same either way, so
    a face differs from its forced twin only where the changed attributes are drawn.
    """
    drawn = [group[rng.integers(len(group))] for group in ATTRIBUTES]
    labels = list(labels) if labels is not None else drawn
    gender, eyes, nose, face, age = labels
    layout = _layout(rng, size, face, age)
    image = Image.new("RGB", (size, size), layout.background)
    draw = ImageDraw.Draw(image)
    _draw_head(draw, layout, gender, face)
    _draw_wrinkles(draw, layout, age)
    _draw_eyes(draw, layout, eyes)
    _draw_nose_and_mouth(draw, layout, nose)
    pixels = np.asarray(image, dtype=np.int16)
    pixels = pixels + rng.integers(-8, 9, size=pixels.shape, dtype=np.int16)
    return Face(Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)), labels)


def _draw_head(draw, layout, gender, face):
    """Hair, face, fringe and (homme) beard."""
    s, cx, cy, fw, fh, hair = layout.size, layout.cx, layout.cy, layout.fw, layout.fh, layout.hair
    # Hair behind the head: long (femme) falls to the bottom edge, short (homme) is a cap.
    if gender == "femme":
        draw.rounded_rectangle((cx - fw * 1.45, cy - fh * 1.25, cx + fw * 1.45, s + fh), radius=fw * 0.9,
                               fill=hair)
    else:
        draw.ellipse((cx - fw * 1.1, cy - fh * 1.25, cx + fw * 1.1, cy + fh * 0.2), fill=hair)

    box = (cx - fw, cy - fh, cx + fw, cy + fh)
    if face == "visage_rond":
        draw.ellipse(box, fill=layout.skin, outline=layout.outline, width=layout.stroke * 2)
    else:
        draw.rounded_rectangle(box, radius=fw * 0.12, fill=layout.skin, outline=layout.outline,
                               width=layout.stroke * 2)

    # Fringe over the forehead, in the hair colour.
    draw.chord((cx - fw * 1.05, cy - fh * 1.2, cx + fw * 1.05, cy - fh * 0.35), 180, 360, fill=hair)

    if gender == "homme":  # a full beard over the lower face
        if face == "visage_rond":
            draw.chord((cx - fw, cy - fh, cx + fw, cy + fh), 10, 170, fill=hair)
        else:
            draw.rounded_rectangle((cx - fw, cy + fh * 0.3, cx + fw, cy + fh), radius=fw * 0.12, fill=hair)


def _draw_wrinkles(draw, layout, age):
    """Two forehead lines in middle age, four lines and cheek folds when old."""
    if age == "jeune":
        return
    cx, cy, fw, fh = layout.cx, layout.cy, layout.fw, layout.fh
    rows = (0.30, 0.42) if age == "age_moyen" else (0.22, 0.30, 0.38, 0.46)
    for row in rows:
        y = cy - fh + fh * row
        draw.line((cx - fw * 0.5, y, cx + fw * 0.5, y), fill=layout.line, width=layout.stroke)
    if age == "vieux":
        for side in (-1, 1):
            x = cx + side * fw * 0.55
            draw.line((x, cy + fh * 0.05, x + side * fw * 0.12, cy + fh * 0.35), fill=layout.line,
                      width=layout.stroke)


def _draw_eyes(draw, layout, eyes):
    """Round (large circles) or almond (wide, thin, pointed lens) eyes."""
    ey = layout.cy - layout.fh * 0.12
    r = layout.fw * 0.25
    for side in (-1, 1):
        ex = layout.cx + side * layout.fw * 0.45
        if eyes == "yeux_ronds":
            draw.ellipse((ex - r, ey - r, ex + r, ey + r), fill=(250, 250, 250), outline=(20, 20, 20))
            draw.ellipse((ex - r * 0.5, ey - r * 0.5, ex + r * 0.5, ey + r * 0.5), fill=(20, 20, 20))
        else:
            w, h = r * 1.5, r * 0.42
            points = [(ex - w, ey), (ex - w * 0.5, ey - h), (ex, ey - h * 1.15), (ex + w * 0.5, ey - h),
                      (ex + w, ey), (ex + w * 0.5, ey + h), (ex, ey + h * 1.15), (ex - w * 0.5, ey + h)]
            draw.polygon(points, fill=(250, 250, 250), outline=(20, 20, 20))
            draw.ellipse((ex - h, ey - h, ex + h, ey + h), fill=(20, 20, 20))


def _draw_nose_and_mouth(draw, layout, nose):
    """A big round red nose, or a long pointed triangle in the contrasting colour of the outline; the mouth."""
    cx, cy, fw, fh = layout.cx, layout.cy, layout.fw, layout.fh
    ny = cy + fh * 0.15
    if nose == "nez_rond":
        nr = fw * 0.36
        draw.ellipse((cx - nr, ny - nr, cx + nr, ny + nr), fill=(205, 60, 60), outline=layout.outline,
                     width=layout.stroke)
    else:
        draw.polygon([(cx, ny - fh * 0.5), (cx - fw * 0.2, ny + fh * 0.25), (cx + fw * 0.2, ny + fh * 0.25)],
                     fill=(40, 40, 160), outline=layout.outline)
    my = cy + fh * 0.55
    draw.line((cx - fw * 0.3, my, cx + fw * 0.3, my), fill=(170, 40, 50), width=layout.stroke * 2)


def image_name(index):
    return "face_%05d" % index


def generate(output_dir, count, size=128, seed=0, png_every=PNG_EVERY, log=print):
    """Writes `count` faces under output_dir/images and output_dir/annotations; returns {name: labels}.

    Files of an earlier run that this one does not produce (same `face_NNNNN` naming) are removed, so
    the folder always holds exactly `count` images.
    """
    if count < 1:
        raise UserError("--count must be at least 1, got %d" % count)
    if size < 32:
        raise UserError("--size must be at least 32 pixels, got %d" % size)
    images_dir = os.path.join(output_dir, IMAGES_DIR)
    annotations_dir = os.path.join(output_dir, ANNOTATIONS_DIR)
    for folder in (images_dir, annotations_dir):
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as error:
            raise UserError("cannot create %r (%s); pass another --output_dir" % (folder, error.strerror))
    written = {}
    keep = set()
    progress = PeriodicProgress(count, "generated", log=log)
    for index in range(count):
        rng = np.random.default_rng((seed, index))
        image, labels = draw_face(rng, size)
        name = image_name(index)
        extension = "png" if png_every and index % png_every == png_every - 1 else "jpg"
        image_path = os.path.join(images_dir, "%s.%s" % (name, extension))
        with atomic_files.replacing(image_path) as temporary:
            if extension == "png":
                image.save(temporary, "PNG", compress_level=1)
            else:
                image.save(temporary, "JPEG", quality=92)
        text = "".join(label + "\n" for label in labels)
        atomic_files.write_bytes(os.path.join(annotations_dir, name + ".txt"), text.encode("utf-8"))
        keep.update((os.path.basename(image_path), name + ".txt"))
        written[name] = labels
        progress.update(1)
    for folder in (images_dir, annotations_dir):
        for entry in os.listdir(folder):
            if _NAME.match(entry) and entry not in keep:
                os.remove(os.path.join(folder, entry))
    progress.done()
    return written


def build_parser():
    parser = argparse.ArgumentParser(description="Writes synthetic face images and their annotation files.")
    parser.add_argument("--output_dir", default="demo",
                        help="folder that receives images/ and annotations/ (default: demo)")
    parser.add_argument("--count", type=int, default=400, help="number of images (default: 400)")
    parser.add_argument("--size", type=int, default=128, help="image side in pixels (default: 128)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    generate(args.output_dir, args.count, args.size, args.seed)
    print("wrote %d images to %s and their annotations to %s"
          % (args.count, os.path.join(args.output_dir, IMAGES_DIR), os.path.join(args.output_dir, ANNOTATIONS_DIR)))
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
