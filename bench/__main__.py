"""`python -m bench`: the whole benchmark suite (bench/suite.py)."""
import sys

from bench.suite import main
from core.cli import run_main

sys.exit(run_main(main))
