"""What an exported model is fed: how an encoded image file becomes the float32 input of the network.

By default an image goes through what the evaluation pipeline does (datasets.input_pipeline.decode_image,
then the evaluation function of the preprocessing the export recorded, at the recorded size), so the scores
equal the evaluation's. With an explicit mean and standard deviation, images are resized to height x width
(bilinear) and scaled as (x - mean) / std, as TensorFlow's label_image example does. label_image runs
`preprocess_encoded` on each file; a SavedModel's `serving_bytes` signature runs the same ops inside the model.
"""
import dataclasses

from core.compat import tf
from core.errors import UserError
from datasets.input_pipeline import decode_image
from engine.model.graph_metadata import DEFAULT_MEAN, DEFAULT_SIZE, DEFAULT_STD
from preprocessing import preprocessing_factory


@dataclasses.dataclass
class InputOptions:
    height: int
    width: int
    mean: float = None  # mean and std set: resize then (x - mean) / std; unset: the recorded preprocessing
    std: float = None
    preprocessing_name: str = None
    use_grayscale: bool = False


def input_options(meta, input_dims, height=None, width=None, mean=None, std=None):
    """How to turn an image into the graph's input: explicit flags over what the export recorded."""
    size = meta.get("image_size")
    height = height or size or input_dims[1] or DEFAULT_SIZE
    width = width or size or input_dims[2] or DEFAULT_SIZE
    for flag, value, dim in (("--input_height", height, input_dims[1]), ("--input_width", width, input_dims[2])):
        if dim is not None and value != dim:
            raise UserError("%s %d does not fit the graph, whose input takes %s images; leave it unset or "
                            "pass %d" % (flag, value, "x".join(str(d) for d in input_dims[1:3]), dim))
    if mean is not None or std is not None or not meta.get("preprocessing_name"):
        std = DEFAULT_STD if std is None else std
        if std == 0:
            raise UserError("--input_std must not be 0 (pixels are divided by it)")
        return InputOptions(height, width, DEFAULT_MEAN if mean is None else mean, std)
    return InputOptions(height, width, preprocessing_name=meta["preprocessing_name"],
                        use_grayscale=bool(meta.get("use_grayscale")))


def preprocess_encoded(encoded, options):
    """float32 [height, width, 3] from a scalar string tensor of image bytes, as `options` say: the graph
    ops that label_image runs on each file and that a SavedModel's bytes signature runs in the model."""
    image = decode_image(encoded)
    if options.preprocessing_name:
        preprocess = preprocessing_factory.get_preprocessing(
            options.preprocessing_name, is_training=False, use_grayscale=options.use_grayscale)
        return tf.cast(preprocess(image, options.height, options.width), tf.float32)
    resized = tf.image.resize_bilinear(tf.expand_dims(tf.cast(image, tf.float32), 0),
                                       [options.height, options.width])
    return (resized[0] - options.mean) / options.std
