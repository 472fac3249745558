"""VGG16, ResNet50 and EfficientNetB0 from `keras.applications` as backbones.

`weights="imagenet"` downloads the ImageNet weights once (keras.applications'
cache, ~/.keras/models; needs internet at the first use); a path loads a weights
file written by Keras instead. The networks are cut into stages by their layer
names, so `train_from` freezes a trunk as for every backbone.
"""

import keras

from tfhash.backbones.base import Backbone

_APPLICATIONS = {"vgg16": keras.applications.VGG16, "resnet50": keras.applications.ResNet50,
                 "efficientnetb0": keras.applications.EfficientNetB0}
# Stages (layer-name prefixes, in order) and the layer whose output is the map:
# VGG16's block5_conv3 (14 x 14 at 224 px, the map the attention papers attend on),
# ResNet50's last block, EfficientNetB0's top activation (both 7 x 7 at 224 px).
_STAGES = {"vgg16": ("block1", "block2", "block3", "block4", "block5"),
           "resnet50": ("conv1", "conv2", "conv3", "conv4", "conv5"),
           "efficientnetb0": ("stem", "block1", "block2", "block3", "block4", "block5", "block6",
                              "block7", "top")}
_FEATURE_LAYER = {"vgg16": "block5_conv3", "resnet50": "conv5_block3_out",
                  "efficientnetb0": "top_activation"}
# VGG16 and ResNet50 were trained on BGR images with these channel means subtracted;
# EfficientNetB0 normalises [0, 255] RGB itself.
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="tfhash")
class ApplicationBackbone(Backbone):
    """A convolutional `keras.applications` network without its classifier.

    Takes float RGB images in [0, 255] (each network's own preprocessing is applied
    inside) and returns `{"feature_map", "features"}` like every backbone.

    Args:
      name_: "vgg16", "resnet50" or "efficientnetb0".
      image_size: input height and width.
      weights: None (random initialisation), "imagenet" (downloaded once) or the
        path of a Keras weights file of the same network.
      train_from: see `Backbone`; the stages are the network's blocks by name.
    """

    def __init__(self, name_="vgg16", image_size=224, weights=None, train_from=None, **kwargs):
        super().__init__(train_from=train_from, **kwargs)
        if name_ not in _APPLICATIONS:
            raise ValueError(f"unknown backbone {name_!r}; expected one of {sorted(_APPLICATIONS)}")
        if weights is not None and not isinstance(weights, str):
            raise ValueError(f"weights must be None, 'imagenet' or a file path, got {weights!r}")
        self.name_, self.image_size, self.weights_source = name_, int(image_size), weights
        self.check_train_from()
        self.network = _APPLICATIONS[name_](
            include_top=False, weights=weights, input_shape=(self.image_size, self.image_size, 3))
        self.pool = keras.layers.GlobalAveragePooling2D()
        layers = self.network.layers[1:]  # after the input
        self._groups = [[layer for layer in layers if layer.name.startswith(prefix)]
                        for prefix in _STAGES[name_]]
        feature = self.network.get_layer(_FEATURE_LAYER[name_]).output
        if self.cut:
            first = self._groups[self.cut][0]
            before = self.network.layers[self.network.layers.index(first) - 1]
            self.trunk_model = keras.Model(self.network.input, before.output)
            self.tail_model = keras.Model(before.output, feature)
        else:
            self.trunk_model, self.tail_model = None, keras.Model(self.network.input, feature)

    @property
    def stage_names(self):
        return _STAGES[self.name_]

    def stage_layers(self, index):
        return self._groups[index]

    def build(self, input_shape):
        super().build(input_shape)
        self.freeze_trunk()

    def _input(self, images):
        if self.name_ == "efficientnetb0":
            return images
        return images[..., ::-1] - keras.ops.convert_to_tensor(_CAFFE_MEAN_BGR, images.dtype)

    def trunk(self, images, training=False):
        x = self._input(images)
        return x if self.trunk_model is None else self.trunk_model(x, training=False)

    def tail(self, trunk_map, training=False):
        feature_map = self.tail_model(trunk_map, training=training)
        return {"feature_map": feature_map, "features": self.pool(feature_map)}

    def _pool(self, feature_map):
        return self.pool(feature_map)

    def get_config(self):
        config = super().get_config()
        config.update(name_=self.name_, image_size=self.image_size, weights=self.weights_source)
        return config
