"""The split: a deterministic function of the image's file name, so training, validation and evaluation
agree on it without any file, and no image is ever in two parts.

The stable 64-bit fingerprint of an image's file name (TensorFlow's `to_hash_bucket_fast`, the same on every
platform and version) picks one of 100 buckets. The first `validation_percentage` buckets are the `test`
part (what evaluation reports; --test_percentage), the next `val_percentage` the `val` part (what training
chooses its best checkpoint and thresholds on; --val_percentage), the rest `train`. A run recorded before the
val part existed has val_percentage 0: its train and test parts are unchanged.
"""
from core.compat import tf
from core.errors import UserError
from datasets.defaults import ALL, SPLITS, TEST, TRAIN, VAL, VAL_PERCENTAGE, VALIDATION_PERCENTAGE


def check_percentages(validation_percentage, val_percentage=0.0):
    """Raises a UserError unless the test and val parts are percentages that leave images to train on."""
    for flag, value in (("--test_percentage", validation_percentage), ("--val_percentage", val_percentage)):
        if not 0 <= value <= 100:  # NaN fails this too
            raise UserError("%s %g is not a percentage: give a number from 0 to 100" % (flag, value))
    if validation_percentage + val_percentage > 100:
        raise UserError("--test_percentage %g and --val_percentage %g hold out more than every image; lower them"
                        % (validation_percentage, val_percentage))


def bucket_bounds(split, validation_percentage, val_percentage=0.0):
    """(first, end) of the hash buckets 0..99 of `split` (train, val or test)."""
    test_end = int(validation_percentage)
    val_end = test_end + int(val_percentage)
    return {TEST: (0, test_end), VAL: (test_end, val_end), TRAIN: (val_end, 100)}[split]


def in_split(filename, split, validation_percentage, val_percentage=0.0):
    """A boolean tensor: is the image named `filename` (string tensor) in `split`?"""
    if split not in SPLITS:
        raise UserError("unknown split %r; use one of %s" % (split, ", ".join(SPLITS)))
    if split == ALL:
        return tf.constant(True)
    check_percentages(validation_percentage, val_percentage)
    first, end = bucket_bounds(split, validation_percentage, val_percentage)
    bucket = tf.strings.to_hash_bucket_fast(filename, 100)
    return tf.logical_and(bucket >= first, bucket < end)


def names_in_split(filenames, split, validation_percentage, val_percentage=0.0):
    """The file names (with extension) among `filenames` that fall in `split`."""
    if not filenames:
        return []
    keep = in_split(tf.constant(list(filenames)), split, validation_percentage, val_percentage)
    keep = tf.broadcast_to(keep, [len(filenames)]).numpy()
    return [name for name, kept in zip(filenames, keep) if kept]


def main(argv=None):
    """`python -m datasets.split FOLDER [--split test]`: prints the images of FOLDER in that split."""
    import argparse
    import os

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("folder", help="image folder")
    parser.add_argument("--split", default=TEST, choices=SPLITS)
    parser.add_argument("--test_percentage", "--validation_percentage", dest="validation_percentage", type=float,
                        default=VALIDATION_PERCENTAGE)
    parser.add_argument("--val_percentage", type=float, default=VAL_PERCENTAGE)
    args = parser.parse_args(argv)
    for name in names_in_split(sorted(os.listdir(args.folder)), args.split, args.validation_percentage,
                               args.val_percentage):
        print(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
