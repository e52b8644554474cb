"""The image-to-image networks every translation, segmentation and adaptation family shares.

One builder per network, each for 2D (H, W, C) and 3D (D, H, W, C) inputs, chosen by the rank of
the input shape:

- `unet`: the encoder-decoder with skip connections of Isola et al. (2017, Sec. 3.2.1 and App.
  6.1.1): 4x4 stride-2 convolutions, LeakyReLU(0.2) down, ReLU up, dropout 0.5 on the three
  innermost decoder blocks, no normalisation on the outermost layer.
- `resnet_generator`: Johnson et al. (2016) as used by CycleGAN (Zhu et al. 2017, App. 7.2):
  c7s1-64, d128, d256, `n_blocks` residual blocks, u128, u64, c7s1-C, reflection padding,
  instance normalisation.
- `patchgan`: the N-layer PatchGAN of Isola et al. (App. 6.1.2); `n_layers=3` gives the 70x70
  receptive field. With `condition_shape` it is the conditional D(x, y) of pix2pix (Eq. 6), which
  sees the condition and the image concatenated along the channels.

Options use the names of pytorch-CycleGAN-and-pix2pix (`filters` = ngf/ndf, `norm`, `n_blocks`,
`n_layers`, `dropout`). `residual=True` makes a generator predict the difference to its input,
output = input + G(input) (Wolterink et al. 2017, Nie et al. 2018). Final convolutions are float32
so mixed-precision models still hand float32 images and logits to the losses.
"""
from __future__ import annotations

import math

import keras

from advzoo.errors import AdvzooError, check_choice
from advzoo.layers import ReflectionPadding
from advzoo.networks.common import apply_norm, validate_norm, weight_layer

OUTPUT_ACTIVATIONS = ("tanh", "linear", "sigmoid", "softmax")


def spatial_rank(shape, what: str) -> int:
    """2 for (H, W, C), 3 for (D, H, W, C); a clear error for anything else."""
    shape = tuple(shape)
    if len(shape) not in (3, 4) or any(s is None or int(s) < 1 for s in shape):
        raise AdvzooError(f"{what} must be (H, W, C) for 2D or (D, H, W, C) for 3D images, "
                          f"got {shape}")
    return len(shape) - 1


def free_spatial(shape) -> tuple:
    """A channels-last per-sample shape with its spatial sizes free: (None, None, C) in 2D,
    (None, None, None, C) in 3D (C may itself be None: any channels)."""
    shape = tuple(shape)
    return (None,) * (len(shape) - 1) + shape[-1:]


def image_input(shape, name: str) -> keras.KerasTensor:
    """A channels-last image input with free spatial sizes: `shape` gives the rank and channels
    only, so the fully convolutional networks built on it run (and fine-tune) at any size that is
    a multiple of their stride, and their weights never depend on the size they were built at."""
    return keras.Input(free_spatial(shape), name=name)


def size_multiple(network: keras.Model) -> int:
    """The stride of a fully convolutional network: the product of the strides of its (not
    transposed) convolutions along one path, i.e. 2**depth for the U-Net, 2**n_downsampling for
    the ResNet generator. Inputs must be a multiple of it on every spatial axis."""
    multiple = 1
    for layer in network.layers:
        layer = getattr(layer, "layer", layer)  # spectral-normalised wrappers
        if isinstance(layer, keras.Model):
            multiple *= size_multiple(layer)
        elif isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv3D)) and not isinstance(
                layer, (keras.layers.Conv2DTranspose, keras.layers.Conv3DTranspose)):
            multiple *= max(int(s) for s in layer.strides)
    return multiple


def conv(ndim: int, filters: int, kernel_size, strides=1, padding="same", **kwargs):
    layer = keras.layers.Conv2D if ndim == 2 else keras.layers.Conv3D
    return layer(filters, kernel_size, strides=strides, padding=padding, **kwargs)


def conv_transpose(ndim: int, filters: int, kernel_size, strides=2, padding="same", **kwargs):
    layer = keras.layers.Conv2DTranspose if ndim == 2 else keras.layers.Conv3DTranspose
    return layer(filters, kernel_size, strides=strides, padding=padding, **kwargs)


def _init():
    return keras.initializers.RandomNormal(stddev=0.02)  # Isola / Zhu App. 6.2 / 7.2


def _check_divisible(shape, factor: int, what: str, option: str):
    spatial = tuple(int(s) for s in shape[:-1])
    if any(s % factor for s in spatial):
        raise AdvzooError(
            f"{what} halves the image {int(math.log2(factor))} times ({option}), so every spatial "
            f"size must be a multiple of {factor}; got input shape {tuple(shape)}. Choose a "
            f"smaller {option.split('=')[0]} or resize the images.")


def _head(x, ndim, channels, activation, name):
    check_choice("output_activation", activation, OUTPUT_ACTIVATIONS)
    x = conv(ndim, channels, 1 if activation == "softmax" else 3, dtype="float32",
             kernel_initializer=_init(), name=f"{name}_out_conv")(x)
    return keras.layers.Activation(activation, dtype="float32", name=f"{name}_output")(x)


def _residual_output(inputs, out, output_channels, residual: bool, name: str):
    if not residual:
        return out
    if inputs.shape[-1] < output_channels:
        raise AdvzooError(f"residual=True adds the output to the input's first {output_channels} "
                          f"channels, but the input has {inputs.shape[-1]}")
    base = inputs if inputs.shape[-1] == output_channels else keras.layers.Lambda(
        lambda t: t[..., :output_channels], name=f"{name}_residual_base")(inputs)
    base = keras.layers.Activation("linear", dtype="float32", name=f"{name}_base_f32")(base)
    return keras.layers.Add(dtype="float32", name=f"{name}_residual_sum")([base, out])


def unet_depth(shape, depth: int | None = None) -> int:
    """Default U-Net depth: halve down to 1 voxel along the smallest side, at most 8 (Isola's
    256x256 U-Net has 8 levels)."""
    if depth is not None:
        return depth
    smallest = min(int(s) for s in tuple(shape)[:-1])
    return max(1, min(8, int(math.log2(smallest))))


def generator_depth(generator: str, shape, depth: int | None) -> int | None:
    """The levels a `generator` ("unet" or "resnet") built at `shape` gets: the U-Net's `depth`
    resolved (`unet_depth`), for a family to store in its config; None for the ResNet."""
    return unet_depth(shape, depth) if generator == "unet" else None


def unet(input_shape, output_channels: int = 1, filters: int = 64, depth: int | None = None,
         norm: str = "batch", dropout: float = 0.5, output_activation: str = "tanh",
         residual: bool = False, name: str = "unet") -> keras.Model:
    """U-Net generator of Isola et al. (2017), 2D or 3D.

    Args:
        input_shape: (H, W, C) or (D, H, W, C); every spatial size a multiple of 2**depth.
        output_channels: channels of the output (classes for a `softmax` segmentor).
        filters: width of the outermost layer (ngf); level i has min(filters * 2**i, 8 * filters).
        depth: number of stride-2 levels; default: down to 1 voxel, at most 8.
        norm: "batch" (Isola), "instance", "layer", "none".
        dropout: rate on the three innermost decoder blocks (Isola's noise source); 0 disables.
        output_activation: "tanh" for images in [-1, 1], "linear", "sigmoid", "softmax".
        residual: output = input + G(input) (the network learns the correction only).
    """
    ndim = spatial_rank(input_shape, "unet input_shape")
    depth = unet_depth(input_shape, depth)
    if not isinstance(depth, int) or depth < 1:
        raise AdvzooError(f"unet depth must be a positive int, got {depth!r}")
    if not 0.0 <= float(dropout) < 1.0:
        raise AdvzooError(f"unet dropout must be in [0, 1), got {dropout!r}")
    validate_norm(norm)
    _check_divisible(input_shape, 2 ** depth, "unet", f"depth={depth}")
    inputs = image_input(input_shape, f"{name}_input")
    widths = [min(filters * 2 ** i, filters * 8) for i in range(depth)]
    x, skips = inputs, []
    for i, width in enumerate(widths):
        x = conv(ndim, width, 4, strides=2, use_bias=norm in ("none", "spectral"),
                 kernel_initializer=_init(), name=f"{name}_down{i}")(x)
        if 0 < i < depth - 1:  # no norm outermost (Isola) nor at the 1-voxel bottleneck
            x = apply_norm(x, norm, name=f"{name}_down{i}_norm")
        x = keras.layers.LeakyReLU(0.2, name=f"{name}_down{i}_act")(x)
        skips.append(x)
    for i in reversed(range(depth - 1)):
        x = conv_transpose(ndim, widths[i], 4, use_bias=norm in ("none", "spectral"),
                           kernel_initializer=_init(), name=f"{name}_up{i}")(x)
        x = apply_norm(x, norm, name=f"{name}_up{i}_norm")
        if dropout and i >= depth - 4:  # the three innermost decoder blocks
            x = keras.layers.Dropout(dropout, name=f"{name}_up{i}_dropout")(x)
        x = keras.layers.ReLU(name=f"{name}_up{i}_act")(x)
        x = keras.layers.Concatenate(name=f"{name}_skip{i}")([x, skips[i]])
    x = conv_transpose(ndim, filters, 4, kernel_initializer=_init(), name=f"{name}_up_out")(x)
    x = keras.layers.ReLU(name=f"{name}_up_out_act")(x)
    out = _head(x, ndim, output_channels, "linear" if residual else output_activation, name)
    return keras.Model(inputs, _residual_output(inputs, out, output_channels, residual, name),
                       name=name)


def _pad_conv(x, ndim, filters, kernel_size, name, norm):
    x = ReflectionPadding(kernel_size // 2, name=f"{name}_pad")(x)
    x = conv(ndim, filters, kernel_size, padding="valid", use_bias=norm in ("none", "spectral"),
             kernel_initializer=_init(), name=f"{name}_conv")(x)
    return apply_norm(x, norm, name=f"{name}_norm")


def resnet_generator(input_shape, output_channels: int = 1, filters: int = 64, n_blocks: int = 9,
                     n_downsampling: int = 2, norm: str = "instance", dropout: float = 0.0,
                     output_activation: str = "tanh", residual: bool = False,
                     name: str = "resnet_generator") -> keras.Model:
    """ResNet generator of Johnson et al. (2016) as in CycleGAN (Zhu et al. 2017), 2D or 3D.

    Args:
        input_shape: (H, W, C) or (D, H, W, C); spatial sizes multiples of 2**n_downsampling.
        output_channels: channels of the output.
        filters: width of the first layer (ngf); doubles at each down-sampling.
        n_blocks: residual blocks at the bottleneck (9 for 256x256, 6 for 128x128 in Zhu et al.).
        n_downsampling: stride-2 convolutions before the blocks (2 in Zhu et al.).
        norm: "instance" (Zhu), "batch", "layer", "none".
        dropout: dropout inside the residual blocks (pytorch-CycleGAN's `use_dropout`).
        output_activation, residual: as in `unet`.
    """
    ndim = spatial_rank(input_shape, "resnet_generator input_shape")
    for option, value, lo in (("n_blocks", n_blocks, 0), ("n_downsampling", n_downsampling, 0),
                              ("filters", filters, 1)):
        if not isinstance(value, int) or value < lo:
            raise AdvzooError(f"resnet_generator {option} must be an int >= {lo}, got {value!r}")
    validate_norm(norm)
    _check_divisible(input_shape, 2 ** n_downsampling, "resnet_generator",
                     f"n_downsampling={n_downsampling}")
    inputs = image_input(input_shape, f"{name}_input")
    x = keras.layers.ReLU(name=f"{name}_stem_act")(_pad_conv(inputs, ndim, filters, 7,
                                                              f"{name}_stem", norm))
    for i in range(n_downsampling):
        x = conv(ndim, filters * 2 ** (i + 1), 3, strides=2, use_bias=norm in ("none", "spectral"),
                 kernel_initializer=_init(), name=f"{name}_down{i}")(x)
        x = keras.layers.ReLU(name=f"{name}_down{i}_act")(
            apply_norm(x, norm, name=f"{name}_down{i}_norm"))
    width = filters * 2 ** n_downsampling
    for b in range(n_blocks):
        y = keras.layers.ReLU(name=f"{name}_block{b}_act")(
            _pad_conv(x, ndim, width, 3, f"{name}_block{b}a", norm))
        if dropout:
            y = keras.layers.Dropout(dropout, name=f"{name}_block{b}_dropout")(y)
        y = _pad_conv(y, ndim, width, 3, f"{name}_block{b}b", norm)
        x = keras.layers.Add(name=f"{name}_block{b}_sum")([x, y])
    for i in reversed(range(n_downsampling)):
        x = conv_transpose(ndim, filters * 2 ** i, 3, use_bias=norm in ("none", "spectral"),
                           kernel_initializer=_init(), name=f"{name}_up{i}")(x)
        x = keras.layers.ReLU(name=f"{name}_up{i}_act")(apply_norm(x, norm, name=f"{name}_up{i}_norm"))
    x = ReflectionPadding(3, name=f"{name}_out_pad")(x)
    check_choice("output_activation", output_activation, OUTPUT_ACTIVATIONS)
    x = conv(ndim, output_channels, 7, padding="valid", dtype="float32",
             kernel_initializer=_init(), name=f"{name}_out_conv")(x)
    out = keras.layers.Activation("linear" if residual else output_activation, dtype="float32",
                                  name=f"{name}_output")(x)
    return keras.Model(inputs, _residual_output(inputs, out, output_channels, residual, name),
                       name=name)


GENERATORS = {"unet": unet, "resnet": resnet_generator}


def build_generator(kind: str, input_shape, output_channels: int, **options) -> keras.Model:
    """`unet` or `resnet` (pytorch-CycleGAN's netG) with the options of that builder."""
    check_choice("generator", kind, tuple(GENERATORS))
    return GENERATORS[kind](input_shape, output_channels, **options)


def patchgan_receptive_field(n_layers: int) -> int:
    """Receptive field in pixels of `patchgan(n_layers=...)`: 70 for 3, 34 for 2, 16 for 1."""
    field = 1
    for stride in [1, 1] + [2] * n_layers:  # walk back from the output: two stride-1 4x4 convs
        field = field * stride + (4 - stride)
    return field


def patchgan(input_shape, condition_shape=None, filters: int = 64, n_layers: int = 3,
             norm: str = "batch", output: str = "patch", name: str = "patchgan") -> keras.Model:
    """N-layer PatchGAN of Isola et al. (2017), 2D or 3D; one logit per patch (float32).

    Args:
        input_shape: shape of the judged image.
        condition_shape: shape of the condition y of a conditional D(x, y) (pix2pix); the two are
            concatenated along the channels, so their spatial sizes must match. The model then
            takes [condition, image].
        filters: width of the first layer (ndf); doubles per layer, at most 8 * filters.
        n_layers: stride-2 layers; 3 gives the 70x70 receptive field (`patchgan_receptive_field`).
        norm: "batch" (Isola), "instance" (Zhu), "layer", "spectral", "none". A WGAN-GP critic
            must not use "batch" (its penalty is per sample).
        output: "patch" (a logit map, the local adversarial loss) or "image" (one logit per image,
            the patch logits averaged: a whole-image discriminator).
    """
    ndim = spatial_rank(input_shape, "patchgan input_shape")
    validate_norm(norm)
    check_choice("output", output, ("patch", "image"))
    if not isinstance(n_layers, int) or n_layers < 0:
        raise AdvzooError(f"patchgan n_layers must be an int >= 0, got {n_layers!r}")
    _check_divisible(input_shape, 2 ** n_layers, "patchgan", f"n_layers={n_layers}")
    image = image_input(input_shape, f"{name}_image")
    inputs, x = [image], image
    if condition_shape is not None:
        condition_shape = tuple(condition_shape)
        spatial_rank(condition_shape, "patchgan condition_shape")
        if condition_shape[:-1] != tuple(input_shape)[:-1]:
            raise AdvzooError(f"patchgan: condition {condition_shape} and image "
                              f"{tuple(input_shape)} must have the same spatial size")
        condition = image_input(condition_shape, f"{name}_condition")
        inputs = [condition, image]
        x = keras.layers.Concatenate(name=f"{name}_pair")([condition, image])
    for i in range(n_layers + 1):
        width = min(filters * 2 ** i, filters * 8)
        layer = conv(ndim, width, 4, strides=2 if i < n_layers else 1,
                     use_bias=i == 0 or norm in ("none", "spectral"),
                     kernel_initializer=_init(), name=f"{name}_conv{i}")
        x = weight_layer(layer, norm)(x)
        if i > 0:
            x = apply_norm(x, norm, name=f"{name}_norm{i}")
        x = keras.layers.LeakyReLU(0.2, name=f"{name}_act{i}")(x)
    logits = weight_layer(conv(ndim, 1, 4, dtype="float32", kernel_initializer=_init(),
                               name=f"{name}_logits"), norm)(x)
    if output == "image":
        pool = (keras.layers.GlobalAveragePooling2D if ndim == 2
                else keras.layers.GlobalAveragePooling3D)
        logits = pool(dtype="float32", name=f"{name}_image_logit")(logits)
    return keras.Model(inputs if len(inputs) > 1 else image, logits, name=name)
