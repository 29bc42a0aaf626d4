"""Measures what the label modes and class weighting do on generated faces (docs/demo.md, docs/training.md).

    python -m bench.measure_labels demo --seeds 1 2 3            # the README demo: multi-label against grouped
    python -m bench.measure_labels imbalance --seeds 1 2         # rare classes: --class_weighting none or balanced

Each run trains through train_image_classifier.py with the demo's flags (scripts/demo.sh, as bench/demo_seeds.py
holds them) and a --seed, then
scores the held-out test part by attribute: a multi-label model's labels at 0.5 (and the faces that get two
or no label of an attribute), and the best label of each attribute, which is what a grouped model predicts.
`imbalance` draws 400 faces whose gender and age are skewed (SKEWED: 85% homme; 75% jeune, 20% age_moyen, 5%
vieux) and reports each attribute's accuracy and balanced accuracy (the mean of its classes' recalls).
Prints one JSON line per run and a Markdown table; work files go under --work_dir. Minutes per run on 2 cores.
"""
import argparse
import json
import os
import sys

import numpy as np

from bench.common import ROOT
from bench.demo_seeds import DEMO_TRAINING

SKEWED = {0: (0.85, 0.15), 4: (0.75, 0.20, 0.05)}  # attribute index -> probability of each of its labels


def faces(folder, count, skewed, seed=0):
    """Demo faces (datasets.demo_faces) converted to a TFRecord; `skewed`: draw gender and age as SKEWED."""
    import download_and_convert_data
    from core import atomic_files
    from datasets import demo_faces

    tfrecord = os.path.join(folder, "faces.tfrecord")
    if os.path.exists(tfrecord):
        return tfrecord
    if not skewed:
        demo_faces.generate(folder, count, size=128, seed=seed, log=lambda *_: None)
    else:
        for directory in (demo_faces.IMAGES_DIR, demo_faces.ANNOTATIONS_DIR):
            os.makedirs(os.path.join(folder, directory), exist_ok=True)
        for index in range(count):
            rng = np.random.default_rng((seed, index))
            labels = [group[rng.choice(len(group), p=SKEWED.get(position))]
                      for position, group in enumerate(demo_faces.ATTRIBUTES)]
            face = demo_faces.draw_face(rng, 128, labels)
            name = demo_faces.image_name(index)
            face.image.save(os.path.join(folder, demo_faces.IMAGES_DIR, name + ".jpg"), "JPEG", quality=92)
            atomic_files.write_bytes(os.path.join(folder, demo_faces.ANNOTATIONS_DIR, name + ".txt"),
                                     "".join(label + "\n" for label in labels).encode("utf-8"))
    assert download_and_convert_data.main([
        "--image_dir", os.path.join(folder, "images"), "--labels_dir", os.path.join(folder, "annotations"),
        "--chemin_csv", os.path.join(folder, "labels.csv"), "--chemin_tfrecords", tfrecord]) == 0
    return tfrecord


def attribute_scores(train_dir):
    """Test-part scores by attribute of the run in `train_dir` (see the module's doc)."""
    import eval_image_classifier
    from datasets.demo_faces import ATTRIBUTES
    from engine.evaluation import evaluate
    from engine.evaluation.setup import resolve_evaluation

    args = eval_image_classifier.build_parser().parse_args(["--checkpoint_path", train_dir, "--batch_size", "32"])
    run = resolve_evaluation(args)
    probabilities, labels = [], []
    with evaluate.Evaluator(run.settings, run.label_mode, run.options) as evaluator:
        for values in evaluator.predictions(run.checkpoint):
            probabilities.append(values["probabilities"])
            labels.append(values["labels"])
    scores, truth = np.concatenate(probabilities), np.concatenate(labels) >= 0.5
    result = {"label_mode": run.label_mode, "images": len(scores), "attributes": {}}
    every = np.ones(len(scores), bool)
    at_half = np.all((scores >= 0.5) == truth, axis=1)
    not_one = np.zeros(len(scores), bool)
    for names in ATTRIBUTES:
        indexes = [run.settings.classes.index(name) for name in names]
        best, true = np.argmax(scores[:, indexes], axis=1), np.argmax(truth[:, indexes], axis=1)
        every &= best == true
        recalls = [np.mean(best[true == k] == k) for k in range(len(names)) if np.any(true == k)]
        if run.label_mode == "multi":
            not_one |= (scores[:, indexes] >= 0.5).sum(axis=1) != 1
        result["attributes"]["|".join(names)] = {"accuracy": round(float(np.mean(best == true)), 4),
                                                 "balanced_accuracy": round(float(np.mean(recalls)), 4)}
    result["exact_match"] = round(float(np.mean(every)), 4)
    if run.label_mode == "multi":
        result["exact_match_at_0.5"] = round(float(np.mean(at_half)), 4)
        result["faces_with_two_or_no_label_of_an_attribute"] = int(np.sum(not_one))
    return result


def train(tfrecord, train_dir, seed, extra):
    import train_image_classifier
    from core.cli import run_main

    if not os.path.exists(os.path.join(train_dir, "checkpoint")):
        assert run_main(train_image_classifier.main, ["--tfrecord_file", tfrecord, "--train_dir", train_dir,
                                                      "--seed", str(seed), "--max_number_of_steps", "2000"]
                        + DEMO_TRAINING + extra) == 0
    return train_dir


CONFIGS = {
    "demo": {"multi": ["--label_mode", "multi"], "grouped": []},
    "imbalance": {"none": [], "balanced": ["--class_weighting", "balanced"]},
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment", choices=sorted(CONFIGS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--work_dir", default=os.path.join(ROOT, "bench_demo_seeds", "measure"))
    args = parser.parse_args(argv)
    folder = os.path.join(args.work_dir, args.experiment)
    tfrecord = faces(os.path.join(folder, "faces"), 400, skewed=args.experiment == "imbalance")
    rows = []
    for seed in args.seeds:
        for name, extra in CONFIGS[args.experiment].items():
            result = attribute_scores(train(tfrecord, os.path.join(folder, "%s_s%d" % (name, seed)), seed, extra))
            result.update(config=name, seed=seed)
            print(json.dumps(result), flush=True)
            rows.append(result)
    attributes = list(rows[0]["attributes"])
    print("| config | seed | exact match | %s |" % " | ".join(attributes))
    print("|---|---|---|" + "---|" * len(attributes))
    for row in rows:
        print("| %s | %d | %.3f | %s |" % (row["config"], row["seed"], row["exact_match"], " | ".join(
            "%.3f (%.3f)" % (row["attributes"][name]["accuracy"], row["attributes"][name]["balanced_accuracy"])
            for name in attributes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
