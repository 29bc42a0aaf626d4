"""Default paths and split settings, shared by every script so they agree (the original's paths differed
between scripts). No TensorFlow here: the scripts' --help reads it."""
CSV_PATH = "labels/labels.csv"
TFRECORD_PATH = "labels/labels_tfrecords.tfrecord"
CLASSES_PATH = "labels/liste_labels.txt"
# The split by file name hash (datasets/split.py): the training images, the val images (held out to choose
# checkpoints and thresholds), the test images (held out, what evaluation reports), or every image.
TRAIN, VAL, TEST, ALL = "train", "val", "test", "all"
SPLITS = (TRAIN, VAL, TEST, ALL)
VALIDATION_PERCENTAGE = 25.0  # the test part (--test_percentage, formerly --validation_percentage)
VAL_PERCENTAGE = 10.0  # the val part of new runs; runs recorded without one keep none
