"""Seeded training runs in float32 and in bf16 on issue 25's setting: inception_v3 at 250 px, batch 8,
research/slim's optimizer (RMSProp, learning rate 0.01), 160 noise images of two classes.

    python -m bench.stability                      # 20 seeds of 28 steps in each mode
    python -m bench.stability --runs 3 --steps 6   # a quick look
    python -m bench.stability --modes bf16 --check_numerics

For each run: its losses, whether one became NaN or infinite, the smallest batch variance any batch norm
computed (a variance computed in low precision can come out negative), whether every gradient was finite.
With --check_numerics, TensorFlow checks the output of every float op of the step and the first one that
holds a NaN or an infinity is named (much slower). At the end, per mode: the runs that went NaN, and the
mean loss of every step with its seed-to-seed spread, so the two modes' curves can be compared.
The runs use the training graph of the training command (engine/training/graph.py) without its summaries.
"""
import argparse
import dataclasses
import json
import math
import os
import statistics
import sys
import tempfile

import numpy as np


def noise_tfrecord(root, count=160, size=250, seed=0):
    """A TFRecord of `count` noise JPEGs of two classes (homme / femme), converted by the real script, and its
    classes file."""
    from PIL import Image

    import download_and_convert_data

    rng = np.random.default_rng(seed)
    for folder in ("images", "annotations"):
        os.makedirs(os.path.join(root, folder), exist_ok=True)
    for index in range(count):
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(
            os.path.join(root, "images", "n%03d.jpg" % index), quality=90)
        with open(os.path.join(root, "annotations", "n%03d.txt" % index), "w", encoding="utf-8") as handle:
            handle.write("homme\n" if index % 2 else "femme\n")
    classes = os.path.join(root, "gender.txt")
    with open(classes, "w", encoding="utf-8") as handle:
        handle.write("1:homme\n2:femme\n")
    tfrecord = os.path.join(root, "noise.tfrecord")
    assert download_and_convert_data.main([
        "--image_dir", os.path.join(root, "images"), "--labels_dir", os.path.join(root, "annotations"),
        "--classes_file", classes, "--csv_file", os.path.join(root, "labels.csv"), "--tfrecord_file", tfrecord]) == 0
    return tfrecord, classes


def seeded_run(settings, num_images, mode, seed, steps, check_numerics=False):
    """One run of `steps` steps: {"losses", "min_batch_variance", "gradients_finite", "first_nonfinite_op"}."""
    from core.compat import tf
    from engine.config.options import TrainOptions
    from engine.model import mixed_precision
    from engine.training import graph as training_graph

    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(seed)
        options = TrainOptions(train_dir="", batch_size=8, mixed_precision=mode, seed=seed)
        ops = training_graph.build_train_graph(settings, options, "single", num_images,
                                               training_graph.input_batch(settings, options))
        variances = [op.outputs[2] for op in graph.get_operations()
                     if op.type.startswith("FusedBatchNorm") and "Grad" not in op.type]
        min_variance = tf.reduce_min(tf.stack([tf.reduce_min(v) for v in variances]))
        gradients = [op.inputs[-1] for op in graph.get_operations() if op.type.startswith("ResourceApply")]
        finite = tf.reduce_all(tf.stack([tf.reduce_all(tf.math.is_finite(g)) for g in gradients]))
        checks = tf.add_check_numerics_ops() if check_numerics else tf.no_op()
    result = {"losses": [], "min_batch_variance": math.inf, "gradients_finite": True, "first_nonfinite_op": None}
    with tf.Session(graph=graph, config=mixed_precision.session_config(mode)) as session:
        session.run(ops.init_op)
        for _ in range(steps):
            try:
                (loss, _), variance, all_finite, _ = session.run([ops.train_op, min_variance, finite, checks])
            except tf.errors.InvalidArgumentError as error:
                result["first_nonfinite_op"] = str(error).split("\n")[0][:300]
                break
            result["losses"].append(float(loss))
            result["min_batch_variance"] = min(result["min_batch_variance"], float(variance))
            result["gradients_finite"] = result["gradients_finite"] and bool(all_finite)
            if not math.isfinite(loss):
                break
    return result


def summary(runs, steps):
    """Per mode: the runs that did not stay finite, and each step's mean loss and seed-to-seed spread."""
    went_bad = [index for index, run in enumerate(runs) if len(run["losses"]) < steps
                or not all(math.isfinite(loss) for loss in run["losses"]) or not run["gradients_finite"]]
    curve = []
    for step in range(steps):
        losses = [run["losses"][step] for run in runs if len(run["losses"]) > step]
        curve.append((statistics.mean(losses), statistics.stdev(losses) if len(losses) > 1 else 0.0))
    return {"runs": len(runs), "not_finite": len(went_bad), "not_finite_runs": went_bad,
            "min_batch_variance": min(run["min_batch_variance"] for run in runs),
            "mean_loss_and_spread": [[round(mean, 4), round(spread, 4)] for mean, spread in curve]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--steps", type=int, default=28)
    parser.add_argument("--modes", default="none,bf16")
    parser.add_argument("--check_numerics", action="store_true")
    parser.add_argument("--output", default=None, help="JSON file of every run and the summary")
    args = parser.parse_args(argv)
    from bench import common
    from datasets import tfrecord_stats
    from datasets.classes_file import read_classes

    report = {}
    with tempfile.TemporaryDirectory(prefix="bench_noise_") as root:
        tfrecord, classes = noise_tfrecord(root)
        # The split of a new run of the training command: 25% test, 10% val.
        settings = dataclasses.replace(common.settings_for("inception_v3", 250, tfrecord, label_mode="single"),
                                       classes_file=classes, classes=read_classes(classes), val_percentage=10.0)
        num_images = tfrecord_stats.scan(tfrecord, "train", settings.validation_percentage,
                                         val_percentage=settings.val_percentage)["num_images"]
        for mode in args.modes.split(","):
            runs = []
            for seed in range(1, args.runs + 1):
                runs.append(seeded_run(settings, num_images, mode, seed, args.steps, args.check_numerics))
                print("%s seed %d: losses %s%s" % (mode, seed, " ".join("%.3f" % x for x in runs[-1]["losses"]),
                                                   " " + runs[-1]["first_nonfinite_op"]
                                                   if runs[-1]["first_nonfinite_op"] else ""), flush=True)
            report[mode] = {"summary": summary(runs, args.steps), "runs": runs}
            print(json.dumps({mode: report[mode]["summary"]}), flush=True)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            json.dump(report, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
