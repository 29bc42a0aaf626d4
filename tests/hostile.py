"""What the hostile-input tests share (no tests here): a folder of images and annotation files that a hostile
or careless user could hand the suite, crafted images, a tiny frozen graph for label_image, and the
digests of every file under a folder (to check that nothing already written changed)."""
import hashlib
import io
import os
import struct
import zlib

import numpy as np
from PIL import Image

ESCAPE = "\x1b[31m"  # a terminal escape sequence (red text) in a file name or an annotation line
SECRET = "root:x:0:0:secret" + "\x1b]0;pwned\x07"  # the text of a file outside the folders

# The files of the hostile folder, by what each is (folder A: images, folder B: annotation files).
GOOD = ("good0.png", "good1.png", "good2.png")
HOSTILE_IMAGES = {
    "fifo.png": "not a regular file (a FIFO (named pipe))",
    "zero.png": "link out of its folder (to '/dev/zero'",
    "loop.png": "unreadable file (Too many levels of symbolic links)",
    "out.png": "link out of its folder (to ",
    "huge.png": "more pixels than --max_image_pixels (20000x20000 pixels: 400000000, more than --max_image_pixels",
    "big.png": "file larger than --max_image_bytes (",
}
HOSTILE_ANNOTATIONS = {
    "passwd.png": "annotation: link out of its folder (",
    "afifo.png": "annotation: not a regular file (",
    "long.png": "annotation: file larger than the limit (",
}
EVIL = "evil%s.png" % ESCAPE  # a file name with an escape sequence; its annotation holds one label line with one
MAX_IMAGE_BYTES = 4096  # the --max_image_bytes of the tests: big.png is larger, the others smaller


def png_bytes(width, height, seed=0):
    """A real RGB PNG of random pixels."""
    pixels = np.random.RandomState(seed).randint(0, 256, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def huge_png(width=20000, height=20000):
    """An 8-bit gray PNG whose header says `width` x `height`, with sound chunk CRCs and a few compressed rows:
    the kind of file that passes a header-and-CRC check and then takes gigabytes to decode."""
    rows = zlib.compress(b"\0" * (1 + width) * 64, 9)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", rows) + _chunk(b"IEND", b"")


def animated_gif(frames, size=16):
    """A GIF of `frames` frames of `size` x `size` pixels, each of another colour."""
    images = [Image.new("RGB", (size, size), ((index * 37) % 256, 0, 255 - index)) for index in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=True, append_images=images[1:])
    return buffer.getvalue()


def hostile_folders(root):
    """Writes under `root` an image folder `images`, an annotation folder `annotations` and, beside them, the
    files they link out to; returns (images, annotations). Every file of GOOD, HOSTILE_IMAGES and
    HOSTILE_ANNOTATIONS has its image and annotation file; EVIL's only label is one the classes file lacks."""
    images, annotations = os.path.join(root, "images"), os.path.join(root, "annotations")
    os.makedirs(images)
    os.makedirs(annotations)
    with open(os.path.join(root, "outside.png"), "wb") as handle:
        handle.write(png_bytes(16, 16, seed=9))
    with open(os.path.join(root, "secret.txt"), "w", encoding="utf-8") as handle:
        handle.write(SECRET + "\nhomme\n")
    for index, name in enumerate(GOOD + ("passwd.png", "afifo.png", "long.png", EVIL)):
        with open(os.path.join(images, name), "wb") as handle:
            handle.write(png_bytes(16, 16, seed=index))
    with open(os.path.join(images, "big.png"), "wb") as handle:
        handle.write(png_bytes(64, 64))
    with open(os.path.join(images, "huge.png"), "wb") as handle:
        handle.write(huge_png())
    os.mkfifo(os.path.join(images, "fifo.png"))
    os.symlink("/dev/zero", os.path.join(images, "zero.png"))
    os.symlink("loop.png", os.path.join(images, "loop.png"))
    os.symlink(os.path.join(root, "outside.png"), os.path.join(images, "out.png"))
    for name in GOOD + tuple(HOSTILE_IMAGES) + ("long.png",):
        with open(os.path.join(annotations, name[:-4] + ".txt"), "w", encoding="utf-8") as handle:
            handle.write("homme\n" * (200000 if name == "long.png" else 1))  # long: 1.2 MB, over the 1 MiB limit
    with open(os.path.join(annotations, EVIL[:-4] + ".txt"), "w", encoding="utf-8") as handle:
        handle.write("barbe%s\n" % ESCAPE)
    os.symlink(os.path.join(root, "secret.txt"), os.path.join(annotations, "passwd.txt"))
    os.mkfifo(os.path.join(annotations, "afifo.txt"))
    return images, annotations


def tree_digests(folder):
    """{relative path: sha256} of every regular file under `folder`, links not followed."""
    digests = {}
    for directory, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(directory, name)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as handle:
                    digests[os.path.relpath(path, folder)] = hashlib.sha256(handle.read()).hexdigest()
    return digests


def tiny_frozen_graph(path):
    """A frozen GraphDef `input` [batch, height, width, 3] (any size) -> `out`, a softmax over 2 classes of the
    mean colour."""
    from core.compat import tf

    graph = tf.Graph()
    with graph.as_default():
        images = tf.placeholder(tf.float32, [None, None, None, 3], name="input")
        weights = tf.constant([[1.0, -1.0], [0.5, 0.2], [-0.3, 0.7]])
        tf.nn.softmax(tf.matmul(tf.reduce_mean(images, axis=[1, 2]), weights), name="out")
    with open(path, "wb") as handle:
        handle.write(graph.as_graph_def().SerializeToString())
    return path
