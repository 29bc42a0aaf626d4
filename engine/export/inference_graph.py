"""The inference graph: a float32 `input` placeholder, one network in inference mode, one output node.

`build_inference_graph` returns a GraphDef that TensorFlow's own freeze_graph tool accepts:
- its variables are reference variables (VariableV2): freeze_graph's Saver fails on resource
  variables (IndexError in saveable_object_util, tensorflow#24591);
- the output node is the network's `ModelSpec.output_node` in every label mode, [batch, num_classes]:
  for multi-label models the softmax output is dropped and the sigmoid of the logits takes its name, for
  grouped ones the softmax of each attribute group's logits, side by side in class order
  (engine/model/outputs.py, which evaluation computes too);
- what label_image needs to use the graph right (input and output names, image size, the evaluation
  preprocessing, class names, label mode, a grouped model's groups, a multi-label model's chosen
  thresholds) is a JSON string Const, `METADATA_NODE`, made a control
  input ('^export_metadata') of the output node, so freeze_graph (which keeps only the ancestors of
  the output nodes) keeps it too. engine.model.graph_metadata reads it back.

`freeze` does what freeze_graph does, restoring the variables from a checkpoint and turning them into
constants. Files are written under a temporary name and renamed, so an interrupted export leaves
nothing under the final name.
"""
import dataclasses
import json
import os
import warnings

from core import atomic_files
from core.compat import tf
from core.errors import UserError
from datasets import label_groups, label_modes
from engine.config.settings import check_labels_offset
from engine.model import checkpoints, finite, outputs
from engine.model.graph_metadata import INPUT_NODE, METADATA_FORMAT, METADATA_NODE
from nets import nets_factory
from preprocessing import preprocessing_factory

_PROBABILITIES_NODE = "label_mode_probabilities"  # renamed to the output node once the softmax is dropped


@dataclasses.dataclass
class ExportSpec:
    """What to export: a network, its input size and batch, its classes and label mode."""
    model_name: str
    image_size: int
    classes: list  # output i is classes[labels_offset + i]
    label_mode: str = label_modes.SINGLE
    labels_offset: int = 0
    batch_size: int = None  # None: any batch
    preprocessing_name: str = None  # None: the network's
    use_grayscale: bool = False
    is_training: bool = False
    mixed_precision: str = "none"  # how training computed; label_image runs a recorded bf16 where it can
    label_groups: tuple = ()  # a grouped model's groups (datasets.label_groups.LabelGroup)
    thresholds: dict = None  # a multi-label model's chosen thresholds: {"criterion", "values": [per output]}

    @property
    def num_classes(self):
        return len(self.classes) - self.labels_offset

    def group_indexes(self):
        return label_groups.group_indexes(self.label_groups, list(self.classes[self.labels_offset:]))

    @property
    def output_node(self):
        return nets_factory.get_spec(self.model_name).output_node


def metadata(spec):
    """The JSON-ready description of an exported graph that label_image reads."""
    preprocessing_name = spec.preprocessing_name or nets_factory.get_spec(spec.model_name).preprocessing_name
    meta = {
        "format": METADATA_FORMAT,
        "input_node": INPUT_NODE,
        "output_node": spec.output_node,
        "model_name": spec.model_name,
        "image_size": spec.image_size,
        "batch_size": spec.batch_size,
        "preprocessing_name": preprocessing_name,
        "preprocessing": preprocessing_factory.get_eval_description(preprocessing_name),
        "use_grayscale": bool(spec.use_grayscale),
        "label_mode": spec.label_mode,
        "labels_offset": spec.labels_offset,
        "classes": list(spec.classes[spec.labels_offset:]),
        "is_training": bool(spec.is_training),
        "mixed_precision": spec.mixed_precision,
    }
    if spec.label_mode == label_modes.GROUPED:
        meta["label_groups"] = [dict(record, indexes=indexes) for record, indexes in zip(
            label_groups.to_records(spec.label_groups), spec.group_indexes())]
    if spec.thresholds:
        meta["thresholds"] = [float(value) for value in spec.thresholds["values"]]
        meta["threshold_criterion"] = spec.thresholds["criterion"]
    return meta


def _check(spec):
    if spec.label_mode not in label_modes.LABEL_MODES:
        raise UserError("--label_mode %r is not valid; use single (softmax), multi (sigmoid per class) or grouped "
                        "(softmax per attribute group)" % spec.label_mode)
    if spec.label_mode == label_modes.GROUPED:
        if not spec.label_groups:
            raise UserError("a grouped model needs its attribute groups: export with --checkpoint_path of its "
                            "training run, or declare them in the classes file (`N:name:group` lines)")
        spec.group_indexes()  # every class of the groups is one of the model's
    nets_factory.check_image_size(spec.model_name, spec.image_size)
    if spec.batch_size is not None and spec.batch_size < 1:
        raise UserError("--batch_size %d must be at least 1 (or left unset for any batch size)"
                        % spec.batch_size)
    check_labels_offset(spec.labels_offset, spec.classes)


def _build(spec):
    """The graph in the current default graph; returns (logits, softmax output tensor)."""
    images = tf.placeholder(tf.float32, [spec.batch_size, spec.image_size, spec.image_size, 3],
                            name=INPUT_NODE)
    network_fn = nets_factory.get_network_fn(spec.model_name, spec.num_classes,
                                             is_training=spec.is_training)
    # Reference variables, whatever TF 2's default: freeze_graph cannot restore resource variables.
    with tf.variable_scope(tf.get_variable_scope(), use_resource=False), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*is deprecated and will be removed.*")
        logits, end_points = network_fn(images)
    predictions = nets_factory.predictions_end_point(end_points)
    if predictions.op.name != spec.output_node:
        raise ValueError("%s: the softmax output is %r but its ModelSpec says output_node=%r"
                         % (spec.model_name, predictions.op.name, spec.output_node))
    return logits, predictions


def _input_names(node):
    return [name.lstrip("^").split(":")[0] for name in node.input]


def _drop_softmax(nodes, output_node):
    """Removes `output_node` and those of its ancestors that nothing else uses any more (the softmax);
    the logits, variables and their initializers stay."""
    by_name = {node.name: node for node in nodes}
    ancestors, pending = set(), [output_node]
    while pending:
        for name in _input_names(by_name[pending.pop()]):
            if name not in ancestors and name in by_name:
                ancestors.add(name)
                pending.append(name)
    removed = {output_node}
    while True:
        kept = [node for node in nodes if node.name not in removed]
        consumed = {name for node in kept for name in _input_names(node)}
        unused = {name for name in ancestors - removed if name not in consumed}
        if not unused:
            return kept
        removed |= unused


def build_inference_graph(spec):
    """The GraphDef of `spec`'s network in inference mode, with the metadata Const (see module doc)."""
    _check(spec)
    graph = tf.Graph()
    with graph.as_default():
        logits, _ = _build(spec)
        if spec.label_mode == label_modes.MULTI:
            outputs.probabilities(logits, spec.label_mode, name=_PROBABILITIES_NODE)
        elif spec.label_mode == label_modes.GROUPED:
            outputs.probabilities(tf.reshape(logits, [-1, spec.num_classes]), spec.label_mode, spec.group_indexes(),
                                  name=_PROBABILITIES_NODE)
        tf.constant(json.dumps(metadata(spec), sort_keys=True), dtype=tf.string, name=METADATA_NODE)
    graph_def = graph.as_graph_def()
    nodes = list(graph_def.node)
    if spec.label_mode != label_modes.SINGLE:
        nodes = _drop_softmax(nodes, spec.output_node)
        for node in nodes:
            if node.name == _PROBABILITIES_NODE:
                node.name = spec.output_node
    for node in nodes:
        if node.name == spec.output_node:
            node.input.append("^" + METADATA_NODE)
    del graph_def.node[:]
    graph_def.node.extend(nodes)
    return graph_def


def freeze(graph_def, checkpoint, output_nodes, use_moving_averages=False):
    """`graph_def` with its variables restored from `checkpoint` as constants, pruned to the ancestors
    of `output_nodes`: TensorFlow's freeze_graph, done in-process (plus the moving averages option). A UserError
    when the checkpoint does not read back whole, or holds NaN or infinity."""
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
        variables = [graph.get_tensor_by_name(node.name + ":0") for node in graph_def.node
                     if node.op in ("VariableV2", "Variable")]
        try:
            names = checkpoints.restore_names(variables, checkpoints.checkpoint_shapes(checkpoint),
                                              use_moving_averages)
            checkpoints.check_fits(checkpoint, names, "this graph")
            saver = tf.train.Saver(names)
            finite_check = finite.FiniteCheck(variables)
            with tf.Session(graph=graph) as session:
                checkpoints.restore(saver, session, checkpoint)
                bad = finite_check.non_finite(session)
                if bad:
                    raise UserError("checkpoint %r holds %s: the training that wrote it diverged, and the model "
                                    "would predict nothing meaningful. Export an earlier checkpoint "
                                    "(--checkpoint_path %s), or train again with a lower --learning_rate"
                                    % (checkpoint, finite.describe(bad), os.path.join(
                                        os.path.dirname(checkpoint), "model.ckpt-STEP")))
                return tf.graph_util.convert_variables_to_constants(session, graph_def, list(output_nodes))
        except checkpoints.DamagedCheckpoint as error:
            raise error.with_advice() from None


def write_graph(graph_def, path):
    """Writes a binary GraphDef atomically (temporary name, then rename)."""
    try:
        return atomic_files.write_bytes(path, graph_def.SerializeToString(deterministic=True))
    except OSError as error:
        raise UserError("cannot write %r (%s); choose another output path" % (path, error))
