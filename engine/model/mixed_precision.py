"""Mixed precision training: compute in bfloat16 (CPU) or float16 (GPU), keep every variable in float32.

`--mixed_precision none|bf16|fp16`:
- The network runs inside a variable scope whose custom getter creates each variable the layers ask
  for in the compute dtype as a float32 variable (same name, same shape) and hands the layers a cast
  of it. Checkpoints, evaluation, export and fine-tuning therefore see exactly the variables of a
  float32 run. Batch norm already asks for float32 parameters (fused batch norm takes low precision
  inputs with float32 statistics), so they are left as they are.
- Images are cast to the compute dtype before the network; logits and every end point are cast back
  to float32, so losses, metrics and summaries are computed in float32.
- Weight decay is computed in float32 on the float32 variables, as Keras computes it: slim's layers apply
  their regularizer to what the getter hands them, the bf16 cast, where the sum of squares is a bf16
  number and its gradient, 4e-5 times the weights, is added to the weights' gradient in bf16 below the
  precision of the sum (on inception_v3 at 250 px a median 31% of it reached the variables, none for
  some layers). `float32_regularization` computes each such `scale * l2_loss(weights)` again on the
  float32 weights.
- fp16 (GPU only) multiplies the loss by a dynamic loss scale before differentiation and divides the
  gradients by it; a step whose gradients are not finite is skipped and halves the scale, and the scale
  doubles after `GROWTH_INTERVAL` finite steps in a row. bf16 has float32's exponent range and needs no
  scaling.

Two ways to compute in bfloat16, `BF16_METHODS`, chosen by `DEFAULT_BF16_METHOD` (bench/bench_training.py
and bench/bench_label_image.py time them against each other):
- "getter": the casting custom getter above builds the network in bfloat16;
- "grappler": the network stays float32 and TensorFlow's oneDNN grappler pass
  (`auto_mixed_precision_onednn_bfloat16`) rewrites the ops that oneDNN runs fast in bfloat16 when the
  session starts; the only way for a frozen (constant) graph, so label_image uses it;
- "both": the getter's graph, then the pass on what it left in float32.
`session_config(mode, method)` is the session configuration of a mode.

`check_support(mode)` says whether this machine can run a mode fast, and why not: bf16 needs a CPU with
AVX512_BF16 or AMX (TensorFlow's oneDNN bfloat16 kernels need AVX-512; elsewhere TensorFlow falls back
to emulated kernels many times slower than float32), fp16 needs a GPU.
"""
import functools

from core.compat import tf
from core.errors import UserError, first_line
from engine.config.options import MIXED_PRECISION_MODES

MODES = MIXED_PRECISION_MODES
BF16_METHODS = ("getter", "grappler", "both")
DEFAULT_BF16_METHOD = "getter"
COMPUTE_DTYPES = {"bf16": tf.bfloat16, "fp16": tf.float16}
# CPU flags (/proc/cpuinfo) with which oneDNN runs bfloat16 natively.
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
INITIAL_LOSS_SCALE = 2.0 ** 15
GROWTH_INTERVAL = 2000


def check_mode(mode):
    if mode not in MODES:
        raise UserError("unknown --mixed_precision %r; use one of %s" % (mode, ", ".join(MODES)))
    return mode


def compute_dtype(mode):
    """The dtype the network computes in: float32, bfloat16 or float16."""
    return COMPUTE_DTYPES.get(check_mode(mode), tf.float32)


def cpu_flags(cpuinfo_path="/proc/cpuinfo"):
    """The set of CPU feature flags of the first processor listed (empty when unreadable)."""
    try:
        with open(cpuinfo_path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags") and ":" in line:
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _onednn_enabled():
    try:
        from tensorflow.python.util import _pywrap_util_port
        if _pywrap_util_port.IsMklEnabled():
            return True
    except (ImportError, AttributeError):
        pass
    import os
    return os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1").strip().lower() not in ("0", "false")


def _tiny_conv_runs(dtype, device):
    """Runs a 3x3 convolution and its gradient in `dtype` and compares them with float32; returns None
    when they agree, otherwise what went wrong."""
    graph = tf.Graph()
    with graph.as_default(), tf.device(device):
        images = tf.Variable(tf.random.uniform([1, 8, 8, 4], seed=1))
        kernel = tf.Variable(tf.random.uniform([3, 3, 4, 4], seed=2))
        results = []
        for candidate in (tf.float32, dtype):
            output = tf.nn.conv2d(tf.cast(images, candidate), tf.cast(kernel, candidate), 1, "SAME")
            total = tf.reduce_sum(tf.cast(output, tf.float32))
            results.append((total, tf.gradients(total, [kernel])[0]))
    try:
        with tf.Session(graph=graph) as session:
            session.run(tf.variables_initializer([images, kernel]))
            (expected, _), (value, gradient) = session.run(results)
    except (tf.errors.OpError, ValueError, TypeError) as error:
        return first_line(error, 200)
    if gradient is None or abs(value - expected) > 0.02 * abs(expected):
        return "a %s convolution gave %r instead of %r" % (dtype.name, value, expected)
    return None


def check_support(mode, cpuinfo_path="/proc/cpuinfo"):
    """(supported, reason): whether `mode` runs natively here, with a sentence that says why."""
    check_mode(mode)
    if mode == "none":
        return True, "float32 compute"
    if mode == "fp16":
        gpus = tf.config.list_physical_devices("GPU")
        if not gpus:
            return False, ("fp16 needs a GPU and this machine has none; on a CPU use --mixed_precision bf16 "
                           "(CPUs with AVX512_BF16 or AMX) or none")
        failure = _tiny_conv_runs(tf.float16, "/gpu:0")
        if failure:
            return False, "a float16 convolution fails on the GPU (%s); use --mixed_precision none" % failure
        return True, "float16 compute on %d GPU(s) with dynamic loss scaling" % len(gpus)
    flags = cpu_flags(cpuinfo_path)
    found = sorted(flag for flag in BF16_CPU_FLAGS if flag in flags)
    if not found:
        return False, ("bf16 needs a CPU with AVX512_BF16 or AMX; this one has neither (flags %s), so "
                       "TensorFlow would emulate bfloat16 many times slower than float32. Use "
                       "--mixed_precision none" % ("with avx512f" if "avx512f" in flags else "without avx512"))
    if not _onednn_enabled():
        return False, ("bf16 needs TensorFlow's oneDNN kernels, which are off (TF_ENABLE_ONEDNN_OPTS=0); unset "
                       "it or use --mixed_precision none")
    failure = _tiny_conv_runs(tf.bfloat16, "/cpu:0")
    if failure:
        return False, "a bfloat16 convolution fails here (%s); use --mixed_precision none" % failure
    return True, "bfloat16 compute on the CPU (%s), float32 variables" % ", ".join(found)


def require_support(mode, cpuinfo_path="/proc/cpuinfo"):
    """The sentence describing `mode` on this machine; raises UserError where it is not supported."""
    supported, reason = check_support(mode, cpuinfo_path)
    if not supported:
        raise UserError("--mixed_precision %s is not supported here: %s" % (mode, reason))
    return reason


def _uses_getter(mode, method):
    return mode == "fp16" or (mode == "bf16" and (method or DEFAULT_BF16_METHOD) in ("getter", "both"))


def _uses_grappler(mode, method):
    return mode == "bf16" and (method or DEFAULT_BF16_METHOD) in ("grappler", "both")


def session_config(mode="none", method=None):
    """The tf.ConfigProto of a session computing in `mode`: with bf16 by the "grappler" or "both" method,
    TensorFlow's oneDNN bfloat16 rewrite is on."""
    check_mode(mode)
    if method is not None and method not in BF16_METHODS:
        raise UserError("unknown bf16 method %r; use one of %s" % (method, ", ".join(BF16_METHODS)))
    config = tf.ConfigProto()
    if _uses_grappler(mode, method):
        from tensorflow.core.protobuf import rewriter_config_pb2

        config.graph_options.rewrite_options.auto_mixed_precision_onednn_bfloat16 = (
            rewriter_config_pb2.RewriterConfig.ON)
    return config


def float32_variable_getter(dtype):
    """A variable-scope custom getter: variables asked for in `dtype` are created in float32 and handed
    to the caller as a cast to `dtype`; any other variable is returned as it is."""

    def getter(next_getter, name, *args, **kwargs):
        requested = kwargs.get("dtype")
        if requested is None or tf.as_dtype(requested).base_dtype != dtype:
            return next_getter(name, *args, **kwargs)
        kwargs["dtype"] = tf.float32
        variable = next_getter(name, *args, **kwargs)
        return tf.cast(variable, dtype, name=variable.op.name.split("/")[-1] + "/cast")

    return getter


def _device_type(tensor, mode):
    device = tf.DeviceSpec.from_string(tensor.device or "")
    if device.device_type:
        return device.device_type.upper()
    return "GPU" if mode == "fp16" and tf.config.list_physical_devices("GPU") else "CPU"


@functools.lru_cache(maxsize=None)
def _kernel_dtypes(op_type, device_type):
    """The dtypes `T` that a registered kernel of `op_type` takes on `device_type` (None: unconstrained)."""
    from tensorflow.python.framework import kernels

    allowed = set()
    for kernel in kernels.get_registered_kernels_for_op(op_type).kernel:
        if kernel.device_type != device_type:
            continue
        constraint = [c for c in kernel.constraint if c.name == "T"]
        if not constraint:
            return None
        allowed.update(constraint[0].allowed_values.list.type)
    return frozenset(allowed)


def ops_without_kernel(operations, dtype, device_type):
    """Sorted op types among `operations` computing in `dtype` that have no `device_type` kernel for it."""
    missing = set()
    for op in operations:
        try:
            op_dtype = op.get_attr("T")
        except ValueError:
            continue
        if op_dtype != dtype:
            continue
        allowed = _kernel_dtypes(op.type, device_type)
        if allowed is not None and dtype.as_datatype_enum not in allowed:
            missing.add(op.type)
    return sorted(missing)


def _to_float32(tensor):
    if isinstance(tensor, tf.Tensor) and tensor.dtype.is_floating and tensor.dtype != tf.float32:
        return tf.cast(tensor, tf.float32)
    return tensor


def float32_regularization(loss, weight_decay=None):
    """The regularization loss `loss` computed again in float32 when it is slim.l2_regularizer's
    `scale * l2_loss(cast(weights))` of float32 weights cast to a low precision dtype; `loss` itself
    otherwise. The scale is `weight_decay` (the network's) where the cast scale is its rounding, else the
    cast scale."""
    if loss.dtype == tf.float32 or loss.op.type != "Mul":
        return loss
    scale, l2 = loss.op.inputs
    if l2.op.type != "L2Loss":
        scale, l2 = l2, scale
    cast = l2.op.inputs[0] if l2.op.type == "L2Loss" else None
    value = tf.get_static_value(scale)
    if cast is None or cast.op.type != "Cast" or cast.op.inputs[0].dtype != tf.float32 or value is None:
        return loss
    value = float(value)
    if weight_decay and abs(value - weight_decay) <= 2.0 ** -7 * weight_decay:
        value = float(weight_decay)
    with tf.name_scope(loss.op.name + "_float32"):
        return tf.multiply(value, tf.nn.l2_loss(cast.op.inputs[0]), name="value")


def wrap_network_fn(network_fn, mode, method=None):
    """`network_fn` computing in the dtype of `mode` on float32 inputs, with float32 variables, logits and
    end points. Mode "none", and bf16 by the "grappler" method (the session rewrites the float32 graph),
    return `network_fn` itself."""
    dtype = compute_dtype(mode)
    if not _uses_getter(mode, method):
        return network_fn

    @functools.wraps(network_fn)
    def mixed_network_fn(images, *args, **kwargs):
        graph = tf.get_default_graph()
        first_op = len(graph.get_operations())
        regularization = tf.get_collection_ref(tf.GraphKeys.REGULARIZATION_LOSSES)
        first_loss = len(regularization)
        with tf.variable_scope(tf.get_variable_scope(), custom_getter=float32_variable_getter(dtype),
                               auxiliary_name_scope=False):
            logits, end_points = network_fn(tf.cast(images, dtype), *args, **kwargs)
        weight_decay = getattr(network_fn, "weight_decay", None)
        regularization[first_loss:] = [float32_regularization(loss, weight_decay)
                                       for loss in regularization[first_loss:]]
        missing = ops_without_kernel(graph.get_operations()[first_op:], dtype, _device_type(images, mode))
        if missing:
            raise UserError("%s uses %s, which TensorFlow cannot run in %s on this device; use "
                            "--mixed_precision none" % (getattr(network_fn, "model_name", "this network"),
                                                        ", ".join(missing), dtype.name))
        end_points = {name: _to_float32(tensor) for name, tensor in end_points.items()}
        return _to_float32(logits), end_points

    mixed_network_fn.mixed_precision = mode
    return mixed_network_fn


class DynamicLossScale:
    """Dynamic loss scaling for float16 gradients (see the module's docstring)."""

    def __init__(self, initial=INITIAL_LOSS_SCALE, growth_interval=GROWTH_INTERVAL):
        with tf.variable_scope("loss_scale"):
            # Local variables: checkpoints hold the same variables in every mode; a resumed run starts
            # again from the initial scale, which adapts within a few steps.
            self.scale = tf.get_variable("scale", initializer=tf.constant(float(initial)), trainable=False,
                                         collections=[tf.GraphKeys.LOCAL_VARIABLES])
            self.good_steps = tf.get_variable("good_steps", initializer=tf.constant(0, tf.int64),
                                              trainable=False, collections=[tf.GraphKeys.LOCAL_VARIABLES])
        self.growth_interval = growth_interval

    def compute_gradients(self, optimizer, loss, var_list):
        """(gradient, variable) pairs of `loss` computed on the scaled loss and divided back; also sets
        `self.finite`, true when every gradient is finite."""
        scaled = optimizer.compute_gradients(loss * self.scale, var_list=var_list)
        inverse = 1.0 / self.scale
        pairs = []
        for gradient, variable in scaled:
            if gradient is not None:
                if isinstance(gradient, tf.IndexedSlices):
                    gradient = tf.IndexedSlices(gradient.values * inverse, gradient.indices, gradient.dense_shape)
                else:
                    gradient = gradient * inverse
            pairs.append((gradient, variable))
        values = [g.values if isinstance(g, tf.IndexedSlices) else g for g, _ in pairs if g is not None]
        self.finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(value)) for value in values])
        return pairs

    def apply_gradients(self, optimizer, pairs, global_step):
        """Applies `pairs` when they are finite, otherwise only advances `global_step`; updates the scale."""

        def apply():
            return optimizer.apply_gradients(pairs, global_step=global_step)

        def skip():
            return tf.group(global_step.assign_add(1)) if global_step is not None else tf.no_op()

        step = tf.cond(self.finite, apply, skip)
        with tf.control_dependencies([step]):
            grow = tf.logical_and(self.finite, self.good_steps + 1 >= self.growth_interval)
            new_scale = tf.where(self.finite, tf.where(grow, self.scale * 2.0, self.scale),
                                 tf.maximum(self.scale * 0.5, 1.0))
            new_good = tf.where(tf.logical_and(self.finite, tf.logical_not(grow)), self.good_steps + 1,
                                tf.zeros_like(self.good_steps))
            return tf.group(self.scale.assign(new_scale), self.good_steps.assign(new_good))
