"""`pix2pix`: paired image-to-image translation with a conditional GAN (Isola et al. 2017), and its
medical uses: MR -> CT (Nie et al. 2018), low-dose -> routine-dose CT (Wolterink et al. 2017;
Yang et al. 2018, "WGAN-VGG", a preset of this family), under-sampled -> full MR (Quan et al.
2018), sketch -> X-ray (Galbusera et al. 2018).

Isola Eq. 6: G* = arg min_G max_D L_cGAN(G, D) + lambda * L_L1(G), with

    L_cGAN(G, D) = E[log D(y, x)] + E[log(1 - D(y, G(y)))]     (y the source, x the target)
    L_L1(G)      = E[||x - G(y)||_1]                            (lambda = 100)

D sees the source beside the image (a conditional D(y, x)), as a PatchGAN of 70x70 receptive field
(`discriminator="patch"`, `n_layers=3`: one logit per patch, Isola Sec. 3.2.2) or one logit per
image (`discriminator="image"`, the whole-image critic of Yang et al.). Written in the review's
form, loss_G = lambda_adversarial * adversarial + lambda_l1 * voxel (+ lambda_perceptual *
perceptual), where

- `objective` is any adversarial objective of `advzoo.losses` (Table 1): nsgan (Isola),
  lsgan, wgan_gp (Yang: the critic is penalised on interpolates of (y, x) and (y, G(y)) at fixed
  y; no batch norm in such a critic);
- `voxel_loss` is "l1" (Isola, Eq. 6) or "l2" (Nie's and Wolterink's voxel-wise MSE);
- `lambda_perceptual` adds the feature-space loss of Yang et al. (Eq. 5) computed with the zoo's
  own phantom feature network (`advzoo.perceptual`, NOT an ImageNet VGG, which cannot be
  downloaded here); 2D only;
- `residual=True` makes G predict the correction x - y (Wolterink 2017; Nie), G(y) = y + R(y);
- `lambda_adversarial=0` is the "voxel loss alone" baseline with the same generator: no D update
  is made and only the voxel (and perceptual) terms are reported.

Both players are built 2D or 3D from the rank of `source_shape` with the zoo's shared U-Net /
ResNet generators and PatchGAN (`advzoo.networks.translation`). Isola Sec. 3.3 divides D's
objective by 2 to slow D relative to G; that is kept for the non-Wasserstein objectives.

Default data: `advzoo.data.translation_pairs(task=...)` with the model's `task` ("mr_to_ct",
"lowdose_ct", "sketch_xray", "csmri"; "mr_to_ct" and "lowdose_ct" also in 3D).
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from advzoo import losses
from advzoo.data.pairs import (CT_TASKS, TASKS, TASKS_3D, ct_window, translation_pairs,
                               translation_pairs_arrays)
from advzoo.errors import AdvzooError, check_choice
from advzoo.networks.common import validate_norm
from advzoo.networks.translation import build_generator, generator_depth, patchgan, spatial_rank
from advzoo.training import AdversarialModel, TranslationMixin
from advzoo.zoo import register_family

DISCRIMINATORS = ("patch", "image")
VOXEL_LOSSES = ("l1", "l2")


def pix2pix_dataset(split: str = "train", batch_size: int | None = None, task: str = "mr_to_ct",
                    size: int = 64, ndim: int = 2, window=None, shuffle: bool | None = None,
                    seed: int = 0, **options):
    """(source, target) pairs in [-1, 1] of `advzoo.data.translation_pairs` (paired); `window`
    (HU) maps the CT images of the CT tasks."""
    return translation_pairs(task=task, split=split, size=size, ndim=ndim, paired=True,
                             batch_size=batch_size, shuffle=shuffle, seed=seed, window=window,
                             **options)


def _shape(value, what: str) -> tuple:
    try:
        shape = tuple(int(s) for s in value)
    except (TypeError, ValueError):
        raise AdvzooError(f"{what} must be a tuple of ints, (H, W, C) or (D, H, W, C), "
                          f"got {value!r}") from None
    spatial_rank(shape, what)
    return shape


def _non_negative(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise AdvzooError(f"{name} must be a number >= 0, got {value!r}")
    return float(value)


@keras.saving.register_keras_serializable(package="advzoo")
@register_family("pix2pix", default_dataset=pix2pix_dataset, section="C",
                 summary="paired translation (Isola Eq. 6): U-Net/ResNet G(y), conditional "
                         "PatchGAN or whole-image D(y, x), adversarial + lambda * L1/L2; 2D/3D, "
                         "residual, WGAN-GP + perceptual (the wgan_vgg preset)")
class Pix2Pix(TranslationMixin, AdversarialModel):
    """pix2pix: G(source) -> target, D(source, image) real/fake, trained on aligned pairs.

    `fit` takes (source, target) pairs in [-1, 1]; `translate(sources)` maps new images.

    Args:
        source_shape: (H, W, C) or (D, H, W, C) of the source images; the rank picks 2D or 3D.
        target_shape: shape of the targets; default the source's spatial size with 1 channel.
        generator: "unet" (Isola) or "resnet" (Johnson / CycleGAN).
        discriminator: "patch" (PatchGAN, a logit per patch) or "image" (one logit per image).
        generator_filters, discriminator_filters: widths of the first layers (ngf, ndf).
        n_layers: stride-2 layers of D; 3 gives the 70x70 PatchGAN.
        n_blocks: residual blocks of the ResNet generator.
        depth: stride-2 levels of the U-Net generator (None: down to 1 pixel at source_shape,
            at most 8). Stored resolved in the config, so the networks (and a preset's weights)
            are the same at any image size; inputs must be multiples of 2**depth
            (`size_multiple`), other sizes are padded by `translate`.
        norm: normalisation of G (and of D unless `discriminator_norm` is given): "batch"
            (Isola), "instance", "layer", "none".
        discriminator_norm: D's normalisation; None follows `norm`. A WGAN-GP critic may not use
            "batch" (the penalty is per sample): use "layer", "instance" or "none".
        dropout: dropout of G (None: the builder's default, 0.5 in the U-Net's inner decoder
            blocks as Isola's noise source, 0 in the ResNet).
        objective, n_critic: adversarial objective (`advzoo.losses`) and critic updates per G
            update (None: the objective's default, 5 for wgan_gp).
        lambda_adversarial: weight of G's adversarial term (0: voxel loss alone, no D updates).
        lambda_l1: weight of the voxel term (100 in Isola; the name follows pytorch-pix2pix even
            when `voxel_loss="l2"`).
        lambda_perceptual: weight of the phantom-feature perceptual loss (Yang Eq. 5); 2D only.
        perceptual_layer: layer of the phantom feature network for that loss.
        voxel_loss: "l1" (Isola) or "l2".
        residual: G predicts target - source (needs source channels >= target channels).
        task: the default dataset's task (`translation_pairs`), used by `fit_on_default_data`,
            the CLI and `sample_report`; it does not change the networks.
        window: (lo, hi) HU window through which the CT tasks' built-in data and
            `sample_report` map CT to [-1, 1] (None: [-1024, 1024]). A soft-tissue window such
            as (-160, 240) makes low-dose noise 5x larger in the scaled images but clips air and
            bone; `translate` then expects inputs scaled through the same window.
    """

    players = ("discriminator", "generator")
    all_loss_names = ("d_loss", "d_real", "d_fake", "gradient_penalty", "g_loss",
                      "g_adversarial", "voxel_loss", "perceptual_loss")

    def __init__(self, source_shape=(64, 64, 1), target_shape=None, generator: str = "unet",
                 discriminator: str = "patch", generator_filters: int = 64,
                 discriminator_filters: int = 64, n_layers: int = 3, n_blocks: int = 9,
                 depth: int | None = None, norm: str = "batch",
                 discriminator_norm: str | None = None,
                 dropout: float | None = None, objective: str = "nsgan",
                 n_critic: int | None = None, lambda_adversarial: float = 1.0,
                 lambda_l1: float = 100.0, lambda_perceptual: float = 0.0,
                 perceptual_layer: str = "act1b", voxel_loss: str = "l1", residual: bool = False,
                 task: str = "mr_to_ct", window=None, seed: int | None = None, **kwargs):
        super().__init__(objective=objective, n_critic=n_critic, seed=seed, **kwargs)
        source_shape = _shape(source_shape, "source_shape")
        ndim = len(source_shape) - 1
        target_shape = (source_shape[:-1] + (1,) if target_shape is None
                        else _shape(target_shape, "target_shape"))
        if target_shape[:-1] != source_shape[:-1]:
            raise AdvzooError(f"pix2pix translates aligned pairs: target_shape {target_shape} "
                              f"must have the spatial size of source_shape {source_shape}")
        check_choice("generator", generator, ("unet", "resnet"))
        check_choice("discriminator", discriminator, DISCRIMINATORS)
        check_choice("voxel_loss", voxel_loss, VOXEL_LOSSES)
        self.window = ct_window(window, task)
        for name, value in (("generator_filters", generator_filters),
                            ("discriminator_filters", discriminator_filters)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise AdvzooError(f"{name} must be a positive int, got {value!r}")
        validate_norm(norm)
        d_norm = norm if discriminator_norm is None else validate_norm(discriminator_norm)
        if self.objective.gradient_penalty and d_norm == "batch":
            raise AdvzooError(
                f"objective={self.objective.name!r} penalises the gradient of the critic per sample "
                "(Gulrajani et al. Sec. 4), which batch norm mixes across the batch: set "
                "discriminator_norm to 'layer', 'instance' or 'none' (got 'batch'"
                f"{' from norm' if discriminator_norm is None else ''}).")
        self.lambda_adversarial = _non_negative("lambda_adversarial", lambda_adversarial)
        self.lambda_l1 = _non_negative("lambda_l1", lambda_l1)
        self.lambda_perceptual = _non_negative("lambda_perceptual", lambda_perceptual)
        if self.lambda_perceptual and ndim != 2:
            raise AdvzooError(f"lambda_perceptual={lambda_perceptual} needs 2D images: the phantom "
                              f"feature network is 2D, got source_shape {source_shape} (3D). Set "
                              "lambda_perceptual=0 for volumes.")
        if self.lambda_l1 == 0 and self.lambda_adversarial == 0 and self.lambda_perceptual == 0:
            raise AdvzooError("lambda_adversarial, lambda_l1 and lambda_perceptual are all 0: G "
                              "would have no loss")
        if residual and source_shape[-1] < target_shape[-1]:
            raise AdvzooError(f"residual=True adds G's output to the source's first "
                              f"{target_shape[-1]} channels, but source_shape {source_shape} has "
                              f"{source_shape[-1]}")
        self.source_shape, self.target_shape, self.ndim = source_shape, target_shape, ndim
        self.image_shape = source_shape  # what the model takes (the registry's shape check)
        self.task, self.residual = task, bool(residual)
        self.voxel = losses.get_reconstruction_loss(voxel_loss)

        g_options = {"filters": generator_filters, "norm": norm, "residual": self.residual}
        self.depth = generator_depth(generator, source_shape, depth)
        if generator == "resnet":
            g_options["n_blocks"] = n_blocks
        else:
            g_options["depth"] = self.depth
        if dropout is not None:
            g_options["dropout"] = dropout
        self.generator = build_generator(generator, source_shape, target_shape[-1],
                                         name=f"{generator}_generator", **g_options)
        # conditional D(y, x): the source and the judged image concatenated along the channels
        self.discriminator = patchgan(target_shape, condition_shape=source_shape,
                                      filters=discriminator_filters, n_layers=n_layers,
                                      norm=d_norm, output=discriminator,
                                      name=f"{discriminator}_discriminator")
        if self.lambda_perceptual:
            from advzoo.perceptual import perceptual_network

            self.perceptual = perceptual_network(perceptual_layer, channels=target_shape[-1])
        names = {"g_loss", "voxel_loss"}
        if self.lambda_perceptual:
            names.add("perceptual_loss")
        if self.lambda_adversarial:
            names |= {"d_loss", "d_real", "d_fake", "g_adversarial"}
            if self.objective.gradient_penalty:
                names.add("gradient_penalty")
        self.loss_names = tuple(n for n in self.all_loss_names if n in names)
        self.set_family_config(
            source_shape=source_shape, target_shape=target_shape, generator=generator,
            discriminator=discriminator, generator_filters=generator_filters,
            discriminator_filters=discriminator_filters, n_layers=n_layers, n_blocks=n_blocks,
            depth=self.depth, norm=norm, discriminator_norm=discriminator_norm, dropout=dropout,
            lambda_adversarial=lambda_adversarial, lambda_l1=lambda_l1,
            lambda_perceptual=lambda_perceptual, perceptual_layer=perceptual_layer,
            voxel_loss=voxel_loss, residual=self.residual, task=task,
            window=None if window is None else self.window)
        self.players_ready()
        self.add_image_metrics()

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def dataset_options(self) -> dict:
        if self.ndim == 3 and self.task not in TASKS_3D:
            raise AdvzooError(f"task {self.task!r} has 2D data only; a 3D pix2pix trains on "
                              f"{', '.join(TASKS_3D)} or on your own pairs")
        sides = set(self.source_shape[:-1])
        if len(sides) != 1 or self.source_shape[-1] != 1 or self.target_shape[-1] != 1:
            raise AdvzooError(f"the built-in pairs are square/cubic, one channel; this model has "
                              f"source_shape {self.source_shape}: pass your own pairs to fit()")
        return {"task": self.task, "size": self.source_shape[0], "ndim": self.ndim,
                "window": self.window}

    # -- losses of one step (Isola Eq. 6) ------------------------------------------------------

    def discriminator_losses(self, source, target, training: bool):
        """D(y, x) against D(y, G(y)); halved for the GAN objectives (Isola Sec. 3.3); + lambda *
        GP at fixed y for wgan_gp."""
        fake = tf.stop_gradient(self.generator(source, training=training))
        loss, logs = self.critic_loss(lambda x: self.discriminator([source, x], training=training),
                                      target, fake)
        if not self.objective.is_critic:  # the GAN objectives have no penalty term to keep whole
            loss = 0.5 * loss
            logs["d_loss"] = loss
        return loss, logs

    def generator_losses(self, source, target, training: bool, outputs: dict | None = None):
        """lambda_adversarial * adversarial + lambda_l1 * voxel (+ lambda_perceptual *
        perceptual); `outputs["fake"]` receives G(y) for the image metrics."""
        fake = self.generator(source, training=training)
        if outputs is not None:
            outputs["fake"] = fake
        voxel = self.voxel(target, fake)
        loss = self.lambda_l1 * voxel
        logs = {"voxel_loss": voxel}
        if self.lambda_adversarial:
            adversarial = self.objective.generator_loss(
                self.discriminator([source, fake], training=training))
            loss += self.lambda_adversarial * adversarial
            logs["g_adversarial"] = adversarial
        if self.lambda_perceptual:
            from advzoo.perceptual import perceptual_loss

            logs["perceptual_loss"] = perceptual_loss(self.perceptual, target, fake)
            loss += self.lambda_perceptual * logs["perceptual_loss"]
        return loss, {"g_loss": loss, **logs}

    def unpack_batch(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if y is None:
            raise AdvzooError("pix2pix trains on aligned (source, target) pairs; got sources only")
        source = self.check_input(x, self.source_shape, "source images")
        return source, self.check_input(y, self.target_shape, "target images", like=source,
                                        like_what="source images")

    def train_step(self, data):
        """n_critic updates of D on (y, x) vs (y, G(y)), then one update of G (Isola Sec. 3.3);
        with lambda_adversarial=0 only G's voxel-loss update."""
        source, target = self.unpack_batch(data)
        outputs = {}
        logs = {}
        if self.lambda_adversarial:
            for _ in range(self.n_critic):
                logs.update(self.apply_update(
                    "discriminator", lambda: self.discriminator_losses(source, target, True)))
        logs.update(self.apply_update(
            "generator", lambda: self.generator_losses(source, target, True, outputs)))
        self.record_images(target, tf.stop_gradient(outputs["fake"]))
        return self.record(logs)

    def test_step(self, data):
        source, target = self.unpack_batch(data)
        outputs = {}
        logs = self.generator_losses(source, target, False, outputs)[1]
        if self.lambda_adversarial:
            logs.update(self.discriminator_losses(source, target, False)[1])
        self.record_images(target, outputs["fake"])
        return self.record(logs)

    # -- measurements ------------------------------------------------------------------------

    def sample_report(self, n: int | None = None, seed: int = 0, batch_size: int = 32) -> dict:
        """PSNR / SSIM (data range 2) / MAE in [-1, 1] of G(source) and of the source itself
        against the target on the test split of the default data (`task`); MAE in HU as well for
        the CT tasks (`advzoo.metrics.mae_hu`, through the model's `window`)."""
        from advzoo.metrics import mae_hu, psnr, ssim

        options = self.dataset_options()
        source, target = translation_pairs_arrays(options["task"], "test", n=n,
                                                  size=options["size"], ndim=options["ndim"],
                                                  window=self.window, seed=seed)
        output = self.translate(np.clip(source, -1.0, 1.0), batch_size=batch_size)
        report = {}
        for prefix, image in (("", output), ("input_", source)):
            report[f"{prefix}psnr"] = float(np.mean(psnr(target, image, 2.0, per_image=True)))
            report[f"{prefix}ssim"] = float(np.mean(ssim(target, image, 2.0, per_image=True)))
            report[f"{prefix}mae"] = float(np.mean(np.abs(target - image)))
            if self.task in CT_TASKS:
                report[f"{prefix}mae_hu"] = mae_hu(target, image, from_unit=True,
                                                   window=self.window)
        report["test_images"] = int(len(source))
        report["task"] = self.task
        if self.lambda_perceptual:
            report["perceptual_network"] = (
                f"advzoo phantom feature network (zoo_weights/feature_net_phantoms), layer "
                f"{self._family_config['perceptual_layer']}; not VGG (no download)")
        return report
