"""preprocessing_factory: every name, train and eval, in a graph and eagerly, with known values."""
import numpy as np
import pytest

from core.compat import tf
from core.errors import UserError
from preprocessing import preprocessing_factory

OUT = 12  # output side used for the shape checks
EXPECTED_RANGE = {
    "inception": (-1.0, 1.0),
    "lenet": (-1.0, 1.0),
    "vgg": (-124.0, 256.0 - 103.94),
    "cifarnet": (-20.0, 20.0),  # standardized: finite, around zero
}


def _random_image(height=20, width=28, seed=0):
    return np.random.RandomState(seed).randint(0, 256, (height, width, 3)).astype(np.uint8)


def _run_in_graph(name, is_training, image, height=OUT, width=OUT, use_grayscale=False, **kwargs):
    with tf.Graph().as_default():
        placeholder = tf.placeholder(tf.uint8, [None, None, 3])
        fn = preprocessing_factory.get_preprocessing(name, is_training, use_grayscale=use_grayscale)
        output = fn(placeholder, height, width, **kwargs)
        assert output.dtype == tf.float32
        assert output.shape.as_list() == [height, width, 3]
        with tf.Session() as sess:
            return sess.run(output, {placeholder: image})


@pytest.mark.parametrize("is_training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("name", sorted(preprocessing_factory.FAMILIES))
def test_shape_dtype_range(name, is_training):
    kwargs = {"resize_side_min": 16, "resize_side_max": 24} if name == "vgg" else {}
    values = _run_in_graph(name, is_training, _random_image(), **kwargs)
    low, high = EXPECTED_RANGE[name]
    assert values.shape == (OUT, OUT, 3)
    assert np.all(np.isfinite(values))
    assert values.min() >= low - 1e-5 and values.max() <= high + 1e-5


@pytest.mark.parametrize("name", preprocessing_factory.list_names())
def test_every_name_has_a_function_and_a_description(name):
    fn = preprocessing_factory.get_preprocessing(name)
    assert fn.preprocessing_name == name
    description = preprocessing_factory.get_eval_description(name)
    assert description["preprocessing"] == name
    assert set(description) - {"preprocessing"}, "the description says nothing of what is done"


@pytest.mark.parametrize("name", sorted(preprocessing_factory.FAMILIES))
def test_eval_is_deterministic_and_same_eagerly(name):
    image = _random_image(seed=1)
    first = _run_in_graph(name, False, image)
    second = _run_in_graph(name, False, image)
    np.testing.assert_array_equal(first, second)
    eager = preprocessing_factory.get_preprocessing(name)(tf.constant(image), OUT, OUT)
    np.testing.assert_allclose(eager.numpy(), first, rtol=0, atol=1e-4)


@pytest.mark.parametrize("is_training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("name", sorted(preprocessing_factory.FAMILIES))
def test_grayscale_gives_equal_channels(name, is_training):
    kwargs = {"resize_side_min": 16, "resize_side_max": 24} if name == "vgg" else {}
    values = _run_in_graph(name, is_training, _random_image(), use_grayscale=True, **kwargs)
    if name == "vgg":  # the per-channel means are subtracted after the gray conversion
        values = values + np.array(preprocessing_factory.FAMILIES["vgg"].MEAN_RGB, np.float32)
    np.testing.assert_allclose(values[..., 0], values[..., 1], atol=1e-3)
    np.testing.assert_allclose(values[..., 0], values[..., 2], atol=1e-3)


def test_inception_eval_central_crop_values():
    # 16 x 16: central_crop(0.875) starts at int((16 - 14) / 2) = 1 and keeps 14 pixels per side.
    image = (np.arange(16 * 16 * 3) % 256).reshape(16, 16, 3).astype(np.uint8)
    crop = image[1:15, 1:15].astype(np.float32) / 255.0
    same_size = _run_in_graph("inception", False, image, 14, 14)
    np.testing.assert_allclose(same_size, (crop - 0.5) * 2.0, atol=1e-6)
    # TF1 bilinear halving (align_corners=False, no half-pixel centers) samples every other pixel.
    halved = _run_in_graph("inception", False, image, 7, 7)
    np.testing.assert_allclose(halved, (crop[::2, ::2] - 0.5) * 2.0, atol=1e-6)


def test_vgg_eval_resize_crop_and_means():
    # A linear ramp: bilinear upsampling by 2 with TF1 alignment gives value(y / 2, x / 2) exactly.
    rows, cols = np.meshgrid(np.arange(4), np.arange(6), indexing="ij")
    ramp = (10 * cols + rows).astype(np.uint8)
    image = np.stack([ramp, ramp, ramp], axis=-1)
    values = _run_in_graph("vgg", False, image, 4, 4, resize_side_min=8)
    # Smaller side 4 -> 8: the image becomes 8 x 12; the central 4 x 4 crop starts at (2, 4).
    out_rows, out_cols = np.meshgrid(np.arange(2, 6), np.arange(4, 8), indexing="ij")
    expected = 10 * (out_cols / 2.0) + out_rows / 2.0
    for channel, mean in enumerate((123.68, 116.78, 103.94)):
        np.testing.assert_allclose(values[..., channel], expected - mean, atol=1e-4)


def test_lenet_and_cifarnet_eval_values():
    image = np.full((6, 6, 3), 192, np.uint8)
    lenet = _run_in_graph("lenet", False, image, 4, 4)
    np.testing.assert_allclose(lenet, np.full((4, 4, 3), 0.5), atol=1e-6)
    padded = _run_in_graph("lenet", False, image, 8, 8)  # zero padding: (0 - 128) / 128
    assert padded[0, 0, 0] == -1.0 and padded[4, 4, 0] == 0.5
    cifar = _run_in_graph("cifarnet", False, _random_image(), OUT, OUT)
    assert abs(cifar.mean()) < 1e-4 and abs(cifar.std() - 1.0) < 1e-3


def test_eval_descriptions():
    assert preprocessing_factory.get_eval_description("inception")["central_fraction"] == 0.875
    assert preprocessing_factory.get_eval_description("inception")["scale"] == "[-1,1]"
    vgg = preprocessing_factory.get_eval_description("vgg")
    assert vgg["mean_rgb"] == [123.68, 116.78, 103.94] and vgg["resize_smallest_side"] == 256


def test_unknown_name_lists_valid_names():
    with pytest.raises(UserError) as error:
        preprocessing_factory.get_preprocessing("not_a_net")
    message = str(error.value)
    assert "not_a_net" in message and "cifarnet, inception, lenet, vgg" in message


def _framed(height, width, frame=4):
    """Black image with a white frame `frame` pixels wide: what a crop of the centre would miss."""
    image = np.zeros((height, width, 3), np.uint8)
    image[:frame], image[-frame:], image[:, :frame], image[:, -frame:] = 255, 255, 255, 255
    return image


@pytest.mark.parametrize("name, size", [("lenet", 28), ("cifarnet", 32)])
def test_lenet_and_cifarnet_shrink_larger_images_to_the_network_size_first(name, size):
    # research/slim cropped the central 28x28 or 32x32 out of any image: on a 64 px image the network saw
    # its centre only (here all black). Now the whole image is shrunk to the network size, frame included.
    for is_training in (False, True):
        values = _run_in_graph(name, is_training, _framed(64, 64), size, size)
        bright = values > values.mean()
        if not is_training:
            assert bright[0].all() and bright[-1].all() and bright[:, 0].all() and bright[:, -1].all()
            assert not bright[size // 2 - 4:size // 2 + 4, size // 2 - 4:size // 2 + 4].any()
        else:  # padding and a random crop move the frame by up to 4 pixels, and the flip mirrors it
            assert bright[:8].any() and bright[-8:].any()
    # A wider image keeps its aspect ratio: 96x64 -> 48x32, then the central 32x32 (the side frames drop out).
    wide = _run_in_graph("lenet", False, _framed(64, 96), 32, 32)
    assert (wide[0] > 0).all() and (wide[-1] > 0).all() and (wide[8:24, 0] < 0).all()


@pytest.mark.parametrize("name, size", [("lenet", 28), ("cifarnet", 32)])
def test_images_of_the_network_size_or_smaller_are_not_resampled(name, size):
    image = _random_image(size, size, seed=3)
    values = _run_in_graph(name, False, image, size, size)
    pixels = image.astype(np.float32)
    expected = (pixels - 128.0) / 128.0 if name == "lenet" else (pixels - pixels.mean()) / pixels.std()
    np.testing.assert_allclose(values, expected, atol=1e-4)
    small = _run_in_graph(name, False, _random_image(20, 40, seed=4), size, size)  # 20 < size: padded, as before
    assert small.shape == (size, size, 3)


def test_the_resize_is_recorded_in_the_eval_description():
    for name in ("lenet", "cifarnet"):
        assert "shrink" in preprocessing_factory.get_eval_description(name)["resize"]
