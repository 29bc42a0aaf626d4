"""Default paths, shared by every script so they agree (the original's differed between scripts)."""
CSV_PATH = "labels/labels.csv"
TFRECORD_PATH = "labels/labels_tfrecords.tfrecord"
CLASSES_PATH = "labels/liste_labels.txt"
