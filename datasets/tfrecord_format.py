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
from core.compat import tf

ENCODED = "image/encoded"
FORMAT = "image/format"
HEIGHT = "image/height"
WIDTH = "image/width"
FILENAME = "image/filename"
LABEL = "image/class/label"
TEXT = "image/class/text"


def make_example(encoded, image_format, height, width, filename, label_ids, label_names):
    """Returns the serialized tf.train.Example of one image."""
    # Filling the message in place is several times faster than building Feature objects and copying
    # them into the map, and gives the same message.
    example = tf.train.Example()
    feature = example.features.feature
    feature[ENCODED].bytes_list.value.append(encoded)
    feature[FORMAT].bytes_list.value.append(image_format.encode("ascii"))
    feature[HEIGHT].int64_list.value.append(int(height))
    feature[WIDTH].int64_list.value.append(int(width))
    feature[FILENAME].bytes_list.value.append(filename.encode("utf-8"))
    labels, texts = feature[LABEL].int64_list, feature[TEXT].bytes_list
    labels.SetInParent()  # present even when empty, as a Feature(int64_list=...) would be
    texts.SetInParent()
    labels.value.extend([int(i) for i in label_ids])
    texts.value.extend([name.encode("utf-8") for name in label_names])
    return example.SerializeToString()


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
