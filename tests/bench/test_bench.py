"""The benchmark suite runs end to end in smoke mode (so it never rots), and its table and JSON hold every
benchmark's figures. No timing is asserted: the figures depend on the machine."""
import json

import pytest

from bench import common, suite


def test_rows_orient_ratios_and_check_targets():
    faster = common.row("training", "x", 30.0, 20.0, target=1.05)
    assert faster["ratio"] == 1.5 and faster["met"] is True and faster["target"] == ">= 1.05"
    slower_latency = common.row("label_image", "y", 9.0, 10.0, unit="ms", target=0.8, at_most=True)
    assert slower_latency["ratio"] == 0.9 and slower_latency["met"] is False
    overhead = common.row("training", "overhead", 2.5, unit="%", target=3, at_most=True)
    assert overhead["ratio"] is None and overhead["met"] is True
    assert common.row("training", "missing", None, 20.0, target=1.6)["met"] is None


def test_a_missing_benchmark_module_becomes_a_note(monkeypatch):
    monkeypatch.setitem(suite.BENCHMARKS, "later", "bench.bench_not_written_yet")
    outcome = suite.run_benchmark("later", smoke=True)
    assert outcome["error"].startswith("module bench.bench_not_written_yet")
    assert "skipped" in outcome["rows"][0]["note"]
    assert "skipped" in suite.table(outcome["rows"])


def test_unknown_benchmark_names_are_refused():
    from core.errors import UserError

    with pytest.raises(UserError, match="unknown benchmark.*nope"):
        suite.main(["--only", "training,nope"])


def test_the_cluster_figures_use_every_worker_s_progress_lines():
    """In async mode the chief may run only the last step (worker 1 ran the rest): still a figure."""
    from bench import bench_cluster

    lines = ["[worker 1] worker 1 (async): step %d/12: loss 2.3" % step for step in range(1, 12)]
    lines.append("[worker 0] worker 0 (chief, async): step 12/12: loss 2.2")
    lines.append("step 7/12: loss 2.2")  # one process
    steps = [int(match.group(1)) for match in map(bench_cluster._STEP.match, lines) if match]
    assert steps == list(range(1, 13)) + [7]
    timed = [(0.1 * step, None, step) for step in range(1, 13)]
    assert bench_cluster.per_step(timed, 2, 12) == (pytest.approx(0.1), None)
    with pytest.raises(RuntimeError, match="too few progress lines"):
        bench_cluster.per_step(timed[-1:], 2, 12)


def test_smoke_suite_runs_every_benchmark_and_writes_the_json(tmp_path, capsys):
    output = tmp_path / "results.json"
    assert suite.main(["--smoke", "--output", str(output)]) == 0
    printed = capsys.readouterr().out
    report = json.loads(output.read_text())
    assert report["smoke"] is True and report["machine_before"]["cpu_count"] >= 1
    assert set(report["benchmarks"]) == set(suite.BENCHMARKS)
    for name, outcome in report["benchmarks"].items():
        assert outcome["error"] is None, (name, outcome.get("log"))
        assert outcome["rows"], name
    by_benchmark = {}
    for item in report["rows"]:
        by_benchmark.setdefault(item["benchmark"], []).append(item)
    # Each comparison has both figures and their ratio, or says why ours was not run (bf16 on a CPU
    # without native bf16 support).
    comparisons = [item for item in report["rows"] if item["baseline"] is not None]
    for item in comparisons:
        if item["ours"] is None:
            assert item["ratio"] is None and item["note"].startswith("not run"), item
        else:
            assert item["ours"] > 0 and item["ratio"] > 0, item
    training = report["benchmarks"]["training"]["result"]
    assert {"ours_tfrecord", "ours_memory", "keras_fp32"} <= set(training["images_per_s"])
    assert "input_pipeline_overhead" in training
    assert training["command_seconds_per_step"]["none"] > 0  # the command timed from outside, as a user sees it
    assert len(by_benchmark["label_image"]) == 4 and len(by_benchmark["conversion"]) == 1
    assert report["benchmarks"]["memory"]["result"]["peak_rss_mib"]["ours"] > 0
    assert len(report["benchmarks"]["models"]["result"]["models"]) == 2
    validation = report["benchmarks"]["validation"]["result"]
    assert validation["overhead_percent"] > 0 and validation["val_images"] > 0 and len(by_benchmark["validation"]) == 2
    assert report["table"] in printed and "| training |" in printed
