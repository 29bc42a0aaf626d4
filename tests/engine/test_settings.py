"""engine/config/settings.py: the label-mode policy and research/slim's preprocessing names."""
import pytest

from core.errors import UserError
from engine.config.settings import decide_label_mode, preprocessing_family


@pytest.mark.parametrize("model, family", [
    # research/slim's preprocessing_factory map, model name -> preprocessing
    ("inception_v3", "inception"), ("mobilenet_v1", "inception"), ("nasnet_mobile", "inception"),
    ("resnet_v1_50", "vgg"), ("resnet_v2_152", "vgg"), ("vgg_16", "vgg"), ("cifarnet", "cifarnet"),
    ("lenet", "lenet"), ("inception", "inception"), ("vgg", "vgg")])
def test_model_names_select_research_slims_preprocessing(model, family):
    assert preprocessing_family(model) == family


def test_unknown_preprocessing_name_lists_the_valid_ones():
    with pytest.raises(UserError, match="cifarnet, inception, lenet, vgg"):
        preprocessing_family("bogus")


def test_label_mode_given_or_recorded_wins_and_auto_follows_the_data(capsys):
    multi, single = {"max_labels_per_image": 5}, {"max_labels_per_image": 1}
    assert decide_label_mode("auto", multi) == "multi"
    assert decide_label_mode("auto", single) == "single"
    assert decide_label_mode("multi", single) == "multi"
    assert decide_label_mode("auto") == "single"  # export: nothing recorded, no data read
    assert "warning" not in capsys.readouterr().err
    assert decide_label_mode("single", multi) == "single"
    assert "only one label per image counts" in capsys.readouterr().err


def _settings(**changes):
    from engine.config.settings import Settings

    values = dict(model_name="lenet", image_size=64, preprocessing_name="lenet", use_grayscale=False,
                  tfrecord_file="r.tfrecord", classes_file="classes.txt", classes=["homme", "femme"],
                  validation_percentage=25.0, labels_offset=0, label_mode="single")
    values.update(changes)
    return Settings(**values)


RECORDED = {"model_name": "lenet", "image_size": 64, "classes": ["homme", "femme"], "label_mode": "single",
            "labels_offset": 0, "optimizer": "adam"}


@pytest.mark.parametrize("changes, optimizer, message", [
    ({"image_size": 32}, None, "the run in output/ trains at 64 px; --train_image_size 32 would not resume it: "
                               "drop the flag or use another --train_dir"),
    ({"model_name": "cifarnet"}, None, "the run in output/ trains lenet; --model_name cifarnet would not resume it"),
    ({}, "rmsprop", "trains with adam; --optimizer rmsprop would not resume it"),
    ({"classes": ["homme"]}, None, "trains with 2 classes (homme, femme); --classes_file classes.txt with "
                                   "1 class (homme) would not resume it"),
    ({"classes": ["femme", "homme"]}, None, "(the same names in another order)"),
    ({"label_mode": "multi"}, None, "trains single-label; --label_mode multi would not resume it"),
    ({"image_size": 32, "model_name": "cifarnet"}, None,
     "trains lenet, at 64 px; --model_name cifarnet and --train_image_size 32 would not resume it: drop the flags "
     "or use another --train_dir"),
])
def test_a_command_that_would_not_resume_the_run_names_the_difference(changes, optimizer, message):
    from engine.config.settings import check_same_run

    with pytest.raises(UserError) as caught:
        check_same_run("output/", RECORDED, _settings(**changes), "train", optimizer)
    assert message in str(caught.value)


def test_evaluation_and_export_name_the_run_too_and_only_warn_about_another_image_size(capsys):
    from engine.config.settings import check_same_run

    with pytest.raises(UserError, match="the run in output/ trained lenet; --model_name vgg_16 would not export it: "
                                        "drop the flag or pass another --checkpoint_path"):
        check_same_run("output/", RECORDED, _settings(model_name="vgg_16"), "export")
    with pytest.raises(UserError, match="would not evaluate it"):
        check_same_run("output/", RECORDED, _settings(classes=["a", "b", "c"]), "evaluate")
    check_same_run("output/", RECORDED, _settings(image_size=96), "evaluate")
    assert "trained at 64 px; evaluating at 96 px" in capsys.readouterr().err
    check_same_run("output/", RECORDED, _settings(), "train", "adam")  # the same run: nothing to say
    check_same_run("output/", {}, _settings(model_name="vgg_16"), "train")  # nothing recorded: nothing compared
    assert capsys.readouterr().err == ""


def test_classes_that_disagree_with_the_records_are_refused_and_missing_ones_warned(capsys):
    from engine.config.settings import check_classes

    stats = {"class_names": {0: "homme", 1: "femme", 2: "jeune"}, "label_counts": {0: 5, 1: 3, 2: 4}}
    with pytest.raises(UserError, match="the records use 3 classes .up to 3:jeune., the classes file has 2"):
        check_classes(_settings(), stats, "r.tfrecord")
    with pytest.raises(UserError, match="class 1 is 'homme' in the records, 'femme' in the classes file"):
        check_classes(_settings(classes=["femme", "homme", "jeune"]), stats, "r.tfrecord")
    check_classes(_settings(classes=["Homme", "femme", "jeune", "vieux"]), stats, "r.tfrecord", warn_missing=True)
    assert "1 of the 4 classes have no training image in r.tfrecord: 4:vieux" in capsys.readouterr().err


def test_a_new_run_gets_a_val_part_and_a_run_recorded_without_one_keeps_its_split():
    import train_image_classifier
    from engine.config.settings import check_same_run, resolve

    parser = train_image_classifier.build_parser()
    new = resolve(parser.parse_args([]), {})
    assert (new.validation_percentage, new.val_percentage) == (25.0, 10.0)
    recorded = dict(RECORDED, validation_percentage=20.0)  # written before the val part existed
    old = resolve(parser.parse_args([]), recorded)
    assert (old.validation_percentage, old.val_percentage) == (20.0, 0.0)
    check_same_run("output/", recorded, old, "train")  # resumes as it was
    with pytest.raises(UserError, match="trains with --val_percentage 0; --val_percentage 10 would not resume it"):
        check_same_run("output/", recorded, resolve(parser.parse_args(["--val_percentage", "10"]), recorded), "train")
    assert resolve(parser.parse_args(["--validation_percentage", "30"]), {}).validation_percentage == 30.0
