"""Benchmarks: each module has run(smoke=False) -> dict and a `python -m` entry point; `python -m bench`
runs them all (bench/suite.py) and writes bench/results.json."""
