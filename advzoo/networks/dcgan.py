"""DCGAN generator and discriminator (Radford et al. 2016, Sec. 3 "architecture guidelines").

Strided (transposed) convolutions instead of pooling, batch norm in G and D (not on D's input
layer nor G's output), ReLU in G with tanh output, LeakyReLU(0.2) in D, no hidden dense layers.
"""
from __future__ import annotations

import math

import keras

from advzoo.errors import AdvzooError
from advzoo.networks.common import apply_norm, logits_head, output_activation, weight_layer


def dcgan_doublings(image_shape: tuple[int, ...]) -> int:
    """How many stride-2 stages lead from 4x4 to the image size; errors on unreachable sizes."""
    if len(image_shape) != 3:
        raise AdvzooError(f"dcgan expects image_shape (height, width, channels), got {image_shape}")
    h, w, c = image_shape
    k = int(round(math.log2(h / 4))) if h and h >= 8 else 0
    if h != w or k < 1 or 4 * 2 ** k != h or c < 1:
        raise AdvzooError(
            "dcgan expects a square image whose side is 4 * 2^k (8, 16, 32, 64, 128, ...) with "
            f">= 1 channel, got image_shape={tuple(image_shape)}")
    return k


def conv_trunk(x, filters: int, norm: str, doublings: int, prefix: str = "down"):
    """`doublings` strided 4x4 convolutions (width filters * 2^i), LeakyReLU(0.2), no norm on the
    first (Radford et al. Sec. 3); returns the last feature map."""
    for i in range(doublings):
        conv = keras.layers.Conv2D(filters * 2 ** i, 4, strides=2, padding="same",
                                   use_bias=norm in ("none", "spectral") or i == 0,
                                   name=f"{prefix}_{i}")
        x = weight_layer(conv, norm)(x)
        if i > 0:
            x = apply_norm(x, norm, name=f"norm_{prefix}_{i}")
        x = keras.layers.LeakyReLU(0.2)(x)
    return x


def upsampling_body(h, image_shape, filters: int, norm: str, activation_out: str):
    """Dense projection of the code h to 4x4, transposed convolutions up to `image_shape`."""
    k = dcgan_doublings(image_shape)
    width = filters * 2 ** (k - 1)
    x = keras.layers.Dense(4 * 4 * width, use_bias=False, name="project")(h)
    x = keras.layers.Reshape((4, 4, width))(x)
    x = keras.layers.ReLU()(apply_norm(x, norm, name="norm_project"))
    for i in range(k - 1):
        width //= 2
        x = keras.layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False,
                                         name=f"up_{i}")(x)
        x = keras.layers.ReLU()(apply_norm(x, norm, name=f"norm_up_{i}"))
    x = keras.layers.Conv2DTranspose(image_shape[-1], 4, strides=2, padding="same", name="to_image")(x)
    return output_activation(x, activation_out)


def dcgan_generator(latent_dim: int, image_shape: tuple[int, int, int], filters: int = 64,
                    norm: str = "batch", activation_out: str = "tanh",
                    name: str = "generator") -> keras.Model:
    """G(z): project to 4x4, then k transposed convolutions (kernel 4, stride 2) to the image."""
    z = keras.Input((latent_dim,), name="z")
    return keras.Model(z, upsampling_body(z, image_shape, filters, norm, activation_out), name=name)


def dcgan_discriminator(image_shape: tuple[int, int, int], filters: int = 64, norm: str = "batch",
                        minibatch_discrimination=None, name: str = "discriminator") -> keras.Model:
    """D(x): k strided convolutions (kernel 4, stride 2) down to 4x4, then the logit."""
    x_in = keras.Input(image_shape, name="x")
    x = conv_trunk(x_in, filters, norm, dcgan_doublings(image_shape))
    return keras.Model(x_in, logits_head(x, minibatch_discrimination), name=name)
