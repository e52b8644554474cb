"""`gan`: the unconditional GAN of Goodfellow et al. (2014) and DCGAN of Radford et al. (2016).

G maps z ~ N(0, I) to a sample, D maps a sample to a logit. The update order is Algorithm 1 of
Goodfellow et al. with k = `n_critic` discriminator steps per generator step (WGAN's Algorithm 1
uses the same loop with n_critic = 5), each step drawing fresh codes and making a fresh forward
pass. The losses are any objective of Table 1 (`advzoo.losses`), with the gradient penalty of
Eq. 4 added for `wgan_gp`.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from advzoo import data as zoo_data
from advzoo import networks
from advzoo.errors import AdvzooError, check_choice, check_shape
from advzoo.training import AdversarialModel, GenerativeMixin
from advzoo.zoo import register_family

BACKBONES = ("dcgan", "mlp")


def gan_dataset(split: str = "train", batch_size: int | None = None,
                image_shape=(16, 16, 1), seed: int = 0, **kwargs):
    """The built-in data matching `image_shape`: digits for (S, S, 1), the 8-Gaussians ring for (2,)."""
    image_shape = tuple(image_shape)
    if image_shape == (2,):
        return zoo_data.ring(split=split, batch_size=batch_size, seed=seed, **kwargs)
    if len(image_shape) == 3 and image_shape[0] == image_shape[1] and image_shape[2] == 1:
        return zoo_data.digits(split=split, image_size=image_shape[0], batch_size=batch_size,
                               seed=seed, **kwargs)
    raise AdvzooError(
        f"gan has built-in data for image_shape (S, S, 1) (digits) or (2,) (8-Gaussians ring), "
        f"not {image_shape}; pass your own dataset to fit().")


@keras.saving.register_keras_serializable(package="advzoo")
@register_family("gan", default_dataset=gan_dataset, section="B",
                 summary="GAN (Goodfellow, MLP) and DCGAN (Radford); any Table-1 objective; "
                         "optional minibatch discrimination (Salimans)")
class GAN(GenerativeMixin, AdversarialModel):
    """Unconditional GAN with an MLP or DCGAN backbone.

    Args:
        image_shape: shape of one sample: (H, W, C) images, or (D,) vectors for `mlp`.
        latent_dim: dimension of z.
        generator, discriminator: backbones, "dcgan" or "mlp".
        objective: any id of `advzoo.losses.OBJECTIVES`; `n_critic` overrides its default.
        generator_filters, discriminator_filters: base widths of the DCGAN convolutions.
        discriminator_norm: "auto" (none for `mlp` as in Goodfellow; batch norm for `dcgan` as in
            Radford, layer norm with wgan_gp, whose penalty is per sample, Gulrajani et al.
            Sec. 4), or "batch", "layer", "instance", "spectral", "none".
        minibatch_discrimination: False, True, or (num_kernels, kernel_dim) (Salimans et al.).
        output_activation: "tanh" for data in [-1, 1], "linear" for unbounded data.
        hidden_units: widths of the MLP backbone's hidden layers (G uses them reversed).
    """

    players = ("discriminator", "generator")
    loss_names = ("d_loss", "g_loss", "d_real", "d_fake", "gradient_penalty")

    def __init__(self, image_shape=(16, 16, 1), latent_dim: int = 64, generator: str = "dcgan",
                 discriminator: str = "dcgan", objective: str = "nsgan",
                 n_critic: int | None = None, generator_filters: int = 64,
                 discriminator_filters: int = 64, discriminator_norm: str = "auto",
                 minibatch_discrimination=False, output_activation: str = "tanh",
                 hidden_units=(256, 512), seed: int | None = None, **kwargs):
        super().__init__(objective=objective, n_critic=n_critic, seed=seed, **kwargs)
        image_shape = check_shape(image_shape, "image_shape")
        check_choice("generator", generator, BACKBONES)
        check_choice("discriminator", discriminator, BACKBONES)
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise AdvzooError(f"latent_dim must be a positive int, got {latent_dim!r}")
        if discriminator_norm == "auto":  # each paper's own choice
            norm = ("none" if discriminator == "mlp"
                    else "layer" if self.objective.gradient_penalty else "batch")
        else:
            norm = networks.validate_norm(discriminator_norm)
        if self.objective.gradient_penalty and norm == "batch":
            raise AdvzooError(
                "wgan_gp penalises each sample's gradient, which batch norm couples across the "
                "batch (Gulrajani et al. Sec. 4); use discriminator_norm 'layer', 'instance' or 'none'.")
        if isinstance(minibatch_discrimination, (list, tuple)):
            minibatch_discrimination = tuple(int(v) for v in minibatch_discrimination)
        self.image_shape = image_shape
        self.latent_dim = latent_dim
        if not self.objective.gradient_penalty:
            self.loss_names = tuple(n for n in self.loss_names if n != "gradient_penalty")

        if generator == "dcgan":
            self.generator = networks.dcgan_generator(latent_dim, image_shape, generator_filters,
                                                      activation_out=output_activation)
        else:
            self.generator = networks.mlp_generator(latent_dim, image_shape,
                                                    tuple(reversed(hidden_units)), output_activation)
        if discriminator == "dcgan":
            self.discriminator = networks.dcgan_discriminator(
                image_shape, discriminator_filters, norm, minibatch_discrimination)
        else:
            self.discriminator = networks.mlp_discriminator(
                image_shape, tuple(hidden_units), norm, minibatch_discrimination)
        self.set_family_config(
            image_shape=image_shape, latent_dim=latent_dim, generator=generator,
            discriminator=discriminator, generator_filters=generator_filters,
            discriminator_filters=discriminator_filters, discriminator_norm=discriminator_norm,
            minibatch_discrimination=minibatch_discrimination,
            output_activation=output_activation, hidden_units=tuple(hidden_units))
        self.players_ready()

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def dataset_options(self) -> dict:
        return {"image_shape": self.image_shape}

    def sample_report(self, n: int = 1000, seed: int = 0) -> dict:
        """Domain measures of n samples: digit recognisability (digits) or ring modes covered.

        For digits the same measures of real held-out digits are given as `real_reference`.
        """
        samples = self.sample(n, seed=seed)
        if self.image_shape == (2,):
            return zoo_data.modes_covered(samples)
        if len(self.image_shape) == 3 and self.image_shape[-1] == 1:
            from advzoo.metrics import digit_sample_report

            real, _ = zoo_data.digits_arrays("test", image_size=self.image_shape[0])
            return {**digit_sample_report(samples),
                    "real_reference": digit_sample_report(real), "samples": n}
        raise AdvzooError(f"no built-in sample measure for image_shape {self.image_shape}")

    # -- losses of one step (shared by train_step and test_step) --------------------------------

    def discriminator_losses(self, real, training: bool):
        """D's loss on a real batch and a fresh fake batch (+ lambda * GP for wgan_gp)."""
        fake = self.generator(self.sample_latent(tf.shape(real)[0]), training=training)
        return self.critic_loss(lambda x: self.discriminator(x, training=training), real, fake)

    def generator_losses(self, batch_size, training: bool):
        """G's loss on a fresh fake batch."""
        fake = self.generator(self.sample_latent(batch_size), training=training)
        loss = self.objective.generator_loss(self.discriminator(fake, training=training))
        return loss, {"g_loss": loss}

    # -- the algorithm ----------------------------------------------------------------------------

    def step_losses(self, real):
        """k = n_critic discriminator updates, then one generator update (the base's loop)."""
        return (lambda training: self.discriminator_losses(real, training=training),
                lambda training: self.generator_losses(tf.shape(real)[0], training=training))
