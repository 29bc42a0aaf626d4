"""engine/options.py: flags declared from the option dataclasses keep their defaults, types and choices,
and parsed arguments build the dataclasses back."""
import dataclasses

import pytest

import train_image_classifier
from engine.options import DECAY_TYPES, OPTIMIZERS, LearningRateOptions, OptimizerOptions, TrainOptions


def test_defaults_of_the_command_line_are_the_dataclasses_defaults():
    options = train_image_classifier.options_from_args(train_image_classifier.build_parser().parse_args([]))
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
    options = train_image_classifier.options_from_args(parser.parse_args(argv + ["--batch_size", "7"]))
    got = dict(dataclasses.asdict(options.optimization), **dataclasses.asdict(options.schedule))
    assert {name: got[name] for name in expected} == expected
    assert options.batch_size == 7


def test_choices_come_from_the_code_tables(capsys):
    parser = train_image_classifier.build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["--optimizer", "lion"])
    error = capsys.readouterr().err
    assert all(name in error for name in OPTIMIZERS)
    assert parser.parse_args(["--learning_rate_decay_type", DECAY_TYPES[-1]]).learning_rate_decay_type == DECAY_TYPES[-1]
