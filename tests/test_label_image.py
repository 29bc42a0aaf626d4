"""label_image.py on frozen graphs: scores equal to the evaluation pipeline's, folder and JSON modes,
fixed-batch graphs, explicit preprocessing flags, image kinds, bad input, a light import chain
(tests/test_label_image_formats.py: the other model formats)."""
import io
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from core.compat import tf
from tests.conftest import CLASSES_FILE, ROOT, make_demo_data
from tests.export_support import eval_probabilities, export, records_to_files, tf_freeze_graph, train, write_tfrecord
from tests.label_support import TEXT_LINE, assert_matches, json_scores, label


@pytest.fixture(scope="module")
def lenet(tmp_path_factory):
    """Multi-label lenet trained 2 steps, frozen for any batch and for batch 8; images = record bytes."""
    root = tmp_path_factory.mktemp("label_lenet")
    data = make_demo_data(root / "data", 10, 64)
    train_dir = train(data.tfrecord, data.classes, str(root / "train"), "lenet", 28, "--label_mode", "multi")
    frozen, frozen8 = str(root / "frozen.pb"), str(root / "frozen8.pb")
    assert export("--checkpoint_path", train_dir, "--frozen_graph", frozen) == 0
    assert export("--checkpoint_path", train_dir, "--frozen_graph", frozen8, "--batch_size", 8) == 0
    images = records_to_files(data.tfrecord, str(root / "images"))
    expected = eval_probabilities(data.tfrecord, "lenet", 11, 28, "multi", tf.train.latest_checkpoint(train_dir))
    classes = [line.split(":", 1)[1].strip() for line in open(CLASSES_FILE, encoding="utf-8") if line.strip()]
    return dict(root=root, frozen=frozen, frozen8=frozen8, images=images, expected=expected, classes=classes,
                folder=str(root / "images"))


@pytest.fixture
def one_image(lenet):
    name = sorted(lenet["images"])[0]
    return name, lenet["images"][name]


def test_default_scores_equal_the_evaluation_pipeline(lenet, capsys):
    assert label("--image", lenet["folder"], "--graph", lenet["frozen"], "--labels", CLASSES_FILE,
                 "--json", "--top_k", 0) == 0
    printed = json_scores(capsys.readouterr().out)
    assert_matches(printed, lenet["expected"], lenet["classes"])


def test_text_output_best_first_and_top_k(lenet, one_image, capsys):
    name, path = one_image
    assert label("--image", path, "--graph", lenet["frozen"], "--labels", CLASSES_FILE, "--top_k", 3) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and all(TEXT_LINE.match(line) for line in lines)
    scores = [float(TEXT_LINE.match(line).group(2)) for line in lines]
    expected = dict(zip(lenet["classes"], lenet["expected"][name]))
    # Best first, each label with its own score, and the three best scores (saturated sigmoids of a
    # 2-step model may tie, so names are matched through their scores, not through an argsort).
    assert scores == sorted(scores, reverse=True)
    for line, score in zip(lines, scores):
        assert abs(expected[TEXT_LINE.match(line).group(1)] - score) < 1e-3, line
    np.testing.assert_allclose(scores, np.sort(lenet["expected"][name])[::-1][:3], atol=1e-3)


def test_class_names_default_to_the_recorded_ones_and_plain_label_lists_work(lenet, one_image, tmp_path,
                                                                             capsys):
    plain = tmp_path / "labels.txt"
    plain.write_text("\n".join(lenet["classes"]) + "\n", encoding="utf-8")
    outputs = []
    for extra in ([], ["--labels", plain]):
        assert label("--image", one_image[1], "--graph", lenet["frozen"], "--top_k", 0, *extra) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] and len(outputs[0].splitlines()) == 11


def test_fixed_batch_graph_labels_one_image_and_a_folder(lenet, one_image, capsys):
    for image in (one_image[1], lenet["folder"]):
        assert label("--image", image, "--graph", lenet["frozen8"], "--json", "--top_k", 0) == 0
        assert_matches(json_scores(capsys.readouterr().out),
                       {name: row for name, row in lenet["expected"].items()
                        if image == lenet["folder"] or name == one_image[0]}, lenet["classes"])


def test_folder_text_mode_names_each_image(lenet, capsys):
    assert label("--image", lenet["folder"], "--graph", lenet["frozen"], "--top_k", 2) == 0
    out = capsys.readouterr().out
    for path in lenet["images"].values():
        assert "%s:\n" % path in out
    assert len([line for line in out.splitlines() if TEXT_LINE.match(line)]) == 2 * len(lenet["images"])


def _png(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def test_explicit_mean_and_std_resize_then_scale(lenet, tmp_path, capsys):
    # A 28x28 image: lenet's evaluation (crop or pad to 28, then (x - 128) / 128) equals --input_mean 128
    # --input_std 128 (resize to 28x28: unchanged). --input_std 1e6 feeds near-zero pixels: other scores
    # even when the 2-step model's sigmoids saturate on real inputs.
    pixels = np.random.RandomState(1).randint(0, 256, (28, 28, 3)).astype(np.uint8)
    path = tmp_path / "small.png"
    path.write_bytes(_png(pixels))
    runs = []
    for extra in ([], ["--input_mean", 128, "--input_std", 128], ["--input_mean", 0, "--input_std", 1e6],
                  ["--input_mean", 128, "--input_std", 128, "--input_height", 28, "--input_width", 28]):
        assert label("--image", path, "--graph", lenet["frozen"], "--json", "--top_k", 0, *extra) == 0
        runs.append(json_scores(capsys.readouterr().out)["small.png"])
    assert all(abs(runs[0][k] - runs[1][k]) < 1e-5 for k in runs[0])
    assert any(abs(runs[0][k] - runs[2][k]) > 1e-3 for k in runs[0])
    assert all(abs(runs[1][k] - runs[3][k]) < 1e-6 for k in runs[1])


def test_grayscale_rgba_bmp_gif_and_jpeg_images_are_labeled(lenet, tmp_path, capsys):
    rgb = np.random.RandomState(2).randint(0, 256, (40, 36, 3)).astype(np.uint8)
    gray = rgb[:, :, 0]
    folder = tmp_path / "kinds"
    folder.mkdir()
    Image.fromarray(rgb).save(folder / "rgb.png")
    Image.fromarray(gray, "L").save(folder / "gray.png")
    Image.fromarray(np.repeat(gray[:, :, None], 3, axis=2)).save(folder / "gray_as_rgb.png")
    Image.fromarray(np.dstack([rgb, np.full(gray.shape, 80, np.uint8)]), "RGBA").save(folder / "rgba.png")
    Image.fromarray(rgb).save(folder / "rgb.bmp")
    frames = [Image.fromarray(gray, "L"), Image.fromarray(255 - gray, "L")]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:])
    Image.fromarray(rgb).save(folder / "rgb.JPG", quality=95)
    (folder / "notes.txt").write_text("not an image")
    assert label("--image", folder, "--graph", lenet["frozen"], "--json", "--top_k", 0) == 0
    scores = json_scores(capsys.readouterr().out)
    assert sorted(scores) == ["anim.gif", "gray.png", "gray_as_rgb.png", "rgb.JPG", "rgb.bmp", "rgb.png",
                              "rgba.png"]
    for same in (("gray.png", "gray_as_rgb.png", "anim.gif"), ("rgba.png", "rgb.png", "rgb.bmp")):
        for name in same[1:]:  # equal pixels, equal scores (up to the batch's float rounding)
            assert all(abs(scores[name][k] - scores[same[0]][k]) < 1e-4 for k in scores[name])


@pytest.fixture(scope="module")
def inception_v3(lenet, tmp_path_factory):
    """The README's flow for a multi-label inception_v3 at 128 pixels: export with --batch_size 8, freeze
    with TensorFlow's tool; random weights saved as the checkpoint."""
    root = tmp_path_factory.mktemp("label_inception")
    names = sorted(lenet["images"])[:3]
    records = {name: open(lenet["images"][name], "rb").read() for name in names}
    tfrecord = write_tfrecord(str(root / "three.tfrecord"), records)
    checkpoint = str(root / "output" / "model.ckpt-1000")
    expected = eval_probabilities(tfrecord, "inception_v3", 11, 128, "multi", checkpoint, save_random=True)
    values = np.concatenate(list(expected.values()))
    assert np.mean((values > 0.01) & (values < 0.99)) > 0.5 and np.std(values) > 1e-3  # not saturated
    graph = str(root / "inception_v3_inf_graph.pb")
    assert export("--output_file", graph, "--batch_size", 8, "--csv_file", "labels/labels.csv",
                  "--record_file", "labels/labels_records.tfrecord", "--classes_file", CLASSES_FILE,
                  "--model_name", "inception_v3", "--image_size", 128, "--label_mode", "multi") == 0
    frozen = tf_freeze_graph(graph, checkpoint, str(root / "inception_v3_frozen_graph.pb"),
                             "InceptionV3/Predictions/Reshape_1")
    folder = root / "images"
    folder.mkdir()
    for name, data in records.items():
        (folder / name).write_bytes(data)
    return dict(frozen=frozen, expected=expected, folder=str(folder))


def test_readme_inception_v3_flow_matches_the_evaluation(inception_v3, lenet, capsys):
    # The README's label_image flags (the layer names are also the recorded defaults).
    assert label("--image", inception_v3["folder"], "--input_layer", "input",
                 "--output_layer", "InceptionV3/Predictions/Reshape_1", "--graph", inception_v3["frozen"],
                 "--labels", CLASSES_FILE, "--json", "--top_k", 0) == 0
    assert_matches(json_scores(capsys.readouterr().out), inception_v3["expected"], lenet["classes"])


@pytest.mark.parametrize("case, message", [
    ("missing_image", "does not exist"),
    ("corrupt_image", "cannot decode image"),
    ("empty_image", "empty file"),
    ("empty_folder", "holds no image"),
    ("unknown_input", "--input_layer 'images' is not a node"),
    ("unknown_output", "likely outputs: Predictions/Reshape_1"),
    ("labels_mismatch", "has 3 names but the graph's output gives 11 scores"),
    ("unfrozen_graph", "it is not frozen"),
    ("not_a_graph", "not a binary GraphDef"),
    ("missing_graph", "graph"),
    ("wrong_height", "--input_height 64 does not fit"),
    ("zero_std", "--input_std must not be 0"),
])
def test_bad_input_is_a_message_not_a_traceback(case, message, lenet, one_image, tmp_path, capsys):
    image, graph, extra = one_image[1], lenet["frozen"], []
    if case == "missing_image":
        image = tmp_path / "nope.jpg"
    elif case == "corrupt_image":
        image = tmp_path / "corrupt.jpg"
        image.write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG" * 10)
    elif case == "empty_image":
        image = tmp_path / "empty.png"
        image.write_bytes(b"")
    elif case == "empty_folder":
        image = tmp_path
        (tmp_path / "readme.txt").write_text("no images")
    elif case == "unknown_input":
        extra = ["--input_layer", "images"]
    elif case == "unknown_output":
        extra = ["--output_layer", "InceptionV3/Predictions/Reshape_1"]
    elif case == "labels_mismatch":
        labels = tmp_path / "three.txt"
        labels.write_text("a\nb\nc\n")
        extra = ["--labels", labels]
    elif case == "unfrozen_graph":
        graph = tmp_path / "inf.pb"
        assert export("--output_file", graph, "--model_name", "lenet", "--classes_file", CLASSES_FILE) == 0
    elif case == "not_a_graph":
        graph = tmp_path / "graph.pb"
        graph.write_bytes(b"\x00\x01 definitely not a protobuf \xff" * 3)
    elif case == "missing_graph":
        graph = tmp_path / "absent.pb"
    elif case == "wrong_height":
        extra = ["--input_height", 64]
    elif case == "zero_std":
        extra = ["--input_mean", 1, "--input_std", 0]
    capsys.readouterr()
    assert label("--image", image, "--graph", graph, *extra) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error


def test_a_corrupt_file_in_a_folder_is_reported_after_the_others(lenet, tmp_path, capsys):
    for name, path in sorted(lenet["images"].items())[:2]:
        (tmp_path / name).write_bytes(open(path, "rb").read())
    (tmp_path / "broken.jpg").write_bytes(b"not an image at all")
    assert label("--image", tmp_path, "--graph", lenet["frozen"], "--json") == 2
    captured = capsys.readouterr()
    assert len(json_scores(captured.out)) == 2
    assert "broken.jpg" in captured.err and "1 of 3 images could not be read" in captured.err


def test_process_imports_no_network_code(lenet, one_image):
    script = ("import sys, label_image\n"
              "code = label_image.run_main(label_image.main, sys.argv[1:])\n"
              "heavy = sorted(m for m in sys.modules if m.split('.')[0] == 'nets' "
              "and m not in ('nets', 'nets.catalog') "
              "or m.split('.')[:2] in "
              "(['engine', 'export'], ['engine', 'training']) "
              "or m in ('engine.config.settings', 'tensorflow.python.tools.freeze_graph'))\n"
              "print('imported:', heavy)\n"
              "sys.exit(code)\n")
    result = subprocess.run([sys.executable, "-c", script, "--image", one_image[1], "--graph", lenet["frozen"],
                             "--top_k", "1"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert TEXT_LINE.match(lines[0]) and lines[-1] == "imported: []"


@pytest.mark.parametrize("preprocessing", ["cifarnet", "vgg"])
def test_single_label_softmax_matches_the_evaluation(preprocessing, lenet, tmp_path, capsys):
    """Other preprocessing families (per-image standardization; VGG's resize, crop and mean), softmax;
    a small network for both (VGG-family networks weigh hundreds of MB)."""
    model_name, size = "cifarnet", 32
    classes = tmp_path / "gender.txt"
    classes.write_text("1:homme\n2:femme\n")
    names = sorted(lenet["images"])[:2]
    records = {name: open(lenet["images"][name], "rb").read() for name in names}
    tfrecord = write_tfrecord(str(tmp_path / "two.tfrecord"), records)
    checkpoint = str(tmp_path / "model.ckpt-5")
    expected = eval_probabilities(tfrecord, model_name, 2, size, "single", checkpoint, save_random=True,
                                  preprocessing_name=preprocessing)
    frozen = tmp_path / "frozen.pb"
    assert export("--checkpoint_path", checkpoint, "--frozen_graph", frozen, "--model_name", model_name,
                  "--classes_file", classes, "--image_size", size, "--preprocessing_name", preprocessing) == 0
    capsys.readouterr()
    for name in names:
        assert label("--image", lenet["images"][name], "--graph", frozen, "--json") == 0
        assert_matches(json_scores(capsys.readouterr().out), {name: expected[name]}, ["homme", "femme"])


def test_whole_classes_file_fits_a_model_exported_with_labels_offset(lenet, one_image, tmp_path, capsys):
    """research/slim's background class: 11 classes, offset 1, 10 outputs named from 'femme' on."""
    tfrecord = write_tfrecord(str(tmp_path / "one.tfrecord"), {one_image[0]: open(one_image[1], "rb").read()})
    checkpoint = str(tmp_path / "model.ckpt-1")
    expected = eval_probabilities(tfrecord, "lenet", 10, 28, "single", checkpoint, save_random=True)
    frozen = tmp_path / "frozen.pb"
    assert export("--checkpoint_path", checkpoint, "--frozen_graph", frozen, "--model_name", "lenet",
                  "--classes_file", CLASSES_FILE, "--labels_offset", 1) == 0
    capsys.readouterr()
    for extra in ([], ["--labels", CLASSES_FILE]):
        assert label("--image", one_image[1], "--graph", frozen, "--json", "--top_k", 0, *extra) == 0
        assert_matches(json_scores(capsys.readouterr().out), expected, lenet["classes"][1:])


def _truncated(path, fmt):
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.random.RandomState(0).randint(0, 256, (40, 40, 3)).astype(np.uint8)).save(buffer, fmt)
    path.write_bytes(buffer.getvalue()[:len(buffer.getvalue()) // 2])
    return path


@pytest.mark.parametrize("name, make", [
    ("half.jpg", lambda path: _truncated(path, "JPEG")),
    ("half.png", lambda path: _truncated(path, "PNG")),
    ("text.jpg", lambda path: path.write_bytes(b"not an image at all, a text file named .jpg")),
    ("header.gif", lambda path: path.write_bytes(b"GIF89a\x01\x00")),
    ("header.bmp", lambda path: path.write_bytes(b"BM\x00\x00")),
])
def test_a_corrupt_image_gives_the_decoders_reason(name, make, lenet, tmp_path, capsys):
    # The issue saw "(Graph execution error:)", an empty reason: the decoder's own words must be there.
    path = tmp_path / name
    make(path)
    assert label("--image", path, "--graph", lenet["frozen"]) == 2
    error = capsys.readouterr().err
    reason = re.search(r"cannot decode image .*? \((.*)\); label_image reads", error).group(1)
    assert len(reason) > 10 and "Graph execution error" not in reason and "Traceback" not in error

