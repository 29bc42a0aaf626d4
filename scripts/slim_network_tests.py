"""Runs research/slim's own network tests, unmodified, against this project's `nets` package.

    .venv/bin/python scripts/slim_network_tests.py --slim_dir ~/models/research/slim [--jobs 2]

`--slim_dir` is a research/slim folder (the one holding `nets/`), e.g. extracted from tensorflow/models
or a fork of it. Nothing of it is copied here: each test file is loaded from there by path, in a
process of its own, with an import shim that answers research/slim's module names with ours:
- the same module, where research/slim's file has ours' name (`nets.vgg`, `nets.resnet_v1` ...);
- `nets.inception`, research/slim's namespace of the Inception networks, gathered from ours;
- research/slim's sub-packages `nets.mobilenet` and `nets.nasnet` (flat here: `nets/mobilenet_v2.py`,
  `nets/mobilenet_conv_blocks.py`, `nets/nasnet.py`, `nets/pnasnet.py` ...): `nets.mobilenet` and
  `nets.nasnet` become packages for research/slim's tests, once our own modules hold their imports.
The shim also supplies what the environment lacks for research/slim's TF1-era tests, and nothing else:
graph mode (research/slim's tests build placeholders at the top level), tf_slim's import under
TensorFlow 2.21 (`core.compat`) and absl's parsed flags (absltest reads them; `tf.test.main` would parse).

A test file whose network is not part of this project (`*_test.py` of research/slim's GANs, video
and MobileNet v3 networks) is listed as not run. Prints each file's counts and the total; `--json`
writes them with the names of the failing tests. Exits 0 when every test ran and passed.
"""
import argparse
import concurrent.futures
import importlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
import types
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# research/slim's module name -> ours (the name research/slim's tests import).
ALIASES = {
    "nets.alexnet": "nets.alexnet",
    "nets.cifarnet": "nets.cifarnet",
    "nets.inception_resnet_v2": "nets.inception_resnet_v2",
    "nets.inception_utils": "nets.inception_utils",
    "nets.inception_v1": "nets.inception_v1",
    "nets.inception_v2": "nets.inception_v2",
    "nets.inception_v3": "nets.inception_v3",
    "nets.inception_v4": "nets.inception_v4",
    "nets.lenet": "nets.lenet",
    "nets.mobilenet_v1": "nets.mobilenet_v1",
    "nets.nets_factory": "nets.nets_factory",
    "nets.overfeat": "nets.overfeat",
    "nets.resnet_utils": "nets.resnet_utils",
    "nets.resnet_v1": "nets.resnet_v1",
    "nets.resnet_v2": "nets.resnet_v2",
    "nets.vgg": "nets.vgg",
    "nets.mobilenet.conv_blocks": "nets.mobilenet_conv_blocks",
    "nets.mobilenet.mobilenet": "nets.mobilenet",
    "nets.mobilenet.mobilenet_v2": "nets.mobilenet_v2",
    "nets.nasnet.nasnet": "nets.nasnet",
    "nets.nasnet.nasnet_utils": "nets.nasnet_utils",
    "nets.nasnet.pnasnet": "nets.pnasnet",
}
# research/slim's nets/inception.py: one namespace holding each Inception network, its arg scope and base.
INCEPTION_MODULES = ("nets.inception_resnet_v2", "nets.inception_v1", "nets.inception_v2", "nets.inception_v3",
                     "nets.inception_v4")
# research/slim's sub-packages, whose names are modules of ours.
PACKAGES = ("nets.mobilenet", "nets.nasnet")


def _subject(slim_dir, path):
    """The research/slim module a test file tests (nets/mobilenet/mobilenet_v2_test.py: nets.mobilenet.mobilenet_v2)."""
    relative = os.path.relpath(path, slim_dir)
    return relative[:-len("_test.py")].replace(os.sep, ".")


def find_test_files(slim_dir):
    """(files to run, files whose network is not in this project), paths relative to `slim_dir`."""
    found = []
    for directory, _, names in os.walk(os.path.join(slim_dir, "nets")):
        found += [os.path.join(directory, name) for name in names if name.endswith("_test.py")]
    known = set(ALIASES) | {"nets.inception"}
    run = sorted(os.path.relpath(path, slim_dir) for path in found if _subject(slim_dir, path) in known)
    not_run = sorted(os.path.relpath(path, slim_dir) for path in found if _subject(slim_dir, path) not in known)
    return run, not_run


def install_shim():
    """Makes research/slim's module names import ours, in this process (see the module docstring)."""
    sys.path.insert(0, ROOT)
    # Loading `slim` from core.compat loads tf_slim behind its aliases (TensorFlow 2.21), before the tests import it.
    from core.compat import slim, tf

    del slim
    tf.disable_eager_execution()
    from absl import flags

    if not flags.FLAGS.is_parsed():
        flags.FLAGS(sys.argv[:1])
    ours = {name: importlib.import_module(module) for name, module in ALIASES.items()}
    nets = sys.modules["nets"]
    for package in PACKAGES:
        # A package answering research/slim's sub-modules; our module of that name stays what our code imported.
        shim = types.ModuleType(package)
        shim.__dict__.update({key: value for key, value in vars(sys.modules[package]).items()
                              if not key.startswith("__")})
        shim.__path__ = []
        sys.modules[package] = shim
        setattr(nets, package.split(".")[1], shim)
    inception = types.ModuleType("nets.inception")
    for module in INCEPTION_MODULES:
        network = module.split(".")[1]
        for name in (network, network + "_arg_scope", network + "_base"):
            setattr(inception, name, getattr(sys.modules[module], name))
    sys.modules["nets.inception"] = nets.inception = inception
    for name, module in ours.items():
        sys.modules[name] = module
        parent, _, child = name.rpartition(".")
        setattr(sys.modules[parent], child, module)


def run_file(slim_dir, relative_path):
    """Runs one test file in this process; returns {"tests", "failed": [names], "skipped": [names], "errors"}.

    TensorFlow's TestCase has a method `test_session` (a session helper, not a test) that unittest
    collects and TensorFlow skips: it is not counted.
    """
    install_shim()
    path = os.path.join(slim_dir, relative_path)
    module_name = "slim_test_" + relative_path[:-3].replace(os.sep, "_")
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    result = unittest.TestResult()
    suite.run(result)
    failures = result.failures + result.errors + [(test, "unexpected success")
                                                  for test in result.unexpectedSuccesses]
    skipped = [test.id().split(".", 1)[1] for test, _ in result.skipped]
    fixtures = [name for name in skipped if name.endswith(".test_session")]
    return {"tests": result.testsRun - len(fixtures),
            "skipped": sorted(set(skipped) - set(fixtures)),
            "failed": sorted(test.id().split(".", 1)[1] for test, _ in failures),
            "errors": ["%s\n%s" % (test.id(), text) for test, text in failures]}


def _child(slim_dir, relative_path, output):
    try:
        outcome = run_file(slim_dir, relative_path)
    except Exception:  # noqa: BLE001 (the file did not load: all of it counts as failed)
        outcome = {"tests": 0, "skipped": [], "failed": ["<load>"], "errors": [traceback.format_exc()]}
    with open(output, "w", encoding="utf-8") as handle:
        json.dump(outcome, handle)


def _run_in_subprocess(slim_dir, relative_path, timeout):
    with tempfile.TemporaryDirectory() as folder:
        output = os.path.join(folder, "result.json")
        command = [sys.executable, os.path.abspath(__file__), "--slim_dir", slim_dir, "--_child", relative_path,
                   "--_output", output]
        started = time.monotonic()
        try:
            process = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"tests": 0, "skipped": [], "failed": ["<timeout>"],
                    "errors": ["%s ran past %d s" % (relative_path, timeout)], "seconds": timeout}
        if os.path.exists(output):
            with open(output, encoding="utf-8") as handle:
                outcome = json.load(handle)
        else:
            outcome = {"tests": 0, "skipped": [], "failed": ["<crash>"],
                       "errors": ["exit status %d\n%s" % (process.returncode, process.stderr[-4000:])]}
        outcome["seconds"] = round(time.monotonic() - started, 1)
        return outcome


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slim_dir", required=True, help="a research/slim folder (holding nets/)")
    parser.add_argument("--jobs", type=int, default=1, help="test files run at once (default: 1)")
    parser.add_argument("--files", nargs="*", default=None,
                        help="only these test files, relative to --slim_dir (default: every network test)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds one test file may take (default: 1800)")
    parser.add_argument("--json", default=None, help="write the results to this JSON file")
    parser.add_argument("--show_errors", action="store_true", help="print the traceback of each failing test")
    parser.add_argument("--_child", help=argparse.SUPPRESS)
    parser.add_argument("--_output", help=argparse.SUPPRESS)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    slim_dir = os.path.abspath(os.path.expanduser(args.slim_dir))
    if args._child:
        _child(slim_dir, args._child, args._output)
        return 0
    if not os.path.isdir(os.path.join(slim_dir, "nets")):
        print("error: --slim_dir %s has no nets/ folder; give research/slim's folder" % slim_dir, file=sys.stderr)
        return 2
    files, not_run = find_test_files(slim_dir)
    if args.files:
        unknown = sorted(set(args.files) - set(files))
        if unknown:
            print("error: not network test files of %s: %s; they are: %s"
                  % (slim_dir, ", ".join(unknown), ", ".join(files)), file=sys.stderr)
            return 2
        files = [path for path in files if path in args.files]
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        results = dict(zip(files, pool.map(lambda path: _run_in_subprocess(slim_dir, path, args.timeout), files)))
    total = sum(result["tests"] for result in results.values())
    failed = ["%s: %s" % (path, name) for path, result in results.items() for name in result["failed"]]
    skipped = ["%s: %s" % (path, name) for path, result in results.items() for name in result["skipped"]]
    for path, result in results.items():
        print("%-40s %3d tests, %3d passed, %d failed%s  (%.0f s)"
              % (path, result["tests"], result["tests"] - len(result["failed"]) - len(result["skipped"]),
                 len(result["failed"]), ", %d skipped" % len(result["skipped"]) if result["skipped"] else "",
                 result["seconds"]))
        if args.show_errors:
            for text in result["errors"]:
                print("    " + text.replace("\n", "\n    "))
    for path in not_run:
        print("%-40s not run: its network is not part of this project" % path)
    passed = total - len(failed) - len(skipped)
    print("total: %d of %d passed" % (passed, total))
    for name in failed:
        print("failed: " + name)
    for name in skipped:
        print("skipped: " + name)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"files": results, "not_run": not_run, "tests": total, "passed": passed,
                       "failed": failed, "skipped": skipped}, handle, indent=1, sort_keys=True)
    return 0 if passed == total else 1


if __name__ == "__main__":
    sys.exit(main())
