"""`segan`: SegAN, a segmentor and a critic playing a min-max game on a multi-scale L1 loss
(Xue et al. 2018, "SegAN: Adversarial Network with Multi-scale L1 Loss for Medical Image
Segmentation").

The critic C encodes the image masked by a segmentation, x o s (the image times the predicted or
the reference map), and returns its input and every layer's features (`networks.multiscale_critic`).
Xue Eq. 2-3:

    l_mae(f_C(x), f_C(x')) = 1/L sum_i || f_C^i(x) - f_C^i(x') ||_1,
    min_S max_C  1/N sum_n l_mae(f_C(x_n o S(x_n)), f_C(x_n o y_n)).

C maximises the feature distance between predicted and reference masked images (and its weights
are clipped to [-clip_value, clip_value] after each update, as in Xue's code, to keep the
maximisation bounded); S minimises it, matching the reference at every scale at once, from single
pixels to the organ outline. There is no real/fake classification and no cross-entropy in the
paper's loss; `ce_weight > 0` adds the voxel cross-entropy to S's loss (Xue's released code adds
a Dice loss in the same place), and `adversarial_weight=0` with `ce_weight=1` is the CE-only
baseline with the same segmentor. Optimiser: Adam(2e-4, beta_1=0.5) for both, as Xue's code.

Binary segmentors mask with the foreground probability (x o p: C_image channels); K-class ones
with every class map (x o s_k for each k: C_image x K channels).
"""
from __future__ import annotations

import keras
import tensorflow as tf

from advzoo import losses
from advzoo.errors import AdvzooError
from advzoo.models.adversarial_segmentation import adversarial_segmentation_dataset
from advzoo.models.segmentation import SegmentationMixin, check_weight
from advzoo.networks.segmentation import multiscale_critic
from advzoo.training import AdversarialModel
from advzoo.zoo import register_family


@keras.saving.register_keras_serializable(package="advzoo")
@register_family("segan", default_dataset=adversarial_segmentation_dataset, section="D",
                 summary="SegAN (Xue): segmentor vs. multi-scale critic of image x prediction and "
                         "image x reference, min-max multi-scale L1 feature loss")
class SegAN(SegmentationMixin, AdversarialModel):
    """Segmentor S and multi-scale critic C (Xue et al. 2018).

    `fit` takes (image, mask) pairs (binary masks or integer label maps); `evaluate` and `fit`
    report the losses and the mean per-image Dice.

    Args:
        image_shape, num_classes, generator, generator_filters, norm, dropout, n_blocks: the
            segmentor, as in `adversarial_segmentation`.
        critic_filters: C's first-layer width; n_layers: C's stride-2 layers (its scales).
        clip_value: C's weights are clipped to [-clip_value, clip_value] after each update
            (Xue's code: 0.05); None disables clipping.
        adversarial_weight: weight of the multi-scale L1 loss in S's loss (0: CE-only baseline).
        ce_weight: weight of an added voxel cross-entropy (0 in the paper).
        n_critic: C updates per S update (1, as Xue); seed: as in every family.
    """

    players = ("multiscale_critic", "segmentor")
    critic = "multiscale_critic"
    generator_players = "segmentor"
    loss_names = ("c_loss", "s_loss", "multiscale_l1", "ce")

    def __init__(self, image_shape=(32, 32, 3), num_classes: int = 2, generator: str = "unet",
                 generator_filters: int = 16, critic_filters: int = 16, n_layers: int = 3,
                 norm: str = "batch", dropout: float = 0.0, n_blocks: int = 6,
                 depth: int | None = None,
                 clip_value: float | None = 0.05, adversarial_weight: float = 1.0,
                 ce_weight: float = 0.0, n_critic: int | None = None, seed: int | None = None,
                 **kwargs):
        kwargs.pop("objective", None)  # the loss is Xue's, not a Table-1 objective
        super().__init__(objective="nsgan", n_critic=n_critic, seed=seed, **kwargs)
        self.adversarial_weight = check_weight("adversarial_weight", adversarial_weight)
        self.ce_weight = check_weight("ce_weight", ce_weight)
        if self.ce_weight == 0 and self.adversarial_weight == 0:
            raise AdvzooError("ce_weight and adversarial_weight are both 0: the segmentor would "
                              "have no loss (SegAN: adversarial_weight=1, ce_weight=0; the CE-only "
                              "baseline: adversarial_weight=0, ce_weight=1)")
        if clip_value is not None:
            clip_value = check_weight("clip_value", clip_value)
            if clip_value == 0:
                raise AdvzooError("clip_value must be > 0 (or None for no clipping), got 0")
        self.clip_value = clip_value
        self.build_segmentor(image_shape, num_classes, generator, generator_filters, norm,
                             dropout, depth=depth, n_blocks=n_blocks)
        masked_channels = self.image_shape[-1] * (1 if self.binary else self.num_classes)
        self.multiscale_critic = multiscale_critic(
            (*self.image_shape[:-1], masked_channels), filters=critic_filters, n_layers=n_layers,
            norm=norm, name="critic")
        if self.adversarial_weight == 0:
            self.loss_names = ("s_loss", "ce")
        self.set_family_config(
            image_shape=self.image_shape, num_classes=num_classes, generator=generator,
            depth=self.depth,
            generator_filters=generator_filters, critic_filters=critic_filters,
            n_layers=n_layers, norm=norm, dropout=dropout, n_blocks=n_blocks,
            clip_value=clip_value, adversarial_weight=adversarial_weight, ce_weight=ce_weight)
        self.players_ready()
        self.add_segmentation_metrics()

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("objective", None)
        return config

    # -- the loss ---------------------------------------------------------------------------------

    def masked_image(self, image, segmentation):
        """x o s: the image times the foreground map (binary) or times every class map."""
        if self.binary:
            return tf.cast(image, tf.float32) * tf.cast(segmentation, tf.float32)
        return self.pair_input(image, segmentation, "product")

    def multiscale_l1(self, image, prediction, mask, training: bool):
        """Xue Eq. 2: the mean over C's scales of the mean absolute feature difference between
        x o S(x) and x o y."""
        reference = self.target_map(mask)
        reference = reference[..., 1:] if self.binary else reference
        critic = self.multiscale_critic
        predicted = critic(self.masked_image(image, prediction), training=training)
        target = critic(self.masked_image(image, reference), training=training)
        return tf.add_n([losses.l1_loss(t, p) for t, p in zip(target, predicted)]) / len(target)

    def critic_losses(self, image, mask, training: bool):
        """C maximises the multi-scale L1 loss (its loss is the negative)."""
        prediction = self.segmentor(image, training=training)
        distance = self.multiscale_l1(image, prediction, mask, training)
        return -distance, {"c_loss": -distance}

    def segmentor_losses(self, image, mask, training: bool):
        """S minimises adversarial_weight * multi-scale L1 + ce_weight * voxel CE."""
        prediction = self.segmentor(image, training=training)
        ce = self.voxel_ce(mask, prediction)
        loss = self.ce_weight * ce
        logs = {"ce": ce, "prediction": prediction}
        if self.adversarial_weight:
            logs["multiscale_l1"] = self.multiscale_l1(image, prediction, mask, training)
            loss += self.adversarial_weight * logs["multiscale_l1"]
        return loss, {"s_loss": loss, **logs}

    # -- one step: C then S, alternating as Xue's Algorithm -------------------------------------------

    def unpack_batch(self, data):
        image, mask, _ = keras.utils.unpack_x_y_sample_weight(data)
        if mask is None:
            raise AdvzooError("segan trains on (image, mask) pairs; got images only")
        image = self.check_input(image, self.image_shape, "images")
        return image, self.check_mask(mask, image)

    def train_step(self, data):
        image, mask = self.unpack_batch(data)
        logs = {}
        if self.adversarial_weight:
            for _ in range(self.n_critic):
                logs.update(self.apply_update(
                    "multiscale_critic", lambda: self.critic_losses(image, mask, True)))
                if self.clip_value:
                    losses.clip_weights(self.multiscale_critic, self.clip_value)
        logs.update(self.apply_update("segmentor",
                                      lambda: self.segmentor_losses(image, mask, True)))
        self.record_segmentation(mask, logs.pop("prediction"))
        return self.record(logs)

    def test_step(self, data):
        image, mask = self.unpack_batch(data)
        logs = self.segmentor_losses(image, mask, False)[1]
        if self.adversarial_weight:
            logs["c_loss"] = -logs["multiscale_l1"]
        self.record_segmentation(mask, logs.pop("prediction"))
        return self.record(logs)
