"""`python -m engine.cluster`: the local cluster launcher (engine/cluster/launcher.py)."""
import sys

from core.cli import run_main
from engine.cluster.launcher import main

sys.exit(run_main(main))
