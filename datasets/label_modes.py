"""How the labels of an image are learned: the closed set of label modes, and the choice from the data.

- `SINGLE`: one label per image, a softmax over the classes;
- `MULTI`: any number of labels per image, a sigmoid per class;
- `GROUPED`: exactly one label of each of two or more attribute groups per image (gender, eyes, nose, face,
  age), a softmax per group (datasets/label_groups.py);
- `AUTO` (a request, never a decision): `GROUPED` when the classes file declares groups or the labels fall
  into groups, else `MULTI` when some image of the data has several labels, else `SINGLE`.

The decision is recorded with the training run (train_config.json), with the groups, and followed by
evaluation, export and label_image. No TensorFlow here: the scripts' --help lists the choices.
"""
AUTO = "auto"
SINGLE = "single"
MULTI = "multi"
GROUPED = "grouped"
LABEL_MODES = (SINGLE, MULTI, GROUPED)  # what a run decides
CHOICES = (AUTO,) + LABEL_MODES  # what --label_mode accepts

NAMES = {SINGLE: "single-label", MULTI: "multi-label", GROUPED: "grouped"}  # "a %s run", "%s models"
DESCRIPTIONS = {
    SINGLE: "single-label (softmax over the classes)",
    MULTI: "multi-label (a sigmoid per class)",
    GROUPED: "grouped (a softmax per attribute group)",
}


def decide(requested, max_labels_per_image=None, grouped=False):
    """`requested` when it is a label mode; for AUTO (or None), the mode the data asks for: GROUPED when
    `grouped` (the labels fall into groups, or the classes file declares them), else MULTI when an image
    has several labels (`max_labels_per_image`), SINGLE otherwise or when the data is unknown."""
    if requested in LABEL_MODES:
        return requested
    if requested not in (None, AUTO):
        raise ValueError("unknown label mode %r; use one of %s" % (requested, ", ".join(CHOICES)))
    if grouped:
        return GROUPED
    return MULTI if (max_labels_per_image or 0) > 1 else SINGLE
