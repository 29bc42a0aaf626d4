"""What a conversion did, for its closing lines: the written images, the associations per label and the
skipped files by reason, each skipped file also named in a warning (at most WARNINGS_PER_REASON a reason).
"""
import collections

from core.text import quote
from datasets import shards
from datasets.convert_worker import Converted

WARNINGS_PER_REASON = 20
IGNORED_LABELS_SHOWN = 20  # label names not in the classes file named in the summary, the most frequent first


class Summary:
    """What a conversion did: written images, associations per label, skipped files by reason."""

    def __init__(self, classes, csv_file, tfrecord_file):
        self.classes = classes
        self.csv_file = csv_file
        self.tfrecord_file = tfrecord_file
        self.csv_built = False
        self.csv_state = None  # what happened to the CSV, for the summary
        self.images_written = 0
        self.shard_sizes = None  # images per shard file when the TFRecord is sharded
        self.label_counts = collections.Counter()  # 0-based class index -> images
        self.skipped = collections.Counter()  # reason -> files
        self.ignored_labels = collections.Counter()  # label name not in the classes file -> lines

    def add(self, result):
        """Counts a result of datasets/convert_worker.py's process() (its skip reason is SkipWarnings')."""
        for name in result.unknown_labels:
            self.ignored_labels[name] += 1
        if isinstance(result, Converted):
            self.images_written += 1
            self.label_counts.update(result.label_indexes)

    def reasons(self):
        """Why nothing was written, for the error that says so."""
        if not self.skipped:
            return "the image folder holds no image"
        return "skipped: " + ", ".join("%d %s" % (count, reason) for reason, count in self.skipped.most_common())

    def lines(self):
        written = self.tfrecord_file
        if self.shard_sizes:
            count = len(self.shard_sizes)
            written = "%d shards %s ... %s (%s images each)" % (
                count, shards.shard_name(self.tfrecord_file, 0, count),
                shards.shard_name(self.tfrecord_file, count - 1, count),
                "-".join(str(n) for n in sorted({min(self.shard_sizes), max(self.shard_sizes)})))
        lines = ["wrote %d images to %s" % (self.images_written, written),
                 "CSV %s: %s" % (self.csv_file, self.csv_state or ("built" if self.csv_built else "read")),
                 "associations per label:"]
        width = max(len(name) for name in self.classes)
        for index, name in enumerate(self.classes):
            lines.append("  %2d:%-*s %7d" % (index + 1, width, name, self.label_counts[index]))
        if self.skipped:
            lines.append("skipped %d files:" % sum(self.skipped.values()))
            for reason, count in sorted(self.skipped.items(), key=lambda item: (-item[1], item[0])):
                lines.append("  %-45s %7d" % (reason, count))
        ignored = sorted(self.ignored_labels.items(), key=lambda item: (-item[1], item[0]))
        for name, count in ignored[:IGNORED_LABELS_SHOWN]:
            lines.append("ignored label %s (not in the classes file): %d annotation line(s)" % (quote(name, 60), count))
        if len(ignored) > IGNORED_LABELS_SHOWN:
            lines.append("ignored %d other label names not in the classes file, in %d annotation line(s)" % (
                len(ignored) - IGNORED_LABELS_SHOWN, sum(count for _, count in ignored[IGNORED_LABELS_SHOWN:])))
        return lines


class SkipWarnings:
    """Counts each skipped file in `skipped` (reason -> files) and names it in one warning line, at most
    WARNINGS_PER_REASON per reason."""

    def __init__(self, skipped, warn_fn):
        self.skipped = skipped
        self.warn = warn_fn

    def skip(self, path, reason, detail=None):
        self.skipped[reason] += 1
        count = self.skipped[reason]
        if count <= WARNINGS_PER_REASON:
            self.warn("skipped %s: %s%s" % (quote(path), reason, " (%s)" % detail if detail else ""))
        elif count == WARNINGS_PER_REASON + 1:
            self.warn("more files skipped for %r: only counted in the summary from now on" % reason)
