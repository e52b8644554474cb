"""`lapgan`: the Laplacian pyramid of adversarial networks of Denton et al. (NeurIPS 2015).

A real image I = I_K is decomposed into a Gaussian pyramid I_{k-1} = d(I_k) (2x2 average
pooling) and the Laplacian residuals h_k = I_k - u(I_{k-1}) (u: bilinear 2x up-sampling).
Level 0 is an ordinary GAN on the coarsest images I_0; level k > 0 is a conditional GAN whose
generator G_k(l_k, z_k) produces the residual of the up-sampled coarser image l_k = u(I_{k-1})
and whose discriminator D_k judges l_k + h_k given l_k (Denton et al. Sec. 3, Eq. 3-4). As in
the paper, the levels are trained independently, each on the real pyramid of the batch. Sampling
runs the pyramid coarse to fine (Eq. 3):

    I~_0 = G_0(z_0),    I~_k = u(I~_{k-1}) + G_k(u(I~_{k-1}), z_k),

so `levels` = 3 samples at 4x the coarsest size (e.g. 8 -> 16 -> 32).

Players are `generator_0, discriminator_0, ..., generator_K, discriminator_K`, one optimizer
each; `generator` (and `export()`) is the whole coarse-to-fine sampler, taking one code
z = [z_0, ..., z_K] of `latent_dim` values (latent_dim / levels per level).
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from advzoo import data as zoo_data
from advzoo import losses, networks
from advzoo.errors import AdvzooError, check_shape
from advzoo.losses import clip_weights
from advzoo.networks.pyramid import residual_discriminator, residual_generator
from advzoo.training import AdversarialModel, GenerativeMixin
from advzoo.zoo import register_family


def downsample(images):
    """d(.): 2x2 average pooling, one level down the Gaussian pyramid."""
    return ops.average_pool(images, 2, strides=2, padding="valid")


def upsample(images):
    """u(.): bilinear 2x up-sampling (also on symbolic Keras tensors)."""
    h, w = images.shape[1], images.shape[2]
    return ops.image.resize(images, (2 * h, 2 * w), interpolation="bilinear")


def lapgan_dataset(split: str = "train", batch_size: int | None = None,
                   image_shape=(32, 32, 1), seed: int = 0, **kwargs):
    """CT phantom slices (`advzoo.data.ct_slices`, [-1, 1]) at the size of `image_shape`."""
    image_shape = tuple(image_shape)
    if len(image_shape) != 3 or image_shape[0] != image_shape[1] or image_shape[2] != 1:
        raise AdvzooError(f"lapgan's built-in data are square grey CT slices (S, S, 1), got "
                          f"image_shape {image_shape}; pass your own dataset to fit().")
    return zoo_data.ct_slices(split=split, size=image_shape[0], batch_size=batch_size, seed=seed,
                              **kwargs)


@keras.saving.register_keras_serializable(package="advzoo")
@register_family("lapgan", default_dataset=lapgan_dataset, section="B",
                 summary="LAPGAN (Denton): a Laplacian pyramid of conditional GANs, each level "
                         "generating the residual of the up-sampled coarser one")
class LAPGAN(GenerativeMixin, AdversarialModel):
    """A Laplacian pyramid of `levels` GANs sampling at 2^(levels-1) x the coarsest size.

    Args:
        image_shape: (S, S, C) of the finest level; the coarsest side S / 2^(levels-1) must be
            4 * 2^j >= 8 (its GAN is a DCGAN).
        levels: number of pyramid levels (>= 2); Denton et al. use 3 on CIFAR-10 (8 -> 16 -> 32).
        latent_dim: dimension of the full code z, split evenly over the levels.
        generator_filters, discriminator_filters: widths of the players' convolutions.
        generator_norm: normalisation in the generators ("batch" as in DCGAN, or "none", ...).
        discriminator_norm: "auto" (batch norm, layer norm with wgan_gp) or any of
            `advzoo.networks.NORMS`.
        objective: any Table-1 objective, used at every level.
    """

    critic = None  # several critics: WGAN clipping is applied per level in train_step

    def __init__(self, image_shape=(32, 32, 1), levels: int = 3, latent_dim: int = 96,
                 generator_filters: int = 32, discriminator_filters: int = 32,
                 generator_norm: str = "batch", discriminator_norm: str = "auto",
                 objective: str = "nsgan",
                 n_critic: int | None = None, seed: int | None = None, **kwargs):
        super().__init__(objective=objective, n_critic=n_critic, seed=seed, **kwargs)
        image_shape = check_shape(image_shape, "image_shape")
        if not isinstance(levels, int) or isinstance(levels, bool) or levels < 2:
            raise AdvzooError(f"lapgan needs levels >= 2 (a coarsest GAN and at least one "
                              f"residual level), got levels={levels!r}")
        if len(image_shape) != 3 or image_shape[0] != image_shape[1]:
            raise AdvzooError(f"lapgan expects a square image_shape (S, S, C), got {image_shape}")
        side = image_shape[0]
        coarsest = side // 2 ** (levels - 1)
        if coarsest * 2 ** (levels - 1) != side or coarsest < 8 or coarsest & (coarsest - 1):
            raise AdvzooError(
                f"lapgan with levels={levels} needs an image side of c * 2^{levels - 1} with a "
                f"coarsest side c = 4 * 2^j >= 8 (e.g. {8 * 2 ** (levels - 1)}), got side {side}")
        if not isinstance(latent_dim, int) or latent_dim < levels or latent_dim % levels:
            raise AdvzooError(f"latent_dim must be a positive multiple of levels={levels} (one "
                              f"code per level), got {latent_dim!r}")
        networks.validate_norm(generator_norm)
        if discriminator_norm == "auto":
            norm = "layer" if self.objective.gradient_penalty else "batch"
        else:
            norm = networks.validate_norm(discriminator_norm)
        if self.objective.gradient_penalty and norm == "batch":
            raise AdvzooError(
                "wgan_gp penalises each sample's gradient, which batch norm couples across the "
                "batch (Gulrajani et al. Sec. 4); use discriminator_norm 'layer', 'instance' or 'none'.")
        self.image_shape = image_shape
        self.levels = levels
        self.latent_dim = latent_dim
        self.level_code_dim = latent_dim // levels
        self.level_shapes = [(coarsest * 2 ** k, coarsest * 2 ** k, image_shape[2])
                             for k in range(levels)]
        players, names = [], []
        for k, shape in enumerate(self.level_shapes):
            if k == 0:
                g = networks.dcgan_generator(self.level_code_dim, shape, generator_filters,
                                             generator_norm, name="generator_0")
                d = networks.dcgan_discriminator(shape, discriminator_filters, norm,
                                                 name="discriminator_0")
            else:
                g = residual_generator(shape, self.level_code_dim, generator_filters,
                                       generator_norm, name=f"generator_{k}")
                d = residual_discriminator(shape, discriminator_filters, norm,
                                           name=f"discriminator_{k}")
            setattr(self, f"generator_{k}", g)
            setattr(self, f"discriminator_{k}", d)
            players += [f"discriminator_{k}", f"generator_{k}"]
            names += [f"d_loss_{k}", f"g_loss_{k}"]
            if self.objective.gradient_penalty:
                names.append(f"gradient_penalty_{k}")
        self.players = tuple(players)
        self.loss_names = tuple(names)
        object.__setattr__(self, "_sampler", self._build_sampler())  # shares the level weights
        self.set_family_config(image_shape=image_shape, levels=levels, latent_dim=latent_dim,
                               generator_filters=generator_filters,
                               discriminator_filters=discriminator_filters,
                               generator_norm=generator_norm,
                               discriminator_norm=discriminator_norm)
        self.players_ready()

    # -- the pyramid ------------------------------------------------------------------------------

    def _build_sampler(self) -> keras.Model:
        """The coarse-to-fine sampler z -> I~_K of Eq. 3, built from the level generators."""
        z = keras.Input((self.latent_dim,), name="z")
        n = self.level_code_dim
        image = self.generator_0(z[:, :n])
        for k in range(1, self.levels):
            low = upsample(image)
            image = low + getattr(self, f"generator_{k}")([low, z[:, k * n:(k + 1) * n]])
        return keras.Model(z, image, name="generator")

    @property
    def generator(self) -> keras.Model:
        """The whole pyramid as one network G(z) (what `sample`, `generate` and `export` use)."""
        return self._sampler

    def call(self, z, training=False):
        return self._sampler(z, training=training)

    def dataset_options(self) -> dict:
        return {"image_shape": self.image_shape}

    def gaussian_pyramid(self, images) -> list:
        """[I_0, ..., I_K]: the real batch at every level, coarsest first."""
        pyramid = [images]
        for _ in range(self.levels - 1):
            pyramid.insert(0, downsample(pyramid[0]))
        return pyramid

    def level_inputs(self, images) -> list:
        """Per level k: (target, low-pass) = (I_0, None) for k = 0, (h_k, l_k) for k > 0."""
        pyramid = self.gaussian_pyramid(images)
        out = [(pyramid[0], None)]
        for k in range(1, self.levels):
            low = upsample(pyramid[k - 1])
            out.append((pyramid[k] - low, low))
        return out

    def _level_fake(self, k, low, batch_size, training):
        n = self.level_code_dim
        code = self.sample_latent(batch_size)[:, k * n:(k + 1) * n]
        generator = getattr(self, f"generator_{k}")
        return generator(code, training=training) if k == 0 else generator([low, code],
                                                                            training=training)

    def _critic(self, k, low, training):
        discriminator = getattr(self, f"discriminator_{k}")
        if k == 0:
            return lambda x: discriminator(x, training=training)
        return lambda h: discriminator([h, low], training=training)

    # -- losses of one level ----------------------------------------------------------------------

    def discriminator_losses(self, k: int, target, low, training: bool):
        """D_k's loss on the real residual (image for k = 0) and a fresh generated one."""
        fake = self._level_fake(k, low, tf.shape(target)[0], training)
        critic = self._critic(k, low, training)
        loss = self.objective.discriminator_loss(critic(target), critic(fake))
        logs = {}
        if self.objective.gradient_penalty:
            logs[f"gradient_penalty_{k}"] = losses.gradient_penalty(critic, target, fake,
                                                                    seed=self.seed_generator)
            loss += self.objective.gradient_penalty * logs[f"gradient_penalty_{k}"]
        return loss, {f"d_loss_{k}": loss, **logs}

    def generator_losses(self, k: int, target, low, training: bool):
        """G_k's loss on a fresh generated residual (image for k = 0)."""
        fake = self._level_fake(k, low, tf.shape(target)[0], training)
        loss = self.objective.generator_loss(self._critic(k, low, training)(fake))
        return loss, {f"g_loss_{k}": loss}

    # -- the algorithm ----------------------------------------------------------------------------

    def train_step(self, data):
        real = self.check_input(keras.utils.unpack_x_y_sample_weight(data)[0],
                                self.image_shape, "images")
        logs = {}
        for k, (target, low) in enumerate(self.level_inputs(real)):
            for _ in range(self.n_critic):
                logs.update(self.apply_update(
                    f"discriminator_{k}",
                    lambda: self.discriminator_losses(k, target, low, training=True)))
                if self.objective.clip_value:
                    clip_weights(getattr(self, f"discriminator_{k}"), self.objective.clip_value)
            logs.update(self.apply_update(
                f"generator_{k}", lambda: self.generator_losses(k, target, low, training=True)))
        return self.record(logs)

    def test_step(self, data):
        real = self.check_input(keras.utils.unpack_x_y_sample_weight(data)[0],
                                self.image_shape, "images")
        logs = {}
        for k, (target, low) in enumerate(self.level_inputs(real)):
            logs.update(self.discriminator_losses(k, target, low, training=False)[1])
            logs.update(self.generator_losses(k, target, low, training=False)[1])
        return self.record(logs)

    # -- measures ---------------------------------------------------------------------------------

    def coarse_upsampled(self, n: int = 16, seed: int | None = None) -> np.ndarray:
        """Level-0 samples up-sampled to the finest size with no residuals (the baseline)."""
        from advzoo import latent

        z = latent.sample_latent(n, self.latent_dim, seed)[:, :self.level_code_dim]
        image = self.generator_0(tf.constant(z), training=False)
        for _ in range(self.levels - 1):
            image = upsample(image)
        return np.asarray(image, np.float32)

    def sample_report(self, n: int = 512, seed: int = 0) -> dict:
        """Samples at the finest size vs. real CT slices in the phantom feature space.

        Fréchet distance and precision/recall of n pyramid samples against n real test slices,
        next to the Fréchet distance of the coarsest level's samples merely up-sampled (what the
        residual levels must improve on).
        """
        from advzoo.metrics import feature_distances, frechet_distance, phantom_features

        side = self.image_shape[0]
        real = zoo_data.hu_to_unit(zoo_data.ct_slices_arrays("test", n=n, size=side)["images"])
        distances = feature_distances(real, self.sample(n, seed=seed))
        coarse = frechet_distance(phantom_features(real),
                                  phantom_features(self.coarse_upsampled(n, seed=seed)))
        return {"sample_size": side, "coarsest_size": self.level_shapes[0][0],
                "frechet": round(distances["frechet"], 3),
                "frechet_coarse_upsampled": round(coarse, 3),
                "precision": round(distances["precision"], 3),
                "recall": round(distances["recall"], 3), "samples": n}
