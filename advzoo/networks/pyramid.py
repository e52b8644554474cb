"""Conditional residual players of a Laplacian pyramid GAN (Denton et al. 2015, Sec. 3-4).

Level k > 0 of the pyramid works at twice the size of level k - 1. Its generator G_k(l_k, z_k)
maps the up-sampled coarser image l_k = u(I_{k-1}) and a code z_k to a residual h_k (the band-pass
detail of the Laplacian pyramid); its discriminator D_k sees l_k + h_k with l_k as an extra input
channel ("the low-pass image is explicitly added to h_k before the first convolution layer").
The code enters G_k as one extra H x W noise channel (a dense projection of z_k), as Denton's
noise plane.
"""
from __future__ import annotations

import keras

from advzoo.networks.common import apply_norm, logits_head, weight_layer
from advzoo.networks.dcgan import dcgan_doublings


def residual_generator(image_shape: tuple[int, int, int], latent_dim: int, filters: int = 64,
                       norm: str = "batch", depth: int = 3,
                       name: str = "residual_generator") -> keras.Model:
    """G_k(l, z) -> h: [l, noise plane(z)] -> (depth - 1) x [Conv 3x3, norm, ReLU] -> Conv 3x3.

    The residual is linear (float32): detail can be positive or negative.
    """
    h, w, c = image_shape
    low = keras.Input(image_shape, name="low_pass")
    z = keras.Input((latent_dim,), name="z")
    plane = keras.layers.Reshape((h, w, 1))(keras.layers.Dense(h * w, name="noise_plane")(z))
    x = keras.layers.Concatenate()([low, plane])
    for i in range(depth - 1):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=norm == "none",
                                name=f"conv_{i}")(x)
        x = keras.layers.ReLU()(apply_norm(x, norm, name=f"norm_{i}"))
    x = keras.layers.Conv2D(c, 3, padding="same", dtype="float32", name="residual")(x)
    return keras.Model([low, z], x, name=name)


def residual_discriminator(image_shape: tuple[int, int, int], filters: int = 64,
                           norm: str = "batch", name: str = "residual_discriminator") -> keras.Model:
    """D_k(h, l): [l + h, l] -> strided 4x4 convolutions down to 4x4 -> one float32 logit."""
    k = dcgan_doublings(image_shape)
    residual = keras.Input(image_shape, name="residual")
    low = keras.Input(image_shape, name="low_pass")
    x = keras.layers.Concatenate()([keras.layers.Add()([low, residual]), low])
    for i in range(k):
        conv = keras.layers.Conv2D(filters * 2 ** i, 4, strides=2, padding="same",
                                   use_bias=norm in ("none", "spectral") or i == 0, name=f"down_{i}")
        x = weight_layer(conv, norm)(x)
        if i > 0:
            x = apply_norm(x, norm, name=f"norm_down_{i}")
        x = keras.layers.LeakyReLU(0.2)(x)
    return keras.Model([residual, low], logits_head(x), name=name)
