"""Dataset statistics read from the TFRecord's small features (file name, labels), without decoding images."""
import collections
import contextlib

import numpy as np

from core.compat import tf
from datasets import tfrecord_format as fmt
from datasets import tfrecord_integrity
from datasets.input_pipeline import check_tfrecord
from datasets.split import in_split

_BATCH = 1024


def _label_batches(tfrecord_path, split, validation_percentage, skip_corrupt_records=False):
    """tf.data.Dataset of ragged int64 [batch, None]: the labels of the images of `split`."""
    records = tfrecord_integrity.record_dataset(tfrecord_path, skip_corrupt_records)
    records = records.map(lambda serialized: tf.io.parse_single_example(serialized, fmt.HEADER_SPEC))
    records = records.filter(lambda features: in_split(features[fmt.FILENAME], split, validation_percentage))
    records = records.map(lambda features: tf.RaggedTensor.from_sparse(
        tf.sparse.expand_dims(features[fmt.LABEL], 0))[0])
    return records.ragged_batch(_BATCH) if hasattr(records, "ragged_batch") else records.apply(
        tf.data.experimental.dense_to_ragged_batch(_BATCH))


def _numpy_batches(dataset):
    """(row lengths, flat values) numpy pairs, eagerly, or through a session when eager is off."""
    if tf.executing_eagerly():
        for batch in dataset:
            yield batch.row_lengths().numpy(), batch.flat_values.numpy()
        return
    next_batch = tf.data.make_one_shot_iterator(dataset).get_next()
    fetch = (next_batch.row_lengths(), next_batch.flat_values)
    with tf.Session() as session:
        while True:
            try:
                yield session.run(fetch)
            except tf.errors.OutOfRangeError:
                return


def scan(tfrecord_path, split, validation_percentage, skip_corrupt_records=False):
    """{num_images, max_labels_per_image, label_counts} of `split` in `tfrecord_path`.

    label_counts maps each 0-based label index that occurs to its number of images. Works eagerly even
    when called while a graph is being built; raises UserError when the file is missing or damaged, unless
    `skip_corrupt_records` (then only the records that read whole count).
    """
    check_tfrecord(tfrecord_path)
    counts = collections.Counter()
    num_images = max_labels = 0
    with tf.init_scope():
        graph = None if tf.executing_eagerly() else tf.Graph()
        with graph.as_default() if graph is not None else contextlib.nullcontext():
            batches = _numpy_batches(_label_batches(tfrecord_path, split, validation_percentage,
                                                    skip_corrupt_records))
            try:
                for lengths, values in batches:
                    num_images += len(lengths)
                    if len(lengths):
                        max_labels = max(max_labels, int(lengths.max()))
                    labels, occurrences = np.unique(values, return_counts=True)
                    counts.update(dict(zip(labels.tolist(), occurrences.tolist())))
            except tf.errors.DataLossError as error:
                raise tfrecord_integrity.damaged_file_error(tfrecord_path, error)
    return {"num_images": num_images, "max_labels_per_image": max_labels, "label_counts": dict(sorted(counts.items()))}

