"""Turns one image file into bytes that `tf.io.decode_image(..., channels=3)` decodes as one 8-bit image.

No TensorFlow here: this runs in the conversion's worker processes.

- JPEG (8-bit gray or YCbCr), PNG (8-bit gray or RGB) and BMP (24-bit, uncompressed, bottom-up) keep the
  file's own bytes. Only their header is parsed, plus a cheap end-of-file check that catches truncation
  (JPEG: EOI marker, PNG: IEND chunk and chunk CRCs, BMP: pixel array size); a JPEG that does not end
  with EOI is fully decoded by Pillow to decide.
- Everything else Pillow reads is decoded and re-encoded as 8-bit RGB: CMYK JPEG -> JPEG; 16-bit,
  palette, gray+alpha or RGBA PNG, other BMPs, any GIF (TensorFlow decodes every GIF to a 4-D
  animation) and other formats -> PNG. Transparency is flattened onto white.

Reads are bounded (datasets/read_limits.py): a file larger than --max_image_bytes, a FIFO or a device,
or a link out of the folder the file was found in, is not read (core/files.py); an image with more
pixels than --max_image_pixels is refused from its header (`image_size`), before anything decodes it.
"""
import contextlib
import io
import struct
import warnings
import zlib
from typing import NamedTuple

import numpy as np
from PIL import Image

from core import files
from datasets.read_limits import DEFAULT_LIMITS, DEFAULT_MAX_IMAGE_PIXELS, MAX_IMAGE_BYTES_FLAG, check_pixels

IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "bmp", "gif")

# Skip reasons, as the conversion summary counts them.
UNREADABLE = files.UNREADABLE
NOT_AN_IMAGE = "not an image"
CORRUPT = "corrupt or truncated image"
TOO_MANY_PIXELS = "more pixels than --max_image_pixels"
TOO_LARGE = "file larger than %s" % MAX_IMAGE_BYTES_FLAG

_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
# Start-of-frame markers TensorFlow's decoder handles: baseline, extended and progressive Huffman.
_JPEG_SOF_KEPT = (0xC0, 0xC1, 0xC2)
_JPEG_SOF_ALL = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class PreparedImage(NamedTuple):
    """An image as the TFRecord holds it: `encoded` bytes in `format` (jpeg, png or bmp), its pixel size."""

    encoded: bytes
    format: str
    height: int
    width: int


class _JpegFrame(NamedTuple):
    """A JPEG's start-of-frame header."""

    precision: int
    height: int
    width: int
    components: int
    marker: int


class ImageProblem(Exception):
    """The file cannot go into the dataset; `reason` is one of the skip reasons above."""

    def __init__(self, reason, detail):
        super().__init__("%s (%s)" % (reason, detail))
        self.reason = reason
        self.detail = detail


def _jpeg_frame(data):
    """The _JpegFrame of a JPEG's header, or None if unparsable."""
    position = 2
    end = len(data)
    while position + 4 <= end:
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0x01,) or 0xD0 <= marker <= 0xD7:  # markers without a length
            position += 2
            continue
        length = (data[position + 2] << 8) | data[position + 3]
        if length < 2:
            return None
        if marker in _JPEG_SOF_ALL:
            if position + 10 > end:
                return None
            precision, height, width, components = struct.unpack(">BHHB", data[position + 4:position + 10])
            return _JpegFrame(precision, height, width, components, marker)
        if marker in (0xDA, 0xD9):  # start of scan or end of image before any frame header
            return None
        position += 2 + length
    return None


def _keep_jpeg(data, max_pixels):
    frame = _jpeg_frame(data)
    if frame is None:
        return None
    if frame.precision != 8 or frame.components not in (1, 3) or frame.marker not in _JPEG_SOF_KEPT \
            or not frame.height or not frame.width:
        return None
    if not data.endswith(b"\xff\xd9") and not data.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9"):
        _decode(data, max_pixels)  # no EOI at the end: truncated unless Pillow decodes it completely
    return PreparedImage(data, "jpeg", frame.height, frame.width)


def _keep_png(data):
    if len(data) < 33 or data[12:16] != b"IHDR":
        return None
    width, height, depth, colour_type = struct.unpack(">IIBB", data[16:26])
    if depth != 8 or colour_type not in (0, 2) or not height or not width:
        return None
    if not data.endswith(_PNG_IEND):
        raise ImageProblem(CORRUPT, "PNG without its IEND chunk")
    position = 8
    while position + 12 <= len(data):  # chunk CRCs: cheap, catches damaged bytes without inflating
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        stop = position + 8 + length
        if stop + 4 > len(data):
            raise ImageProblem(CORRUPT, "PNG chunk runs past the end of the file")
        if zlib.crc32(data[position + 4:stop]) != struct.unpack(">I", data[stop:stop + 4])[0]:
            raise ImageProblem(CORRUPT, "PNG chunk %r fails its CRC" % kind.decode("latin-1"))
        position = stop + 4
    return PreparedImage(data, "png", height, width)


def _keep_bmp(data):
    if len(data) < 34:
        return None
    offset, header_size = struct.unpack("<I I", data[10:18])
    if header_size < 40:
        return None
    width, height, _planes, bits, compression = struct.unpack("<iiHHI", data[18:34])
    if bits != 24 or compression != 0 or width <= 0 or height <= 0:
        return None
    row = (width * 3 + 3) // 4 * 4
    if len(data) < offset + row * height:
        raise ImageProblem(CORRUPT, "BMP pixel data is shorter than %dx%d" % (width, height))
    return PreparedImage(data, "bmp", height, width)


def _has_image_magic(data):
    return data.startswith((_JPEG_MAGIC, _PNG_MAGIC, b"BM", b"GIF87a", b"GIF89a"))


@contextlib.contextmanager
def _pillow_limit(max_pixels):
    """Pillow's own decompression-bomb limit set to ours while an image opens: it refuses more than twice
    the limit itself, and its warning between 1 and 2 times is silenced (the size is checked here)."""
    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _open(data, max_pixels):
    """The Pillow image of `data`, opened (its header read) but not decoded; raises ImageProblem."""
    try:
        with _pillow_limit(max_pixels):
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:
        raise ImageProblem(TOO_MANY_PIXELS, str(error).split(".")[0])
    except (OSError, SyntaxError, ValueError) as error:
        reason = CORRUPT if _has_image_magic(data) else NOT_AN_IMAGE
        raise ImageProblem(reason, str(error) or type(error).__name__)
    _check_pixels(image.height, image.width, max_pixels)
    return image


def _check_pixels(height, width, max_pixels, frames=1):
    problem = check_pixels(height, width, max_pixels, frames)
    if problem:
        raise ImageProblem(TOO_MANY_PIXELS, problem)


def _decode(data, max_pixels=DEFAULT_MAX_IMAGE_PIXELS):
    """Fully decodes `data` with Pillow (first frame); returns the image or raises ImageProblem."""
    image = _open(data, max_pixels)
    try:
        image.seek(0)
        image.load()
    except Exception as error:  # noqa: BLE001 (Pillow raises many types for damaged data)
        raise ImageProblem(CORRUPT, str(error) or type(error).__name__)
    if not image.width or not image.height:
        raise ImageProblem(CORRUPT, "zero-sized image")
    return image


def to_rgb8(image):
    """An 8-bit RGB copy of a Pillow image of any mode (16-bit scaled down, alpha flattened onto white)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image)
        if image.mode == "F" or values.max(initial=0) <= 255 and image.mode == "I":
            gray = np.clip(values, 0, 255).astype(np.uint8)
        else:
            gray = (np.clip(values, 0, 65535).astype(np.uint32) >> 8).astype(np.uint8)
        return Image.fromarray(gray, "L").convert("RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB") if image.mode != "RGB" else image


def reencode(data, as_jpeg=False, max_pixels=DEFAULT_MAX_IMAGE_PIXELS):
    """Decodes any image Pillow reads and re-encodes it as 8-bit RGB PNG (or JPEG)."""
    try:
        image = to_rgb8(_decode(data, max_pixels))
    except (OSError, ValueError) as error:
        raise ImageProblem(CORRUPT, "cannot convert to RGB: %s" % error)
    buffer = io.BytesIO()
    if as_jpeg:
        image.save(buffer, "JPEG", quality=95)
    else:
        image.save(buffer, "PNG", compress_level=3)
    return PreparedImage(buffer.getvalue(), "jpeg" if as_jpeg else "png", image.height, image.width)


def image_size(data):
    """(height, width) from the header of a JPEG, PNG, BMP or GIF file's bytes, None for anything else
    (or a header too damaged to say)."""
    if data.startswith(_JPEG_MAGIC):
        frame = _jpeg_frame(data)
        return None if frame is None else (frame.height, frame.width)
    if data.startswith(_PNG_MAGIC) and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return height, width
    if data.startswith(b"BM") and len(data) >= 26:
        header_size = struct.unpack("<I", data[14:18])[0]
        if header_size == 12:  # OS/2 BITMAPCOREHEADER: 16-bit sizes
            width, height = struct.unpack("<HH", data[18:22])
        else:
            width, height = struct.unpack("<ii", data[18:26])
        return abs(height), abs(width)
    if data.startswith((b"GIF87a", b"GIF89a")) and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return height, width
    return None


def _skip_sub_blocks(data, position):
    """The position after the data sub-blocks of a GIF that start at `position`."""
    while position < len(data) and data[position]:
        position += 1 + data[position]
    return position + 1


def gif_frames(data):
    """How many frames (image descriptors) a GIF file's bytes hold, counted without decoding them."""
    position = 13
    if len(data) > 10 and data[10] & 0x80:  # global colour table
        position += 3 << ((data[10] & 7) + 1)
    frames = 0
    while position < len(data):
        block = data[position]
        if block == 0x2C:  # image descriptor, local colour table, LZW code size, image data
            frames += 1
            flags = data[position + 9] if position + 9 < len(data) else 0
            position += 10 + ((3 << ((flags & 7) + 1)) if flags & 0x80 else 0)
            position = _skip_sub_blocks(data, position + 1)
        elif block == 0x21:  # extension: label, then sub-blocks
            position = _skip_sub_blocks(data, position + 2)
        else:  # 0x3B trailer, or damage
            break
    return max(frames, 1)


def checked_size(data, max_pixels=DEFAULT_MAX_IMAGE_PIXELS):
    """(height, width) of an image file's bytes, from its header (Pillow's for formats other than JPEG, PNG,
    BMP and GIF), before any decoding; raises ImageProblem when it has more than `max_pixels` pixels (all
    the frames of a GIF, which TensorFlow decodes all) or when no header says its size."""
    size = image_size(data)
    if size is None:
        image = _open(data, max_pixels)
        size = image.height, image.width
    frames = gif_frames(data) if data.startswith((b"GIF87a", b"GIF89a")) else 1
    _check_pixels(size[0], size[1], max_pixels, frames)
    return size


def prepare_image(data, max_pixels=DEFAULT_MAX_IMAGE_PIXELS):
    """The PreparedImage of a file's bytes for the TFRecord, or raises ImageProblem (an image of more than
    `max_pixels` pixels is refused from its header, before any decoding)."""
    if not data:
        raise ImageProblem(NOT_AN_IMAGE, "empty file")
    size = image_size(data)
    if size is not None:
        _check_pixels(size[0], size[1], max_pixels)
    if data.startswith(_JPEG_MAGIC):
        return _keep_jpeg(data, max_pixels) or reencode(data, as_jpeg=True, max_pixels=max_pixels)
    if data.startswith(_PNG_MAGIC):
        return _keep_png(data) or reencode(data, max_pixels=max_pixels)
    if data.startswith(b"BM"):
        return _keep_bmp(data) or reencode(data, max_pixels=max_pixels)
    return reencode(data, max_pixels=max_pixels)


def read_file(path, limits, folder=None):
    """The bytes of the image file `path`, found in `folder` (None: named by the user), within `limits`
    (datasets/read_limits.ReadLimits); raises ImageProblem."""
    try:
        return files.read_bounded(path, limits.max_image_bytes, folder, limits.follow_links, MAX_IMAGE_BYTES_FLAG)
    except files.FileRefused as refused:
        raise ImageProblem(TOO_LARGE if refused.reason == files.TOO_LARGE else refused.reason, refused.detail)


def read_image(path, limits=DEFAULT_LIMITS, folder=None):
    """prepare_image() of the file at `path` (read_file); raises ImageProblem."""
    return prepare_image(read_file(path, limits, folder), limits.max_image_pixels)
