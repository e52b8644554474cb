"""`adversarial_segmentation`: a segmentor trained with a voxel loss plus an adversarial loss from a
discriminator of (image, segmentation) pairs (Luc et al. 2016; Moeskops et al. 2017; Kohl et al.
2017).

Luc et al. Eq. 1: l(theta_s, theta_a) = sum_n l_mce(s(x_n), y_n)
    - lambda [l_bce(a(x_n, y_n), 1) + l_bce(a(x_n, s(x_n)), 0)].
The discriminator a minimises the bracket (Eq. 2): reference pairs (x, y) are "real", pairs with
the prediction (x, s(x)) "fake". The segmentor minimises Eq. 3 in its non-saturating form,
l_mce(s(x), y) + lambda l_bce(a(x, s(x)), 1): the adversarial term rewards segmentations whose
higher-order shape (connected vessels, no holes or speckle) the discriminator cannot tell from
the reference, which the per-voxel cross-entropy alone does not see. Here

    segmentor loss = ce_weight * voxel CE + adversarial_weight * objective's generator loss,

so any Table-1 objective works (default nsgan, as Luc), `ce_weight=0` gives the adversarial-only
training of Kohl et al., and `adversarial_weight=0` the CE-only baseline (no discriminator update).
The discriminator's input mode (`input_mode`) is one of Luc's encodings: `mask` (class map only),
`concat` (image and class map), `product` (image x each class map).

On the retina phantom, Luc's non-saturating loss at lambda 0.1 let the discriminator win and
fragment the segmentation (Dice 0.33 against 0.66 for CE alone after 600 steps); the preset and the
benchmark use the least-squares objective at lambda 0.05 (`benchmarks/segmentation_adversarial.py`).

Default data: the `retina` phantom (vessel masks) at 32x32 RGB; `num_classes=8` trains on the
`ct_slices` organ label maps instead (2D or 3D).
"""
from __future__ import annotations

import keras

from advzoo.errors import AdvzooError, check_choice
from advzoo.models.segmentation import (PAIR_MODES, SegmentationMixin, check_weight,
                                        segmentation_pairs)
from advzoo.training import AdversarialModel
from advzoo.zoo import register_family


def adversarial_segmentation_dataset(split: str = "train", batch_size: int | None = None,
                                     image_shape=(32, 32, 3), task: str = "vessels",
                                     n: int | None = None, shuffle: bool | None = None,
                                     seed: int = 0, randomise=False):
    """(image, mask) pairs: retina vessels (binary) or CT organ label maps (`task="organs"`);
    `randomise=True` (or a dict of `advzoo.data.DomainRandomisation` fields) draws each image's
    appearance at random (domain randomisation, `segmentation_arrays`)."""
    return segmentation_pairs(split, batch_size=batch_size, image_shape=image_shape, task=task,
                              n=n, shuffle=shuffle, seed=seed, randomise=randomise)


@keras.saving.register_keras_serializable(package="advzoo")
@register_family("adversarial_segmentation", default_dataset=adversarial_segmentation_dataset,
                 section="D",
                 summary="segmentor + discriminator of (image, segmentation) pairs (Luc; "
                         "Moeskops; Kohl): CE + adversarial loss, input modes mask/concat/product")
class AdversarialSegmentation(SegmentationMixin, AdversarialModel):
    """Segmentor S and pair discriminator D (Luc et al. 2016).

    `fit` takes (image, mask) pairs: masks (N, ..., 1) binary for `num_classes=2`, integer label
    maps for more classes. `evaluate` and `fit` report the losses and the mean per-image Dice.

    Args:
        image_shape: (H, W, C) or (D, H, W, C) of the images.
        num_classes: 2 (one sigmoid foreground channel) or K > 2 (softmax).
        generator: S's architecture, "unet" or "resnet" (the shared translation networks).
        generator_filters: S's outermost width; dropout: U-Net decoder dropout (0 for
            segmentation); n_blocks: residual blocks of the "resnet" segmentor; depth: the U-Net's
            stride-2 levels (None: down to 1 pixel at image_shape, stored resolved).
        discriminator: "image" (one logit per pair, Luc) or "patch" (PatchGAN logits).
        discriminator_filters, n_layers: D's width and stride-2 layers.
        norm: normalisation of both players ("batch", "instance", "layer", "none").
        input_mode: what D sees, "mask", "concat" or "product" (Luc Sec. 3.2).
        ce_weight: weight of the voxel cross-entropy (0: Kohl's adversarial-only training).
        adversarial_weight: lambda of Luc Eq. 1 (0: CE-only baseline).
        objective, n_critic, seed: as in every family.
    """

    players = ("discriminator", "segmentor")
    generator_players = "segmentor"
    loss_names = ("d_loss", "s_loss", "ce", "adversarial", "d_real", "d_fake")

    def __init__(self, image_shape=(32, 32, 3), num_classes: int = 2, generator: str = "unet",
                 generator_filters: int = 16, discriminator: str = "image",
                 discriminator_filters: int = 16, n_layers: int = 3, norm: str = "batch",
                 dropout: float = 0.0, n_blocks: int = 6,
                 depth: int | None = None, input_mode: str = "product",
                 ce_weight: float = 1.0, adversarial_weight: float = 0.1,
                 objective: str = "nsgan", n_critic: int | None = None, seed: int | None = None,
                 **kwargs):
        super().__init__(objective=objective, n_critic=n_critic, seed=seed, **kwargs)
        check_choice("input_mode", input_mode, PAIR_MODES)
        self.ce_weight = check_weight("ce_weight", ce_weight)
        self.adversarial_weight = check_weight("adversarial_weight", adversarial_weight)
        if self.ce_weight == 0 and self.adversarial_weight == 0:
            raise AdvzooError("ce_weight and adversarial_weight are both 0: the segmentor would "
                              "have no loss. Use ce_weight=0 for adversarial-only training "
                              "(Kohl) or adversarial_weight=0 for the CE-only baseline.")
        if self.objective.gradient_penalty and norm == "batch":
            raise AdvzooError(f"objective={self.objective.name!r} penalises per-sample gradients; "
                              "its critic cannot use batch norm: choose norm='layer', "
                              "'instance' or 'none'")
        self.input_mode = input_mode
        self.build_segmentor(image_shape, num_classes, generator, generator_filters, norm,
                             dropout, depth=depth, n_blocks=n_blocks)
        self.discriminator = self.pair_discriminator(input_mode, discriminator_filters, n_layers,
                                                     norm, output=discriminator)
        names = list(self.loss_names) + (["gradient_penalty"] if self.objective.gradient_penalty
                                         else [])
        if self.adversarial_weight == 0:  # CE only: the discriminator is never trained nor asked
            names = ["s_loss", "ce"]
        self.loss_names = tuple(names)
        self.set_family_config(
            image_shape=self.image_shape, num_classes=num_classes, generator=generator,
            depth=self.depth,
            generator_filters=generator_filters, discriminator=discriminator,
            discriminator_filters=discriminator_filters, n_layers=n_layers, norm=norm,
            dropout=dropout, n_blocks=n_blocks, input_mode=input_mode, ce_weight=ce_weight,
            adversarial_weight=adversarial_weight)
        self.players_ready()
        self.add_segmentation_metrics()

    # -- losses of one step ---------------------------------------------------------------------

    def unpack_batch(self, data):
        image, mask, _ = keras.utils.unpack_x_y_sample_weight(data)
        if mask is None:
            raise AdvzooError(f"{self.family_name} trains on (image, mask) pairs; got images only")
        image = self.check_input(image, self.image_shape, "images")
        return image, self.check_mask(mask, image)

    def pair(self, image, class_map):
        return self.pair_input(image, class_map, self.input_mode)

    def discriminator_losses(self, image, mask, training: bool):
        """Luc Eq. 2: D tells reference pairs (x, y) from predicted pairs (x, s(x))."""
        predicted = self.class_map(self.segmentor(image, training=training))
        real = self.pair(image, self.target_map(mask))
        fake = self.pair(image, predicted)
        return self.critic_loss(lambda pair: self.discriminator(pair, training=training), real,
                                fake)

    def segmentor_losses(self, image, mask, training: bool):
        """Luc Eq. 3 (non-saturating): ce_weight * l_mce(s(x), y) + lambda * l_bce(a(x, s(x)), 1).

        The logs carry S's output under "prediction" for the Dice tracker."""
        prediction = self.segmentor(image, training=training)
        ce = self.voxel_ce(mask, prediction)
        loss = self.ce_weight * ce
        logs = {"ce": ce, "prediction": prediction}
        if self.adversarial_weight:
            logits = self.discriminator(self.pair(image, self.class_map(prediction)),
                                        training=training)
            logs["adversarial"] = self.objective.generator_loss(logits)
            loss += self.adversarial_weight * logs["adversarial"]
        return loss, {"s_loss": loss, **logs}

    def step_losses(self, batch):
        image, mask = batch
        return (lambda training: self.discriminator_losses(image, mask, training),
                lambda training: self.segmentor_losses(image, mask, training))

    def _finish(self, logs, mask):
        self.record_segmentation(mask, logs.pop("prediction"))
        return self.record(logs)

    def train_step(self, data):
        image, mask = batch = self.unpack_batch(data)
        critic_losses, segmentor_losses = self.step_losses(batch)
        if self.adversarial_weight:
            logs = self.critic_then_generator(critic_losses, segmentor_losses)
        else:  # the CE-only baseline: the same segmentor update without the adversarial term
            logs = self.apply_update("segmentor", lambda: segmentor_losses(True))
        return self._finish(logs, mask)

    def test_step(self, data):
        image, mask = batch = self.unpack_batch(data)
        critic_losses, segmentor_losses = self.step_losses(batch)
        loss_fns = (critic_losses, segmentor_losses) if self.adversarial_weight else (
            segmentor_losses,)
        return self._finish(self.evaluate_losses(*loss_fns), mask)
