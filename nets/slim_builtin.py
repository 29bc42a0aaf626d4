"""The networks tf_slim ships (`tf_slim.nets`), registered under research/slim's names.

Inception v1-v3 are used as they are, each with its own arg scope (research/slim's map gave all three
inception_v3's). The others get a thin wrapper that opens their variable scope itself, so the added
ops land inside it without renaming any variable:
- ResNet v1/v2: tf_slim returns [batch, 1, 1, classes] logits; the wrapper builds the 'logits' 1x1
  convolution on the pooled features and squeezes it ('SpatialSqueeze') as research/slim's ResNets
  do, with 'predictions' the softmax of the 2-D logits ('resnet_v1_50/predictions/Reshape_1').
- VGG, AlexNet v2, OverFeat: research/slim has no softmax in these graphs; the wrapper adds
  'predictions' ('vgg_16/predictions/Reshape_1') after the squeezed 'fc8'.
"""
import functools

from core.compat import slim, tf  # isort: skip (aliases tf_keras's legacy layers before tf_slim loads)
from tf_slim.nets import alexnet, inception, overfeat, resnet_v1, resnet_v2, vgg  # noqa: E402  isort: skip

from nets.nets_factory import ModelSpec, register_model


def _with_predictions(base_fn, default_scope):
    """Wraps a VGG-like network so end_points['predictions'] is the softmax of its 2-D logits."""

    @functools.wraps(base_fn)
    def network_fn(images, num_classes=1000, is_training=True, scope=default_scope, **kwargs):
        with tf.variable_scope(scope, default_scope, [images]) as net_scope:
            logits, end_points = base_fn(images, num_classes=num_classes, is_training=is_training,
                                         scope=net_scope, **kwargs)
            end_points["predictions"] = slim.softmax(logits, scope="predictions")
        return logits, end_points

    return network_fn


def _squeezed_resnet(base_fn, default_scope):
    """Wraps a tf_slim ResNet so its logits are [batch, classes] (research/slim's spatial_squeeze)."""

    @functools.wraps(base_fn)
    def network_fn(images, num_classes=None, is_training=True, global_pool=True, output_stride=None,
                   spatial_squeeze=True, scope=default_scope):
        with tf.variable_scope(scope, default_scope, [images]) as net_scope:
            net, end_points = base_fn(images, num_classes=None, is_training=is_training,
                                      global_pool=global_pool, output_stride=output_stride,
                                      scope=net_scope)
            if global_pool:
                end_points["global_pool"] = net
            if not num_classes:
                return net, end_points
            net = slim.conv2d(net, num_classes, [1, 1], activation_fn=None, normalizer_fn=None,
                              scope="logits")
            end_points[net_scope.name + "/logits"] = net
            if spatial_squeeze:
                net = tf.squeeze(net, [1, 2], name="SpatialSqueeze")
                end_points[net_scope.name + "/spatial_squeeze"] = net
            end_points["predictions"] = slim.softmax(net, scope="predictions")
        return net, end_points

    return network_fn


register_model(ModelSpec(
    name="inception_v1", network_fn=inception.inception_v1,
    arg_scope_fn=inception.inception_v1_arg_scope, default_image_size=224,
    preprocessing_name="inception", logits_scopes=("InceptionV1/Logits",),
    output_node="InceptionV1/Logits/Predictions/Reshape_1", min_image_size=224))
register_model(ModelSpec(
    name="inception_v2", network_fn=inception.inception_v2,
    arg_scope_fn=inception.inception_v2_arg_scope, default_image_size=224,
    preprocessing_name="inception", logits_scopes=("InceptionV2/Logits",),
    output_node="InceptionV2/Predictions/Reshape_1", min_image_size=32))
register_model(ModelSpec(
    name="inception_v3", network_fn=inception.inception_v3,
    arg_scope_fn=inception.inception_v3_arg_scope, default_image_size=299,
    preprocessing_name="inception", logits_scopes=("InceptionV3/Logits", "InceptionV3/AuxLogits"),
    output_node="InceptionV3/Predictions/Reshape_1", min_image_size=107))

for _name, _fn, _size, _arg_scope in (
        ("alexnet_v2", alexnet.alexnet_v2, 224, alexnet.alexnet_v2_arg_scope),
        ("overfeat", overfeat.overfeat, 231, overfeat.overfeat_arg_scope),
        ("vgg_a", vgg.vgg_a, 224, vgg.vgg_arg_scope),
        ("vgg_16", vgg.vgg_16, 224, vgg.vgg_arg_scope),
        ("vgg_19", vgg.vgg_19, 224, vgg.vgg_arg_scope)):
    register_model(ModelSpec(
        name=_name, network_fn=_with_predictions(_fn, _name), arg_scope_fn=_arg_scope,
        default_image_size=_size, preprocessing_name="vgg", logits_scopes=("%s/fc8" % _name,),
        output_node="%s/predictions/Reshape_1" % _name, min_image_size=_size))

for _name, _fn, _arg_scope in (
        ("resnet_v1_50", resnet_v1.resnet_v1_50, resnet_v1.resnet_arg_scope),
        ("resnet_v1_101", resnet_v1.resnet_v1_101, resnet_v1.resnet_arg_scope),
        ("resnet_v1_152", resnet_v1.resnet_v1_152, resnet_v1.resnet_arg_scope),
        ("resnet_v1_200", resnet_v1.resnet_v1_200, resnet_v1.resnet_arg_scope),
        ("resnet_v2_50", resnet_v2.resnet_v2_50, resnet_v2.resnet_arg_scope),
        ("resnet_v2_101", resnet_v2.resnet_v2_101, resnet_v2.resnet_arg_scope),
        ("resnet_v2_152", resnet_v2.resnet_v2_152, resnet_v2.resnet_arg_scope),
        ("resnet_v2_200", resnet_v2.resnet_v2_200, resnet_v2.resnet_arg_scope)):
    register_model(ModelSpec(
        name=_name, network_fn=_squeezed_resnet(_fn, _name), arg_scope_fn=_arg_scope,
        default_image_size=224, preprocessing_name="vgg", logits_scopes=("%s/logits" % _name,),
        output_node="%s/predictions/Reshape_1" % _name, min_image_size=32))
