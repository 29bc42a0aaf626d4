"""The held-out split: a deterministic function of the image's file name, so training and evaluation
agree on it without any file, and no image is ever in both.

An image is in `test` when the stable 64-bit fingerprint of its file name (TensorFlow's
`to_hash_bucket_fast`, the same on every platform and version) falls in the first
`validation_percentage` of 100 buckets.
"""
from core.compat import tf
from core.errors import UserError
from datasets.defaults import ALL, SPLITS, TEST, VALIDATION_PERCENTAGE


def in_split(filename, split, validation_percentage):
    """A boolean tensor: is the image named `filename` (string tensor) in `split`?"""
    if split not in SPLITS:
        raise UserError("unknown split %r; use one of %s" % (split, ", ".join(SPLITS)))
    if split == ALL:
        return tf.constant(True)
    if not 0 <= validation_percentage <= 100:
        raise UserError("--validation_percentage must be between 0 and 100, got %r" % validation_percentage)
    held_out = tf.strings.to_hash_bucket_fast(filename, 100) < int(validation_percentage)
    return held_out if split == TEST else tf.logical_not(held_out)


def names_in_split(filenames, split, validation_percentage):
    """The file names (with extension) among `filenames` that fall in `split`."""
    if not filenames:
        return []
    keep = in_split(tf.constant(list(filenames)), split, validation_percentage)
    keep = tf.broadcast_to(keep, [len(filenames)]).numpy()
    return [name for name, kept in zip(filenames, keep) if kept]


def main(argv=None):
    """`python -m datasets.split FOLDER [--split test]`: prints the images of FOLDER in that split."""
    import argparse
    import os

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("folder", help="image folder")
    parser.add_argument("--split", default=TEST, choices=SPLITS)
    parser.add_argument("--validation_percentage", type=float, default=VALIDATION_PERCENTAGE)
    args = parser.parse_args(argv)
    for name in names_in_split(sorted(os.listdir(args.folder)), args.split, args.validation_percentage):
        print(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
