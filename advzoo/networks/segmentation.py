"""The multi-scale critic of SegAN (Xue et al. 2018), 2D or 3D.

C is an encoder of 4x4 stride-2 convolutions (LeakyReLU 0.2, normalisation after the first layer,
Xue Fig. 1); it outputs its input and the activation of every layer, so that the multi-scale L1
loss compares masked images pixel by pixel and at every receptive-field size, from local texture
to the whole organ (Xue Eq. 2-3). Outputs are float32 so mixed-precision losses stay float32.
"""
from __future__ import annotations

import keras

from advzoo.errors import AdvzooError
from advzoo.networks.common import apply_norm, validate_norm, weight_layer
from advzoo.networks.translation import _check_divisible, conv, spatial_rank


def multiscale_critic(input_shape, filters: int = 16, n_layers: int = 3, norm: str = "batch",
                      name: str = "critic") -> keras.Model:
    """SegAN's critic: a list [input, f_1, ..., f_n_layers] of multi-scale features (float32).

    Args:
        input_shape: (H, W, C) or (D, H, W, C) of the masked image; spatial sizes multiples of
            2**n_layers.
        filters: width of the first layer; doubles per layer, at most 8 * filters.
        n_layers: stride-2 layers (Xue: 3 for 160x160 inputs).
        norm: "batch" (Xue), "instance", "layer", "spectral", "none".
    """
    ndim = spatial_rank(input_shape, "multiscale_critic input_shape")
    validate_norm(norm)
    if isinstance(n_layers, bool) or not isinstance(n_layers, int) or n_layers < 1:
        raise AdvzooError(f"multiscale_critic n_layers must be an int >= 1, got {n_layers!r}")
    if isinstance(filters, bool) or not isinstance(filters, int) or filters < 1:
        raise AdvzooError(f"multiscale_critic filters must be a positive int, got {filters!r}")
    _check_divisible(input_shape, 2 ** n_layers, "multiscale_critic", f"n_layers={n_layers}")
    inputs = keras.Input(tuple(input_shape), name=f"{name}_input")
    features = [keras.layers.Activation("linear", dtype="float32", name=f"{name}_scale0")(inputs)]
    x = inputs
    for i in range(n_layers):
        x = weight_layer(conv(ndim, min(filters * 2 ** i, filters * 8), 4, strides=2,
                              use_bias=i == 0 or norm in ("none", "spectral"),
                              kernel_initializer=keras.initializers.RandomNormal(stddev=0.02),
                              name=f"{name}_conv{i}"), norm)(x)
        if i > 0:
            x = apply_norm(x, norm, name=f"{name}_norm{i}")
        x = keras.layers.LeakyReLU(0.2, name=f"{name}_act{i}")(x)
        features.append(keras.layers.Activation("linear", dtype="float32",
                                                name=f"{name}_scale{i + 1}")(x))
    return keras.Model(inputs, features, name=name)
