"""Dataset statistics read from the TFRecord's small features (file name, labels), without decoding images."""
import collections
import contextlib
from typing import NamedTuple

import numpy as np

from core.compat import tf
from datasets import tfrecord_format as fmt
from datasets import tfrecord_integrity
from datasets.input_pipeline import check_tfrecord
from datasets.split import in_split

_BATCH = 1024
EXAMPLES_PER_SET = 3  # file names kept for each set of labels (messages name the images that break groups)


def _label_batches(tfrecord_file, split, validation_percentage, skip_corrupt_records=False, val_percentage=0.0):
    """tf.data.Dataset of (labels, texts, filenames): ragged [batch, None] labels of the images of `split`
    and their names (`image/class/text`; none in records written without them), and [batch] file names."""
    spec = dict(fmt.HEADER_SPEC, **{fmt.TEXT: fmt.FEATURE_SPEC[fmt.TEXT]})
    records = tfrecord_integrity.record_dataset(tfrecord_file, skip_corrupt_records)
    records = records.map(lambda serialized: tf.io.parse_single_example(serialized, spec))
    records = records.filter(lambda features: in_split(features[fmt.FILENAME], split, validation_percentage,
                                                                 val_percentage))

    def ragged(sparse):
        return tf.RaggedTensor.from_sparse(tf.sparse.expand_dims(sparse, 0))[0]
    records = records.map(lambda features: (ragged(features[fmt.LABEL]), ragged(features[fmt.TEXT]),
                                            features[fmt.FILENAME]))
    return records.ragged_batch(_BATCH) if hasattr(records, "ragged_batch") else records.apply(
        tf.data.experimental.dense_to_ragged_batch(_BATCH))


class _LabelBatch(NamedTuple):
    """The labels of a batch of records, flattened: record i, named `filenames[i]`, has `lengths[i]` of the
    `labels` and `text_lengths[i]` of the `texts` (their names), in order."""

    lengths: object
    labels: object
    text_lengths: object
    texts: object
    filenames: object


def _numpy_batches(dataset):
    """_LabelBatch-es of numpy arrays, eagerly, or through a session when eager is off."""
    if tf.executing_eagerly():
        for labels, texts, filenames in dataset:
            yield _LabelBatch(labels.row_lengths().numpy(), labels.flat_values.numpy(),
                              texts.row_lengths().numpy(), texts.flat_values.numpy(), filenames.numpy())
        return
    labels, texts, filenames = tf.data.make_one_shot_iterator(dataset).get_next()
    fetch = _LabelBatch(labels.row_lengths(), labels.flat_values, texts.row_lengths(), texts.flat_values, filenames)
    with tf.Session() as session:
        while True:
            try:
                yield session.run(fetch)
            except tf.errors.OutOfRangeError:
                return


def _names(batch):
    """{label index: name} from the records of _LabelBatch `batch` whose labels all have a name."""
    named = (batch.lengths == batch.text_lengths) & (batch.lengths > 0)
    labels = batch.labels[np.repeat(named, batch.lengths)]
    names = batch.texts[np.repeat(named, batch.text_lengths)]
    unique, first = np.unique(labels, return_index=True)
    return {int(index): names[position].decode("utf-8", "replace") for index, position in zip(unique, first)}


def _label_sets(batch, sets, examples):
    """Counts in `sets` the label set (sorted tuple of label indexes) of each record of _LabelBatch `batch`,
    and keeps in `examples` the file names of the first EXAMPLES_PER_SET records of each set."""
    ends = np.cumsum(batch.lengths)
    for end, length, filename in zip(ends.tolist(), batch.lengths.tolist(), batch.filenames):
        key = tuple(sorted(set(batch.labels[end - length:end].tolist())))
        sets[key] += 1
        named = examples.setdefault(key, [])
        if len(named) < EXAMPLES_PER_SET:
            named.append(filename.decode("utf-8", "replace"))


def scan(tfrecord_file, split, validation_percentage, skip_corrupt_records=False, val_percentage=0.0):
    """{num_images, max_labels_per_image, label_counts, class_names, label_sets, label_set_examples} of
    `split` in `tfrecord_file`.

    label_counts maps each 0-based label index that occurs to its number of images, class_names each to
    the name the records give it (`image/class/text`, the conversion's classes file). label_sets maps each
    set of labels that images carry (a sorted tuple of label indexes) to its number of images, and
    label_set_examples to the file names of the first few of them (datasets/label_groups.py finds the
    attribute groups in them). Works eagerly even
    when called while a graph is being built; raises UserError when the file is missing or damaged, unless
    `skip_corrupt_records` (then only the records that read whole count).
    """
    check_tfrecord(tfrecord_file)
    counts, sets, examples = collections.Counter(), collections.Counter(), {}
    names = {}
    num_images = max_labels = 0
    with tf.init_scope():
        graph = None if tf.executing_eagerly() else tf.Graph()
        with graph.as_default() if graph is not None else contextlib.nullcontext():
            batches = _numpy_batches(_label_batches(tfrecord_file, split, validation_percentage,
                                                    skip_corrupt_records, val_percentage))
            try:
                for batch in batches:
                    num_images += len(batch.lengths)
                    for index, name in _names(batch).items():
                        names.setdefault(index, name)
                    if len(batch.lengths):
                        max_labels = max(max_labels, int(batch.lengths.max()))
                    labels, occurrences = np.unique(batch.labels, return_counts=True)
                    counts.update(dict(zip(labels.tolist(), occurrences.tolist())))
                    _label_sets(batch, sets, examples)
            except tf.errors.DataLossError as error:
                raise tfrecord_integrity.damaged_file_error(tfrecord_file, error)
    return {"num_images": num_images, "max_labels_per_image": max_labels, "label_counts": dict(sorted(counts.items())),
            "class_names": dict(sorted(names.items())), "label_sets": dict(sorted(sets.items())),
            "label_set_examples": dict(sorted(examples.items()))}




def scan_part(settings, split, skip_corrupt_records=False):
    """scan() of `split` of the TFRecord a run's `settings` (engine.config.settings.Settings) name, with its
    test and val percentages."""
    return scan(settings.tfrecord_file, split, settings.validation_percentage,
                skip_corrupt_records=skip_corrupt_records, val_percentage=settings.val_percentage)
