"""The TFRecord format: one tf.train.Example per image. Writer and reader live together here.

Features:
  image/encoded      the image bytes (the file's own when TensorFlow decodes them as they are)
  image/format       b'jpeg', b'png', b'bmp' or b'gif'
  image/height       int64
  image/width        int64
  image/filename     the file name with its extension
  image/class/label  int64 list: every label of the image, 0-based index in the classes file
  image/class/text   the names of those labels
"""
from engine.compat import tf

ENCODED = "image/encoded"
FORMAT = "image/format"
HEIGHT = "image/height"
WIDTH = "image/width"
FILENAME = "image/filename"
LABEL = "image/class/label"
TEXT = "image/class/text"


def _bytes(values):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=values))


def _ints(values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))


def make_example(encoded, image_format, height, width, filename, label_ids, label_names):
    """Returns the serialized tf.train.Example of one image."""
    feature = {
        ENCODED: _bytes([encoded]),
        FORMAT: _bytes([image_format.encode("ascii")]),
        HEIGHT: _ints([int(height)]),
        WIDTH: _ints([int(width)]),
        FILENAME: _bytes([filename.encode("utf-8")]),
        LABEL: _ints([int(i) for i in label_ids]),
        TEXT: _bytes([name.encode("utf-8") for name in label_names]),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


FEATURE_SPEC = {
    ENCODED: tf.io.FixedLenFeature([], tf.string),
    FORMAT: tf.io.FixedLenFeature([], tf.string, default_value="jpeg"),
    HEIGHT: tf.io.FixedLenFeature([], tf.int64, default_value=0),
    WIDTH: tf.io.FixedLenFeature([], tf.int64, default_value=0),
    FILENAME: tf.io.FixedLenFeature([], tf.string),
    LABEL: tf.io.VarLenFeature(tf.int64),
    TEXT: tf.io.VarLenFeature(tf.string),
}

# What the split and the label statistics need, without the image bytes.
HEADER_SPEC = {FILENAME: FEATURE_SPEC[FILENAME], LABEL: FEATURE_SPEC[LABEL]}


def parse_example(serialized, spec=None):
    """Parses one serialized example into a dict; `image/class/label` becomes a dense int64 vector."""
    features = tf.io.parse_single_example(serialized, spec or FEATURE_SPEC)
    features[LABEL] = tf.sparse.to_dense(features[LABEL])
    if TEXT in features:
        features[TEXT] = tf.sparse.to_dense(features[TEXT])
    return features
