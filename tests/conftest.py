import dataclasses
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLASSES_FILE = os.path.join(ROOT, "labels", "liste_labels.txt")

# The longest test files (measured: a few minutes each on 2 cores), started first so that the xdist
# workers of scripts/test.sh (a file per worker) do not end on one of them while the other is idle.
LONGEST_FIRST = ("tests/test_cluster.py", "tests/bench/test_bench.py", "tests/nets/test_nets_factory.py",
                 "tests/engine/test_deploy_formats.py", "tests/test_train_image_classifier.py",
                 "tests/test_eval_image_classifier.py", "tests/test_deploy.py", "tests/test_label_image.py",
                 "tests/test_label_image_formats.py")


def pytest_collection_modifyitems(items):
    rank = {path: index for index, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))  # stable: order kept within


@pytest.fixture(scope="session", autouse=True)
def scripts_temporary_folder(tmp_path_factory):
    """The scripts the tests start get a TMPDIR of the run's own. TensorFlow's autograph writes a source file
    per converted function there and removes it at exit, which a process the tests kill never reaches: a
    whole run left about 240 of them in /tmp. Now they go with the run's folder."""
    previous = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(tmp_path_factory.mktemp("scripts_tmp"))
    yield
    if previous is None:
        del os.environ["TMPDIR"]
    else:
        os.environ["TMPDIR"] = previous


@dataclasses.dataclass
class DemoData:
    root: str
    images: str
    annotations: str
    csv: str
    tfrecord: str
    classes: str


def make_demo_data(root, count, size, seed=0, classes=CLASSES_FILE):
    """Generated faces converted to CSV + TFRecord under `root`, through the real scripts."""
    import download_and_convert_data
    from datasets import demo_faces

    root = str(root)
    demo_faces.generate(root, count, size=size, seed=seed, log=lambda *_: None)
    data = DemoData(root, os.path.join(root, "images"), os.path.join(root, "annotations"),
                    os.path.join(root, "labels.csv"), os.path.join(root, "faces.tfrecord"), classes)
    assert download_and_convert_data.main([
        "--image_dir", data.images, "--labels_dir", data.annotations, "--chemin_csv", data.csv,
        "--chemin_tfrecords", data.tfrecord, "--classes", classes]) == 0
    return data


@pytest.fixture(scope="session")
def faces(tmp_path_factory):
    """120 multi-label demo faces at 64 pixels (5 labels each)."""
    return make_demo_data(tmp_path_factory.mktemp("faces"), 120, 64)


@pytest.fixture(scope="session")
def gender_faces(tmp_path_factory):
    """The same kind of faces converted with a classes file of homme and femme only: single-label."""
    root = tmp_path_factory.mktemp("gender")
    classes = os.path.join(str(root), "gender.txt")
    with open(classes, "w", encoding="utf-8") as handle:
        handle.write("1:homme\n2:femme\n")
    return make_demo_data(root, 160, 64, seed=1, classes=classes)


@pytest.fixture(scope="session")
def lenet_run(faces, tmp_path_factory):
    """A lenet run of 3 steps on `faces` with a checkpoint at each step, model.ckpt-1 to model.ckpt-3 (copy it
    before changing it: tests.faults.copy_run)."""
    import train_image_classifier
    from core.cli import run_main
    from tests.faults import train_args

    train_dir = tmp_path_factory.mktemp("lenet_run") / "run"
    assert run_main(train_image_classifier.main, train_args(faces, train_dir, 3, "--save_interval_secs", "0")) == 0
    return train_dir
