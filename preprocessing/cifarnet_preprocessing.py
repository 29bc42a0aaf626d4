"""Image preprocessing for CifarNet (and NASNet-CIFAR), as research/slim does it.

Input: a 3-D image [height, width, 3] with values in [0, 255] (uint8 or float). Output: float32
[output_height, output_width, 3], standardized per image (zero mean, unit variance).

Evaluation (deterministic; `preprocess_for_eval`), step by step:
  1. cast to float32 (values stay in [0, 255]);
  2. optionally grayscale (ITU-R 601 luma, repeated on 3 channels);
  3. an image larger than the output in both dimensions is first shrunk, keeping its aspect ratio, until
     it just covers [output_height, output_width] (`shrink_to_cover`: bilinear with antialiasing);
     images of the output size or smaller (CIFAR's 32x32, MNIST's 28x28) are left as they are;
  4. crop or zero-pad centrally to [output_height, output_width]
     (`tf.image.resize_with_crop_or_pad`);
  5. `tf.image.per_image_standardization`: (x - mean) / max(stddev, 1 / sqrt(num_pixels * 3)).
These are the same TensorFlow ops whether run in a graph or eagerly.

Training (random): the same shrinking, then zero-pad 4 pixels on each side, random [output_height,
output_width] crop, random left-right flip, random brightness (+-63) and contrast (0.2..1.8), then per-image
standardization.

research/slim crops without resizing, as CIFAR's images already have the network's size; on larger images
(a 64 px or 250 px face) that crop showed the network a fragment of the image. Step 3 is recorded in
`EVAL_DESCRIPTION` (and so in an exported graph's metadata), and evaluation, export and label_image run
these same functions.
"""
from core.compat import tf

PADDING = 4

EVAL_DESCRIPTION = {
    "input": "float32 in [0, 255]",
    "crop": "central crop or zero pad to the output size (tf.image.resize_with_crop_or_pad)",
    "resize": "first, when larger than the output in both dimensions: shrink keeping the aspect ratio until it "
              "just covers the output size (bilinear, antialiased)",
    "scale": "per_image_standardization",
    "formula": "(x - mean(x)) / max(stddev(x), 1 / sqrt(x.size))",
}


def shrink_to_cover(image, output_height, output_width):
    """`image` [h, w, 3] float32, shrunk (aspect ratio kept, bilinear with antialiasing) so that it just covers
    [output_height, output_width] when it is larger in both dimensions; otherwise unchanged."""
    shape = tf.shape(image)
    height, width = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
    scale = tf.maximum(output_height / height, output_width / width)

    def shrink():
        size = tf.stack([tf.maximum(output_height, tf.cast(tf.round(height * scale), tf.int32)),
                         tf.maximum(output_width, tf.cast(tf.round(width * scale), tf.int32))])
        return tf.compat.v2.image.resize(image, size, method="bilinear", antialias=True)  # v1 has no antialias
    return tf.cond(scale < 1.0, shrink, lambda: image)


def _grayscale_rgb(image):
    return tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(image))


def preprocess_for_train(image, output_height, output_width, padding=PADDING, use_grayscale=False):
    """Pad, random crop, random flip, random brightness and contrast, per-image standardization."""
    image = tf.cast(image, tf.float32)
    if use_grayscale:
        image = _grayscale_rgb(image)
    image = shrink_to_cover(image, output_height, output_width)
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
    image = shrink_to_cover(image, output_height, output_width)
    image = tf.image.resize_with_crop_or_pad(image, output_height, output_width)
    return tf.image.per_image_standardization(image)


def preprocess_image(image, output_height, output_width, is_training=False, use_grayscale=False,
                     add_image_summaries=False):
    """Training or evaluation preprocessing; `add_image_summaries` is accepted and ignored."""
    del add_image_summaries
    if is_training:
        return preprocess_for_train(image, output_height, output_width, use_grayscale=use_grayscale)
    return preprocess_for_eval(image, output_height, output_width, use_grayscale=use_grayscale)
