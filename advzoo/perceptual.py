"""The perceptual (feature-space) loss of SRGAN (Ledig et al. 2017, Eq. 5: "VGG loss") and
WGAN-VGG (Yang et al. 2018, Eq. 5), computed with the zoo's own phantom feature network.

Ledig and Yang compare images in the feature maps of an ImageNet VGG-19. That network must be
downloaded and describes natural photographs, so the zoo uses instead the small CNN trained on
its own phantom library (`advzoo.metrics.features`, shipped in `zoo_weights/feature_net_phantoms`,
sha256-checked): it tells CT, low-dose CT, blurred CT, MR contrasts, zero-filled MR, X-ray and
others apart, so its feature maps respond to noise, blur and texture, which is what the loss is
for. The extractor is rebuilt fully convolutional (any 2D size), frozen, and kept in float32.

    extractor = perceptual_network("act1b")
    loss = perceptual_loss(extractor, target, output)   # mean squared feature difference
"""
from __future__ import annotations

import keras
import tensorflow as tf

from advzoo.errors import AdvzooError, check_choice

#: Feature layers of the phantom network, shallow to deep (stride 2, 4, 8, 16).
FEATURE_LAYERS = ("act0b", "act1b", "act2b", "act3b")
_CACHE: dict = {}


def perceptual_network(layer: str = "act1b", channels: int = 1) -> keras.Model:
    """The frozen phantom feature network cut at `layer`, for 2D images (N, H, W, channels) in
    [-1, 1] of any size (RGB is averaged to grey first, as the network was trained on grey).

    Each call returns a new wrapper model around shared frozen weights, so a family can own it
    as a (non-trainable) attribute and save/load without storing its weights twice.
    """
    check_choice("perceptual_layer", layer, FEATURE_LAYERS)
    from advzoo.metrics.features import build_feature_network, load_feature_network

    if "trunk" not in _CACHE:
        trained = load_feature_network()  # sha256-checked, no download
        net = build_feature_network(image_size=None)
        # the extractor holds every weight but the classifier's, in the same order
        net.set_weights(trained.get_weights() + net.get_weights()[len(trained.get_weights()):])
        net.trainable = False
        _CACHE["trunk"] = net
    net = _CACHE["trunk"]
    inputs = keras.Input((None, None, channels), name="perceptual_input")
    x = keras.layers.Activation("linear", dtype="float32", name="perceptual_f32")(inputs)
    if channels != 1:
        x = keras.layers.Lambda(lambda t: tf.reduce_mean(t, -1, keepdims=True),
                                name="perceptual_grey")(x)
    cut = keras.Model(net.inputs, net.get_layer(layer).output, name=f"phantom_features_{layer}")
    cut.trainable = False
    return keras.Model(inputs, cut(x), name=f"perceptual_{layer}")


def perceptual_loss(extractor: keras.Model, target, output) -> tf.Tensor:
    """Mean squared difference of the feature maps of `target` and `output` (float32).

    Ledig et al. Eq. 5 and Yang et al. Eq. 5 normalise the squared Frobenius norm by the feature
    map size, i.e. take this mean.
    """
    if len(target.shape) != 4:
        raise AdvzooError(f"perceptual_loss works on 2D image batches (N, H, W, C), got shape "
                          f"{tuple(target.shape)}")
    real = tf.stop_gradient(extractor(tf.cast(target, tf.float32), training=False))
    fake = extractor(tf.cast(output, tf.float32), training=False)
    return tf.reduce_mean(tf.square(tf.cast(real, tf.float32) - tf.cast(fake, tf.float32)))
