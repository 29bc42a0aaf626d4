"""The one input pipeline of training and evaluation: TFRecord -> split -> decode -> preprocess -> batch.

Every element is a dict: `images` float32 [batch, size, size, 3], `labels` float32 [batch, num_classes]
(multi-hot; one-hot when each image has one label) and `filenames` string [batch].
"""
import os

from core.compat import tf
from datasets import shards
from datasets import tfrecord_format as fmt
from datasets.split import in_split
from datasets.tfrecord_integrity import record_dataset

# Serialized records of a file smaller than this are kept in memory after the first epoch.
CACHE_LIMIT_BYTES = 1 << 30


def check_tfrecord(path):
    """The files of `path`: a TFRecord file, a shard pattern or a list (datasets/shards.py); a UserError
    saying how to create them when they do not exist."""
    return shards.resolve(path)


def decode_image(encoded):
    """uint8 [H, W, 3] from JPEG, PNG, BMP or GIF bytes (first frame of an animation)."""
    image = tf.io.decode_image(encoded, channels=3, expand_animations=False)
    image.set_shape([None, None, 3])
    return image


def multi_hot(label_ids, num_classes, labels_offset=0):
    """float32 [num_classes] with 1 at every label id (ids shifted down by `labels_offset`)."""
    ids = tf.cast(label_ids, tf.int32) - labels_offset
    ids = tf.boolean_mask(ids, tf.logical_and(ids >= 0, ids < num_classes))
    return tf.minimum(tf.reduce_sum(tf.one_hot(ids, num_classes, dtype=tf.float32), axis=0), 1.0)


def build_dataset(tfrecord_path, split, validation_percentage, num_classes, preprocess_fn, image_size,
                  batch_size, is_training, labels_offset=0, num_readers=4, num_preprocessing_threads=4,
                  shuffle_buffer=1024, seed=None, skip_corrupt_records=False, num_workers=1, worker_index=0):
    """The batched tf.data.Dataset of `split`; training repeats and shuffles, evaluation reads each image
    of the split exactly once (the last batch may be smaller). `tfrecord_path` is a file, a shard pattern or
    a list. Worker `worker_index` of `num_workers` reads its own part of the shards, or of the records
    when there are fewer shards than workers (datasets/shards.py: for_worker)."""
    files, record_shard = shards.for_worker(check_tfrecord(tfrecord_path), num_workers, worker_index)
    records = record_dataset(files, skip_corrupt_records, num_parallel_reads=max(1, num_readers))
    if skip_corrupt_records:
        records = records.ignore_errors()
    if record_shard:
        records = records.shard(*record_shard)

    def keep(serialized):
        header = tf.io.parse_single_example(serialized, {fmt.FILENAME: fmt.FEATURE_SPEC[fmt.FILENAME]})
        return in_split(header[fmt.FILENAME], split, validation_percentage)

    records = records.filter(keep)
    if is_training:
        if sum(os.path.getsize(name) for name in files) < CACHE_LIMIT_BYTES:
            records = records.cache()
        records = records.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True).repeat()

    def load(serialized):
        features = fmt.parse_example(serialized)
        image = preprocess_fn(decode_image(features[fmt.ENCODED]), image_size, image_size)
        image.set_shape([image_size, image_size, 3])
        return {
            "images": tf.cast(image, tf.float32),
            "labels": multi_hot(features[fmt.LABEL], num_classes, labels_offset),
            "filenames": features[fmt.FILENAME],
        }

    threads = tf.data.AUTOTUNE if num_preprocessing_threads <= 0 else num_preprocessing_threads
    dataset = records.map(load, num_parallel_calls=threads, deterministic=not is_training)
    if skip_corrupt_records:
        dataset = dataset.ignore_errors()
    dataset = dataset.batch(batch_size, drop_remainder=is_training)
    return dataset.prefetch(tf.data.AUTOTUNE)
