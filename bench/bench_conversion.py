"""Conversion benchmark: images/s of download_and_convert_data's conversion on generated faces, and its
ratio to a plain read of the same files' bytes (target: at least 0.5).

    python -m bench.bench_conversion            # 2000 images of 250x250 px (datasets/demo_faces.py)
    python -m bench.bench_conversion --smoke    # 48 images, to check that it runs

Both the plain read and the conversion read files the generator has just written (warm page cache), so
the ratio measures the conversion's CPU cost over the bare I/O. Each figure is the best of `repeats`
runs. The conversion is timed from scratch (CSV built in the same pass), with one worker process per
core and with no pool, and again from the existing CSV.
"""
import argparse
import json
import os
import sys
import tempfile
import time

from datasets import demo_faces
from datasets.convert import convert, default_workers

CLASSES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "labels", "liste_labels.txt")
TARGET_RATIO = 0.5


def _best(function, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def run(smoke=False, count=None, size=250, repeats=3):
    """Returns the figures as a dict (images, size, workers, *_images_per_s, ratio, meets_target)."""
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

        def conversion(workers, from_csv=False):
            def once():
                if not from_csv and os.path.exists(csv_path):
                    os.remove(csv_path)
                summary = convert(image_dir, labels_dir, csv_path, tfrecord_path, CLASSES, num_workers=workers,
                                  log=lambda _line: None, warn_fn=lambda _line: None)
                assert summary.images_written == count, summary.lines()
            return once

        workers = default_workers()
        plain = _best(plain_read, repeats)
        pooled = _best(conversion(workers), repeats)
        inline = _best(conversion(1), repeats)
        from_csv = _best(conversion(workers, from_csv=True), repeats)
        megabytes = sum(os.path.getsize(path) for path in files) / 1e6
    best = min(pooled, inline)
    result = {
        "images": count,
        "size": size,
        "megabytes": round(megabytes, 1),
        "workers": workers,
        "plain_read_images_per_s": round(count / plain, 1),
        "convert_images_per_s": round(count / pooled, 1),
        "convert_no_pool_images_per_s": round(count / inline, 1),
        "convert_from_csv_images_per_s": round(count / from_csv, 1),
        "ratio": round(plain / best, 3),
        "target_ratio": TARGET_RATIO,
    }
    result["meets_target"] = result["ratio"] >= TARGET_RATIO
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="a few dozen images, one repeat")
    parser.add_argument("--count", type=int, default=None, help="images (default: 2000, smoke: 48)")
    parser.add_argument("--size", type=int, default=250, help="image side in pixels (default: 250)")
    args = parser.parse_args(argv)
    result = run(smoke=args.smoke, count=args.count, size=args.size)
    print(json.dumps(result, indent=2))
    print("conversion %.0f images/s (no pool %.0f, from CSV %.0f), plain read %.0f images/s: ratio %.2f (target %.1f)"
          % (result["convert_images_per_s"], result["convert_no_pool_images_per_s"],
             result["convert_from_csv_images_per_s"], result["plain_read_images_per_s"], result["ratio"],
             TARGET_RATIO))
    return 0


if __name__ == "__main__":
    sys.exit(main())
