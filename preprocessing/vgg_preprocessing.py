"""Image preprocessing for VGG and ResNet (also AlexNet and OverFeat), as research/slim does it.

Input: a 3-D image [height, width, 3] with values in [0, 255] (uint8 as `tf.io.decode_image(channels=3)`
gives it, or float). Output: float32 [output_height, output_width, 3], ImageNet RGB means subtracted
(values roughly in [-124, 152]); no scaling.

Evaluation (deterministic; `preprocess_for_eval`), step by step:
  1. resize so the smaller side is 256 pixels, keeping the aspect ratio: scale = 256 / min(height,
     width), new sides = int(side * scale) (truncated), with TF1's bilinear resize
     (`tf.compat.v1.image.resize_bilinear`, align_corners=False, half_pixel_centers=False) on the
     float image;
  2. central crop of [output_height, output_width] starting at ((new_height - output_height) // 2,
     (new_width - output_width) // 2);
  3. optionally grayscale (ITU-R 601 luma, repeated on 3 channels);
  4. subtract the RGB means (123.68, 116.78, 103.94) channel by channel.
These are the same TensorFlow ops whether run in a graph or eagerly.

Training (random): the smaller side is resized to a random integer in [256, 512], then a random
[output_height, output_width] crop, a random left-right flip and the same mean subtraction.
"""
from core.compat import tf

R_MEAN = 123.68
G_MEAN = 116.78
B_MEAN = 103.94
MEAN_RGB = (R_MEAN, G_MEAN, B_MEAN)

RESIZE_SIDE_MIN = 256
RESIZE_SIDE_MAX = 512

EVAL_DESCRIPTION = {
    "input": "float32 in [0, 255]",
    "resize_smallest_side": RESIZE_SIDE_MIN,
    "resize": "bilinear",
    "resize_op": "tf.compat.v1.image.resize_bilinear(align_corners=False, half_pixel_centers=False)",
    "crop": "central, (new_side - output_side) // 2",
    "mean_rgb": list(MEAN_RGB),
    "scale": "none",
    "formula": "x - mean_rgb",
}


def _smallest_side_resize_shape(height, width, smallest_side):
    """New (height, width), int32 tensors, with the smaller side equal to `smallest_side`."""
    height = tf.cast(height, tf.float32)
    width = tf.cast(width, tf.float32)
    smallest_side = tf.cast(smallest_side, tf.float32)
    scale = tf.cond(tf.greater(height, width), lambda: smallest_side / width,
                    lambda: smallest_side / height)
    return tf.cast(height * scale, tf.int32), tf.cast(width * scale, tf.int32)


def aspect_preserving_resize(image, smallest_side):
    """Bilinear resize (TF1 pixel alignment) of a 3-D image so its smaller side is `smallest_side`."""
    shape = tf.shape(image)
    new_height, new_width = _smallest_side_resize_shape(shape[0], shape[1], smallest_side)
    resized = tf.image.resize_bilinear(tf.expand_dims(image, 0), tf.stack([new_height, new_width]),
                                       align_corners=False, half_pixel_centers=False)
    resized = tf.squeeze(resized, [0])
    resized.set_shape([None, None, 3])
    return resized


def _crop(image, offset_height, offset_width, crop_height, crop_width):
    shape = tf.shape(image)
    fits = tf.debugging.assert_greater_equal(
        tf.stack([shape[0], shape[1]]), tf.constant([crop_height, crop_width]),
        message="crop size greater than the image size")
    with tf.control_dependencies([fits]):
        begin = tf.stack([offset_height, offset_width, 0])
        cropped = tf.slice(image, begin, tf.stack([crop_height, crop_width, shape[2]]))
    cropped.set_shape([crop_height, crop_width, 3])
    return cropped


def central_crop(image, crop_height, crop_width):
    shape = tf.shape(image)
    return _crop(image, (shape[0] - crop_height) // 2, (shape[1] - crop_width) // 2,
                 crop_height, crop_width)


def random_crop(image, crop_height, crop_width):
    shape = tf.shape(image)
    offset_height = tf.random.uniform([], maxval=shape[0] - crop_height + 1, dtype=tf.int32)
    offset_width = tf.random.uniform([], maxval=shape[1] - crop_width + 1, dtype=tf.int32)
    return _crop(image, offset_height, offset_width, crop_height, crop_width)


def subtract_means(image, means=MEAN_RGB):
    """Subtracts one mean per channel of a [height, width, C] image."""
    if image.get_shape().ndims != 3:
        raise ValueError("expected an image of rank 3 [height, width, C], got shape %s" % image.shape)
    if image.get_shape().as_list()[-1] != len(means):
        raise ValueError("image has %s channels but %d means were given"
                         % (image.get_shape().as_list()[-1], len(means)))
    return image - tf.constant(means, dtype=image.dtype)


def _grayscale_rgb(image):
    return tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(image))


def preprocess_for_train(image, output_height, output_width, resize_side_min=RESIZE_SIDE_MIN,
                         resize_side_max=RESIZE_SIDE_MAX, use_grayscale=False):
    """Random-scale aspect-preserving resize, random crop, random flip, mean subtraction."""
    image = tf.cast(image, tf.float32)
    resize_side = tf.random.uniform([], minval=resize_side_min, maxval=resize_side_max + 1,
                                    dtype=tf.int32)
    image = aspect_preserving_resize(image, resize_side)
    image = random_crop(image, output_height, output_width)
    image = tf.image.random_flip_left_right(image)
    if use_grayscale:
        image = _grayscale_rgb(image)
    return subtract_means(image)


def preprocess_for_eval(image, output_height, output_width, resize_side=RESIZE_SIDE_MIN,
                        use_grayscale=False):
    """Deterministic: aspect-preserving resize, central crop, mean subtraction (module docstring)."""
    image = tf.cast(image, tf.float32)
    image = aspect_preserving_resize(image, resize_side)
    image = central_crop(image, output_height, output_width)
    if use_grayscale:
        image = _grayscale_rgb(image)
    return subtract_means(image)


def preprocess_image(image, output_height, output_width, is_training=False,
                     resize_side_min=RESIZE_SIDE_MIN, resize_side_max=RESIZE_SIDE_MAX,
                     use_grayscale=False, add_image_summaries=False):
    """Training or evaluation preprocessing; `add_image_summaries` is accepted and ignored.

    In evaluation `resize_side_min` is the smaller side after resizing, as in research/slim.
    """
    del add_image_summaries
    if is_training:
        return preprocess_for_train(image, output_height, output_width, resize_side_min,
                                    resize_side_max, use_grayscale=use_grayscale)
    return preprocess_for_eval(image, output_height, output_width, resize_side_min,
                               use_grayscale=use_grayscale)
