"""`srgan`: super-resolution GAN (Ledig et al. 2017), with the multi-contrast MR option.

G (`advzoo.networks.superres.srresnet`, Ledig's SRResNet) maps a low-resolution image I_LR to
I_SR = G(I_LR) at `scale` times its size; D tells the high-resolution images I_HR from I_SR.
Ledig Eq. 3, the perceptual loss of G:

    l_SR = l_content + 1e-3 * l_adversarial,

with l_content either the pixel-wise MSE (Eq. 4, `content_loss="mse"`) or the squared distance of
feature maps of a fixed network (Eq. 5, `content_loss="perceptual"`): Ledig use an ImageNet VGG-19;
the zoo uses its own phantom feature network (`advzoo.perceptual`, no download), cut at
`perceptual_layer`. l_adversarial is the objective's generator loss (Ledig: -log D(G(I_LR)),
the non-saturating `nsgan`). D minimises the objective's discriminator loss (Eq. 2). The
adversarial weight is `lambda_adversarial` (1e-3 in Ledig; 0 trains G with its content loss only,
i.e. SRResNet, and D is then still trained but does not affect G).

D: the shared PatchGAN (`advzoo.networks.patchgan`) judging the whole image
(`discriminator="image"`, the patch logits averaged, as Ledig's D ends in one logit) or each patch
(`discriminator="patch"`).

Multi-contrast super-resolution (`reference_channels=1`): G also takes a high-resolution image of
another contrast of the same subject (T1 for T2 SR); `advzoo.data.multi_contrast_sr` yields
((t2_low, t1), t2). `translate(low, reference=t1)` runs it.

`evaluate` (and fit's logs) report PSNR, SSIM (data range 2, [-1, 1] images) and MAE of I_SR
against I_HR beside the losses.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from advzoo import data as zoo_data
from advzoo import networks
from advzoo.errors import AdvzooError, check_choice, check_shape
from advzoo.networks.superres import UPSAMPLING, srresnet, upsampling_stages
from advzoo.networks.translation import free_spatial
from advzoo.perceptual import FEATURE_LAYERS
from advzoo.training import AdversarialModel
from advzoo.training.translation import TranslationMixin, as_batch, check_unit_range
from advzoo.zoo import register_family

CONTENT_LOSSES = ("mse", "perceptual")


def srgan_dataset(split: str = "train", batch_size: int | None = None, source_shape=(32, 32, 1),
                  scale: int = 2, reference_channels: int = 0, noise: float = 0.01,
                  n: int | None = None, shuffle: bool | None = None, seed: int = 0):
    """`advzoo.data.multi_contrast_sr` shaped for a model: (t2_low, t2), or ((t2_low, t1), t2)
    with `reference_channels=1`; t2_low of `source_shape`, t2 and t1 `scale` times larger."""
    source_shape = check_shape(source_shape, "source_shape")
    if len(source_shape) != 3 or source_shape[0] != source_shape[1] or source_shape[2] != 1:
        raise AdvzooError(f"srgan has built-in data (multi_contrast_sr) for source_shape "
                          f"(s, s, 1), not {source_shape}; pass your own dataset to fit().")
    if reference_channels not in (0, 1):
        raise AdvzooError(f"the built-in data has one reference contrast (T1): reference_channels "
                          f"0 or 1, got {reference_channels!r}")
    return zoo_data.multi_contrast_sr(split, n=n, size=source_shape[0] * scale, factor=scale,
                                      noise=noise, reference=bool(reference_channels),
                                      batch_size=batch_size, shuffle=shuffle, seed=seed)


@keras.saving.register_keras_serializable(package="advzoo")
@register_family("srgan", default_dataset=srgan_dataset, section="C",
                 summary="super-resolution GAN (Ledig): SRResNet G up-samples, content (MSE or "
                         "phantom-feature perceptual) + 1e-3 adversarial; option: a "
                         "high-resolution reference contrast as second input (multi-contrast MR)")
class SRGAN(TranslationMixin, AdversarialModel):
    """SRGAN of Ledig et al. (2017).

    `fit` takes (low_res, high_res) pairs, or ((low_res, reference), high_res) with
    `reference_channels > 0`.

    Args:
        source_shape: (h, w, C) of the low-resolution input.
        scale: up-sampling factor; targets are (scale*h, scale*w, C).
        reference_channels: channels of the high-resolution reference input (0: none).
        content_loss: "mse" (Ledig Eq. 4) or "perceptual" (Eq. 5, phantom feature network).
        perceptual_layer: feature layer of the perceptual loss (`advzoo.perceptual.FEATURE_LAYERS`).
        lambda_adversarial: weight of the adversarial loss in G's loss (Ledig: 1e-3).
        generator_filters, n_blocks, norm, upsampling, residual: of `srresnet` (Ledig: 64, 16,
            "batch", "pixel_shuffle", False).
        discriminator: "image" (one logit per image, Ledig) or "patch".
        discriminator_filters, n_layers, discriminator_norm: of `networks.patchgan`
            (discriminator_norm "auto": batch, or layer for wgan_gp).
        objective, n_critic, seed: as in every family (Ledig: nsgan).
    """

    players = ("discriminator", "generator")
    loss_names = ("d_loss", "g_loss", "content_loss", "adversarial_loss", "d_real", "d_fake",
                  "gradient_penalty")

    def __init__(self, source_shape=(32, 32, 1), scale: int = 2, reference_channels: int = 0,
                 content_loss: str = "mse", perceptual_layer: str = "act1b",
                 lambda_adversarial: float = 1e-3, generator_filters: int = 64, n_blocks: int = 16,
                 norm: str = "batch", upsampling: str = "pixel_shuffle", residual: bool = False,
                 discriminator: str = "image", discriminator_filters: int = 64, n_layers: int = 3,
                 discriminator_norm: str = "auto", objective: str = "nsgan",
                 n_critic: int | None = None, seed: int | None = None, **kwargs):
        super().__init__(objective=objective, n_critic=n_critic, seed=seed, **kwargs)
        source_shape = check_shape(source_shape, "source_shape")
        if len(source_shape) != 3:
            raise AdvzooError(f"srgan works on 2D images: source_shape (h, w, C), got "
                              f"{source_shape}")
        upsampling_stages(scale)
        check_choice("content_loss", content_loss, CONTENT_LOSSES)
        check_choice("perceptual_layer", perceptual_layer, FEATURE_LAYERS)
        check_choice("upsampling", upsampling, UPSAMPLING)
        check_choice("discriminator", discriminator, ("image", "patch"))
        if not isinstance(reference_channels, int) or reference_channels < 0:
            raise AdvzooError(f"reference_channels must be an int >= 0, got {reference_channels!r}")
        if not float(lambda_adversarial) >= 0:
            raise AdvzooError(f"lambda_adversarial must be >= 0, got {lambda_adversarial!r}")
        self.source_shape, self.scale = source_shape, int(scale)
        self.image_shape = source_shape  # what the model takes (the registry's shape check)
        self.target_shape = (source_shape[0] * scale, source_shape[1] * scale, source_shape[2])
        self.reference_channels = reference_channels
        self.reference_shape = (*self.target_shape[:2], reference_channels) \
            if reference_channels else None
        self.content_loss_name, self.lambda_adversarial = content_loss, float(lambda_adversarial)
        d_norm = networks.discriminator_norm_for(discriminator_norm,
                                                 bool(self.objective.gradient_penalty))
        if not self.objective.gradient_penalty:
            self.loss_names = tuple(n for n in self.loss_names if n != "gradient_penalty")
        self.generator = srresnet(source_shape, scale, source_shape[-1], generator_filters,
                                  n_blocks, norm, upsampling, self.reference_shape, residual,
                                  name="generator")
        self.discriminator = networks.patchgan(self.target_shape, filters=discriminator_filters,
                                               n_layers=n_layers, norm=d_norm,
                                               output=discriminator, name="discriminator")
        if content_loss == "perceptual":
            from advzoo.perceptual import perceptual_network

            # Not tracked: the frozen feature network is shipped with the zoo
            # (zoo_weights/feature_net_phantoms), so it is neither trained nor saved again here.
            object.__setattr__(self, "_feature_net",
                               perceptual_network(perceptual_layer, source_shape[-1]))
        self.set_family_config(
            source_shape=source_shape, scale=scale, reference_channels=reference_channels,
            content_loss=content_loss, perceptual_layer=perceptual_layer,
            lambda_adversarial=lambda_adversarial, generator_filters=generator_filters,
            n_blocks=n_blocks, norm=norm, upsampling=upsampling, residual=residual,
            discriminator=discriminator, discriminator_filters=discriminator_filters,
            n_layers=n_layers, discriminator_norm=discriminator_norm)
        self.players_ready()
        self.add_image_metrics()

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def dataset_options(self) -> dict:
        return {"source_shape": self.source_shape, "scale": self.scale,
                "reference_channels": self.reference_channels}

    # -- translate with a reference -------------------------------------------------------------

    def translate(self, images, reference=None, batch_size: int = 32,
                  check_range: bool = True) -> np.ndarray:
        """Super-resolve `images` (numpy or tensor, (N, h, w, C) or one image) in [-1, 1].

        A multi-contrast model (`reference_channels > 0`) needs `reference`: the high-resolution
        images of the other contrast, (N, scale*h, scale*w, reference_channels) or one image.
        Returns float32 numpy of shape (N, scale*h, scale*w, C) (or one image).
        """
        if not self.reference_channels:
            if reference is not None:
                raise AdvzooError("this srgan has no reference input (reference_channels=0); "
                                  "call translate(images)")
            return super().translate(images, batch_size=batch_size, check_range=check_range)
        if reference is None:
            raise AdvzooError(f"this srgan is multi-contrast (reference_channels="
                              f"{self.reference_channels}): call translate(low_res, "
                              f"reference=high_res_other_contrast)")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise AdvzooError(f"batch_size must be a positive int, got {batch_size!r}")
        what = "SRGAN.translate"
        low, single = as_batch(images, free_spatial(self.source_shape), what)
        ref, ref_single = as_batch(reference, free_spatial(self.reference_shape),
                                   f"{what} reference")
        if single != ref_single or len(low) != len(ref):
            raise AdvzooError(f"{what}: got {len(low)} images and {len(ref)} references; give "
                              "one reference per image")
        if ref.shape[1:3] != tuple(self.scale * s for s in low.shape[1:3]):
            raise AdvzooError(f"{what}: the references must be {self.scale} x the images' size "
                              f"{low.shape[1:3]}, got {ref.shape[1:3]}")
        if check_range:
            check_unit_range(low, f"{what} inputs")
            check_unit_range(ref, f"{what} references")
        out = np.concatenate([np.asarray(self.generator(
            [low[i:i + batch_size], ref[i:i + batch_size]], training=False), np.float32)
            for i in range(0, len(low), batch_size)])
        return out[0] if single else out

    # -- losses of one step -----------------------------------------------------------------------

    def unpack_batch(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if y is None:
            raise AdvzooError("srgan trains on (low_res, high_res) pairs"
                              + (" with ((low_res, reference), high_res)" if self.reference_channels
                                 else "") + "; got inputs only")
        if self.reference_channels:
            if not isinstance(x, (tuple, list)) or len(x) != 2:
                raise AdvzooError("this srgan is multi-contrast (reference_channels="
                                  f"{self.reference_channels}): it trains on ((low_res, "
                                  "reference), high_res) pairs")
            low = self.check_input(x[0], self.source_shape, "low-resolution images")
            inputs = [low, self.check_input(x[1], self.reference_shape, "high-resolution references",
                                            like=low, like_what="low-resolution images",
                                            scale=self.scale)]
        else:
            if isinstance(x, (tuple, list)):
                raise AdvzooError("this srgan has no reference input (reference_channels=0) but "
                                  "the data gives (low_res, reference) inputs; build it with "
                                  "reference_channels=1")
            inputs = low = self.check_input(x, self.source_shape, "low-resolution images")
        high = self.check_input(y, self.target_shape, "high-resolution targets", like=low,
                                like_what="low-resolution images", scale=self.scale)
        return inputs, high

    def content_loss(self, high, fake):
        """Ledig Eq. 4 (pixel MSE) or Eq. 5 (feature-map MSE of the fixed network)."""
        if self.content_loss_name == "perceptual":
            from advzoo.perceptual import perceptual_loss

            return perceptual_loss(self._feature_net, high, fake)
        return tf.reduce_mean(tf.square(tf.cast(high, tf.float32) - tf.cast(fake, tf.float32)))

    def discriminator_losses(self, inputs, high, training: bool):
        """Ledig Eq. 2 for D: I_HR real, G(I_LR) fake (+ gradient penalty for wgan_gp)."""
        fake = tf.stop_gradient(self.generator(inputs, training=training))
        return self.critic_loss(lambda x: self.discriminator(x, training=training), high, fake)

    def generator_losses(self, inputs, high, training: bool):
        """Ledig Eq. 3: l_SR = l_content + lambda_adversarial * l_adversarial."""
        fake = self.generator(inputs, training=training)
        content = self.content_loss(high, fake)
        adversarial = self.objective.generator_loss(self.discriminator(fake, training=training))
        loss = content + self.lambda_adversarial * adversarial
        return loss, {"g_loss": loss, "content_loss": content, "adversarial_loss": adversarial,
                      "output": fake}

    def step_losses(self, batch):
        inputs, high = batch
        return (lambda training: self.discriminator_losses(inputs, high, training),
                lambda training: self.generator_losses(inputs, high, training))

    def train_step(self, data):
        inputs, high = self.unpack_batch(data)
        logs = self.critic_then_generator(*self.step_losses((inputs, high)))
        self.record_images(high, logs.pop("output"))  # G's output of this step, before its update
        return self.record(logs)

    def test_step(self, data):
        inputs, high = self.unpack_batch(data)
        logs = self.evaluate_losses(*self.step_losses((inputs, high)))
        self.record_images(high, logs.pop("output"))
        return self.record(logs)

    # -- measurements ---------------------------------------------------------------------------

    def sample_report(self, split: str = "test", n: int | None = None) -> dict:
        """PSNR / SSIM / MAE of G and of the cubic up-sampling baseline (`t2_upsampled`) against
        the high-resolution T2 of the built-in data's `split` (values in [-1, 1], data range 2)."""
        from advzoo.metrics import psnr, ssim

        if self.source_shape[-1] != 1 or self.source_shape[0] != self.source_shape[1]:
            raise AdvzooError("srgan.sample_report measures the built-in multi_contrast_sr data "
                              "(square, one channel)")
        arr = zoo_data.multi_contrast_sr_arrays(split, n=n, size=self.target_shape[0],
                                                factor=self.scale)
        low, high = zoo_data.mr_to_unit(arr["t2_low"]), zoo_data.mr_to_unit(arr["t2"])
        cubic = zoo_data.mr_to_unit(arr["t2_upsampled"])
        out = self.translate(low, reference=zoo_data.mr_to_unit(arr["t1"])
                             if self.reference_channels else None)
        report = {}
        for tag, images in (("srgan", out), ("cubic", cubic)):
            report[f"{tag}_psnr"] = round(psnr(high, images, data_range=2.0), 3)
            report[f"{tag}_ssim"] = round(float(np.mean([ssim(h[..., 0], o[..., 0], data_range=2.0)
                                                         for h, o in zip(high, images)])), 4)
            report[f"{tag}_mae"] = round(float(np.abs(high - images).mean()), 5)
        report["images"] = len(high)
        report["split"] = split
        return report
