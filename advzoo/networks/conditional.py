"""DCGAN-style networks with a second input: conditional G(z, y), D(x, y) (Mirza & Osindero 2014;
Zhang et al. 2017 condition on a text embedding, i.e. any continuous vector), built on the DCGAN
trunk and up-sampling body of `networks.dcgan`.

y is a float vector: a one-hot class id or an arbitrary continuous condition. G reads [z, y]
concatenated (Mirza Sec. 4.1 joins them in the first hidden layer); D reads y twice: as a learned
H x W map stacked onto the image channels, and concatenated with the flattened features before
the logit (Mirza's "joint hidden representation"), so it can judge whether x matches y.
"""
from __future__ import annotations

import keras

from advzoo.errors import AdvzooError
from advzoo.networks.common import logits_head, validate_norm
from advzoo.networks.dcgan import conv_trunk, dcgan_doublings, upsampling_body


def discriminator_norm_for(norm: str, gradient_penalty: bool) -> str:
    """Resolve a discriminator's `norm` option: "auto" is batch norm (Radford), or layer norm
    when the objective penalises per-sample gradients (Gulrajani et al. Sec. 4)."""
    if norm == "auto":
        return "layer" if gradient_penalty else "batch"
    validate_norm(norm)
    if gradient_penalty and norm == "batch":
        raise AdvzooError(
            "wgan_gp penalises each sample's gradient, which batch norm couples across the batch "
            "(Gulrajani et al. Sec. 4); use discriminator_norm 'layer', 'instance' or 'none'.")
    return norm


def conditional_generator(latent_dim: int, condition_dim: int, image_shape, filters: int = 64,
                          norm: str = "batch", activation_out: str = "tanh",
                          name: str = "generator") -> keras.Model:
    """G(z, y): [z, y] -> DCGAN up-sampling stack. Inputs `z` (latent_dim,), `y` (condition_dim,)."""
    if condition_dim < 1:
        raise AdvzooError(f"a conditional generator needs condition_dim >= 1, got {condition_dim}")
    z = keras.Input((latent_dim,), name="z")
    y = keras.Input((condition_dim,), name="y")
    h = keras.layers.Concatenate(name="z_and_y")([z, y])
    return keras.Model([z, y], upsampling_body(h, image_shape, filters, norm, activation_out), name=name)


def conditional_discriminator(image_shape, condition_dim: int, filters: int = 64,
                              norm: str = "batch", minibatch_discrimination=None,
                              name: str = "discriminator") -> keras.Model:
    """D(x, y): y as a learned H x W channel of the input and beside the features; one logit."""
    k = dcgan_doublings(image_shape)
    h, w, _ = image_shape
    x_in = keras.Input(image_shape, name="x")
    y_in = keras.Input((condition_dim,), name="y")
    y_map = keras.layers.Reshape((h, w, 1))(keras.layers.Dense(h * w, name="y_to_map")(y_in))
    x = keras.layers.Concatenate(name="x_and_y_map")([x_in, y_map])
    x = keras.layers.Flatten()(conv_trunk(x, filters, norm, k))
    x = keras.layers.Concatenate(name="features_and_y")([x, y_in])
    return keras.Model([x_in, y_in], logits_head(x, minibatch_discrimination), name=name)
