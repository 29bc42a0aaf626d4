"""Image preprocessing for LeNet, as research/slim does it: the same for training and evaluation.

Input: a 3-D image [height, width, 3] with values in [0, 255] (uint8 or float). Output: float32
[output_height, output_width, 3] in about [-1, 1].

Evaluation and training (deterministic), step by step:
  1. cast to float32 (values stay in [0, 255]);
  2. optionally grayscale (ITU-R 601 luma, repeated on 3 channels);
  3. an image larger than the output in both dimensions is first shrunk, keeping its aspect ratio, until
     it just covers [output_height, output_width] (cifarnet_preprocessing.shrink_to_cover); MNIST's 28x28
     images are left as they are (research/slim cropped without resizing);
  4. crop or zero-pad centrally to [output_height, output_width]
     (`tf.image.resize_with_crop_or_pad`);
  5. (x - 128) / 128.
These are the same TensorFlow ops whether run in a graph or eagerly.
"""
from core.compat import tf
from preprocessing.cifarnet_preprocessing import shrink_to_cover

EVAL_DESCRIPTION = {
    "input": "float32 in [0, 255]",
    "crop": "central crop or zero pad to the output size (tf.image.resize_with_crop_or_pad)",
    "resize": "first, when larger than the output in both dimensions: shrink keeping the aspect ratio until it "
              "just covers the output size (bilinear, antialiased)",
    "scale": "(x-128)/128",
    "formula": "(x - 128.0) / 128.0",
}


def preprocess_image(image, output_height, output_width, is_training=False, use_grayscale=False,
                     add_image_summaries=False):
    """Crop or pad to the output size and scale to about [-1, 1]; the same with `is_training`."""
    del is_training, add_image_summaries
    image = tf.cast(image, tf.float32)
    if use_grayscale:
        image = tf.image.grayscale_to_rgb(tf.image.rgb_to_grayscale(image))
    image = shrink_to_cover(image, output_height, output_width)
    image = tf.image.resize_with_crop_or_pad(image, output_height, output_width)
    return tf.divide(tf.subtract(image, 128.0), 128.0)
