r"""Builds the CSV of image-label associations (if it does not exist yet) and the TFRecord.

    python download_and_convert_data.py --image_dir "<images>" --labels_dir "<annotations>" \
        --chemin_csv labels/labels.csv --chemin_tfrecords labels/labels_tfrecords.tfrecord \
        --classes labels/liste_labels.txt

--chemin_csv, --chemin_tfrecords and --classes are the original project's spellings of --csv_file,
--tfrecord_file and --classes_file. An existing CSV is built again when the images or annotation files
changed since (--keep_csv uses it as it is). Nothing is downloaded:
`python -m datasets.demo_faces --output_dir demo` writes a synthetic dataset.
"""
import argparse
import sys

from core.cli import run_main


def build_parser():
    from datasets.convert import build_parser as conversion_parser
    from engine.config.flags import add_version_flag

    parser = conversion_parser()
    parser.description = __doc__
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add_version_flag(parser)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)  # --help and --version answer here, before TensorFlow loads
    from core.progress import say
    from datasets.convert import ConversionOptions, convert

    for line in convert(ConversionOptions.from_args(args)).lines():
        say(line)
    return 0


if __name__ == "__main__":
    sys.exit(run_main(main))
