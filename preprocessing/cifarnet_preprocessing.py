"""Image preprocessing for CifarNet (and NASNet-CIFAR), as research/slim does it.

Input: a 3-D image [height, width, 3] with values in [0, 255] (uint8 or float). Output: float32
[output_height, output_width, 3], standardized per image (zero mean, unit variance).

Evaluation (deterministic; `preprocess_for_eval`), step by step:
  1. cast to float32 (values stay in [0, 255]);
  2. optionally grayscale (ITU-R 601 luma, repeated on 3 channels);
  3. crop or zero-pad centrally to [output_height, output_width]
     (`tf.image.resize_with_crop_or_pad`), no resampling;
  4. `tf.image.per_image_standardization`: (x - mean) / max(stddev, 1 / sqrt(num_pixels * 3)).
These are the same TensorFlow ops whether run in a graph or eagerly.

Training (random): zero-pad 4 pixels on each side, random [output_height, output_width] crop, random
left-right flip, random brightness (+-63) and contrast (0.2..1.8), then per-image standardization.
"""
from core.compat import tf

PADDING = 4

EVAL_DESCRIPTION = {
    "input": "float32 in [0, 255]",
    "crop": "central crop or zero pad to the output size (tf.image.resize_with_crop_or_pad)",
    "resize": "none",
    "scale": "per_image_standardization",
    "formula": "(x - mean(x)) / max(stddev(x), 1 / sqrt(x.size))",
}


def _grayscale_rgb(image):
    return tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(image))


def preprocess_for_train(image, output_height, output_width, padding=PADDING, use_grayscale=False):
    """Pad, random crop, random flip, random brightness and contrast, per-image standardization."""
    image = tf.cast(image, tf.float32)
    if use_grayscale:
        image = _grayscale_rgb(image)
    if padding > 0:
        image = tf.pad(image, [[padding, padding], [padding, padding], [0, 0]])
    image = tf.image.random_crop(image, [output_height, output_width, 3])
    image = tf.image.random_flip_left_right(image)
    image = tf.image.random_brightness(image, max_delta=63)
    image = tf.image.random_contrast(image, lower=0.2, upper=1.8)
    return tf.image.per_image_standardization(image)


def preprocess_for_eval(image, output_height, output_width, use_grayscale=False):
    """Deterministic: central crop or pad, per-image standardization (see the module docstring)."""
    image = tf.cast(image, tf.float32)
    if use_grayscale:
        image = _grayscale_rgb(image)
    image = tf.image.resize_with_crop_or_pad(image, output_height, output_width)
    return tf.image.per_image_standardization(image)


def preprocess_image(image, output_height, output_width, is_training=False, use_grayscale=False,
                     add_image_summaries=False):
    """Training or evaluation preprocessing; `add_image_summaries` is accepted and ignored."""
    del add_image_summaries
    if is_training:
        return preprocess_for_train(image, output_height, output_width, use_grayscale=use_grayscale)
    return preprocess_for_eval(image, output_height, output_width, use_grayscale=use_grayscale)
