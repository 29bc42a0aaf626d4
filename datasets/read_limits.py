"""How much the suite reads from the files it is given, and whether it follows links out of the folders
it is given: the limits, their flags (conversion and label_image) and the record that carries them.

An image is refused before it is decoded when its header says it has more than `max_image_pixels`
pixels (Pillow's own default limit, Image.MAX_IMAGE_PIXELS: about 89 million, 268 MB as 8-bit RGB), or
when its file is larger than `max_image_bytes`; both have a flag to raise them. The text files (classes
file, annotation files, CSV, export metadata) have fixed limits far above what they hold.

No TensorFlow, no Pillow here: the scripts' --help reads it.
"""
import dataclasses

from core.cli import add_bool_flag
from core.errors import UserError
from core.files import MIB

DEFAULT_MAX_IMAGE_PIXELS = 89478485  # PIL.Image.MAX_IMAGE_PIXELS (tests/core/test_files.py checks it)
DEFAULT_MAX_IMAGE_BYTES = 128 * MIB
MAX_ANNOTATION_BYTES = 1 * MIB  # an annotation file: label names, one per line
MAX_CLASSES_FILE_BYTES = 16 * MIB  # a classes file of MAX_CLASSES long names fits
MAX_CSV_BYTES = 1024 * MIB  # about 25 million image-label rows
MAX_CLASSES = 100000  # ImageNet-21k has 21841 classes
MAX_IMAGE_PIXELS_FLAG = "--max_image_pixels"
MAX_IMAGE_BYTES_FLAG = "--max_image_bytes"
FOLLOW_LINKS_FLAG = "--follow_links"


@dataclasses.dataclass(frozen=True)
class ReadLimits:
    """What an image read may take: at most `max_image_pixels` pixels and `max_image_bytes` bytes; links
    that lead out of the folder named are read only with `follow_links`."""

    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES
    follow_links: bool = False

    def __post_init__(self):
        for flag, value in ((MAX_IMAGE_PIXELS_FLAG, self.max_image_pixels),
                            (MAX_IMAGE_BYTES_FLAG, self.max_image_bytes)):
            if value < 1:
                raise UserError("%s must be at least 1, got %d" % (flag, value))

    @classmethod
    def from_args(cls, args):
        """The limits of flags declared by add_flags (an argparse.Namespace)."""
        return cls(args.max_image_pixels, args.max_image_bytes, args.follow_links)


DEFAULT_LIMITS = ReadLimits()


def add_flags(parser, title="reading"):
    """Declares --max_image_pixels, --max_image_bytes and --follow_links in a group of `parser`."""
    group = parser.add_argument_group(title)
    group.add_argument(MAX_IMAGE_PIXELS_FLAG, type=int, default=DEFAULT_MAX_IMAGE_PIXELS,
                       help="refuse images with more pixels than this, from their header, before decoding them "
                       "(default: %(default)s, Pillow's limit; an 8-bit RGB image of that size takes 268 MB)")
    group.add_argument(MAX_IMAGE_BYTES_FLAG, type=int, default=DEFAULT_MAX_IMAGE_BYTES,
                       help="refuse image files larger than this many bytes (default: %(default)s, 128 MiB)")
    add_bool_flag(group, FOLLOW_LINKS_FLAG[2:], False,
                  "read the files of the folders given through symbolic links that lead out of them "
                  "(otherwise each is skipped with a warning)")
    return group


def check_pixels(height, width, limit, frames=1):
    """A message when a `height` x `width` image (of `frames` frames) has more than `limit` pixels, else
    None."""
    if frames * height * width <= limit:
        return None
    return "%s%dx%d pixels: %d, more than %s %d; raise it to read this image" % (
        "%d frames of " % frames if frames > 1 else "", width, height, frames * height * width,
        MAX_IMAGE_PIXELS_FLAG, limit)

