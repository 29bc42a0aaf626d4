"""What an evaluation writes into its --eval_dir: metrics.json and metrics.csv (atomically), thresholds.json for
a multi-label model whose thresholds were chosen, and TensorBoard events (scalars, the confusion matrix as an
image, one per attribute group for a grouped model, precision-recall curves)."""
import io
import os

import numpy as np

from core import atomic_files, events
from core.compat import tf
from core.errors import UserError, write_failure
from core.text import quote
from engine.config.run_config import THRESHOLDS_NAME
from engine.evaluation import metrics as metrics_module

METRICS_NAME = "metrics.json"
METRICS_TABLE_NAME = "metrics.csv"  # the per-class (per-label) rows of metrics.json, beside it
PR_THRESHOLDS = 101  # thresholds of the precision-recall curves (TensorBoard's pr_curves plugin)


def confusion_image(confusion):
    """A PNG heat map of the confusion matrix, one square per cell, rows are true classes."""
    from PIL import Image

    matrix = np.asarray(confusion, dtype=np.float64)
    rows = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    cell = max(4, 256 // max(1, len(matrix)))
    pixels = (255 * (1 - rows)).astype(np.uint8).repeat(cell, axis=0).repeat(cell, axis=1)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "L").convert("RGB").save(buffer, "PNG")
    return buffer.getvalue(), pixels.shape


def pr_curve_values(probabilities, labels, class_names):
    """TensorBoard pr_curves plugin summary values, one curve per class (single-label: that class against
    the others, by its softmax probability) or per label (multi-label: by its sigmoid), tagged
    `eval/pr_curve/NAME/pr_curves`."""
    from tensorboard.plugins.pr_curve import summary as pr_curve_summary

    values = []
    for index, name in enumerate(class_names):
        summary = pr_curve_summary.pb("eval/pr_curve/%s" % name, labels[:, index] >= 0.5,
                                      np.clip(probabilities[:, index], 0.0, 1.0).astype(np.float32),
                                      num_thresholds=PR_THRESHOLDS)
        values.extend(summary.value)
    return values


def write_results(eval_dir, result, step, checkpoint, label_mode, predictions=None):
    """Scalars, the confusion images and, given `predictions` (probabilities, labels), precision-recall
    curves in `eval_dir` at `step`; metrics.json, metrics.csv and the chosen thresholds (thresholds.json)
    written atomically."""
    os.makedirs(eval_dir, exist_ok=True)
    values = [tf.Summary.Value(tag=tag, simple_value=value)
              for tag, value in sorted(metrics_module.scalars(result).items())]
    confusions = [("eval/confusion_matrix", result["confusion_matrix"])] if "confusion_matrix" in result else []
    confusions += [("eval/confusion_matrix/%s" % name, entry["confusion_matrix"])
                   for name, entry in result.get("per_group", {}).items()]
    for tag, confusion in confusions:
        png, shape = confusion_image(confusion)
        values.append(tf.Summary.Value(tag=tag, image=tf.Summary.Image(
            height=shape[0], width=shape[1], colorspace=3, encoded_image_string=png)))
    if predictions is not None:
        names = list(result.get("per_class") or result.get("per_label"))
        values.extend(pr_curve_values(predictions[0], predictions[1], names))
    with tf.Graph().as_default():
        writer = events.EventsWriter(eval_dir)
        writer.add_summary(tf.Summary(value=values), step)
        writer.close()
    report = dict(result, global_step=step, checkpoint=checkpoint, label_mode=label_mode)
    path = _write_json(os.path.join(eval_dir, METRICS_NAME), report)
    if result.get("thresholds"):
        chosen = result["thresholds"]
        _write_json(os.path.join(eval_dir, THRESHOLDS_NAME), {
            "criterion": chosen["criterion"], "split": chosen["split"], "num_images": chosen["num_images"],
            "global_step": step, "checkpoint": checkpoint, "thresholds": chosen["values"]})
    table_path = os.path.join(eval_dir, METRICS_TABLE_NAME)
    try:
        with atomic_files.replacing(table_path) as temporary:
            metrics_module.per_class_table(result).to_csv(temporary, index=False, float_format="%.6g")
    except OSError as error:
        raise _cannot_write(table_path, error)
    return path


def _write_json(path, value):
    try:
        atomic_files.write_json(path, value)
    except OSError as error:
        raise _cannot_write(path, error)
    return path


def _cannot_write(path, error):
    return UserError("cannot write %s %s The previous %s, if any, is unchanged"
                     % (quote(path), write_failure(error), os.path.basename(path)))
