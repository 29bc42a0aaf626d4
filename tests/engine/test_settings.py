"""engine/settings.py: the label-mode policy and research/slim's preprocessing names."""
import pytest

from core.errors import UserError
from engine.settings import decide_label_mode, preprocessing_family


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
