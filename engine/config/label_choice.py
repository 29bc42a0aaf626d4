"""The label mode of a run and its attribute groups, decided from --label_mode, the classes file and the data.

`decide_labels` is what training (on its train split), evaluation (on every image, when the run recorded no
mode) and export (on no data) call. With --label_mode auto:
- groups declared in the classes file (`N:name:group`) are checked against the data: a few images that break
  them (datasets/label_groups.allowed_violations) are named with what the run does with them; more are
  refused, saying how to go on;
- else groups are looked for in the labels (datasets/label_groups.detect): found, the run is grouped, and
  the groups are printed;
- else the run is multi-label when an image has several labels (saying why no groups were found: rare
  pairs of labels, such as a rare class of one attribute never seen with one of another, can hide them;
  declared groups do not depend on that), single-label otherwise.
An explicit --label_mode wins: `multi` or `single` ignore groups, `grouped` takes the declared or detected
groups whatever the number of images that break them, and is refused when there are none.
"""
import dataclasses

from core.errors import UserError
from core.progress import say, warn
from datasets import label_groups, label_modes
from engine.config.settings import decide_label_mode


@dataclasses.dataclass(frozen=True)
class LabelChoice:
    """A run's label mode and, for a grouped run, its groups (datasets.label_groups.LabelGroup)."""

    mode: str
    groups: tuple = ()


def _say_violations(finding, what):
    if finding.violating_images:
        warn("%d of %d %s break the groups (%s): %s" % (
            finding.violating_images, finding.num_images, what, label_groups.TRAINING_OF_VIOLATIONS,
            "; ".join(finding.violation_lines())))


def _declared(label_mode, declared, sets, outputs, examples, what):
    finding = label_groups.check(declared, sets, outputs, examples)
    allowed = label_groups.allowed_violations(finding.num_images)
    if finding.violating_images > allowed and label_mode != label_modes.GROUPED:
        raise UserError("the classes file declares %s, but %d of %d %s do not have exactly one label of each "
                        "(at most %d may): %s. Correct the annotations or the groups of the classes file; or "
                        "pass --label_mode grouped to train with them all the same, or --label_mode multi to "
                        "ignore the groups" % (label_groups.describe(declared), finding.violating_images,
                                               finding.num_images, what, allowed,
                                               "; ".join(finding.violation_lines())))
    say("attribute groups: %s" % label_groups.describe(declared))
    _say_violations(finding, what)
    return LabelChoice(label_modes.GROUPED, tuple(declared))


def decide_labels(label_mode, stats=None, classes=None, declared=None, labels_offset=0, what="images"):
    """The LabelChoice of a run: `label_mode` (datasets.label_modes.CHOICES), the data's `stats`
    (tfrecord_stats.scan's; None: no data read), its `classes` (names, in id order), the groups `declared`
    (LabelGroup tuple from the classes file or the recorded run; None: none). `what` names the images in
    messages ("training images")."""
    if label_mode in (label_modes.SINGLE, label_modes.MULTI):
        return LabelChoice(decide_label_mode(label_mode, stats))
    if stats is None:
        if declared:
            return LabelChoice(label_modes.GROUPED, tuple(declared))
        if label_mode == label_modes.GROUPED:
            raise UserError("--label_mode grouped needs the attribute groups: pass --checkpoint_path with a "
                            "training run that recorded them, or declare them in the classes file "
                            "(`N:name:group` lines)")
        return LabelChoice(decide_label_mode(label_mode))
    outputs = list(classes[labels_offset:])
    sets, examples = label_groups.output_label_sets(stats.get("label_sets") or {}, stats.get("label_set_examples"),
                                                    len(outputs), labels_offset)
    if declared:
        return _declared(label_mode, declared, sets, outputs, examples, what)
    most = stats.get("max_labels_per_image") or 0
    if label_mode != label_modes.GROUPED and most <= 1:
        return LabelChoice(label_modes.SINGLE)
    finding = label_groups.detect(sets, outputs, examples)
    if not finding.groups or (finding.reason and label_mode != label_modes.GROUPED):
        if label_mode == label_modes.GROUPED:
            raise UserError("--label_mode grouped: no attribute groups found in the labels of %d %s: %s. Declare "
                            "them in the classes file (`N:name:group` lines), or use --label_mode multi"
                            % (finding.num_images, what, finding.reason))
        mode = decide_label_mode(label_mode, stats)
        if mode == label_modes.MULTI:  # images with several labels: say why they are not read as attributes
            say("no attribute groups found in the labels of %d %s (%s): a sigmoid per label. If each image "
                "has one label of each attribute, declare the attributes in the classes file (`N:name:group` "
                "lines) to train a softmax per attribute" % (finding.num_images, what, finding.reason))
        return LabelChoice(mode)
    say("attribute groups found in the labels of %d %s: %s (--label_mode multi trains a sigmoid per label "
        "instead)" % (finding.num_images, what, label_groups.describe(finding.groups)))
    _say_violations(finding, what)
    return LabelChoice(label_modes.GROUPED, finding.groups)
