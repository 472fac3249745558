"""VGG16 and ResNet50 from `keras.applications` as feature extractors."""

import keras

_APPLICATIONS = {"vgg16": keras.applications.VGG16, "resnet50": keras.applications.ResNet50}
# Both networks were trained on BGR images with these channel means subtracted.
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="tfhash")
class ApplicationBackbone(keras.layers.Layer):
    """A convolutional `keras.applications` network without its classifier.

    Takes float RGB images in [0, 255] (the networks' own "caffe" preprocessing is
    applied inside) and returns `{"feature_map", "features"}` like every backbone.

    Args:
      name_: "vgg16" or "resnet50".
      image_size: input height and width.
      weights: None (random initialisation) or "imagenet" (downloads once).
    """

    def __init__(self, name_="vgg16", image_size=224, weights=None, **kwargs):
        super().__init__(**kwargs)
        if name_ not in _APPLICATIONS:
            raise ValueError(f"unknown backbone {name_!r}; expected one of {sorted(_APPLICATIONS)}")
        if weights not in (None, "imagenet"):
            raise ValueError(f"weights must be None or 'imagenet', got {weights!r}")
        self.name_ = name_
        self.image_size = int(image_size)
        self.weights_source = weights
        constructor = _APPLICATIONS[name_]
        self.network = constructor(
            include_top=False, weights=weights, input_shape=(self.image_size, self.image_size, 3)
        )
        self.pool = keras.layers.GlobalAveragePooling2D()

    def call(self, images, training=False):
        bgr = images[..., ::-1] - keras.ops.convert_to_tensor(_CAFFE_MEAN_BGR, images.dtype)
        feature_map = self.network(bgr, training=training)
        return {"feature_map": feature_map, "features": self.pool(feature_map)}

    def get_config(self):
        config = super().get_config()
        config.update(name_=self.name_, image_size=self.image_size, weights=self.weights_source)
        return config
