"""Networks that map images back to codes: the BiGAN/ALI encoder E(x) and joint discriminator
D(x, z) (Donahue et al. 2017; Dumoulin et al. 2017), and InfoGAN's discriminator with the
auxiliary head Q(c | x) sharing its trunk (Chen et al. 2016, Sec. 5).
"""
from __future__ import annotations

import keras

from advzoo.networks.common import apply_norm, logits_head
from advzoo.networks.conditional import conv_trunk
from advzoo.networks.dcgan import dcgan_doublings


def dcgan_encoder(image_shape, latent_dim: int, filters: int = 64, norm: str = "batch",
                  name: str = "encoder") -> keras.Model:
    """E(x): the DCGAN strided-convolution trunk, then a linear (float32) map to a code of
    `latent_dim` (Donahue et al. Sec. 4: a deterministic encoder)."""
    k = dcgan_doublings(image_shape)
    x_in = keras.Input(image_shape, name="x")
    x = keras.layers.Flatten()(conv_trunk(x_in, filters, norm, k))
    z = keras.layers.Dense(latent_dim, dtype="float32", name="code")(x)
    return keras.Model(x_in, z, name=name)


def joint_discriminator(image_shape, latent_dim: int, filters: int = 64, norm: str = "batch",
                        hidden_units: int = 256, name: str = "discriminator") -> keras.Model:
    """D(x, z): the image trunk and a dense embedding of z, joined by a hidden layer, one logit.

    Inputs `x` (image_shape) and `z` (latent_dim,). The joint layer is needed so D can judge
    whether x and z belong together, not only whether each looks right on its own.
    """
    k = dcgan_doublings(image_shape)
    x_in = keras.Input(image_shape, name="x")
    z_in = keras.Input((latent_dim,), name="z")
    x = keras.layers.Flatten()(conv_trunk(x_in, filters, norm, k))
    z = keras.layers.LeakyReLU(0.2)(keras.layers.Dense(hidden_units, name="z_embed")(z_in))
    joint = keras.layers.Concatenate(name="x_and_z")([x, z])
    joint = keras.layers.LeakyReLU(0.2)(keras.layers.Dense(hidden_units, name="joint")(joint))
    return keras.Model([x_in, z_in], logits_head(joint), name=name)


def info_discriminator(image_shape, categorical_dims: tuple[int, ...], continuous_dim: int,
                       filters: int = 64, norm: str = "batch", q_units: int = 128,
                       name: str = "discriminator") -> keras.Model:
    """D(x) and Q(c | x) on one strided-convolution trunk (Chen et al. Sec. 5 and App. C).

    Outputs, in order: the real/fake logit (1,); one float32 logit vector per categorical code;
    and, when `continuous_dim > 0`, the means (continuous_dim,) of Q's factored Gaussian over
    the continuous codes (fixed unit variance).
    """
    k = dcgan_doublings(image_shape)
    x_in = keras.Input(image_shape, name="x")
    features = keras.layers.Flatten(name="features")(conv_trunk(x_in, filters, norm, k))
    logit = logits_head(features)
    q = keras.layers.Dense(q_units, name="q_hidden")(features)
    q = keras.layers.LeakyReLU(0.2)(apply_norm(q, norm, name="norm_q"))
    outputs = [logit] + [keras.layers.Dense(d, dtype="float32", name=f"q_categorical_{i}")(q)
                         for i, d in enumerate(categorical_dims)]
    if continuous_dim:
        outputs.append(keras.layers.Dense(continuous_dim, dtype="float32", name="q_continuous")(q))
    return keras.Model(x_in, outputs, name=name)
