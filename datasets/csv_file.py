"""The CSV of image-label associations (`labels/labels.csv`): one row per (image, label) pair.

Format written:
    image,extension,height,width,label_id,label
    face_00000,jpg,128,128,2,femme
`image` is the file name without its extension (it may contain dots), `extension` has no dot,
`height`/`width` are the image's true pixel size, `label_id` is the N of the classes file's `N:name`
line and `label` its name (so a CSV built with another classes file is recognised). Columns are found by
their header names, in any order, and other columns (a pandas index) are ignored.

The original project's file is read too: no header, the five columns image, extension, height, width,
label id (its height and width were swapped; the TFRecord takes the sizes from the images anyway) and a
last `nbre_images,<count>` row.

Both are read and written with pandas, imported on first use (the scripts' --help does not load it).
A CSV of more than MAX_CSV_BYTES is refused before it is read, and so is a number out of CSV_NUMBERS.
The names it holds are checked where they are joined to the image folder (datasets/convert_folders.py).
"""
import collections
import io
from typing import NamedTuple

from core.errors import UserError
from core.files import FileRefused, read_bounded
from core.text import quote
from datasets.annotations import decode_text, label_key
from datasets.read_limits import MAX_CSV_BYTES

HEADER = ("image", "extension", "height", "width", "label_id", "label")
LEGACY_TRAILER = "nbre_images"
REBUILD_HINT = "delete it or pass --rebuild_csv to build it again from the annotations"
_NUMBERS = ("height", "width", "label_id")
CSV_NUMBERS = range(0, 2 ** 31)  # the values a height, width or label id may take

Row = collections.namedtuple("Row", "image extension height width label_id")


class CsvImage(NamedTuple):
    """One image of the CSV, its rows grouped: its size and its sorted 0-based label indexes."""

    height: int
    width: int
    labels: list


def pandas_module():
    """pandas, imported on first use: the scripts' --help does not load it."""
    import pandas

    return pandas


def write_csv(path, rows, classes):
    """Writes `rows` (Row tuples, label_id = N of the classes file) to `path` (overwriting it)."""
    frame = pandas_module().DataFrame(
        [(row.image, row.extension, int(row.height), int(row.width), int(row.label_id),
          classes[int(row.label_id) - 1]) for row in rows], columns=list(HEADER))
    with open(path, "w", encoding="utf-8", newline="") as handle:
        frame.to_csv(handle, index=False, lineterminator="\n")


def image_rows(image, extension, height, width, label_indexes):
    """The Rows of one image; `label_indexes` are 0-based indexes into the classes."""
    return [Row(image, extension, int(height), int(width), index + 1) for index in label_indexes]


def _table(path):
    """The cells of the CSV as a pandas DataFrame of strings, one row per line (blank lines included)."""
    pandas = pandas_module()
    try:
        text = decode_text(read_bounded(path, MAX_CSV_BYTES))
    except FileRefused as refused:
        raise UserError("cannot read CSV %s: %s (%s); %s" % (quote(path), refused.reason, refused.detail,
                                                             REBUILD_HINT))
    try:
        return pandas.read_csv(io.StringIO(text), header=None, dtype=str, na_filter=False, skip_blank_lines=False)
    except pandas.errors.EmptyDataError:
        return pandas.DataFrame(dtype=str)
    except (pandas.errors.ParserError, ValueError) as error:
        raise UserError("CSV %s is malformed (%s); %s" % (quote(path), quote(str(error).strip()), REBUILD_HINT))


def _columns(record):
    """How many cells a row really has: up to its last non-empty one."""
    filled = [index for index, cell in enumerate(record) if cell.strip()]
    return filled[-1] + 1 if filled else 0


def read_csv(path, classes):
    """The Row tuples of a CSV (this format or the original's), checked against `classes`.

    Raises UserError when the file is malformed or names label ids (or names) that `classes` does not
    hold, which happens when the classes file changed after the CSV was built.
    """
    table = _table(path)
    table.index = range(1, len(table) + 1)  # line numbers
    table = table[table.apply(lambda record: any(cell.strip() for cell in record), axis=1)] if len(table) else table
    header = [cell.strip().lower() for cell in table.iloc[0]] if len(table) else []
    if set(HEADER[:5]) <= set(header):  # columns by name, in any order (a file saved by pandas, say)
        table, expected = _named_columns(table, header), len(header)
    else:
        table, expected = _legacy_columns(path, table), 5
    if not len(table):
        raise UserError("CSV %s holds no image-label row; %s" % (quote(path), REBUILD_HINT))
    numbers = _whole_numbers(path, table, expected)
    extensions = table["extension"].str.strip().str.lstrip(".")
    empty = (table["image"] == "") | (extensions == "")
    if empty.any():
        raise UserError("CSV %s line %d has an empty image name or extension; %s"
                        % (quote(path), empty[empty].index[0], REBUILD_HINT))
    label_ids = numbers["label_id"]
    _check_labels(path, table, label_ids, classes)
    return [Row(image, extension, height, width, label_id) for image, extension, height, width, label_id
            in zip(table["image"], extensions, numbers["height"].tolist(), numbers["width"].tolist(),
                   label_ids.tolist())]


def _named_columns(table, header):
    """The rows under a header line, with the HEADER columns it names (other columns dropped)."""
    table = table.iloc[1:]
    present = [column for column in HEADER if column in header]
    table = table.iloc[:, [header.index(column) for column in present]]
    table.columns = present
    return table


def _legacy_columns(path, table):
    """The rows of the original's file: its five columns, without its `nbre_images` trailer."""
    if len(table) and table.iloc[-1, 0].strip().lower() == LEGACY_TRAILER:
        table = table.iloc[:-1]
    if len(table) and table.shape[1] < 5:
        raise UserError("CSV %s line %d has %d column(s), expected image,extension,height,width,label_id; %s"
                        % (quote(path), table.index[0], table.shape[1], REBUILD_HINT))
    table = table.iloc[:, :5]
    table.columns = list(HEADER[:5])
    return table


def _whole_numbers(path, table, expected):
    """{column: int64 Series} of the height, width and label_id columns; a UserError names the first line
    where one is missing (`expected` columns) or not a whole number."""
    pandas = pandas_module()
    short = table[table[list(_NUMBERS)].apply(lambda column: column.str.strip() == "").any(axis=1)]
    if len(short):
        line = short.index[0]
        raise UserError("CSV %s line %d has %d column(s), expected %d; %s"
                        % (quote(path), line, _columns(short.loc[line]), expected, REBUILD_HINT))
    numbers = {}
    for column in _NUMBERS:
        values = pandas.to_numeric(table[column].str.strip(), errors="coerce")
        bad = values.isna() | (values % 1 != 0)
        if bad.any():
            line = bad[bad].index[0]
            raise UserError("CSV %s line %d: %s %s is not a whole number; %s"
                            % (quote(path), line, column, quote(table.loc[line, column], 40), REBUILD_HINT))
        # Before the cast: 10**30 would wrap around to a negative int64.
        out = (values < CSV_NUMBERS.start) | (values >= CSV_NUMBERS.stop)
        if out.any():
            line = out[out].index[0]
            raise UserError("CSV %s line %d: %s %s is out of range (%d to %d); %s"
                            % (quote(path), line, column, quote(table.loc[line, column].strip(), 40),
                               CSV_NUMBERS.start, CSV_NUMBERS.stop - 1, REBUILD_HINT))
        numbers[column] = values.astype("int64")
    return numbers


def _check_labels(path, table, label_ids, classes):
    """A UserError when the CSV's label ids (or label names) are not those of `classes`."""
    out_of_range = label_ids[(label_ids < 1) | (label_ids > len(classes))]
    if len(out_of_range):
        ids = sorted(set(out_of_range.tolist()))
        raise UserError("CSV %s names label id(s) %s%s but the classes file holds ids 1 to %d: the CSV was built "
                        "with another classes file; pass --rebuild_csv to build it again for the current one"
                        % (quote(path), ", ".join(map(str, ids[:10])), ", ..." if len(ids) > 10 else "", len(classes)))
    if "label" in table.columns:
        keys = [label_key(classes[index - 1]) for index in label_ids]
        named = table["label"].map(label_key)
        bad_names = sorted({"%d:%s" % (index, quote(name.strip(), 60)) for index, name, key, given
                            in zip(label_ids, table["label"], keys, named) if key != given})
        if bad_names:
            raise UserError("CSV %s names %s%s where the classes file says otherwise: the CSV was built with "
                            "another classes file; pass --rebuild_csv to build it again for the current one"
                            % (quote(path), ", ".join(bad_names[:10]), ", ..." if len(bad_names) > 10 else ""))


def group_by_image(rows):
    """{(image, extension): CsvImage}, in first-appearance order."""
    images = {}
    for row in rows:
        image = images.setdefault((row.image, row.extension), CsvImage(row.height, row.width, []))
        if row.label_id - 1 not in image.labels:
            image.labels.append(row.label_id - 1)
    return {key: image._replace(labels=sorted(image.labels)) for key, image in images.items()}
