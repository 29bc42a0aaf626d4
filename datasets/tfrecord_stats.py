"""Dataset statistics read from the TFRecord's small features, without decoding any image."""
import collections

from datasets import tfrecord_format as fmt
from datasets.input_pipeline import check_tfrecord
from datasets.split import in_split
from engine.compat import tf
from engine.errors import UserError


def scan(tfrecord_path, split, validation_percentage):
    """{num_images, max_labels_per_image, label_counts} of `split` in `tfrecord_path`."""
    check_tfrecord(tfrecord_path)
    records = tf.data.TFRecordDataset([tfrecord_path]).map(
        lambda serialized: fmt.parse_example(serialized, fmt.HEADER_SPEC))
    records = records.filter(lambda features: in_split(features[fmt.FILENAME], split, validation_percentage))
    counts = collections.Counter()
    num_images = max_labels = 0
    index = 0
    try:
        for features in records.as_numpy_iterator():
            labels = features[fmt.LABEL]
            num_images += 1
            max_labels = max(max_labels, len(labels))
            counts.update(int(label) for label in labels)
            index += 1
    except tf.errors.DataLossError as error:
        raise UserError("TFRecord %r is corrupt after %d readable record(s) of the %s split (%s); rebuild it "
                        "with download_and_convert_data.py" % (tfrecord_path, index, split,
                                                               str(error).splitlines()[0]))
    return {"num_images": num_images, "max_labels_per_image": max_labels, "label_counts": dict(counts)}
