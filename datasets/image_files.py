"""Turns one image file into bytes that `tf.io.decode_image(..., channels=3)` decodes as one 8-bit image.

No TensorFlow here: this runs in the conversion's worker processes.

- JPEG (8-bit gray or YCbCr), PNG (8-bit gray or RGB) and BMP (24-bit, uncompressed, bottom-up) keep the
  file's own bytes. Only their header is parsed, plus a cheap end-of-file check that catches truncation
  (JPEG: EOI marker, PNG: IEND chunk and chunk CRCs, BMP: pixel array size); a JPEG that does not end
  with EOI is fully decoded by Pillow to decide.
- Everything else Pillow reads is decoded and re-encoded as 8-bit RGB: CMYK JPEG -> JPEG; 16-bit,
  palette, gray+alpha or RGBA PNG, other BMPs, any GIF (TensorFlow decodes every GIF to a 4-D
  animation) and other formats -> PNG. Transparency is flattened onto white.
"""
import io
import struct
import zlib
from typing import NamedTuple

import numpy as np
from PIL import Image

IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "bmp", "gif")

# Skip reasons, as the conversion summary counts them.
UNREADABLE = "unreadable file"
NOT_AN_IMAGE = "not an image"
CORRUPT = "corrupt or truncated image"

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


def _keep_jpeg(data):
    frame = _jpeg_frame(data)
    if frame is None:
        return None
    if frame.precision != 8 or frame.components not in (1, 3) or frame.marker not in _JPEG_SOF_KEPT \
            or not frame.height or not frame.width:
        return None
    if not data.endswith(b"\xff\xd9") and not data.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9"):
        _decode(data)  # no EOI at the end: truncated unless Pillow decodes it completely
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


def _decode(data):
    """Fully decodes `data` with Pillow (first frame); returns the image or raises ImageProblem."""
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:
        raise ImageProblem(CORRUPT, str(error).split(".")[0])
    except (OSError, SyntaxError, ValueError) as error:
        reason = CORRUPT if _has_image_magic(data) else NOT_AN_IMAGE
        raise ImageProblem(reason, str(error) or type(error).__name__)
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


def reencode(data, as_jpeg=False):
    """Decodes any image Pillow reads and re-encodes it as 8-bit RGB PNG (or JPEG)."""
    try:
        image = to_rgb8(_decode(data))
    except (OSError, ValueError) as error:
        raise ImageProblem(CORRUPT, "cannot convert to RGB: %s" % error)
    buffer = io.BytesIO()
    if as_jpeg:
        image.save(buffer, "JPEG", quality=95)
    else:
        image.save(buffer, "PNG", compress_level=3)
    return PreparedImage(buffer.getvalue(), "jpeg" if as_jpeg else "png", image.height, image.width)


def prepare_image(data):
    """The PreparedImage of a file's bytes for the TFRecord, or raises ImageProblem."""
    if not data:
        raise ImageProblem(NOT_AN_IMAGE, "empty file")
    if data.startswith(_JPEG_MAGIC):
        return _keep_jpeg(data) or reencode(data, as_jpeg=True)
    if data.startswith(_PNG_MAGIC):
        return _keep_png(data) or reencode(data)
    if data.startswith(b"BM"):
        return _keep_bmp(data) or reencode(data)
    return reencode(data)


def read_image(path):
    """prepare_image() of the file at `path`; an unreadable file raises ImageProblem(UNREADABLE)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise ImageProblem(UNREADABLE, error.strerror or str(error))
    return prepare_image(data)
