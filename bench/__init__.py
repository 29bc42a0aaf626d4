"""Benchmarks: each module has run(smoke=False) -> dict and a `python -m` entry point."""
