"""Multilayer perceptrons of the original GAN (Goodfellow et al. 2014, Sec. 5)."""
from __future__ import annotations

import math

import keras

from advzoo.networks.common import apply_norm, logits_head, output_activation, weight_layer


def mlp_generator(latent_dim: int, output_shape: tuple[int, ...], hidden=(256, 512),
                  activation_out: str = "tanh", name: str = "generator") -> keras.Model:
    """G(z): z -> ReLU dense layers -> prod(output_shape) units -> reshape.

    Goodfellow used ReLU/sigmoid units; the output here is `tanh` for data in [-1, 1], or
    `linear` for unbounded data such as 2D toy points.
    """
    z = keras.Input((latent_dim,), name="z")
    x = z
    for i, units in enumerate(hidden):
        x = keras.layers.Dense(units, activation="relu", name=f"dense_{i}")(x)
    x = keras.layers.Dense(math.prod(output_shape), name="dense_out")(x)
    x = keras.layers.Reshape(output_shape)(x)
    return keras.Model(z, output_activation(x, activation_out), name=name)


def mlp_discriminator(input_shape: tuple[int, ...], hidden=(512, 256), norm: str = "none",
                      minibatch_discrimination=None, name: str = "discriminator") -> keras.Model:
    """D(x): flatten -> LeakyReLU(0.2) dense layers -> [minibatch discrimination] -> logit."""
    x_in = keras.Input(input_shape, name="x")
    x = keras.layers.Flatten()(x_in) if len(input_shape) > 1 else x_in
    for i, units in enumerate(hidden):
        x = weight_layer(keras.layers.Dense(units, name=f"dense_{i}"), norm)(x)
        if i > 0:
            x = apply_norm(x, norm, name=f"norm_{i}")
        x = keras.layers.LeakyReLU(0.2)(x)
    return keras.Model(x_in, logits_head(x, minibatch_discrimination), name=name)
