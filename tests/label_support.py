"""What the label_image tests share: running it in-process, and reading its text and JSON output."""
import json
import os
import re

import numpy as np

import label_image
from core.cli import run_main

TEXT_LINE = re.compile(r"^(\S+) \(score = (\d\.\d{5})\)$")


def label(*argv):
    return run_main(label_image.main, [str(arg) for arg in argv])


def json_scores(text):
    """{image basename: {label: score}} from --json output; checks the order on the way."""
    found = {}
    for line in text.strip().splitlines():
        record = json.loads(line)
        scores = [p["score"] for p in record["predictions"]]
        assert scores == sorted(scores, reverse=True)
        found[os.path.basename(record["image"])] = {p["label"]: p["score"] for p in record["predictions"]}
    return found


def assert_matches(printed, expected, classes):
    """Scores printed by label_image equal the evaluation's probabilities within 1e-3."""
    assert set(printed) == set(expected)
    for name, row in expected.items():
        got = np.array([printed[name][label_name] for label_name in classes])
        assert np.max(np.abs(got - row)) < 1e-3, (name, got, row)
