"""Default paths and split settings, shared by every script so they agree (the original's paths differed
between scripts). No TensorFlow here: the scripts' --help reads it."""
CSV_PATH = "labels/labels.csv"
TFRECORD_PATH = "labels/labels_tfrecords.tfrecord"
CLASSES_PATH = "labels/liste_labels.txt"
# The held-out split (datasets/split.py): the training images, the held-out ones, or every image.
TRAIN, TEST, ALL = "train", "test", "all"
SPLITS = (TRAIN, TEST, ALL)
VALIDATION_PERCENTAGE = 25.0
