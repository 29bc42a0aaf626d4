"""The CSV of image-label associations (`labels/labels.csv`): one row per (image, label) pair.

Format written:
    image,extension,height,width,label_id,label
    face_00000,jpg,128,128,2,femme
`image` is the file name without its extension (it may contain dots), `extension` has no dot,
`height`/`width` are the image's true pixel size, `label_id` is the N of the classes file's `N:name`
line and `label` its name (so a CSV built with another classes file is recognised).

The original project's file is read too: no header, the five columns image, extension, height, width,
label id (its height and width were swapped; the TFRecord takes the sizes from the images anyway) and a
last `nbre_images,<count>` row.
"""
import collections
import csv
import io

from core.errors import UserError
from datasets.annotations import decode_text, label_key

HEADER = ("image", "extension", "height", "width", "label_id", "label")
LEGACY_TRAILER = "nbre_images"
REBUILD_HINT = "delete it or pass --rebuild_csv to build it again from the annotations"

Row = collections.namedtuple("Row", "image extension height width label_id")


class CsvWriter:
    """Writes the header, then the rows of one image at a time, to an open text file."""

    def __init__(self, handle, classes):
        self.classes = classes
        self.rows = 0
        self._writer = csv.writer(handle, lineterminator="\n")
        self._writer.writerow(HEADER)

    def write_image(self, image, extension, height, width, label_indexes):
        """One row per label; `label_indexes` are 0-based indexes into the classes."""
        height, width = int(height), int(width)
        self._writer.writerows([(image, extension, height, width, index + 1, self.classes[index])
                                for index in label_indexes])
        self.rows += len(label_indexes)


def write_csv(path, rows, classes):
    """Writes `rows` (Row tuples, label_id = N of the classes file) to `path` (overwriting it)."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        for row in rows:
            writer.writerow((row.image, row.extension, int(row.height), int(row.width), int(row.label_id),
                             classes[int(row.label_id) - 1]))


def _int(value, path, line, column):
    try:
        return int(str(value).strip())
    except ValueError:
        raise UserError("CSV %r line %d: %s %r is not a whole number; %s" % (path, line, column, value, REBUILD_HINT))


def read_csv(path, classes):
    """The Row tuples of a CSV (this format or the original's), checked against `classes`.

    Raises UserError when the file is malformed or names label ids (or names) that `classes` does not
    hold, which happens when the classes file changed after the CSV was built.
    """
    try:
        with open(path, "rb") as handle:
            text = decode_text(handle.read())
    except OSError as error:
        raise UserError("cannot read CSV %r (%s)" % (path, error.strerror or error))
    try:
        records = [(number, record) for number, record in enumerate(csv.reader(io.StringIO(text)), start=1)
                   if any(cell.strip() for cell in record)]
    except csv.Error as error:
        raise UserError("CSV %r is malformed (%s); %s" % (path, error, REBUILD_HINT))
    names = None
    if records and [cell.strip().lower() for cell in records[0][1][:5]] == list(HEADER[:5]):
        header = [cell.strip().lower() for cell in records[0][1]]
        names = {column: header.index(column) for column in HEADER if column in header}
        records = records[1:]
    elif records and records[-1][1][0].strip().lower() == LEGACY_TRAILER:
        records = records[:-1]
    rows, bad_ids, bad_names = [], set(), set()
    for number, record in records:
        if names is None:
            if len(record) < 5:
                raise UserError("CSV %r line %d has %d column(s), expected image,extension,height,width,label_id; "
                                "%s" % (path, number, len(record), REBUILD_HINT))
            cells = record[:5]
            label = None
        else:
            if len(record) < len(names):
                raise UserError("CSV %r line %d has %d column(s), expected %d; %s"
                                % (path, number, len(record), len(names), REBUILD_HINT))
            cells = [record[names[column]] for column in HEADER[:5]]
            label = record[names["label"]] if "label" in names else None
        image, extension = cells[0], cells[1].strip().lstrip(".")
        if not image or not extension:
            raise UserError("CSV %r line %d has an empty image name or extension; %s" % (path, number, REBUILD_HINT))
        label_id = _int(cells[4], path, number, "label_id")
        if not 1 <= label_id <= len(classes):
            bad_ids.add(label_id)
        elif label is not None and label_key(label) != label_key(classes[label_id - 1]):
            bad_names.add("%d:%s" % (label_id, label.strip()))
        rows.append(Row(image, extension, _int(cells[2], path, number, "height"),
                        _int(cells[3], path, number, "width"), label_id))
    if bad_ids:
        raise UserError("CSV %r names label id(s) %s but the classes file holds ids 1 to %d: the CSV was built "
                        "with another classes file; pass --rebuild_csv to build it again for the current one"
                        % (path, ", ".join(map(str, sorted(bad_ids))), len(classes)))
    if bad_names:
        raise UserError("CSV %r names %s where the classes file says otherwise: the CSV was built with another "
                        "classes file; pass --rebuild_csv to build it again for the current one"
                        % (path, ", ".join(sorted(bad_names))))
    if not rows:
        raise UserError("CSV %r holds no image-label row; %s" % (path, REBUILD_HINT))
    return rows


def group_by_image(rows):
    """{(image, extension): (height, width, sorted 0-based label indexes)}, in first-appearance order."""
    images = {}
    for row in rows:
        key = (row.image, row.extension)
        height, width, labels = images.setdefault(key, (row.height, row.width, []))
        if row.label_id - 1 not in labels:
            labels.append(row.label_id - 1)
    return {key: (height, width, sorted(labels)) for key, (height, width, labels) in images.items()}
