"""The networks of the segmentation and domain-adaptation families that are not translators.

`multiscale_critic`: the multi-scale critic of SegAN (Xue et al. 2018), 2D or 3D.
`multi_depth_classifier`: a domain classifier reading activations of several depths of a
segmentor (Kamnitsas et al. 2017, Sec. 2.2), shared by `dann` and `adda`.

SegAN's critic:

C is an encoder of 4x4 stride-2 convolutions (LeakyReLU 0.2, normalisation after the first layer,
Xue Fig. 1); it outputs its input and the activation of every layer, so that the multi-scale L1
loss compares masked images pixel by pixel and at every receptive-field size, from local texture
to the whole organ (Xue Eq. 2-3). Outputs are float32 so mixed-precision losses stay float32.
"""
from __future__ import annotations

import keras

from advzoo.errors import AdvzooError
from advzoo.networks.common import apply_norm, validate_norm, weight_layer
from advzoo.networks.translation import (_check_divisible, conv, image_input, spatial_rank,
                                         unet_depth)


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
    inputs = image_input(input_shape, f"{name}_input")
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


def unet_feature_names(levels: int, head: bool = True, name: str = "segmentor") -> tuple[str, ...]:
    """Layer names of the shared U-Net (`advzoo.networks.translation.unet` called `name`) whose
    activations a domain classifier reads: the output head's input (Ganin's single-connected
    features) when `head`, then the encoder activations of the first `levels` depths (Kamnitsas'
    multi-connected features, which reach what the skip connections carry)."""
    names = [f"{name}_up_out_act"] if head else []
    return tuple(names + [f"{name}_down{i}_act" for i in range(levels)])


def check_feature_levels(option: str, levels: int, image_shape, depth: int | None) -> int:
    """`levels` encoder depths of a U-Net of `image_shape` and `depth`: at most its depth."""
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
        raise AdvzooError(f"{option} must be a positive int, got {levels!r}")
    available = unet_depth(image_shape, depth)
    if levels > available:
        raise AdvzooError(f"{option} must be at most the U-Net's depth ({available} for "
                          f"image_shape {tuple(image_shape)}), got {levels}")
    return levels


def multi_depth_classifier(feature_shapes, image_shape, levels: int, filters: int = 16,
                           name: str = "domain_classifier") -> keras.Model:
    """A domain classifier on activations of several depths (Kamnitsas et al. 2017, Sec. 2.2).

    Each input (one per activation, its shape without the batch axis at the nominal
    `image_shape`) is average-pooled to the grid image size / 2**levels and the pooled maps are
    concatenated, so coarse and fine features are judged together; then two 3x3 convolutions
    (`filters`, 2 * `filters`, LeakyReLU 0.2), global average pooling and one float32 logit.
    2D or 3D by `image_shape`'s rank.
    """
    ndim = spatial_rank(image_shape, "image_shape")
    pool = keras.layers.AveragePooling2D if ndim == 2 else keras.layers.AveragePooling3D
    grid = tuple(max(1, int(s) // 2 ** levels) for s in tuple(image_shape)[:-1])
    inputs, pooled = [], []
    for i, shape in enumerate(feature_shapes):
        x = image_input(shape, f"domain_input{i}")  # the pooling factors hold at any size
        inputs.append(x)
        factor = tuple(max(1, s // g) for s, g in zip(tuple(shape)[:-1], grid))
        if any(f > 1 for f in factor):
            x = pool(factor, name=f"domain_pool{i}")(x)
        pooled.append(x)
    x = pooled[0] if len(pooled) == 1 else keras.layers.Concatenate(name="domain_concat")(pooled)
    for i, width in enumerate((filters, 2 * filters)):
        x = conv(ndim, width, 3, name=f"domain_conv{i}")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"domain_conv{i}_act")(x)
    x = (keras.layers.GlobalAveragePooling2D if ndim == 2
         else keras.layers.GlobalAveragePooling3D)(name="domain_gap")(x)
    logit = keras.layers.Dense(1, dtype="float32", name="domain_logit")(x)
    return keras.Model(inputs, logit, name=name)
