"""Shared machinery behind the top-level scripts: CLI helpers, training, evaluation, export."""
