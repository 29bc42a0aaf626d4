"""Attribute groups: labels that come in groups, exactly one label of each group per image.

The original project's faces carry one gender (homme, femme), one eye shape, one nose, one face shape and one
age (jeune, age_moyen, vieux): five groups. A grouped run (datasets/label_modes.py's GROUPED) trains a softmax
per group, and predicts one label of each.

Groups are declared in the classes file (`N:name:group`, datasets/classes_file.py), or found in the labels
the images carry (`detect`): two labels belong to one group when (almost) no image has both, and the groups
found must hold for (almost) every image: exactly one label of each. Where a rare pair of classes of two
attributes is never seen together, their labels join in one set; it is cut again into the sets that every
image carries once, when there is exactly one such cut. "Almost": up to `allowed_violations`
images (1% of them, at least one) may break it, as the original's one face with two ages does; they are
named, and a run trains them with each of their labels of a group as an equal share of its target, and
leaves a group out of their loss where they have no label of it (TRAINING_OF_VIOLATIONS).

Label sets come from datasets/tfrecord_stats.scan: {sorted tuple of label indexes: number of images}, with
the file names of the first few images of each set. No TensorFlow here.
"""
import collections
import dataclasses

import numpy as np

from core.errors import UserError
from datasets.annotations import label_key

VIOLATION_SHARE = 0.01  # of the images, that may break the groups (at least one image)
SHOWN = 8  # images named in a message
MAX_SPLIT_LABELS = 12  # labels of a component that detect tries to cut into attributes (2**12 subsets)
DETECTED_SEPARATOR = "|"  # a detected group is named after its labels: homme|femme
TRAINING_OF_VIOLATIONS = ("an image with two labels of a group trains with each as an equal share of that "
                          "group's target, and one with none of a group leaves that group out of its loss")


@dataclasses.dataclass(frozen=True)
class LabelGroup:
    """One attribute: its name and the names of its classes (two or more), in classes-file order."""

    name: str
    classes: tuple


@dataclasses.dataclass(frozen=True)
class Violation:
    """`count` images (the first named `image`) that have `labels` (names; empty: none) of group `group`
    instead of exactly one."""

    image: str
    group: str
    labels: tuple
    count: int = 1

    def describe(self):
        what = "no label of %s" % self.group if not self.labels else "%d labels of %s (%s)" % (
            len(self.labels), self.group, ", ".join(self.labels))
        more = " and %d more image%s with the same labels" % (self.count - 1, "s" if self.count > 2 else "") \
            if self.count > 1 else ""
        return "%s has %s%s" % (self.image, what, more)


@dataclasses.dataclass(frozen=True)
class Finding:
    """What the labels of some images say about groups: the groups, and the images that break them.
    `reason` says why the labels do not fall into groups; the groups are then empty, or the groups too many
    images break."""

    groups: tuple
    num_images: int
    violations: tuple = ()
    violating_images: int = 0
    reason: str = ""

    def violation_lines(self, limit=SHOWN):
        lines = [violation.describe() for violation in self.violations[:limit]]
        if len(self.violations) > limit:
            lines.append("and %d more" % (len(self.violations) - limit))
        return lines


def allowed_violations(num_images):
    """How many images may break the groups: VIOLATION_SHARE of `num_images`, at least one."""
    return max(1, int(VIOLATION_SHARE * num_images))


def to_records(groups):
    """The JSON form of `groups` (train_config.json, the export's metadata): [{"name", "classes"}]."""
    return [{"name": group.name, "classes": list(group.classes)} for group in groups or ()]


def from_records(records):
    """The LabelGroup tuple of to_records' form, () for None."""
    return tuple(LabelGroup(str(record["name"]), tuple(record["classes"])) for record in records or ())


def describe(groups):
    """`5 groups: homme|femme, ...`; a declared group shows its classes: `genre (homme, femme)`."""
    return "%d groups: %s" % (len(groups), ", ".join(
        group.name if group.name == DETECTED_SEPARATOR.join(group.classes)
        else "%s (%s)" % (group.name, ", ".join(group.classes)) for group in groups))


def group_indexes(groups, class_names):
    """[[output index of each class of the group] per group] in `class_names` (the outputs, in order);
    a UserError when a class of a group is not one of them."""
    where = {label_key(name): index for index, name in enumerate(class_names)}
    indexes = []
    for group in groups:
        missing = [name for name in group.classes if label_key(name) not in where]
        if missing:
            raise UserError("group %s names class(es) %s that the model does not have (its classes: %s); pass "
                            "the classes file the model was trained with" % (
                                group.name, ", ".join(missing), ", ".join(class_names)))
        indexes.append([where[label_key(name)] for name in group.classes])
    return indexes


def output_label_sets(label_sets, examples, num_outputs, labels_offset=0):
    """label_sets and examples (tfrecord_stats.scan's) with each label index made an output index (minus
    `labels_offset`; labels outside the outputs dropped), merged where sets become equal."""
    sets, named = collections.Counter(), {}
    for key, count in label_sets.items():
        outputs = tuple(index - labels_offset for index in key if 0 <= index - labels_offset < num_outputs)
        sets[outputs] += count
        named.setdefault(outputs, []).extend((examples or {}).get(key, []))
    return dict(sets), named


def find_violations(indexes, names, label_sets, examples, class_names):
    """(Violation tuple, number of images concerned) of the label sets whose images do not have exactly one
    label of each group (`indexes`: group_indexes'; `names`: the groups' names)."""
    group_of = {index: position for position, group in enumerate(indexes) for index in group}
    violations, images = [], 0
    for key, count in sorted(label_sets.items(), key=lambda item: (-item[1], item[0])):
        per_group = collections.defaultdict(list)
        for index in key:
            if index in group_of:
                per_group[group_of[index]].append(class_names[index])
        broken = [position for position in range(len(indexes)) if len(per_group[position]) != 1]
        if not broken:
            continue
        images += count
        image = ((examples or {}).get(key) or ["an image"])[0]
        violations.extend(Violation(image, names[position], tuple(per_group[position]), count)
                          for position in broken)
    return tuple(violations), images


def _cooccurrences(label_sets, num_classes):
    """[C, C] images having both labels (the diagonal: each label's images)."""
    matrix = np.zeros((num_classes, num_classes), np.int64)
    for key, count in label_sets.items():
        index = np.asarray(key, np.int64)
        matrix[np.ix_(index, index)] += count
    return matrix


def _components(adjacent):
    """The connected components of a boolean adjacency matrix, each a sorted list, by first member."""
    seen, components = set(), []
    for start in range(len(adjacent)):
        if start in seen:
            continue
        component, pending = [], [start]
        seen.add(start)
        while pending:
            node = pending.pop()
            component.append(node)
            for other in np.flatnonzero(adjacent[node]).tolist():
                if other not in seen:
                    seen.add(other)
                    pending.append(other)
        components.append(sorted(component))
    return components


def _parts(component, together, label_sets, num_images, limit):
    """`component` (label indexes joined by (almost) never being together) cut into its attributes: the one way
    to cut it into sets of two or more labels, each (almost) never together and carried once by every image
    but at most `limit`. A rare pair of classes of two attributes (a rare age never seen on a rare gender)
    joins both attributes in one component; this finds them again. [component] when there is no such cut,
    or more than one, or the component is too large to search (MAX_SPLIT_LABELS)."""
    if len(component) > MAX_SPLIT_LABELS:
        return [component]
    size = len(component)
    apart = [[together[component[i], component[j]] <= limit for j in range(size)] for i in range(size)]
    keys = [([position for position, index in enumerate(component) if index in key], count)
            for key, count in label_sets.items()]
    candidates = []
    for mask in range(1, 1 << size):
        members = [position for position in range(size) if mask >> position & 1]
        if len(members) < 2 or not all(apart[i][j] for i in members for j in members if i < j):
            continue
        once = sum(count for positions, count in keys if sum(mask >> position & 1 for position in positions) == 1)
        if once >= num_images - limit:
            candidates.append(mask)
    cuts = []

    def cut(left, chosen):
        if len(cuts) > 1:
            return
        if not left:
            cuts.append(list(chosen))
            return
        lowest = left & -left
        for mask in candidates:
            if mask & lowest and mask & left == mask:
                cut(left & ~mask, chosen + [mask])

    cut((1 << size) - 1, [])
    if len(cuts) != 1:
        return [component]
    return sorted([component[position] for position in range(size) if mask >> position & 1] for mask in cuts[0])


def detect(label_sets, class_names, examples=None):
    """The Finding of the output label sets `label_sets` ({tuple of output indexes: images}; see
    output_label_sets) over the classes `class_names`: the groups when every class falls into one of two or
    more groups of two or more classes, which at most allowed_violations images break."""
    num_images = sum(label_sets.values())
    if not num_images:
        return Finding((), 0, reason="no image to read the groups from")
    together = _cooccurrences(label_sets, len(class_names))
    unseen = [name for index, name in enumerate(class_names) if not together[index, index]]
    if unseen:
        return Finding((), num_images, reason="no image has %s, so its group cannot be told" % ", ".join(unseen[:5]))
    limit = allowed_violations(num_images)
    components = sorted(part for component in _components(together <= limit)  # labels (almost) never together
                        for part in _parts(component, together, label_sets, num_images, limit))
    names = [DETECTED_SEPARATOR.join(class_names[index] for index in component) for component in components]
    if len(components) < 2:
        return Finding((), num_images, reason="the labels do not fall into two or more groups of labels that "
                       "no image has together")
    alone = [name for name, component in zip(names, components) if len(component) < 2]
    if alone:
        return Finding((), num_images, reason="label(s) %s appear with every other label, so no group holds them"
                       % ", ".join(alone[:5]))
    violations, images = find_violations(components, names, label_sets, examples, class_names)
    groups = tuple(LabelGroup(name, tuple(class_names[index] for index in component))
                   for name, component in zip(names, components))
    if images > limit:
        return Finding(groups, num_images, violations, images, reason="%d of %d images do not have exactly one label "
                       "of each of the %s (at most %d may)" % (images, num_images, describe(groups), limit))
    return Finding(groups, num_images, violations, images)


def check(groups, label_sets, class_names, examples=None):
    """The Finding of declared `groups` against the output label sets `label_sets`: the groups, and the
    images that break them (more than allowed_violations is for the caller to refuse)."""
    num_images = sum(label_sets.values())
    indexes = group_indexes(groups, class_names)
    covered = sorted(index for group in indexes for index in group)
    if covered != list(range(len(class_names))):
        outside = [name for index, name in enumerate(class_names) if index not in covered]
        raise UserError("the groups (%s) leave out class(es) %s: give every class a group" % (
            describe(groups), ", ".join(outside)))
    violations, images = find_violations(indexes, [group.name for group in groups], label_sets, examples,
                                         class_names)
    return Finding(tuple(groups), num_images, violations, images)
