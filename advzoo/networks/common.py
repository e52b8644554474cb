"""Pieces every network builder uses: normalisation by name, the float32 heads."""
from __future__ import annotations

import keras

from advzoo.errors import check_choice
from advzoo.layers import MinibatchDiscrimination

NORMS = ("batch", "layer", "instance", "spectral", "none")


def validate_norm(norm: str) -> str:
    check_choice("norm", norm, NORMS)
    return norm


def normalization(norm: str, name: str | None = None):
    """The normalisation layer called `norm`, or None for `none`/`spectral` (spectral wraps convs).

    `instance` is GroupNormalization with one group per channel, Keras 3's instance norm.
    """
    validate_norm(norm)
    if norm == "batch":
        return keras.layers.BatchNormalization(name=name)
    if norm == "layer":
        return keras.layers.LayerNormalization(name=name)
    if norm == "instance":
        return keras.layers.GroupNormalization(groups=-1, name=name)
    return None


def weight_layer(layer, norm: str):
    """`layer` wrapped in spectral normalisation when `norm == "spectral"` (Miyato et al.)."""
    return keras.layers.SpectralNormalization(layer) if norm == "spectral" else layer


def apply_norm(x, norm: str, name: str | None = None):
    layer = normalization(norm, name)
    return x if layer is None else layer(x)


def logits_head(features, minibatch_discrimination=None, name: str = "logits"):
    """Flatten -> optional minibatch discrimination -> Dense(1) logits in float32.

    Args:
        minibatch_discrimination: None/False, True (50 kernels of 5 dims, Salimans' defaults for
            their MNIST model scaled down), or a (num_kernels, kernel_dim) pair.
    """
    x = keras.layers.Flatten()(features) if len(features.shape) > 2 else features
    if minibatch_discrimination:
        kernels, dims = (50, 5) if minibatch_discrimination is True else minibatch_discrimination
        x = MinibatchDiscrimination(kernels, dims, name="minibatch_discrimination")(x)
    return keras.layers.Dense(1, dtype="float32", name=name)(x)


def output_activation(x, activation: str, name: str = "output"):
    """The generator's last activation (`tanh` for data in [-1, 1], `linear`), in float32."""
    check_choice("output_activation", activation, ("tanh", "linear", "sigmoid"))
    return keras.layers.Activation(activation, dtype="float32", name=name)(x)
