"""`progan`: progressive growing of GANs (Karras et al., ICLR 2018) with jointly synthesised
segmentation masks (Beers et al., "High-resolution medical image synthesis using progressively
grown generative adversarial networks", 2018).

G and D grow from `start_size` to the image size by doubling; each new stage is faded in
(alpha: 0 -> 1) and then stabilised (Karras Sec. 3), driven inside one `fit` call by the
`ProgressiveGrowing` callback (added automatically when `fit` is given none and the model is not
fully grown). The networks (`advzoo.networks.progressive`) use pixel norm (Sec. 4.2), minibatch
standard deviation (Sec. 3) and the equalised learning rate (Sec. 4.1). Real images are shown to D
at the current resolution: average-pooled to the active stage and nearest-up-sampled back, blended
between the two newest stages with the same alpha as the networks (Sec. A.1).

Loss: WGAN-GP (Gulrajani et al. Eq. 4) plus Karras' drift term epsilon_drift * E[D(x)^2]
(epsilon_drift = 0.001, Sec. A.1) that keeps the critic's output near zero; n_critic = 1 and
Adam(1e-3, beta_1 = 0, beta_2 = 0.99) as in Karras et al.

Beers et al. append label maps as extra channels of the image, so one generator synthesises an
image and its segmentation together. Here `mask_organs` names CT organs whose binary masks
(in [-1, 1]) follow the image channel; `sample_report` measures how well the generated mask lines
up with its own image (Dice against a threshold segmentation of the generated image).
"""
from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from advzoo import data as zoo_data
from advzoo.errors import AdvzooError, check_shape
from advzoo.layers import FadeIn
from advzoo.networks.progressive import (progressive_discriminator, progressive_generator,
                                         progressive_stages)
from advzoo.training import AdversarialModel, GenerativeMixin
from advzoo.training.callbacks import ProgressiveGrowing
from advzoo.zoo import register_family

DRIFT = 0.001  # epsilon_drift of Karras et al. Sec. A.1


def _check_organs(mask_organs) -> tuple[str, ...]:
    organs = tuple(mask_organs)
    unknown = [o for o in organs if o not in zoo_data.CT_LABELS[1:]]
    if unknown or len(set(organs)) != len(organs):
        raise AdvzooError(f"mask_organs must be distinct organs of {zoo_data.CT_LABELS[1:]}, "
                          f"got {organs}")
    return organs


def progan_dataset(split: str = "train", batch_size: int | None = None,
                   image_shape=(64, 64, 2), mask_organs=("bone",), seed: int = 0, **kwargs):
    """CT phantom slices in [-1, 1] with one binary mask channel (-1 / 1) per organ of `mask_organs`."""
    organs = _check_organs(mask_organs)
    image_shape = tuple(image_shape)
    if len(image_shape) != 3 or image_shape[0] != image_shape[1] or image_shape[2] != 1 + len(organs):
        raise AdvzooError(f"progan's built-in data are (S, S, 1 + len(mask_organs)) = "
                          f"(S, S, {1 + len(organs)}) CT slices with masks, got image_shape "
                          f"{image_shape}")
    ids = [zoo_data.CT_LABELS.index(o) for o in organs]
    data = zoo_data.ct_slices(split=split, size=image_shape[0], labels=True,
                              batch_size=batch_size, seed=seed, **kwargs)

    def join(image, labels):
        masks = [tf.cast(tf.equal(labels, i), tf.float32) * 2.0 - 1.0 for i in ids]
        return tf.concat([tf.cast(image, tf.float32), *masks], axis=-1)

    return data.map(join, num_parallel_calls=tf.data.AUTOTUNE)


@keras.saving.register_keras_serializable(package="advzoo")
@register_family("progan", default_dataset=progan_dataset, section="B",
                 summary="Progressive GAN (Karras): growing with fade-in in one fit, pixel norm, "
                         "minibatch std-dev, equalised lr, WGAN-GP; joint image + mask (Beers)")
class ProGAN(GenerativeMixin, AdversarialModel):
    """Progressively grown GAN; optional mask channels synthesised with the image.

    Args:
        image_shape: (S, S, C) at full size, S = start_size * 2^k (k >= 1); the last
            len(mask_organs) channels are masks.
        start_size: side of the first stage (Karras: 4; Beers: 4).
        latent_dim: dimension of z (Karras: 512).
        filters: channels of the first stage, halved at each further stage (at least 8).
        mask_organs: CT organs whose masks are synthesised jointly (Beers); () for images only.
        group_size: samples per minibatch std-dev group (Karras: 4).
        drift: epsilon_drift of the critic's drift term.
        objective: default wgan_gp with n_critic = 1 (Karras); any Table-1 objective is accepted.
    """

    players = ("discriminator", "generator")
    loss_names = ("d_loss", "g_loss", "d_real", "d_fake", "gradient_penalty", "drift", "level",
                  "alpha")

    def __init__(self, image_shape=(64, 64, 2), start_size: int = 8, latent_dim: int = 128,
                 filters: int = 64, mask_organs=("bone",), group_size: int = 4,
                 drift: float = DRIFT, objective: str = "wgan_gp", n_critic: int | None = 1,
                 seed: int | None = None, **kwargs):
        super().__init__(objective=objective, n_critic=n_critic, seed=seed, **kwargs)
        image_shape = check_shape(image_shape, "image_shape")
        self.stages = progressive_stages(image_shape, start_size)
        organs = _check_organs(mask_organs)
        if image_shape[-1] <= len(organs):
            raise AdvzooError(f"image_shape {image_shape} has {image_shape[-1]} channels, which "
                              f"leaves no image channel beside the {len(organs)} mask channels "
                              f"of mask_organs={organs}")
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise AdvzooError(f"latent_dim must be a positive int, got {latent_dim!r}")
        if not isinstance(filters, int) or filters < 1:
            raise AdvzooError(f"filters must be a positive int, got {filters!r}")
        if float(drift) < 0:
            raise AdvzooError(f"drift must be >= 0, got {drift!r}")
        self.image_shape = image_shape
        self.start_size = start_size
        self.latent_dim = latent_dim
        self.mask_organs = organs
        self.image_channels = image_shape[-1] - len(organs)
        self.drift = float(drift)
        if not self.objective.gradient_penalty:
            self.loss_names = tuple(n for n in self.loss_names if n != "gradient_penalty")
        self.generator = progressive_generator(latent_dim, image_shape, start_size, filters)
        self.discriminator = progressive_discriminator(image_shape, start_size, filters,
                                                       group_size)
        self.set_family_config(image_shape=image_shape, start_size=start_size,
                               latent_dim=latent_dim, filters=filters, mask_organs=organs,
                               group_size=group_size, drift=self.drift)
        self.players_ready()

    def default_optimizers(self):
        """Adam(1e-3, beta_1 = 0, beta_2 = 0.99, epsilon = 1e-8) for both players (Karras A.1)."""
        return {p: keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.99, epsilon=1e-8)
                for p in self.players}

    # -- growth -----------------------------------------------------------------------------------

    def _fade_layers(self, network) -> list[FadeIn]:
        return sorted((l for l in network.layers if isinstance(l, FadeIn)), key=lambda l: l.stage)

    def set_growth(self, level: int, alpha: float) -> None:
        """Set the active stage `level` (0 .. stages - 1) and its fade-in `alpha` in G and D."""
        if not 0 <= int(level) < self.stages or not 0.0 <= float(alpha) <= 1.0:
            raise AdvzooError(f"growth must be 0 <= level < {self.stages} and 0 <= alpha <= 1, "
                              f"got level={level}, alpha={alpha}")
        for layer in self._fade_layers(self.generator) + self._fade_layers(self.discriminator):
            layer.set_growth(level, alpha)

    @property
    def growth(self) -> tuple[int, float]:
        """(level, alpha) of the networks now."""
        first = self._fade_layers(self.generator)[0]
        return int(first.level.numpy()), float(first.alpha.numpy())

    @property
    def resolution(self) -> int:
        """Side of the images the networks currently produce (before up-sampling to full size)."""
        return self.start_size * 2 ** self.growth[0]

    def real_at_growth(self, images):
        """Real images at the current resolution: per stage, average-pooled and nearest-
        up-sampled back to full size, blended stage by stage with G's fade-in weights."""
        side = self.image_shape[0]
        blended = None
        for i in range(self.stages):
            factor = 2 ** (self.stages - 1 - i)
            stage = images
            if factor > 1:
                stage = tf.nn.avg_pool2d(images, factor, factor, "VALID")
                stage = tf.image.resize(stage, (side, side), method="nearest")
            if blended is None:
                blended = stage
            else:
                w_old, w_new = self._fade_layers(self.generator)[i - 1].weights_old_new()
                blended = w_old * blended + w_new * stage
        return blended

    def fit(self, x=None, y=None, batch_size=None, epochs=1, callbacks=None, steps_per_epoch=None,
            **kwargs):
        """`keras.Model.fit`, adding a `ProgressiveGrowing` callback when none is given and the
        model is not fully grown: the 2S - 1 phases (stable, then fade + stable per new stage)
        split the steps of this call evenly, so the last phase trains the full resolution."""
        callbacks = list(callbacks or [])
        grown = self.growth == (self.stages - 1, 1.0)
        if not grown and not any(isinstance(c, ProgressiveGrowing) for c in callbacks):
            total = self._planned_steps(x, batch_size, epochs, steps_per_epoch)
            callbacks.append(ProgressiveGrowing(max(1, total // (2 * self.stages - 1))))
        return super().fit(x, y, batch_size=batch_size, epochs=epochs, callbacks=callbacks,
                           steps_per_epoch=steps_per_epoch, **kwargs)

    @staticmethod
    def _planned_steps(x, batch_size, epochs, steps_per_epoch) -> int:
        if steps_per_epoch is not None:
            return int(steps_per_epoch) * int(epochs)
        if isinstance(x, tf.data.Dataset):
            cardinality = int(x.cardinality())
            if cardinality > 0:
                return cardinality * int(epochs)
        elif hasattr(x, "__len__"):
            return math.ceil(len(x) / (batch_size or 32)) * int(epochs)
        raise AdvzooError(
            "progan grows during fit and needs to know how many steps it has: pass "
            "steps_per_epoch, a dataset of known length, or a ProgressiveGrowing(phase_steps) "
            "callback.")

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def dataset_options(self) -> dict:
        return {"image_shape": self.image_shape, "mask_organs": self.mask_organs}

    # -- losses of one step -----------------------------------------------------------------------

    def discriminator_losses(self, real, training: bool):
        """WGAN-GP critic loss + drift * E[D(x)^2] on real images at the current resolution."""
        fake = self.generator(self.sample_latent(tf.shape(real)[0]), training=training)
        return self.critic_loss(lambda x: self.discriminator(x, training=training), real, fake,
                                drift=self.drift)

    def generator_losses(self, batch_size, training: bool):
        fake = self.generator(self.sample_latent(batch_size), training=training)
        loss = self.objective.generator_loss(self.discriminator(fake, training=training))
        return loss, {"g_loss": loss}

    def _growth_logs(self):
        layer = self._fade_layers(self.generator)[0]
        return {"level": layer.level, "alpha": layer.alpha}

    def unpack_batch(self, data):
        """Full-size images, brought to the current resolution and fade-in of the growth."""
        return self.real_at_growth(self.check_input(
            keras.utils.unpack_x_y_sample_weight(data)[0], self.image_shape, "images"))

    def step_losses(self, real):
        return (lambda training: self.discriminator_losses(real, training=training),
                lambda training: self.generator_losses(tf.shape(real)[0], training=training))

    def train_step(self, data):
        logs = self.critic_then_generator(*self.step_losses(self.unpack_batch(data)))
        return self.record({**logs, **self._growth_logs()})

    def test_step(self, data):
        logs = self.evaluate_losses(*self.step_losses(self.unpack_batch(data)))
        return self.record({**logs, **self._growth_logs()})

    # -- measures ---------------------------------------------------------------------------------

    def mask_alignment(self, images) -> dict:
        """Dice between each mask channel and the organ's HU-range threshold segmentation of the
        image channel of the same sample, and with the image of another sample (a shuffled
        pairing: the Dice that the masks' typical position alone would give)."""
        from advzoo.metrics import dice

        images = np.asarray(images, np.float32)
        hu = zoo_data.unit_to_hu(images[..., 0])
        shuffled = np.roll(np.arange(len(images)), 1)
        out = {}
        for i, organ in enumerate(self.mask_organs):
            lo, hi = zoo_data.CT_HU_RANGES[organ]
            threshold = (hu >= lo) & (hu <= hi)
            mask = images[..., self.image_channels + i] > 0.0
            out[f"dice_{organ}"] = round(float(dice(mask, threshold)), 4)
            out[f"dice_{organ}_shuffled"] = round(float(dice(mask, threshold[shuffled])), 4)
        return out

    def sample_report(self, n: int = 256, seed: int = 0) -> dict:
        """Mask-image alignment of n samples (Beers' joint synthesis) next to the same measure on
        real test slices, whose masks are exact (the threshold segmentation's own ceiling)."""
        report = {"resolution": self.resolution, "samples": n}
        if not self.mask_organs:
            return report
        generated = self.mask_alignment(self.sample(n, seed=seed))
        real = np.concatenate([np.asarray(b) for b in progan_dataset(
            "test", batch_size=64, image_shape=self.image_shape, mask_organs=self.mask_organs)])
        reference = self.mask_alignment(real)
        for organ in self.mask_organs:
            report[f"dice_{organ}"] = generated[f"dice_{organ}"]
            report[f"dice_{organ}_shuffled_pairs"] = generated[f"dice_{organ}_shuffled"]
            report[f"dice_{organ}_real_data"] = reference[f"dice_{organ}"]
        return report
