"""Image preprocessing for the Inception family (and MobileNet, NASNet, PNASNet), as research/slim does it.

Input: a 3-D image [height, width, 3], uint8 in [0, 255] (as `tf.io.decode_image(channels=3)` gives
it) or float in [0, 1]. Output: float32 [output_height, output_width, 3] in [-1, 1].

Evaluation (deterministic; `preprocess_for_eval`), step by step:
  1. convert to float32 in [0, 1] (`tf.image.convert_image_dtype`: uint8 is divided by 255);
  2. keep the central 87.5% of each side (`tf.image.central_crop(image, 0.875)`: the crop starts at
     int((size - size * 0.875) / 2) on each axis and is size - 2 * start long);
  3. resize to [output_height, output_width] with TF1's bilinear resize
     (`tf.compat.v1.image.resize_bilinear`, align_corners=False, half_pixel_centers=False);
  4. optionally grayscale (ITU-R 601 luma, then repeated on 3 channels);
  5. scale to [-1, 1]: (x - 0.5) * 2.
These are the same TensorFlow ops whether run in a graph or eagerly, so a tool that preprocesses a
single decoded image outside the training graph gets the same numbers.

Training (random): a distorted bounding box crop (at least 10% of the box covered, aspect ratio
0.75..1.33, 5%..100% of the area), resize to the output size (bilinear in fast mode, one of four
methods otherwise), random left-right flip, random color distortion (brightness +-32/255 and
saturation 0.5..1.5 in fast mode; hue and contrast too otherwise), then [-1, 1].
"""
from core.compat import tf

CENTRAL_FRACTION = 0.875

EVAL_DESCRIPTION = {
    "input": "float32 in [0, 1] (uint8 / 255)",
    "central_fraction": CENTRAL_FRACTION,
    "resize": "bilinear",
    "resize_op": "tf.compat.v1.image.resize_bilinear(align_corners=False, half_pixel_centers=False)",
    "scale": "[-1,1]",
    "formula": "(x - 0.5) * 2.0",
}

_RESIZE_METHODS = (
    tf.image.ResizeMethod.BILINEAR,
    tf.image.ResizeMethod.NEAREST_NEIGHBOR,
    tf.image.ResizeMethod.BICUBIC,
    tf.image.ResizeMethod.AREA,
)


def _to_unit_float(image):
    image = tf.convert_to_tensor(image)
    if image.dtype != tf.float32:
        image = tf.image.convert_image_dtype(image, dtype=tf.float32)
    return image


def _grayscale_rgb(image):
    return tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(image))


def _to_minus_one_one(image):
    return tf.multiply(tf.subtract(image, 0.5), 2.0)


def _random_case(num_cases, branch_fn):
    """Calls `branch_fn(case)` for a case drawn uniformly from range(num_cases) at run time."""
    if num_cases == 1:
        return branch_fn(0)
    selector = tf.random.uniform([], maxval=num_cases, dtype=tf.int32)
    return tf.switch_case(selector, [(lambda case=case: branch_fn(case)) for case in range(num_cases)])


def distort_color(image, color_ordering=0, fast_mode=True, scope=None):
    """Random brightness/saturation (and hue/contrast unless `fast_mode`) on an image in [0, 1]."""
    brightness = lambda x: tf.image.random_brightness(x, max_delta=32. / 255.)  # noqa: E731
    saturation = lambda x: tf.image.random_saturation(x, lower=0.5, upper=1.5)  # noqa: E731
    hue = lambda x: tf.image.random_hue(x, max_delta=0.2)  # noqa: E731
    contrast = lambda x: tf.image.random_contrast(x, lower=0.5, upper=1.5)  # noqa: E731
    if fast_mode:
        orderings = [(brightness, saturation), (saturation, brightness)]
        steps = orderings[0 if color_ordering == 0 else 1]
    else:
        orderings = [
            (brightness, saturation, hue, contrast),
            (saturation, brightness, contrast, hue),
            (contrast, hue, brightness, saturation),
            (hue, saturation, contrast, brightness),
        ]
        if color_ordering not in range(4):
            raise ValueError("color_ordering must be in [0, 3], got %r" % color_ordering)
        steps = orderings[color_ordering]
    with tf.name_scope(scope, "distort_color", [image]):
        for step in steps:
            image = step(image)
        return tf.clip_by_value(image, 0.0, 1.0)


def distorted_bounding_box_crop(image, bbox, min_object_covered=0.1, aspect_ratio_range=(0.75, 1.33),
                                area_range=(0.05, 1.0), max_attempts=100, scope=None):
    """Crops a random box that covers `min_object_covered` of `bbox`; returns (crop, box)."""
    with tf.name_scope(scope, "distorted_bounding_box_crop", [image, bbox]):
        # TensorFlow's sample_distorted_bounding_box ignores the graph's random seed unless given its own:
        # the op seed that every other random op takes from the graph seed (None, None when it has none).
        seed, seed2 = tf.get_seed(None)
        begin, size, box = tf.image.sample_distorted_bounding_box(
            tf.shape(image), bounding_boxes=bbox, seed=seed, seed2=seed2, min_object_covered=min_object_covered,
            aspect_ratio_range=aspect_ratio_range, area_range=area_range,
            max_attempts=max_attempts, use_image_if_no_bounding_boxes=True)
        return tf.slice(image, begin, size), box


def preprocess_for_train(image, height, width, bbox=None, fast_mode=True, use_grayscale=False,
                         scope=None):
    """Random crop, resize, flip and color distortion; float32 [height, width, 3] in [-1, 1]."""
    with tf.name_scope(scope, "distort_image", [image, height, width, bbox]):
        if bbox is None:
            bbox = tf.constant([0.0, 0.0, 1.0, 1.0], dtype=tf.float32, shape=[1, 1, 4])
        image = _to_unit_float(image)
        distorted, _ = distorted_bounding_box_crop(image, bbox)
        distorted.set_shape([None, None, 3])
        distorted = _random_case(
            1 if fast_mode else len(_RESIZE_METHODS),
            lambda case: tf.image.resize_images(distorted, [height, width], _RESIZE_METHODS[case]))
        distorted.set_shape([height, width, 3])
        distorted = tf.image.random_flip_left_right(distorted)
        distorted = _random_case(4, lambda ordering: distort_color(distorted, ordering, fast_mode))
        distorted.set_shape([height, width, 3])
        if use_grayscale:
            distorted = _grayscale_rgb(distorted)
        return _to_minus_one_one(distorted)


def preprocess_for_eval(image, height, width, central_fraction=CENTRAL_FRACTION, use_grayscale=False,
                        scope=None):
    """Deterministic: central crop, bilinear resize, [-1, 1] (see the module docstring)."""
    with tf.name_scope(scope, "eval_image", [image, height, width]):
        image = _to_unit_float(image)
        if central_fraction:
            image = tf.image.central_crop(image, central_fraction=central_fraction)
        if height and width:
            image = tf.image.resize_bilinear(tf.expand_dims(image, 0), [height, width],
                                             align_corners=False, half_pixel_centers=False)
            image = tf.squeeze(image, [0])
        if use_grayscale:
            image = _grayscale_rgb(image)
        return _to_minus_one_one(image)


def preprocess_image(image, output_height, output_width, is_training=False, bbox=None, fast_mode=True,
                     use_grayscale=False, add_image_summaries=False):
    """Training or evaluation preprocessing; `add_image_summaries` is accepted and ignored."""
    del add_image_summaries
    if is_training:
        return preprocess_for_train(image, output_height, output_width, bbox, fast_mode=fast_mode,
                                    use_grayscale=use_grayscale)
    return preprocess_for_eval(image, output_height, output_width, use_grayscale=use_grayscale)
