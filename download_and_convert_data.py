"""Builds the CSV of image-label associations (if it does not exist yet) and the TFRecord.

    python download_and_convert_data.py --image_dir "<images>" --labels_dir "<annotations>" \
        --chemin_csv labels/labels.csv --chemin_tfrecords labels/labels_tfrecords.tfrecord \
        --classes labels/liste_labels.txt

Nothing is downloaded: `python -m datasets.demo_faces --output_dir demo` writes a synthetic dataset.
"""
import sys

from core.cli import run_main


def build_parser():
    from datasets.convert import build_parser as conversion_parser
    return conversion_parser()


def main(argv=None):
    from datasets.convert import main as convert_main
    return convert_main(argv)


if __name__ == "__main__":
    sys.exit(run_main(main))
