"""What the benchmarks share: the generated face TFRecord, fixed batches read from it, timing loops,
peak memory of a child process, and the rows of the results table.

A row is a dict: `benchmark`, `measure`, `ours` and `baseline` (numbers, either may be None), `unit`,
`ratio` (ours / baseline), `target` (a string such as ">= 1.05" or "<= 0.8", applied to the ratio, or to
`ours` itself when there is no baseline), `met` (None when there is no target or no figure) and `note`.
"""
import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from datasets import label_modes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLASSES_FILE = os.path.join(ROOT, "labels", "liste_labels.txt")


def smoke_main(run, description, smoke_help, argv=None):
    """The command line of one benchmark module: `--smoke` runs `run(smoke=True)`; prints its JSON."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help=smoke_help)
    args = parser.parse_args(argv)
    print(json.dumps(run(smoke=args.smoke), indent=2))
    return 0


def row(benchmark, measure, ours, baseline=None, unit="images/s", target=None, at_most=False, note=""):
    """A table row; `target` is the least ratio (or, `at_most`, the largest) the issue asks for."""
    ratio = ours / baseline if ours is not None and baseline else None
    checked = ratio if baseline is not None else ours
    met = None
    if target is not None and checked is not None:
        met = bool(checked <= target if at_most else checked >= target)
    return {
        "benchmark": benchmark, "measure": measure, "unit": unit,
        "ours": None if ours is None else round(float(ours), 3),
        "baseline": None if baseline is None else round(float(baseline), 3),
        "ratio": None if ratio is None else round(ratio, 3),
        "target": None if target is None else "%s %g" % ("<=" if at_most else ">=", target),
        "met": met, "note": note,
    }


@contextlib.contextmanager
def face_tfrecord(count, size, seed=0):
    """Yields the path of a TFRecord of `count` generated faces of `size` px, built by the real scripts
    (datasets.demo_faces + download_and_convert_data), and its classes file."""
    import download_and_convert_data
    from datasets import demo_faces

    with tempfile.TemporaryDirectory(prefix="bench_faces_") as root:
        demo_faces.generate(root, count, size=size, seed=seed, log=lambda *_: None)
        tfrecord = os.path.join(root, "faces.tfrecord")
        with contextlib.redirect_stdout(open(os.devnull, "w")):
            code = download_and_convert_data.main([
                "--image_dir", os.path.join(root, demo_faces.IMAGES_DIR),
                "--labels_dir", os.path.join(root, demo_faces.ANNOTATIONS_DIR),
                "--chemin_csv", os.path.join(root, "labels.csv"), "--chemin_tfrecords", tfrecord,
                "--classes", CLASSES_FILE])
        if code:
            raise RuntimeError("download_and_convert_data failed with code %s" % code)
        yield tfrecord


# The classes of labels/liste_labels.txt, for graphs built without reading it.
CLASSES = ["homme", "femme", "yeux_ronds", "yeux_amandes", "nez_rond", "nez_pointu", "visage_rond",
           "visage_carre", "jeune", "age_moyen", "vieux"]


def random_frozen_graph(model_name, image_size, label_mode="single"):
    """(frozen GraphDef of `model_name` with random weights, its metadata): what export_inference_graph.py
    writes, without a checkpoint (the benchmarks time it, they need no trained weights)."""
    from core.compat import tf
    from engine.export import inference_graph

    spec = inference_graph.ExportSpec(model_name, image_size, CLASSES, label_mode=label_mode)
    graph_def = inference_graph.build_inference_graph(spec)
    graph = tf.Graph()
    with graph.as_default():
        tf.import_graph_def(graph_def, name="")
        with tf.Session(graph=graph) as session:
            session.run([op for op in graph.get_operations() if op.type == "Assign"])
            frozen = tf.graph_util.convert_variables_to_constants(session, graph_def, [spec.output_node])
    return frozen, inference_graph.metadata(spec)


def settings_for(model_name, image_size, tfrecord, validation_percentage=25.0, label_mode=label_modes.AUTO):
    from datasets.classes_file import read_classes
    from engine.config.settings import Settings
    from nets import nets_factory

    return Settings(model_name=model_name, image_size=image_size,
                    preprocessing_name=nets_factory.get_spec(model_name).preprocessing_name, use_grayscale=False,
                    tfrecord_file=tfrecord, classes_file=CLASSES_FILE,
                    classes=read_classes(CLASSES_FILE), validation_percentage=validation_percentage, val_percentage=0.0,
                    labels_offset=0, label_mode=label_mode)


def label_mode_of(tfrecord, split="train", validation_percentage=25.0):
    from datasets import tfrecord_stats

    stats = tfrecord_stats.scan(tfrecord, split, validation_percentage)
    return label_modes.decide(label_modes.AUTO, stats["max_labels_per_image"]), stats["num_images"]


def preprocessed_arrays(settings, count, is_training):
    """(images float32 [count, size, size, 3], labels float32 [count, classes]): the first `count`
    images of the train split through the training (or evaluation) preprocessing, as numpy arrays."""
    from core.compat import tf
    from datasets.input_pipeline import PipelineOptions, build_dataset
    from preprocessing import preprocessing_factory

    with tf.Graph().as_default():
        preprocess = preprocessing_factory.get_preprocessing(settings.preprocessing_name, is_training=is_training)
        dataset = build_dataset(settings.tfrecord_file, "all", settings.num_classes, preprocess,
                                settings.image_size, count, is_training=False,
                                options=PipelineOptions(validation_percentage=0))
        batch = tf.data.make_one_shot_iterator(dataset).get_next()
        with tf.Session() as session:
            values = session.run(batch)
    if len(values["images"]) < count:
        repeat = -(-count // len(values["images"]))
        values = {key: np.concatenate([value] * repeat)[:count] for key, value in values.items()}
    return values["images"], values["labels"]


def rate_of_rounds(step_fn, steps, rounds, batch_size):
    """Images/s of `step_fn` (one training or inference step): the median over `rounds` of `steps` steps."""
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(steps):
            step_fn()
        rates.append(steps * batch_size / (time.perf_counter() - start))
    return statistics.median(rates), rates


def step_seconds(step_fn, steps):
    """The seconds of each of `steps` calls of `step_fn`."""
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step_fn()
        times.append(time.perf_counter() - start)
    return times


def alternating_medians(functions, rounds, warmup, repeats=1):
    """{name: median seconds} of each function in `functions` ({name: fn}), timed in `rounds` alternating
    rounds of `repeats` calls each, after `warmup` calls of each."""
    for function in functions.values():
        for _ in range(warmup):
            function()
    times = {name: [] for name in functions}
    for _ in range(rounds):
        for name, function in functions.items():
            start = time.perf_counter()
            for _ in range(repeats):
                function()
            times[name].append((time.perf_counter() - start) / repeats)
    return {name: statistics.median(values) for name, values in times.items()}, times


def median_seconds(function, repeats):
    return statistics.median(step_seconds(function, repeats))


def child_peak_memory(argv, env=None, timeout=1800):
    """(exit code, peak resident memory in MiB, wall seconds) of `python argv...` run from the project root."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable] + list(argv), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        _, status, usage = os.wait4(process.pid, 0)
    except BaseException:
        process.kill()
        raise
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode("utf-8", "replace")
    process.stderr.close()
    if process.returncode:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), process.returncode, stderr[-2000:]))
    # ru_maxrss is in KiB on Linux.
    return process.returncode, usage.ru_maxrss / 1024.0, time.perf_counter() - start


def quiet_keras():
    """Imports Keras 3 with TensorFlow's start-up chatter hidden, as core.compat does."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import core.compat  # noqa: F401  isort: skip (TensorFlow imported quietly first)
    import keras  # isort: skip

    return keras


KERAS_APPLICATIONS = {
    # our model name -> (keras.applications class name, its keyword arguments)
    "inception_v3": ("InceptionV3", {}),
    "mobilenet_v1": ("MobileNet", {}),
    "mobilenet_v1_025": ("MobileNet", {"alpha": 0.25}),
    "mobilenet_v2": ("MobileNetV2", {}),
    "resnet_v1_50": ("ResNet50", {}),
}


def keras_model(keras, model_name, image_size, num_classes, label_mode, learning_rate=0.01):
    """The keras.applications counterpart of `model_name` (random weights), compiled with research/slim's
    default optimizer (RMSProp, decay 0.9, momentum 0.9, epsilon 1.0) and the loss our training uses for
    `label_mode`; Keras's own defaults otherwise (jit_compile="auto")."""
    class_name, kwargs = KERAS_APPLICATIONS[model_name]
    model = getattr(keras.applications, class_name)(
        weights=None, input_shape=(image_size, image_size, 3), classes=num_classes,
        classifier_activation="softmax" if label_mode == label_modes.SINGLE else "sigmoid", **kwargs)
    loss = "categorical_crossentropy" if label_mode == label_modes.SINGLE else "binary_crossentropy"
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate, rho=0.9, momentum=0.9,
                                                     epsilon=1.0), loss=loss)
    return model


def take_cyclic(array, count):
    """The first `count` rows of `array` repeated as often as needed."""
    repeat = -(-count // len(array))
    return np.concatenate([array] * repeat)[:count] if repeat > 1 else array[:count]


class BatchClock:
    """A Keras callback recording the time at the end of every batch."""

    def __new__(cls, keras):
        class _Clock(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.times = []

            def on_train_batch_end(self, batch, logs=None):
                self.times.append(time.perf_counter())

            on_test_batch_end = on_train_batch_end
            on_predict_batch_end = on_train_batch_end

        return _Clock()


def keras_rate(clock_times, batch_size, skip=1):
    """Images/s between batch ends, leaving out the first `skip` batches (tracing, warm-up)."""
    times = clock_times[skip:]
    if len(times) < 2:
        return None
    return (len(times) - 1) * batch_size / (times[-1] - times[0])
