"""Every kind of image file becomes bytes that tf.io.decode_image(..., channels=3) decodes as 8-bit RGB."""
import io

import numpy as np
import pytest
from PIL import Image

from core.compat import tf
from datasets.image_files import CORRUPT, NOT_AN_IMAGE, ImageProblem, prepare_image

HEIGHT, WIDTH = 30, 40  # not square, so a swapped height/width shows


def encode(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def rgb():
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8))


def animated_gif():
    frames = [Image.new("P", (WIDTH, HEIGHT), colour) for colour in (1, 2, 3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=50)
    return buffer.getvalue()


def png16():
    ramp = np.tile(np.linspace(0, 65535, WIDTH, dtype=np.uint16), (HEIGHT, 1))
    return encode(Image.fromarray(ramp), "PNG")


KINDS = {
    # name: (bytes, format written, are the file's own bytes kept)
    "rgb jpeg": (lambda: encode(rgb(), "JPEG"), "jpeg", True),
    "gray jpeg": (lambda: encode(rgb().convert("L"), "JPEG"), "jpeg", True),
    "progressive jpeg": (lambda: encode(rgb(), "JPEG", progressive=True), "jpeg", True),
    "cmyk jpeg": (lambda: encode(rgb().convert("CMYK"), "JPEG"), "jpeg", False),
    "rgb png": (lambda: encode(rgb(), "PNG"), "png", True),
    "gray png": (lambda: encode(rgb().convert("L"), "PNG"), "png", True),
    "rgba png": (lambda: encode(rgb().convert("RGBA"), "PNG"), "png", False),
    "palette png": (lambda: encode(rgb().convert("P"), "PNG"), "png", False),
    "16-bit png": (png16, "png", False),
    "24-bit bmp": (lambda: encode(rgb(), "BMP"), "bmp", True),
    "palette bmp": (lambda: encode(rgb().convert("P"), "BMP"), "png", False),
    "gif": (lambda: encode(rgb().convert("P"), "GIF"), "png", False),
    "animated gif": (animated_gif, "png", False),
    "tiff named .jpg": (lambda: encode(rgb(), "TIFF"), "png", False),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_prepared_bytes_decode_as_one_rgb_image_of_the_true_size(kind):
    make, expected_format, kept = KINDS[kind]
    data = make()
    encoded, image_format, height, width = prepare_image(data)
    assert (image_format, height, width) == (expected_format, HEIGHT, WIDTH)
    assert (encoded == data) == kept
    decoded = tf.io.decode_image(encoded, channels=3)
    assert decoded.shape == (HEIGHT, WIDTH, 3) and decoded.dtype == tf.uint8


def test_16_bit_png_is_scaled_to_8_bits_not_clipped():
    encoded, _, _, _ = prepare_image(png16())
    row = tf.io.decode_image(encoded, channels=3).numpy()[0, :, 0]
    assert row[0] == 0 and row[-1] == 255 and 100 < row[WIDTH // 2] < 155


def test_rgba_transparency_is_flattened_onto_white():
    clear = Image.new("RGBA", (WIDTH, HEIGHT), (0, 0, 0, 0))
    encoded, _, _, _ = prepare_image(encode(clear, "PNG"))
    assert tf.io.decode_image(encoded, channels=3).numpy().min() == 255


@pytest.mark.parametrize("kind", ["rgb jpeg", "rgb png", "24-bit bmp", "gif", "palette png", "cmyk jpeg"])
def test_truncated_files_are_refused(kind):
    data = KINDS[kind][0]()
    with pytest.raises(ImageProblem) as problem:
        prepare_image(data[:len(data) * 2 // 3])
    assert problem.value.reason == CORRUPT


def test_damaged_png_chunk_fails_its_crc():
    data = bytearray(encode(rgb(), "PNG"))
    data[60] ^= 0xFF
    with pytest.raises(ImageProblem, match="CRC"):
        prepare_image(bytes(data))


@pytest.mark.parametrize("data", [b"", b"hello, this is text\n", bytes(range(256)) * 4])
def test_non_images_are_refused(data):
    with pytest.raises(ImageProblem) as problem:
        prepare_image(data)
    assert problem.value.reason == NOT_AN_IMAGE


def test_jpeg_with_trailing_bytes_after_eoi_is_kept():
    data = encode(rgb(), "JPEG") + b"trailing garbage"
    encoded, image_format, _, _ = prepare_image(data)
    assert encoded == data and tf.io.decode_image(encoded, channels=3).shape == (HEIGHT, WIDTH, 3)


@pytest.mark.parametrize("fmt", ["TIFF", "WEBP", "PNG"])
def test_more_pixels_than_the_limit_are_refused_from_the_header_before_decoding(fmt):
    data = encode(Image.new("L", (2000, 1000)), fmt)  # 2 million pixels, a few KB: nothing is decoded
    with pytest.raises(ImageProblem, match=r"^more pixels than --max_image_pixels \(2000x1000 pixels: 2000000, more "
                                           r"than --max_image_pixels 1000000"):
        prepare_image(data, max_pixels=1_000_000)
    assert prepare_image(data, max_pixels=2_000_000).height == 1000  # at the limit: converted


def test_every_frame_of_a_gif_counts_against_the_limit_label_image_checks():
    from datasets.image_files import checked_size, gif_frames

    frames = [Image.new("RGB", (WIDTH, HEIGHT), (colour, 0, 0)) for colour in (0, 120, 240)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert gif_frames(data) == 3 and gif_frames(encode(rgb(), "GIF")) == 1
    assert checked_size(data, 3 * HEIGHT * WIDTH) == (HEIGHT, WIDTH)
    with pytest.raises(ImageProblem, match=r"\(3 frames of 40x30 pixels: 3600, more than --max_image_pixels 3599"):
        checked_size(data, 3 * HEIGHT * WIDTH - 1)
