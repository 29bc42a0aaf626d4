"""The mutation check: plants each known bug (a patch in this folder) in a scratch copy of the project and
runs the tests that should catch it. A mutant the tests let pass is a missing test.

    python tests/mutants/run.py              # every mutant, a line each, then the summary
    python tests/mutants/run.py resume_*     # the mutants whose file names match

Each `NAME.patch` starts with comment lines: `# bug: what the patch breaks` and `# tests: the pytest
arguments that must fail` (paths relative to the project root); the diff follows (git diff format, applied
with `git apply`). The scratch copy is a `git worktree` of HEAD with the uncommitted changes of tracked
files applied, so the check runs on the code as it is; it is removed afterwards. tests/test_mutants.py
checks that every patch still applies, so a patch does not silently rot when the code it breaks changes.
"""
import fnmatch
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def mutants(patterns=()):
    names = sorted(name[:-len(".patch")] for name in os.listdir(HERE) if name.endswith(".patch"))
    if patterns:
        names = [name for name in names if any(fnmatch.fnmatch(name, pattern) for pattern in patterns)]
    return names


def header(name):
    """{"bug": text, "tests": [pytest arguments]} from the comment lines of `name`.patch."""
    found = {}
    with open(os.path.join(HERE, name + ".patch"), encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            key, _, value = line[1:].partition(":")
            found[key.strip()] = value.strip()
    if "bug" not in found or "tests" not in found:
        raise ValueError("%s.patch must start with '# bug: ...' and '# tests: ...' lines" % name)
    found["tests"] = shlex.split(found["tests"])
    return found


def _git(*args, cwd=ROOT, check=True):
    return subprocess.run(["git"] + list(args), cwd=cwd, capture_output=True, text=True, check=check)


def applies(name, cwd=ROOT):
    """Whether `name`.patch applies to the working tree at `cwd` (git apply --check)."""
    return _git("apply", "--check", os.path.join(HERE, name + ".patch"), cwd=cwd, check=False).returncode == 0


def run(name, python=sys.executable, timeout=1800):
    """("caught" | "missed" | "does not apply" | "no tests ran" | "pytest error", seconds, last lines of
    pytest's output) for one mutant: caught only when the named tests ran and failed."""
    info = header(name)
    scratch = tempfile.mkdtemp(prefix="mutant-%s-" % name)
    start = time.monotonic()
    try:
        _git("worktree", "add", "--detach", scratch, "HEAD")
        diff = _git("diff", "HEAD", "--binary").stdout
        if diff:
            subprocess.run(["git", "apply", "--whitespace=nowarn"], input=diff, text=True, cwd=scratch, check=True)
        if not applies(name, cwd=scratch):
            return "does not apply", time.monotonic() - start, ""
        _git("apply", os.path.join(HERE, name + ".patch"), cwd=scratch)
        result = subprocess.run([python, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"] + info["tests"],
                                cwd=scratch, capture_output=True, text=True, errors="replace", timeout=timeout)
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-3:])
        outcome = {0: "missed", 1: "caught", 5: "no tests ran"}.get(result.returncode, "pytest error")
        return outcome, time.monotonic() - start, tail
    finally:
        _git("worktree", "remove", "--force", scratch, check=False)
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv=None):
    names = mutants(argv if argv is not None else sys.argv[1:])
    if not names:
        print("no mutant matches", file=sys.stderr)
        return 2
    python = os.path.join(ROOT, ".venv", "bin", "python")
    outcomes = {}
    for name in names:
        outcome, seconds, tail = run(name, python if os.path.exists(python) else sys.executable)
        outcomes[name] = outcome
        print("%-40s %-15s %5.0f s  %s" % (name, outcome, seconds, header(name)["bug"]), flush=True)
        if outcome != "caught":
            print("    " + tail.replace("\n", "\n    "), flush=True)
    caught = sum(outcome == "caught" for outcome in outcomes.values())
    print("%d of %d mutants caught" % (caught, len(outcomes)))
    return 0 if caught == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
