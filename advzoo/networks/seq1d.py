"""1D convolutional generator and critic for fixed-length point sequences (Wolterink et al. 2018).

Wolterink et al. ("Blood vessel geometry synthesis using generative adversarial networks", MIDL
2018) model a coronary centreline as a sequence of (x, y, z, r) points and use 1D convolutions
along the sequence in both players. Here G projects z to a short sequence that is doubled in
length by nearest up-sampling + convolution until it reaches the target length; the critic halves
the length with strided convolutions and ends in one float32 logit.
"""
from __future__ import annotations

import math

import keras

from advzoo.errors import AdvzooError
from advzoo.networks.common import apply_norm, logits_head, output_activation, weight_layer


def sequence_doublings(sequence_shape: tuple[int, int], base_length: int = 8) -> int:
    """How many doublings lead from `base_length` points to the sequence length (k >= 1)."""
    if len(sequence_shape) != 2:
        raise AdvzooError(
            f"seq1d expects a sequence shape (length, channels), got {tuple(sequence_shape)}")
    length, channels = sequence_shape
    k = int(round(math.log2(length / base_length))) if length and length > base_length else 0
    if k < 1 or base_length * 2 ** k != length or channels < 1:
        raise AdvzooError(
            f"seq1d expects a length of {base_length} * 2^k ({base_length * 2}, {base_length * 4}, "
            f"{base_length * 8}, ...) and >= 1 channel, got sequence shape {tuple(sequence_shape)}")
    return k


def seq1d_generator(latent_dim: int, sequence_shape: tuple[int, int], filters: int = 64,
                    kernel_size: int = 5, norm: str = "batch", activation_out: str = "linear",
                    base_length: int = 8, name: str = "generator") -> keras.Model:
    """G(z): dense to (base_length, width), then k x [up-sample x2, Conv1D, norm, ReLU] -> Conv1D."""
    k = sequence_doublings(sequence_shape, base_length)
    z = keras.Input((latent_dim,), name="z")
    width = filters * 2 ** k
    x = keras.layers.Dense(base_length * width, use_bias=False, name="project")(z)
    x = keras.layers.Reshape((base_length, width))(x)
    x = keras.layers.ReLU()(apply_norm(x, norm, name="norm_project"))
    for i in range(k):
        width = filters * 2 ** (k - 1 - i)
        x = keras.layers.UpSampling1D(2, name=f"upsample_{i}")(x)
        x = keras.layers.Conv1D(width, kernel_size, padding="same", use_bias=norm == "none",
                                name=f"conv_{i}")(x)
        x = keras.layers.ReLU()(apply_norm(x, norm, name=f"norm_{i}"))
    x = keras.layers.Conv1D(sequence_shape[-1], kernel_size, padding="same", name="to_sequence")(x)
    return keras.Model(z, output_activation(x, activation_out), name=name)


def seq1d_critic(sequence_shape: tuple[int, int], filters: int = 64, kernel_size: int = 5,
                 norm: str = "layer", base_length: int = 8,
                 name: str = "discriminator") -> keras.Model:
    """D(x): k x [Conv1D stride 2, norm, LeakyReLU(0.2)] down to `base_length` points -> logit."""
    k = sequence_doublings(sequence_shape, base_length)
    x_in = keras.Input(tuple(sequence_shape), name="x")
    x = x_in
    for i in range(k):
        conv = keras.layers.Conv1D(filters * 2 ** i, kernel_size, strides=2, padding="same",
                                   name=f"down_{i}")
        x = weight_layer(conv, norm)(x)
        if i > 0:  # no normalisation on the input layer (as in DCGAN)
            x = apply_norm(x, norm, name=f"norm_down_{i}")
        x = keras.layers.LeakyReLU(0.2)(x)
    return keras.Model(x_in, logits_head(x), name=name)
