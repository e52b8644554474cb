"""The super-resolution generator of SRGAN (Ledig et al. 2017, Fig. 4: "SRResNet").

`srresnet(input_shape, scale)`: a 9x9 convolution + PReLU, `n_blocks` residual blocks (3x3 conv,
norm, PReLU, 3x3 conv, norm, skip), a 3x3 conv + norm with a skip over all the blocks, then
log2(scale) up-sampling stages (3x3 conv to 4x the width, pixel shuffle x2, PReLU; Shi et al.
2016's sub-pixel convolution) or Keras transposed convolutions (`upsampling="transposed"`), and a
9x9 convolution to the output (float32, tanh for [-1, 1] images). Scales that are not powers of 2
use one stage that shuffles by the whole factor.

Options beyond Ledig:
- `reference_shape`: a second, high-resolution input (another contrast of the same subject, e.g.
  T1 for T2 super-resolution; multi-contrast SR). It is folded to the low resolution without loss
  of information (`SpaceToDepth`: each scale x scale block becomes scale^2 channels) and
  concatenated to the low-resolution input, so the first layers see both contrasts voxel-aligned.
- `residual=True`: the network predicts the difference to the bilinear up-sampling of its input
  (the global residual of VDSR, Kim et al. 2016), output = up(input) + G(input).
"""
from __future__ import annotations

import math

import keras
import tensorflow as tf

from advzoo.errors import AdvzooError, check_choice
from advzoo.networks.common import apply_norm, validate_norm
from advzoo.networks.translation import image_input

UPSAMPLING = ("pixel_shuffle", "transposed")


@keras.saving.register_keras_serializable(package="advzoo")
class PixelShuffle(keras.layers.Layer):
    """Sub-pixel convolution's rearrangement (Shi et al. 2016): (H, W, C * r^2) -> (rH, rW, C)."""

    def __init__(self, factor: int, **kwargs):
        super().__init__(**kwargs)
        self.factor = int(factor)

    def call(self, x):
        return tf.nn.depth_to_space(x, self.factor)

    def compute_output_shape(self, shape):
        r = self.factor
        return (shape[0], None if shape[1] is None else shape[1] * r,
                None if shape[2] is None else shape[2] * r, shape[3] // (r * r))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="advzoo")
class SpaceToDepth(keras.layers.Layer):
    """The inverse of `PixelShuffle`: (rH, rW, C) -> (H, W, C * r^2), lossless."""

    def __init__(self, factor: int, **kwargs):
        super().__init__(**kwargs)
        self.factor = int(factor)

    def call(self, x):
        return tf.nn.space_to_depth(x, self.factor)

    def compute_output_shape(self, shape):
        r = self.factor
        return (shape[0], None if shape[1] is None else shape[1] // r,
                None if shape[2] is None else shape[2] // r, shape[3] * r * r)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def upsampling_stages(scale: int) -> list[int]:
    """Factors of the up-sampling stages: 2, 2, ... for powers of 2 (Ledig), else [scale]."""
    if not isinstance(scale, int) or isinstance(scale, bool) or scale < 2:
        raise AdvzooError(f"scale must be an int >= 2, got {scale!r}")
    stages = int(round(math.log2(scale)))
    return [2] * stages if 2 ** stages == scale else [scale]


def srresnet(input_shape, scale: int = 2, output_channels: int = 1, filters: int = 64,
             n_blocks: int = 16, norm: str = "batch", upsampling: str = "pixel_shuffle",
             reference_shape=None, residual: bool = False, output_activation: str = "tanh",
             name: str = "srresnet") -> keras.Model:
    """SRResNet generator of Ledig et al. (2017, Fig. 4), 2D.

    Args:
        input_shape: (h, w, C) of the low-resolution input.
        scale: up-sampling factor (output (scale*h, scale*w, output_channels)).
        filters: width of the trunk (64 in Ledig).
        n_blocks: residual blocks (16 in Ledig).
        norm: "batch" (Ledig), "instance", "layer", "none".
        upsampling: "pixel_shuffle" (Ledig, sub-pixel convolution) or "transposed".
        reference_shape: (scale*h, scale*w, Cr) of an optional high-resolution reference input;
            the model then takes [low, reference].
        residual: predict the difference to the bilinear up-sampling of the input.
        output_activation: "tanh" (images in [-1, 1]) or "linear".
    """
    input_shape = tuple(int(s) for s in input_shape)
    if len(input_shape) != 3 or min(input_shape) < 1:
        raise AdvzooError(f"srresnet takes 2D images (h, w, C), got input shape {input_shape}")
    stages = upsampling_stages(scale)
    for option, value, lo in (("filters", filters, 1), ("n_blocks", n_blocks, 0)):
        if not isinstance(value, int) or isinstance(value, bool) or value < lo:
            raise AdvzooError(f"srresnet {option} must be an int >= {lo}, got {value!r}")
    validate_norm(norm)
    check_choice("upsampling", upsampling, UPSAMPLING)
    check_choice("output_activation", output_activation, ("tanh", "linear"))
    high = (input_shape[0] * scale, input_shape[1] * scale)
    low = image_input(input_shape, f"{name}_input")
    inputs, x = [low], low
    if reference_shape is not None:
        reference_shape = tuple(int(s) for s in reference_shape)
        if len(reference_shape) != 3 or reference_shape[:2] != high:
            raise AdvzooError(f"srresnet: the reference must be a high-resolution image "
                              f"({high[0]}, {high[1]}, C) = scale x the input {input_shape[:2]}, "
                              f"got {reference_shape}")
        reference = image_input(reference_shape, f"{name}_reference")
        inputs.append(reference)
        x = keras.layers.Concatenate(name=f"{name}_with_reference")(
            [low, SpaceToDepth(scale, name=f"{name}_reference_fold")(reference)])

    def conv(width, size, tag, **kwargs):
        return keras.layers.Conv2D(width, size, padding="same", name=f"{name}_{tag}", **kwargs)

    def prelu(tag):
        return keras.layers.PReLU(shared_axes=[1, 2], name=f"{name}_{tag}_prelu")

    x = prelu("stem")(conv(filters, 9, "stem")(x))
    trunk = x
    for b in range(n_blocks):
        y = apply_norm(conv(filters, 3, f"block{b}a")(x), norm, name=f"{name}_block{b}a_norm")
        y = prelu(f"block{b}")(y)
        y = apply_norm(conv(filters, 3, f"block{b}b")(y), norm, name=f"{name}_block{b}b_norm")
        x = keras.layers.Add(name=f"{name}_block{b}_sum")([x, y])
    x = apply_norm(conv(filters, 3, "trunk_out")(x), norm, name=f"{name}_trunk_out_norm")
    x = keras.layers.Add(name=f"{name}_trunk_sum")([trunk, x])
    for i, factor in enumerate(stages):
        if upsampling == "pixel_shuffle":
            x = conv(filters * factor * factor, 3, f"up{i}")(x)
            x = PixelShuffle(factor, name=f"{name}_up{i}_shuffle")(x)
        else:
            x = keras.layers.Conv2DTranspose(filters, 2 * factor, strides=factor, padding="same",
                                             name=f"{name}_up{i}")(x)
        x = prelu(f"up{i}")(x)
    out = conv(output_channels, 9, "out_conv", dtype="float32")(x)
    if residual:
        if input_shape[-1] != output_channels:
            raise AdvzooError(f"residual=True adds the output to the up-sampled input, so both "
                              f"need the same channels; got input {input_shape[-1]}, output "
                              f"{output_channels}")
        base = low
        base = keras.layers.UpSampling2D(scale, interpolation="bilinear", dtype="float32",
                                         name=f"{name}_bilinear")(base)
        out = keras.layers.Add(dtype="float32", name=f"{name}_residual_sum")([base, out])
    if output_activation == "tanh" and not residual:
        out = keras.layers.Activation("tanh", dtype="float32", name=f"{name}_output")(out)
    else:
        out = keras.layers.Activation("linear", dtype="float32", name=f"{name}_output")(out)
    return keras.Model(inputs if len(inputs) > 1 else low, out, name=name)
