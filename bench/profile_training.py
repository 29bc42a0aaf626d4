"""Where the time of a training step goes: TensorFlow's per-op step statistics of a few traced steps, summed
by kind of op, and with --onednn the oneDNN primitives those ops ran (convolutions, batch norm, element-wise,
pooling, and the reorders that convert data layouts), each with its implementation (`brg:avx512_core_amx`
on a CPU with AMX, `avx512_core_bf16` on one with AVX512_BF16 only).

    python -m bench.profile_training                          # inception_v3 at 250, batch 8, bf16 where supported
    python -m bench.profile_training --mixed_precision none --onednn

The step is bench/bench_training.py's (the real training graph and TFRecord pipeline, generated faces).
Op times are the sum of each op's own time: with several threads they add up to more than the step's wall
time, so the shares say where the work is, not what waits for what. oneDNN times come from
ONEDNN_VERBOSE=1, in a child process, over the same number of steps after the warm-up.
"""
import argparse
import collections
import os
import re
import statistics
import subprocess
import sys
import time

from bench import common

MARK = "== profiled steps"
# The kind of each TensorFlow op type, by the first pattern its name matches (oneDNN's _Mkl* ops included).
KINDS = (
    ("convolutions", r"Conv2D|Conv3D|MatMul|Depthwise"),
    ("batch norm", r"BatchNorm"),
    ("pooling, concat, copies", r"Pool|Concat|Slice|Split|Transpose|Reshape|Pad|Squeeze|Identity|ToTf|Conversion"),
    ("optimizer and moving averages", r"^ResourceApply|^Apply|Assign|ReadVariable"),
    ("input pipeline", r"Iterator"),
    ("element-wise and reductions", r"."),
)


def kind_of(op_type):
    return next(kind for kind, pattern in KINDS if re.search(pattern, op_type))


def op_seconds(step_stats):
    """{op type: seconds} of one traced step (RunMetadata.step_stats), every device and thread."""
    seconds = collections.Counter()
    for device in step_stats.dev_stats:
        for node in device.node_stats:
            match = re.search(r"= ([\w.]+)\(", node.timeline_label)
            if match:
                seconds[match.group(1)] += node.all_end_rel_micros / 1e6
    return seconds


def onednn_seconds(lines):
    """{(primitive kind, implementation): (calls, seconds)} of ONEDNN_VERBOSE `exec` lines."""
    found = collections.defaultdict(lambda: [0, 0.0])
    for line in lines:
        fields = line.strip().split(",")
        if len(fields) > 6 and fields[0] == "onednn_verbose" and "exec" in fields[1:4]:
            start = fields.index("exec")  # onednn_verbose[,v1,primitive],exec,cpu,KIND,IMPLEMENTATION,...,ms
            kind, implementation = fields[start + 2], fields[start + 3]
            found[(kind, implementation)][0] += 1
            found[(kind, implementation)][1] += float(fields[-1]) / 1e3
    return found


def profile(mode, steps, warmup, model_name="inception_v3", image_size=250, batch_size=8, onednn=False):
    """Traces `steps` training steps after `warmup`: {"step_seconds", "op_seconds", "kind_seconds"}."""
    from bench.bench_training import OurTraining
    from core.compat import tf

    with common.face_tfrecord(200, image_size) as tfrecord:
        label_mode, num_images = common.label_mode_of(tfrecord)
        settings = common.settings_for(model_name, image_size, tfrecord, label_mode=label_mode)
        training = OurTraining(settings, label_mode, num_images, batch_size, mode)
        for _ in range(warmup):
            training.step()
        print(MARK, flush=True)
        wall, seconds = [], collections.Counter()
        for _ in range(steps):
            metadata = tf.RunMetadata()
            started = time.perf_counter()
            training.session.run(training.ops.train_op, options=tf.RunOptions(
                trace_level=tf.RunOptions.FULL_TRACE if not onednn else tf.RunOptions.NO_TRACE),
                run_metadata=metadata)
            wall.append(time.perf_counter() - started)
            seconds.update(op_seconds(metadata.step_stats))
        print(MARK, flush=True)
        training.close()
    kinds = collections.Counter()
    for op_type, value in seconds.items():
        kinds[kind_of(op_type)] += value / steps
    return {"step_seconds": statistics.median(wall), "op_seconds": {k: v / steps for k, v in seconds.items()},
            "kind_seconds": dict(kinds)}


def print_shares(title, seconds, top=None):
    total = sum(seconds.values()) or 1.0
    print(title)
    for name, value in sorted(seconds.items(), key=lambda item: -item[1])[:top]:
        print("  %-60s %8.1f ms  %5.1f%%" % (name, 1e3 * value, 100 * value / total))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mixed_precision", choices=("none", "bf16"), default=None,
                        help="default: bf16 where this CPU runs it, else none")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--model_name", default="inception_v3")
    parser.add_argument("--image_size", type=int, default=250)
    parser.add_argument("--onednn", action="store_true", help="also the oneDNN primitives (a child process)")
    parser.add_argument("--_child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    from engine.model import mixed_precision

    mode = args.mixed_precision or ("bf16" if mixed_precision.check_support("bf16")[0] else "none")
    result = profile(mode, args.steps, args.warmup, args.model_name, args.image_size, onednn=args._child)
    if args._child:
        return 0
    print("%s %dpx batch 8, %s: median step %.3f s (traced)" % (args.model_name, args.image_size, mode,
                                                                 result["step_seconds"]))
    print_shares("TensorFlow op time per step, by kind:", result["kind_seconds"])
    print_shares("the 12 costliest op types:", result["op_seconds"], top=12)
    if args.onednn:
        command = [sys.executable, "-m", "bench.profile_training", "--_child", "--mixed_precision", mode,
                   "--steps", str(args.steps), "--warmup", str(args.warmup), "--model_name", args.model_name,
                   "--image_size", str(args.image_size)]
        output = subprocess.run(command, capture_output=True, text=True, cwd=common.ROOT, check=True,
                                env=dict(os.environ, ONEDNN_VERBOSE="1")).stdout.splitlines()
        marks = [index for index, line in enumerate(output) if line.startswith(MARK)]
        found = onednn_seconds(output[marks[0]:marks[1]])
        print_shares("oneDNN primitives per step, by kind and implementation (calls per step):",
                     {"%s %s (%d)" % (kind, impl, calls // args.steps): value / args.steps
                      for (kind, impl), (calls, value) in found.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
