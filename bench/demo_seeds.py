"""The README demo's accuracy over seeds, timed and measured from outside: the demo's data (400 generated faces
of 128 px) and training (scripts/demo.sh's flags, 2000 steps, validation every 100), one run per seed and
variant, each evaluated on the test part (which nothing was trained or chosen on), best and last checkpoints.

    python -m bench.demo_seeds                                # seeds 1-5, the demo as it is (grouped, cosine)
    python -m bench.demo_seeds --seeds 1 2 3 --variants multi fixed
    python -m bench.demo_seeds --steps 50 --seeds 1           # a quick look
    python -m bench.demo_seeds --variants demo --output_dir x -- --learning_rate 0.004   # flags of every run

Variants: `demo` (scripts/demo.sh: attribute groups found in the labels, warmup and cosine), `multi` (the same
with --label_mode multi: a sigmoid per label, as before attribute groups), `fixed` (the same with a fixed
learning rate of 0.002 and no warmup, as the demo trained before warmup and cosine), `fixed_peak` (a fixed rate
at the cosine's peak, 0.004, and no warmup). For each run: the test part's
per-label accuracies (the lowest), the exact match (every label of the face right), the per-attribute
accuracies, and the first validation step whose val accuracy reached --target; then per variant, the lowest
per-label accuracy of any run and the spread of the exact match. Results go to --output_dir/results.jsonl,
one JSON object per run.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from bench.common import CLASSES_FILE, ROOT

# scripts/demo.sh's training flags (its step 3), without the paths, steps and seed.
DEMO_TRAINING = ["--model_name", "mobilenet_v1_050", "--batch_size", "16", "--train_image_size", "128",
                 "--preprocessing_name", "cifarnet", "--optimizer", "adam", "--learning_rate", "0.004",
                 "--opt_epsilon", "1e-8", "--learning_rate_decay_type", "cosine", "--warmup_epochs", "2",
                 "--end_learning_rate", "0.00001", "--batch_norm_decay", "0.9", "--eval_every_n_steps", "100",
                 "--log_every_n_steps", "100", "--save_summaries_secs", "60"]
VARIANTS = {
    "demo": [],
    "multi": ["--label_mode", "multi"],
    "fixed": ["--learning_rate_decay_type", "fixed", "--warmup_epochs", "0", "--learning_rate", "0.002"],
    "fixed_peak": ["--learning_rate_decay_type", "fixed", "--warmup_epochs", "0"],
}
ATTRIBUTES = (("homme", "femme"), ("yeux_ronds", "yeux_amandes"), ("nez_rond", "nez_pointu"),
              ("visage_rond", "visage_carre"), ("jeune", "age_moyen", "vieux"))


def _run(command, log):
    with open(log, "a", encoding="utf-8") as handle:
        subprocess.run([sys.executable] + command, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, check=True,
                       env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))


def make_data(root):
    """The demo's faces, CSV and TFRecord in `root` (made once)."""
    tfrecord = os.path.join(root, "faces.tfrecord")
    if not os.path.exists(tfrecord):
        log = os.path.join(root, "data.log")
        os.makedirs(root, exist_ok=True)
        _run(["-m", "datasets.demo_faces", "--output_dir", root, "--count", "400", "--size", "128", "--seed", "0"],
             log)
        _run(["download_and_convert_data.py", "--image_dir", os.path.join(root, "images"), "--labels_dir",
              os.path.join(root, "annotations"), "--csv_file", os.path.join(root, "labels.csv"),
              "--tfrecord_file", tfrecord, "--classes_file", CLASSES_FILE], log)
    return tfrecord


def _val_curve(eval_dir):
    """{step: val Accuracy} from the events validation wrote."""
    from core.compat import tf

    found = {}
    for name in sorted(os.listdir(eval_dir)):
        if name.startswith("events.out.tfevents"):
            for event in tf.compat.v1.train.summary_iterator(os.path.join(eval_dir, name)):
                for value in event.summary.value:
                    if value.tag == "eval/Accuracy":
                        found[event.step] = value.simple_value
    return found


def _test_figures(metrics):
    """What one evaluation on the test part says, as the issue asks it."""
    per_label = {name: entry["accuracy"] for name, entry in metrics["per_label"].items()}
    figures = {"exact_match": metrics["exact_match"], "lowest_label": min(per_label.values()),
               "lowest_label_name": min(per_label, key=per_label.get), "mean_label": metrics["Accuracy"],
               "per_attribute": {}}
    for names in ATTRIBUTES:
        group = metrics.get("per_group", {}).get("|".join(names))
        if group:
            figures["per_attribute"]["|".join(names)] = group["accuracy"]
    return figures


def one_run(tfrecord, output_dir, variant, seed, steps, target, extra=()):
    train_dir = os.path.join(output_dir, "%s_s%d" % (variant, seed))
    log = train_dir + ".log"
    if os.path.exists(log):
        os.remove(log)
    started = time.monotonic()
    _run(["train_image_classifier.py", "--train_dir", train_dir, "--tfrecord_file", tfrecord, "--max_number_of_steps",
          str(steps), "--seed", str(seed)] + DEMO_TRAINING + VARIANTS[variant] + list(extra), log)
    seconds = time.monotonic() - started
    result = {"variant": variant, "seed": seed, "steps": steps, "flags": list(extra),
              "train_seconds": round(seconds, 1)}
    for which, path in (("best", os.path.join(train_dir, "best")), ("last", train_dir)):
        _run(["eval_image_classifier.py", "--checkpoint_path", path, "--batch_size", "32"], log)
        with open(os.path.join(path, "eval", "metrics.json"), encoding="utf-8") as handle:
            metrics = json.load(handle)
        result[which] = dict(_test_figures(metrics), global_step=metrics["global_step"],
                             label_mode=metrics["label_mode"])
    curve = _val_curve(os.path.join(train_dir, "eval_val"))
    result["val_accuracy"] = {str(step): round(value, 4) for step, value in sorted(curve.items())}
    reached = [step for step, value in sorted(curve.items()) if value >= target]
    result["first_step_at_target"] = reached[0] if reached else None
    return result


def summarize(results):
    lines = []
    for variant in sorted({result["variant"] for result in results}):
        runs = [result for result in results if result["variant"] == variant]
        for which in ("best", "last"):
            exact = [run[which]["exact_match"] for run in runs]
            lowest = min(runs, key=lambda run: run[which]["lowest_label"])
            lines.append("%-6s %-4s %d runs: lowest per-label test accuracy %.3f (%s, seed %d); exact match mean %.3f, "
                         "min %.3f, max %.3f, stdev %.3f" % (
                             variant, which, len(runs), lowest[which]["lowest_label"],
                             lowest[which]["lowest_label_name"], lowest["seed"], statistics.mean(exact), min(exact),
                             max(exact), statistics.pstdev(exact)))
        reached = [run["first_step_at_target"] for run in runs]
        lines.append("%-6s first validation at the target: %s; training %.0f s per run" % (
            variant, reached, statistics.mean(run["train_seconds"] for run in runs)))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=["demo"])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--target", type=float, default=0.95, help="the val accuracy whose first step is reported")
    parser.add_argument("--output_dir", default=os.path.join(ROOT, "bench_demo_seeds"))
    parser.add_argument("training_flags", nargs="*", help="after --: training flags of every run, after the variant's")
    args = parser.parse_args(argv)
    os.makedirs(args.output_dir, exist_ok=True)
    tfrecord = make_data(os.path.join(args.output_dir, "data"))
    results = []
    with open(os.path.join(args.output_dir, "results.jsonl"), "a", encoding="utf-8") as out:
        for variant in args.variants:
            for seed in args.seeds:
                result = one_run(tfrecord, args.output_dir, variant, seed, args.steps, args.target, args.training_flags)
                out.write(json.dumps(result) + "\n")
                out.flush()
                results.append(result)
                print("%s seed %d: best (step %d) exact match %.3f, lowest label %.3f; last exact match %.3f, "
                      "lowest label %.3f; %.0f s" % (variant, seed, result["best"]["global_step"],
                                                     result["best"]["exact_match"], result["best"]["lowest_label"],
                                                     result["last"]["exact_match"], result["last"]["lowest_label"],
                                                     result["train_seconds"]), flush=True)
    print(summarize(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
