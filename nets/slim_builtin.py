"""The networks tf_slim ships (`tf_slim.nets`), registered under research/slim's names."""
from tf_slim.nets import alexnet, inception, overfeat, resnet_v1, resnet_v2, vgg

from nets.nets_factory import ModelSpec, register_model

register_model(ModelSpec(
    name="inception_v1", network_fn=inception.inception_v1,
    arg_scope_fn=inception.inception_v1_arg_scope, default_image_size=224,
    preprocessing_name="inception", logits_scopes=("InceptionV1/Logits",),
    output_node="InceptionV1/Logits/Predictions/Reshape_1"))
register_model(ModelSpec(
    name="inception_v2", network_fn=inception.inception_v2,
    arg_scope_fn=inception.inception_v2_arg_scope, default_image_size=224,
    preprocessing_name="inception", logits_scopes=("InceptionV2/Logits",),
    output_node="InceptionV2/Predictions/Reshape_1"))
register_model(ModelSpec(
    name="inception_v3", network_fn=inception.inception_v3,
    arg_scope_fn=inception.inception_v3_arg_scope, default_image_size=299,
    preprocessing_name="inception", logits_scopes=("InceptionV3/Logits", "InceptionV3/AuxLogits"),
    output_node="InceptionV3/Predictions/Reshape_1", min_image_size=75))
register_model(ModelSpec(
    name="vgg_16", network_fn=vgg.vgg_16, arg_scope_fn=vgg.vgg_arg_scope, default_image_size=224,
    preprocessing_name="vgg", logits_scopes=("vgg_16/fc8",), output_node="vgg_16/fc8/squeezed"))
register_model(ModelSpec(
    name="resnet_v1_50", network_fn=resnet_v1.resnet_v1_50, arg_scope_fn=resnet_v1.resnet_arg_scope,
    default_image_size=224, preprocessing_name="vgg", logits_scopes=("resnet_v1_50/logits",),
    output_node="resnet_v1_50/predictions/Reshape_1"))
