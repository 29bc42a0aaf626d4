"""engine/config/options.py: flags declared from the option dataclasses keep their defaults, types and choices,
and parsed arguments build the dataclasses back."""
import dataclasses
import subprocess
import sys

import pytest

import train_image_classifier
from engine.config.options import DECAY_TYPES, OPTIMIZERS, LearningRateOptions, OptimizerOptions, TrainOptions
from engine.training.setup import training_options
from tests.conftest import ROOT


def test_defaults_of_the_command_line_are_the_dataclasses_defaults():
    options = training_options(train_image_classifier.build_parser().parse_args([]))
    assert options == TrainOptions()


def test_every_flag_value_reaches_its_field():
    parser = train_image_classifier.build_parser()
    argv, expected = [], {}
    for cls in (OptimizerOptions, LearningRateOptions):
        for index, field in enumerate(dataclasses.fields(cls)):
            if field.type is float:
                value = float(index) + 0.5
            elif "choices" in field.metadata:
                value = field.metadata["choices"][0]
            else:
                continue
            argv += ["--" + field.name, str(value)]
            expected[field.name] = value
    options = training_options(parser.parse_args(argv + ["--batch_size", "7"]))
    got = dict(dataclasses.asdict(options.optimization), **dataclasses.asdict(options.schedule))
    assert {name: got[name] for name in expected} == expected
    assert options.batch_size == 7


def test_choices_come_from_the_code_tables(capsys):
    parser = train_image_classifier.build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["--optimizer", "lion"])
    error = capsys.readouterr().err
    assert all(name in error for name in OPTIMIZERS)
    last = DECAY_TYPES[-1]
    assert parser.parse_args(["--learning_rate_decay_type", last]).learning_rate_decay_type == last


def test_the_model_names_of_help_are_the_catalogs_and_each_builds():
    # --help lists nets/catalog.py's names (no copy); each names a network and an arg scope that exist.
    from engine.config.flags import MODEL_NAMES
    from nets import catalog, nets_factory

    assert MODEL_NAMES is catalog.MODEL_NAMES
    assert list(MODEL_NAMES) == sorted(catalog.SPECS) == nets_factory.list_models()
    for name in MODEL_NAMES:
        assert callable(nets_factory.network_function(name)) and callable(nets_factory.arg_scope_function(name))
    # tests/nets/test_nets_factory.py builds every one of them against research/slim's measurements.


def test_the_options_import_no_tensorflow():
    # Run apart: this process has loaded TensorFlow already.
    code = ("import sys, engine.config.options; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'tf_slim', 'tf_keras', 'numpy'}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("optimizer, epsilon", [("rmsprop", 1.0), ("adam", 1e-8), ("adadelta", 1e-8)])
def test_opt_epsilon_defaults_to_each_optimizers_own(optimizer, epsilon):
    from core.compat import tf
    from engine.training.optimizers import configure_optimizer

    parser = train_image_classifier.build_parser()
    options = training_options(parser.parse_args(["--optimizer", optimizer]))
    assert options.optimization.opt_epsilon == epsilon
    # What TensorFlow's optimizer then holds (research/slim's 1.0 made Adam's steps ~1000 times too small).
    with tf.Graph().as_default():
        built = configure_optimizer(options.optimization, 0.01)
        assert getattr(built, "_epsilon", getattr(built, "_epsilon_t", None)) == epsilon
    explicit = parser.parse_args(["--optimizer", optimizer, "--opt_epsilon", "0.5"])
    assert training_options(explicit).optimization.opt_epsilon == 0.5


def test_help_shows_the_per_optimizer_epsilon_and_the_summary_cadence(capsys):
    with pytest.raises(SystemExit):
        train_image_classifier.build_parser().parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "default: per optimizer, rmsprop 1, adam 1e-08, adadelta 1e-08" in text
    assert "--save_summaries_steps" in text and "a tenth of --max_number_of_steps" in text


@pytest.mark.parametrize("steps, flag, every", [(300, None, 30), (40, None, 4), (5000, None, 100), (None, None, 100),
                                                (300, 7, 7), (300, 0, 0)])
def test_the_summary_cadence_gives_short_runs_a_curve(steps, flag, every):
    from engine.config.options import summary_every_steps

    assert summary_every_steps(TrainOptions(max_number_of_steps=steps, save_summaries_steps=flag)) == every
