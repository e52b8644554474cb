"""Generator and discriminator of progressive growing of GANs (Karras et al., ICLR 2018, Table 2).

Both networks are built once at the final resolution with every stage present; the current
growth state lives in their `FadeIn` layers (non-trainable `level` and `alpha`), so growing is a
change of two numbers and never re-traces a graph. Stage i works at start_size * 2^i.

- G: z -> pixel norm -> equalised dense to (start, start, w_0) -> conv 3x3; each further stage
  up-samples x2 (nearest) and applies two 3x3 convolutions; every conv is followed by
  LeakyReLU(0.2) and pixel norm. Each stage has its own toRGB (1x1 conv, linear); the output is
  the fade-in chain y_i = w_old * up(y_{i-1}) + w_new * toRGB_i, so stages above `level` do not
  contribute and the image has the current level's resolution (nearest-up-sampled to full size).
- D: the mirror image: fromRGB_i (1x1 conv) of the input average-pooled to stage i, blocks of
  two 3x3 convolutions + 2x2 average pooling, the fade-in at each stage between the direct
  fromRGB path and the grown block, then minibatch std-dev, a 3x3 conv and two dense layers.
All weights use the equalised learning rate (`EqualizedConv2D`, `EqualizedDense`).
"""
from __future__ import annotations

import math

import keras

from advzoo.errors import AdvzooError
from advzoo.layers import (EqualizedConv2D, EqualizedDense, FadeIn, MinibatchStdDev,
                           PixelNormalization)


def progressive_stages(image_shape: tuple[int, int, int], start_size: int) -> int:
    """Number of resolution stages from `start_size` to the image side (>= 2), or a clear error."""
    if len(image_shape) != 3 or image_shape[0] != image_shape[1] or image_shape[2] < 1:
        raise AdvzooError(f"progan expects a square image_shape (S, S, C), got {tuple(image_shape)}")
    if not isinstance(start_size, int) or start_size < 4 or start_size & (start_size - 1):
        raise AdvzooError(f"progan's start_size must be a power of two >= 4, got {start_size!r}")
    side = image_shape[0]
    doublings = int(round(math.log2(side / start_size))) if side > start_size else 0
    if doublings < 1 or start_size * 2 ** doublings != side:
        raise AdvzooError(
            f"progan grows from start_size={start_size} by doublings, so the image side must be "
            f"{start_size} * 2^k with k >= 1 ({start_size * 2}, {start_size * 4}, "
            f"{start_size * 8}, ...); got image side {side}")
    return doublings + 1


def stage_widths(stages: int, filters: int) -> list[int]:
    """Channels per stage: `filters` at the start, halving per stage (Karras), at least 8."""
    return [max(filters >> i, min(filters, 8)) for i in range(stages)]


def _conv(x, width, name):
    x = EqualizedConv2D(width, 3, name=name)(x)
    return keras.layers.LeakyReLU(0.2)(x)


def progressive_generator(latent_dim: int, image_shape: tuple[int, int, int], start_size: int = 8,
                          filters: int = 128, name: str = "generator") -> keras.Model:
    """G(z) at full size with all stages; the FadeIn layers pick the active resolution."""
    stages = progressive_stages(image_shape, start_size)
    widths = stage_widths(stages, filters)
    channels = image_shape[-1]
    z = keras.Input((latent_dim,), name="z")
    x = PixelNormalization(name="pixel_norm_z")(z)
    x = EqualizedDense(start_size * start_size * widths[0], gain=2.0 ** 0.5 / 4, name="project")(x)
    x = keras.layers.Reshape((start_size, start_size, widths[0]))(x)
    x = PixelNormalization()(keras.layers.LeakyReLU(0.2)(x))
    x = PixelNormalization()(_conv(x, widths[0], "conv_0"))
    image = EqualizedConv2D(channels, 1, gain=1.0, name="to_rgb_0")(x)
    for i in range(1, stages):
        x = keras.layers.UpSampling2D(2, name=f"upsample_{i}")(x)
        x = PixelNormalization()(_conv(x, widths[i], f"conv_{i}a"))
        x = PixelNormalization()(_conv(x, widths[i], f"conv_{i}b"))
        new = EqualizedConv2D(channels, 1, gain=1.0, name=f"to_rgb_{i}")(x)
        image = FadeIn(i, name=f"fade_in_{i}")([keras.layers.UpSampling2D(2)(image), new])
    out = keras.layers.Activation("linear", dtype="float32", name="output")(image)
    return keras.Model(z, out, name=name)


def progressive_discriminator(image_shape: tuple[int, int, int], start_size: int = 8,
                              filters: int = 128, group_size: int = 4,
                              name: str = "discriminator") -> keras.Model:
    """D(x) at full size with all stages; the FadeIn layers pick the active resolution."""
    stages = progressive_stages(image_shape, start_size)
    widths = stage_widths(stages, filters)
    x_in = keras.Input(tuple(image_shape), name="x")

    def from_rgb(i):
        factor = 2 ** (stages - 1 - i)
        x = keras.layers.AveragePooling2D(factor)(x_in) if factor > 1 else x_in
        x = EqualizedConv2D(widths[i], 1, name=f"from_rgb_{i}")(x)
        return keras.layers.LeakyReLU(0.2)(x)

    e = from_rgb(stages - 1)
    for i in range(stages - 2, -1, -1):
        grown = _conv(e, widths[i + 1], f"conv_{i + 1}a")
        grown = _conv(grown, widths[i], f"conv_{i + 1}b")
        grown = keras.layers.AveragePooling2D(2, name=f"downsample_{i + 1}")(grown)
        e = FadeIn(i + 1, name=f"fade_in_{i + 1}")([from_rgb(i), grown])
    x = MinibatchStdDev(group_size, name="minibatch_stddev")(e)
    x = _conv(x, widths[0], "conv_0")
    x = keras.layers.Flatten()(x)
    x = keras.layers.LeakyReLU(0.2)(EqualizedDense(widths[0], name="dense_0")(x))
    logits = EqualizedDense(1, gain=1.0, dtype="float32", name="logits")(x)
    return keras.Model(x_in, logits, name=name)
