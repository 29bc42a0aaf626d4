"""Conversion benchmark: images/s of download_and_convert_data's conversion on generated faces, and its
ratio to a plain read of the same files' bytes (target: at least 0.5).

    python -m bench.bench_conversion            # 2000 images of 250x250 px (datasets/demo_faces.py)
    python -m bench.bench_conversion --smoke    # 48 images, to check that it runs

Both the plain read and the conversion read files the generator has just written (warm page cache), so
the ratio measures the conversion's CPU cost over the bare I/O. The conversion is what a user runs: the
CSV built in the same pass, one worker process per core. The plain read and the conversion alternate in
`repeats` rounds, and each figure is the median of its rounds; a conversion from the existing CSV
(`--keep_csv`, no annotation read) alternates with them and is reported beside, informative only.
"""
import os
import sys
import tempfile

from bench import common
from datasets import demo_faces
from datasets.convert import ConversionOptions, convert
from datasets.convert_records import default_workers

CLASSES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "labels", "liste_labels.txt")
TARGET_RATIO = 0.5


def run(smoke=False, count=None, size=250, repeats=5):
    """Returns the figures as a dict (images, size, workers, *_images_per_s, ratio, rows)."""
    count = count or (48 if smoke else 2000)
    repeats = 1 if smoke else repeats
    with tempfile.TemporaryDirectory(prefix="bench conversion ") as root:
        demo_faces.generate(root, count, size, seed=0, log=lambda _line: None)
        image_dir = os.path.join(root, demo_faces.IMAGES_DIR)
        labels_dir = os.path.join(root, demo_faces.ANNOTATIONS_DIR)
        files = [os.path.join(image_dir, name) for name in sorted(os.listdir(image_dir))]
        csv_path = os.path.join(root, "out", "labels.csv")
        tfrecord_path = os.path.join(root, "out", "labels.tfrecord")

        def plain_read():
            for path in files:
                with open(path, "rb") as handle:
                    handle.read()

        def conversion(from_csv=False):
            def once():
                if not from_csv and os.path.exists(csv_path):
                    os.remove(csv_path)
                options = ConversionOptions(image_dir, labels_dir, csv_file=csv_path, tfrecord_file=tfrecord_path,
                                            classes_file=CLASSES, num_workers=workers, keep_csv=from_csv)
                summary = convert(options, log=lambda _line: None, warn_fn=lambda _line: None)
                assert summary.images_written == count, summary.lines()
            return once

        workers = default_workers()
        conversion()()  # the CSV exists for the from-CSV side from the start
        seconds, rounds = common.alternating_medians(
            {"plain_read": plain_read, "convert": conversion(), "convert_from_csv": conversion(from_csv=True)},
            repeats, 1)
        megabytes = sum(os.path.getsize(path) for path in files) / 1e6
    rate = {name: count / value for name, value in seconds.items()}
    rows = [common.row("conversion", "conversion (CSV built, %d workers) vs plain read of the same files (%d "
                       "images of %d px)" % (workers, count, size), rate["convert"], rate["plain_read"],
                       target=TARGET_RATIO, note="from an existing CSV (--keep_csv): %.0f images/s"
                       % rate["convert_from_csv"])]
    return {
        "images": count, "size": size, "megabytes": round(megabytes, 1), "workers": workers,
        "images_per_s": {name: round(value, 1) for name, value in rate.items()},
        "rounds_s": rounds, "ratio": round(rate["convert"] / rate["plain_read"], 3), "rows": rows,
    }


def main(argv=None):
    return common.smoke_main(run, __doc__, "48 images, one round", argv)


if __name__ == "__main__":
    sys.exit(main())
