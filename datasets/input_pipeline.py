"""The one input pipeline of training and evaluation: TFRecord -> split -> decode -> preprocess -> batch.

Every element is a dict: `images` float32 [batch, size, size, 3], `labels` float32 [batch, num_classes]
(multi-hot; one-hot when each image has one label) and `filenames` string [batch].
"""
import dataclasses
import os

from core.compat import tf
from datasets import defaults, shards
from datasets import tfrecord_format as fmt
from datasets.split import in_split
from datasets.tfrecord_integrity import record_dataset

# Serialized records of a file smaller than this are kept in memory after the first epoch.
CACHE_LIMIT_BYTES = 1 << 30


@dataclasses.dataclass(frozen=True)
class PipelineOptions:
    """How build_dataset reads the TFRecord; the defaults suit a single process reading a sound file."""

    validation_percentage: float = defaults.VALIDATION_PERCENTAGE  # the test part (datasets/split.py)
    val_percentage: float = 0.0  # the val part (datasets/split.py)
    labels_offset: int = 0  # subtracted from every label id (research/slim's background class)
    num_readers: int = 4  # files read in parallel
    num_preprocessing_threads: int = 4  # 0 or less: tf.data.AUTOTUNE
    shuffle_buffer: int = 1024  # training only
    seed: int = None  # of the training shuffle; None: another order each run
    skip_corrupt_records: bool = False  # read past damaged records and undecodable images
    num_workers: int = 1  # the workers of a cluster, each reading its own part (shards.for_worker)
    worker_index: int = 0


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


def build_dataset(tfrecord_file, split, num_classes, preprocess_fn, image_size, batch_size, is_training,
                  options=None):
    """The batched tf.data.Dataset of `split`; training repeats and shuffles, evaluation reads each image
    of the split exactly once (the last batch may be smaller). `tfrecord_file` is a file, a shard pattern or
    a list. `options` (PipelineOptions, default: its defaults) says how to read; worker `worker_index` of
    `num_workers` reads its own part of the shards, or of the records when there are fewer shards than
    workers (datasets/shards.py: for_worker)."""
    options = options or PipelineOptions()
    share = shards.for_worker(check_tfrecord(tfrecord_file), options.num_workers, options.worker_index)
    records = record_dataset(share.files, options.skip_corrupt_records,
                             num_parallel_reads=max(1, options.num_readers))
    if options.skip_corrupt_records:
        records = records.ignore_errors()
    if share.record_shard:
        records = records.shard(*share.record_shard)

    def keep(serialized):
        header = tf.io.parse_single_example(serialized, {fmt.FILENAME: fmt.FEATURE_SPEC[fmt.FILENAME]})
        return in_split(header[fmt.FILENAME], split, options.validation_percentage, options.val_percentage)

    records = records.filter(keep)
    if is_training:
        if sum(os.path.getsize(name) for name in share.files) < CACHE_LIMIT_BYTES:
            records = records.cache()
        records = records.shuffle(options.shuffle_buffer, seed=options.seed, reshuffle_each_iteration=True).repeat()

    def parse(serialized):
        features = fmt.parse_example(serialized)
        return {
            "images": decode_image(features[fmt.ENCODED]),
            "labels": multi_hot(features[fmt.LABEL], num_classes, options.labels_offset),
            "filenames": features[fmt.FILENAME],
        }

    def preprocess(example):
        image = preprocess_fn(example["images"], image_size, image_size)
        image.set_shape([image_size, image_size, 3])
        return dict(example, images=tf.cast(image, tf.float32))

    threads = tf.data.AUTOTUNE if options.num_preprocessing_threads <= 0 else options.num_preprocessing_threads
    if is_training and options.seed is not None:
        # Reproducible: a random op's kernel draws for whichever call comes first, so the random preprocessing
        # runs one image at a time, in order, after the decoding (in parallel, the costly part).
        dataset = records.map(parse, num_parallel_calls=threads, deterministic=True).map(preprocess)
    else:
        dataset = records.map(lambda serialized: preprocess(parse(serialized)), num_parallel_calls=threads,
                              deterministic=not is_training)
    if options.skip_corrupt_records:
        dataset = dataset.ignore_errors()
    dataset = dataset.batch(batch_size, drop_remainder=is_training)
    return dataset.prefetch(tf.data.AUTOTUNE)
