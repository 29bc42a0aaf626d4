"""The benchmark suite: every benchmark in one command, a table and a JSON file.

    python -m bench                      # full sizes (about half an hour on 2 cores)
    python -m bench --smoke              # tiny sizes, to check that every benchmark runs
    python -m bench --only training,evaluation --output /tmp/results.json

Each benchmark runs in its own child process (`python -m bench.suite --child NAME`), so one cannot
slow another down through memory or threads left behind, and one that fails (or a module not there)
becomes a line of the table instead of stopping the suite. Within a benchmark, our side and the
baseline are measured in the same process, alternately, and reported as a ratio; absolute figures
depend on the machine and its load and are informative only.

The JSON (bench/results.json by default) holds, per benchmark, its full result (with `rows`), the
elapsed seconds and any error, plus the machine: CPU count, load average before and after, TensorFlow
version.
"""
import argparse
import importlib
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUTPUT = os.path.join(ROOT, "bench", "results.json")
# name -> module; run in this order.
BENCHMARKS = {
    "conversion": "bench.bench_conversion",
    "training": "bench.bench_training",
    "validation": "bench.bench_validation",
    "evaluation": "bench.bench_evaluation",
    "label_image": "bench.bench_label_image",
    "memory": "bench.bench_memory",
    "models": "bench.bench_models",
    "deploy": "bench.bench_deploy",
    "cluster": "bench.bench_cluster",
    "guards": "bench.bench_guards",
}
COLUMNS = ("benchmark", "measure", "ours", "baseline", "unit", "ratio", "target", "met", "note")


def rows_of(name, result):
    """The table rows of a benchmark's result (every benchmark's run() returns them)."""
    return result.get("rows") or [_note_row(name, "result without rows: see the JSON")]


def _note_row(name, note):
    return {"benchmark": name, "measure": "", "ours": None, "baseline": None, "unit": "", "ratio": None,
            "target": None, "met": None, "note": note}


def run_child(name, smoke, output_path):
    """In the child process: runs one benchmark and writes its result as JSON."""
    module = importlib.import_module(BENCHMARKS[name])
    result = module.run(smoke=smoke)
    with open(output_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle)


def run_benchmark(name, smoke, timeout=None):
    """{"result", "rows", "seconds", "error"} of benchmark `name`, run in a child process."""
    module_name = BENCHMARKS[name]
    if importlib.util.find_spec(module_name) is None:
        return {"result": None, "seconds": 0.0, "error": "module %s not found" % module_name,
                "rows": [_note_row(name, "skipped: %s is not there yet" % module_name)]}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench_%s_" % name) as directory:
        output_path = os.path.join(directory, "result.json")
        command = [sys.executable, "-m", "bench.suite", "--child", name, "--child_output", output_path]
        if smoke:
            command.append("--smoke")
        try:
            process = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
            failure = None if process.returncode == 0 else (process.stderr.strip().splitlines() or ["?"])[-1]
            log = process.stderr[-4000:]
        except subprocess.TimeoutExpired:
            failure, log = "timed out after %d s" % timeout, ""
        seconds = time.perf_counter() - start
        if failure is None and os.path.exists(output_path):
            with open(output_path, encoding="utf-8") as handle:
                result = json.load(handle)
            return {"result": result, "rows": rows_of(name, result), "seconds": round(seconds, 1), "error": None}
    return {"result": None, "seconds": round(seconds, 1), "error": failure, "log": log,
            "rows": [_note_row(name, "failed: %s" % failure)]}


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return "%.3g" % value if abs(value) < 100 else "%.0f" % value
    return str(value)


def table(rows):
    """The rows as a Markdown table (also readable as plain text)."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for item in rows:
        lines.append("| " + " | ".join(_cell(item.get(column)).replace("|", "/") for column in COLUMNS) + " |")
    return "\n".join(lines)


def machine():
    import multiprocessing
    from importlib import metadata

    version = None
    for distribution in ("tensorflow-cpu", "tensorflow"):
        try:
            version = metadata.version(distribution)
            break
        except metadata.PackageNotFoundError:
            pass
    return {"cpu_count": multiprocessing.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "tensorflow": version, "load_average": list(os.getloadavg())}


def run_suite(names, smoke, output, log=print, timeout=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    report = {"smoke": smoke, "machine_before": machine(), "benchmarks": {}}
    for name in names:
        log("running %s%s ..." % (name, " (smoke)" if smoke else ""))
        report["benchmarks"][name] = outcome = run_benchmark(name, smoke, timeout)
        log("  %s in %.0f s%s" % (name, outcome["seconds"], "" if not outcome["error"] else
                                   ": " + outcome["error"]))
        for item in outcome["rows"]:
            log("    %s: ours %s, baseline %s %s, ratio %s%s" % (
                item["measure"] or item["benchmark"], _cell(item["ours"]), _cell(item["baseline"]), item["unit"],
                _cell(item["ratio"]), " (target %s: %s)" % (item["target"], _cell(item["met"]))
                if item["target"] else ""))
        _write(report, names, output)  # what has run so far, in case a later benchmark hangs
    report["machine_after"] = {"load_average": list(os.getloadavg())}
    return _write(report, names, output)


def _write(report, names, output):
    rows = [item for name in names if name in report["benchmarks"] for item in report["benchmarks"][name]["rows"]]
    report["rows"] = rows
    report["table"] = table(rows)
    if output:
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        with open(output + ".tmp", "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=2)
            handle.write("\n")
        os.replace(output + ".tmp", output)
    return report


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: check that every benchmark runs")
    parser.add_argument("--only", default=None,
                        help="comma-separated benchmarks to run, among %s (default: all)" % ", ".join(BENCHMARKS))
    parser.add_argument("--output", default=DEFAULT_OUTPUT, help="JSON file to write (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds allowed to each benchmark")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--child_output", default=None, help=argparse.SUPPRESS)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.child:
        run_child(args.child, args.smoke, args.child_output)
        return 0
    names = list(BENCHMARKS)
    if args.only:
        names = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = [name for name in names if name not in BENCHMARKS]
        if unknown:
            from core.errors import UserError
            raise UserError("unknown benchmark(s) %s for --only; use some of %s"
                            % (", ".join(unknown), ", ".join(BENCHMARKS)))
    report = run_suite(names, args.smoke, args.output, timeout=args.timeout)
    print()
    print(report["table"])
    load = report["machine_before"]["load_average"][0], report["machine_after"]["load_average"][0]
    print("\n%d CPU cores, load average %.2f before and %.2f after; %s written"
          % (report["machine_before"]["cpu_count"], load[0], load[1], args.output))
    failed = [name for name in names if report["benchmarks"][name]["error"]
              and not report["benchmarks"][name]["error"].startswith("module ")]
    return 1 if failed else 0


if __name__ == "__main__":
    from core.cli import run_main

    sys.exit(run_main(main))
