"""engine/cpu_kernels.py: training asks for oneDNN before TensorFlow loads; the user's choice wins."""
import os
import subprocess
import sys

from conftest import ROOT

PROBE = ("import os, sys; from engine import cpu_kernels; %s"
         "print(cpu_kernels.prefer_onednn(), os.environ.get('TF_ENABLE_ONEDNN_OPTS'))")


def probe(before="", environment=None):
    env = {key: value for key, value in os.environ.items() if key != "TF_ENABLE_ONEDNN_OPTS"}
    env.update(environment or {})
    return subprocess.run([sys.executable, "-c", PROBE % before], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=True).stdout.split()


def test_onednn_is_asked_for_before_tensorflow_loads():
    assert probe() == ["True", "1"]


def test_the_users_setting_wins():
    assert probe(environment={"TF_ENABLE_ONEDNN_OPTS": "0"}) == ["False", "0"]


def test_too_late_once_tensorflow_is_imported():
    assert probe("import engine.compat; ") == ["False", "None"]
