"""TensorBoard summaries of a training run, in two sets that a step computes only when it writes them:

- scalars: the losses, the learning rate and the sparsity of the end points, at every summary step;
- details: histograms of the end points and the variables, and a few input images. They cost the most on
  a large model; the step loop writes them within a share of the run's time (engine/training/summary_budget.py).

Each set is a `tf.cond` on the `level` fed to every step (NONE, SCALARS or DETAILS), so that every step
fetches the same tensors: TensorFlow prepares (prunes, optimizes, places) a graph once per set of fetches,
which takes seconds on inception_v3, and fetching the summaries at some steps only made it do so twice.

Histograms are TensorBoard's histogram tensors, as TensorFlow 2's `tf.summary.histogram` writes them: 30
buckets of equal width between the tensor's minimum and maximum, every value counted by
`tf.histogram_fixed_width` (TensorFlow 1's HistogramSummary op adds the values one by one into 1500
exponential buckets, about 10 times slower: 0.8 s a write on inception_v3). A histogram whose tensor holds
a NaN or an infinity stops the step with an error that `nonfinite_summary` names
naming the tensor and the step.
"""
import dataclasses
import re

from core.compat import slim, tf

ACTIVATIONS = "activations/"  # the tag prefix of the end points' histograms
NONE, SCALARS, DETAILS = 0, 1, 2  # the summary levels of a step
HISTOGRAM_BUCKETS = 30
HISTOGRAM_PLUGIN = "histograms"  # TensorBoard's plugin for histogram tensors
_NOT_FINITE = re.compile(r"summary of (\S+) is not finite : Tensor had (Inf and NaN|NaN|Inf) values")


@dataclasses.dataclass
class SummaryOps:
    """The summaries of the training graph: feed `{level: NONE | SCALARS | DETAILS}` and fetch `fetches`, a
    serialized Summary each (empty below its level)."""
    level: object  # int32 scalar placeholder, NONE when not fed
    scalars: object
    details: object

    @property
    def fetches(self):
        return [self.scalars, self.details]

    def feed(self, level):
        return {self.level: level}


def _loss_tag(loss, clone_scope):
    """`losses/NAME` for a loss op `[clone_0/]NAME/value` (tf.losses names its op `value`)."""
    name = loss.op.name
    if clone_scope and name.startswith(clone_scope + "/"):
        name = name[len(clone_scope) + 1:]
    if name.endswith("/value"):
        name = name[:-len("/value")]
    return "losses/" + name


def _scalar(tag, tensor):
    return tf.raw_ops.ScalarSummary(tags=tag, values=tf.cast(tensor, tf.float32))


def histogram_buckets(values, buckets=HISTOGRAM_BUCKETS):
    """float64 [buckets, 3]: (left edge, right edge, count) of `buckets` equal buckets from the minimum to the
    maximum of `values` (one unit wide when they are all equal); every value counted."""
    values = tf.reshape(tf.cast(values, tf.float32), [-1])
    low, high = tf.reduce_min(values), tf.reduce_max(values)
    width = tf.where(high > low, high - low, tf.ones_like(low))
    counts = tf.histogram_fixed_width(values, tf.stack([low, low + width]), nbins=buckets)
    edges = (tf.cast(low, tf.float64)
             + tf.cast(width, tf.float64) * tf.range(buckets + 1, dtype=tf.float64) / buckets)
    return tf.stack([edges[:-1], edges[1:], tf.cast(counts, tf.float64)], axis=1)


def _histogram(tag, tensor):
    """The histogram summary of `tensor` under `tag`; its step fails on a NaN or an infinity, naming the tag."""
    checked = tf.debugging.check_numerics(tf.cast(tensor, tf.float32), "summary of %s is not finite" % tag)
    metadata = tf.SummaryMetadata(plugin_data=tf.SummaryMetadata.PluginData(plugin_name=HISTOGRAM_PLUGIN))
    return tf.raw_ops.TensorSummaryV2(tag=tag, tensor=histogram_buckets(checked),
                                      serialized_summary_metadata=metadata.SerializeToString())


def _when(level, at_least, make_summaries):
    """The merged summaries `make_summaries()` returns, computed only when `level >= at_least`; else ""."""
    return tf.cond(level >= at_least, lambda: tf.summary.merge(make_summaries()), lambda: tf.constant(""))


def add_summaries(end_points, clone_scope, images, total_loss, learning_rate):
    """The SummaryOps of training: losses, learning rate and end point sparsity (scalars); end point and
    variable histograms and input images (details).

    The summary ops are made with their tags given whole (tf.summary.scalar would derive each tag from a
    name scope, which TensorFlow renames `total_loss_1` when an op of that name exists): `total_loss`,
    `losses/loss`, `losses/aux_loss`, `losses/regularization_loss`, `learning_rate`, ..."""
    losses = tf.get_collection(tf.GraphKeys.LOSSES, clone_scope or None)
    regularization = tf.losses.get_regularization_losses()
    variables = [v for v in slim.get_model_variables() if v.shape.num_elements()]

    def scalars():
        found = [_scalar("total_loss", total_loss), _scalar("learning_rate", learning_rate)]
        found += [_scalar(_loss_tag(loss, clone_scope), loss) for loss in losses]
        if regularization:
            found.append(_scalar("losses/regularization_loss",
                                 tf.add_n([tf.cast(loss, tf.float32) for loss in regularization])))
        found += [_scalar("sparsity/" + name, tf.nn.zero_fraction(tensor)) for name, tensor in end_points.items()]
        return found

    def details():
        found = [_histogram(ACTIVATIONS + name, tensor) for name, tensor in end_points.items()]
        found += [_histogram(variable.op.name, variable) for variable in variables]
        found.append(tf.raw_ops.ImageSummary(tag="images", tensor=tf.cast(images, tf.float32), max_images=3))
        return found

    with tf.name_scope("summaries"):
        level = tf.placeholder_with_default(tf.constant(NONE), [], name="level")
        return SummaryOps(level, _when(level, SCALARS, scalars), _when(level, DETAILS, details))


def nonfinite_summary(error):
    """What a histogram's refusal of a NaN or an infinity (an InvalidArgumentError of its CheckNumerics op)
    says about the run: "the variable X holds NaN values (TensorBoard summary 'X')". None for any other
    error."""
    found = _NOT_FINITE.search(getattr(error, "message", None) or str(error))
    if not isinstance(error, tf.errors.InvalidArgumentError) or not found:
        return None
    tag = found.group(1)
    what = ("the end point %s of the network" % tag[len(ACTIVATIONS):] if tag.startswith(ACTIVATIONS)
            else "the variable %s" % tag)
    return "%s holds %s values (TensorBoard summary %r)" % (what, "NaN" if "NaN" in found.group(2) else "infinite",
                                                            tag)
