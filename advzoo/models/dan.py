"""`dan`: deep adversarial networks for semi-supervised segmentation (Zhang et al. 2017, "Deep
Adversarial Networks for Biomedical Image Segmentation Utilizing Unannotated Images").

A segmentor S learns from a few labelled images and many unlabelled ones. An evaluation network
(the discriminator D here) sees (image, segmentation) pairs and tells whether the segmentation was
made for a labelled image or for an unlabelled one; both are S's own predictions. Zhang Eq. 1-2:

    min_S max_D  L_seg(S(X_l), Y_l)
                 + lambda [ l_bce(D(X_l, S(X_l)), 1) + l_bce(D(X_u, S(X_u)), 0) ],

trained alternately: D on labelled vs. unlabelled pairs, then S on its supervised loss plus
lambda times the (non-saturating) loss of making unlabelled pairs look labelled,
l_bce(D(X_u, S(X_u)), 1). Where S is good (on the images it was supervised on) its predictions
have the look of good segmentations; the adversarial term pulls the predictions on unannotated
images towards that look. `adversarial_weight=0` is the supervised-only baseline on the same
labelled batches. Any Table-1 objective can replace the cross-entropies (default nsgan).

Mind the labelled fraction. D's task is easiest when the labelled images are few: S fits them
closely, so their predictions look more confident than any unlabelled one, and D can even learn
the labelled images themselves. The adversarial term then pulls S towards that look rather than
towards better segmentations. `benchmarks/dan_few_labels.py` measures this on the retina
phantoms: dan falls below supervised-only at 5 % and 10 % labelled, and rises above it only at
half of the images labelled (table in the README).

Data: each training element is a triple (labelled image, its mask, an unlabelled image); the
built-in `dan_dataset` keeps `labelled_fraction` of the retina train split labelled (repeated,
reshuffled) and pairs it with the rest, whose masks are dropped. Validation and test data are
ordinary (image, mask) pairs.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from advzoo.data._common import paired_with_unpaired
from advzoo.errors import AdvzooError, check_choice
from advzoo.models.segmentation import (PAIR_MODES, SegmentationMixin, check_weight,
                                        segmentation_arrays, segmentation_pairs)
from advzoo.training import AdversarialModel
from advzoo.zoo import register_family


def labelled_count(n: int, labelled_fraction) -> int:
    """Number of labelled samples among `n` (at least 1, at most n - 1)."""
    if isinstance(labelled_fraction, bool) or not isinstance(labelled_fraction, (int, float)) \
            or not 0.0 < labelled_fraction < 1.0:
        raise AdvzooError(f"labelled_fraction must be a number in (0, 1) (the rest is used "
                          f"without labels), got {labelled_fraction!r}")
    return int(min(n - 1, max(1, round(labelled_fraction * n))))


def dan_dataset(split: str = "train", batch_size: int | None = None, image_shape=(32, 32, 3),
                task: str = "vessels", labelled_fraction: float = 0.1, n: int | None = None,
                shuffle: bool | None = None, seed: int = 0, randomise=False):
    """Semi-supervised segmentation data.

    train: (labelled image, mask, unlabelled image) triples; the first `labelled_fraction` of
    the split's samples are labelled (repeated and reshuffled as often as needed), the others
    unlabelled (their masks are never read); one pass over the unlabelled images is an epoch.
    val / test: (image, mask) pairs of the whole split. `randomise`: domain randomisation of
    the images, as in `segmentation_arrays`.
    """
    if split != "train":
        return segmentation_pairs(split, batch_size=batch_size, image_shape=image_shape, task=task,
                                  n=n, shuffle=shuffle, seed=seed, randomise=randomise)
    images, masks = segmentation_arrays(split, image_shape, task, n=n, seed=seed,
                                        randomise=randomise)
    k = labelled_count(len(images), labelled_fraction)
    return paired_with_unpaired((images[:k], masks[:k]), images[k:], batch_size=batch_size,
                                shuffle=True if shuffle is None else bool(shuffle), seed=seed,
                                repeat_pairs=True)


@keras.saving.register_keras_serializable(package="advzoo")
@register_family("dan", default_dataset=dan_dataset, section="F",
                 summary="deep adversarial networks (Zhang): segmentor on labelled + unlabelled "
                         "images, D tells labelled from unlabelled (image, prediction) pairs")
class DAN(SegmentationMixin, AdversarialModel):
    """Segmentor S and evaluation network D (Zhang et al. 2017).

    `fit` takes (labelled image, mask, unlabelled image) triples (a `tf.data.Dataset`, e.g.
    `dan_dataset`); with `adversarial_weight=0` plain (image, mask) pairs work too. `evaluate`
    takes (image, mask) pairs and reports the cross-entropy and the mean per-image Dice.

    Args:
        image_shape, num_classes, generator, generator_filters, discriminator,
            discriminator_filters, n_layers, norm, dropout, n_blocks, objective, n_critic, seed:
            as in `adversarial_segmentation`.
        input_mode: what D sees of a pair: "concat" (image and probability map, Zhang), "product"
            or "mask".
        adversarial_weight: lambda of Zhang Eq. 1 (0: supervised-only baseline).
    """

    players = ("discriminator", "segmentor")
    generator_players = "segmentor"
    loss_names = ("d_loss", "s_loss", "ce", "adversarial", "d_labelled", "d_unlabelled")

    def __init__(self, image_shape=(32, 32, 3), num_classes: int = 2, generator: str = "unet",
                 generator_filters: int = 16, discriminator: str = "image",
                 discriminator_filters: int = 16, n_layers: int = 3, norm: str = "batch",
                 dropout: float = 0.0, n_blocks: int = 6,
                 depth: int | None = None, input_mode: str = "concat",
                 adversarial_weight: float = 0.1, objective: str = "nsgan",
                 n_critic: int | None = None, seed: int | None = None, **kwargs):
        super().__init__(objective=objective, n_critic=n_critic, seed=seed, **kwargs)
        check_choice("input_mode", input_mode, PAIR_MODES)
        self.adversarial_weight = check_weight("adversarial_weight", adversarial_weight)
        if self.objective.gradient_penalty:
            raise AdvzooError(f"dan does not take objective={self.objective.name!r}: the gradient "
                              "penalty interpolates between pairs of different images; choose "
                              "gan, nsgan, lsgan, wgan or hinge")
        self.input_mode = input_mode
        self.build_segmentor(image_shape, num_classes, generator, generator_filters, norm,
                             dropout, depth=depth, n_blocks=n_blocks)
        self.discriminator = self.pair_discriminator(input_mode, discriminator_filters, n_layers,
                                                     norm, output=discriminator)
        if self.adversarial_weight == 0:
            self.loss_names = ("s_loss", "ce")
        self.set_family_config(
            image_shape=self.image_shape, num_classes=num_classes, generator=generator,
            depth=self.depth,
            generator_filters=generator_filters, discriminator=discriminator,
            discriminator_filters=discriminator_filters, n_layers=n_layers, norm=norm,
            dropout=dropout, n_blocks=n_blocks, input_mode=input_mode,
            adversarial_weight=adversarial_weight)
        self.players_ready()
        self.add_segmentation_metrics()

    # -- losses of one step ---------------------------------------------------------------------

    def unpack_batch(self, data):
        """(labelled image, mask, unlabelled image or None)."""
        return self.unpack_triple(data, "(labelled image, mask, unlabelled image)",
                                  "unlabelled images")

    def pair_logits(self, image, prediction, training: bool):
        pair = self.pair_input(image, self.class_map(prediction), self.input_mode)
        return self.discriminator(pair, training=training)

    def discriminator_losses(self, image, unlabelled, training: bool):
        """Zhang Eq. 1 for D: pairs of labelled images are "real", of unlabelled ones "fake"."""
        labelled_logits = self.pair_logits(image, self.segmentor(image, training=training),
                                           training)
        unlabelled_logits = self.pair_logits(
            unlabelled, self.segmentor(unlabelled, training=training), training)
        loss = self.objective.discriminator_loss(labelled_logits, unlabelled_logits)
        return loss, {"d_loss": loss, "d_labelled": tf.reduce_mean(labelled_logits),
                      "d_unlabelled": tf.reduce_mean(unlabelled_logits)}

    def segmentor_losses(self, image, mask, unlabelled, training: bool):
        """CE on the labelled images + lambda * (unlabelled pairs judged labelled)."""
        prediction = self.segmentor(image, training=training)
        ce = self.voxel_ce(mask, prediction)
        loss, logs = ce, {"ce": ce, "prediction": prediction}
        if self.adversarial_weight and unlabelled is not None:
            logits = self.pair_logits(unlabelled, self.segmentor(unlabelled, training=training),
                                      training)
            logs["adversarial"] = self.objective.generator_loss(logits)
            loss += self.adversarial_weight * logs["adversarial"]
        return loss, {"s_loss": loss, **logs}

    def train_step(self, data):
        image, mask, unlabelled = self.unpack_batch(data)
        if self.adversarial_weight and unlabelled is None:
            raise AdvzooError("dan with adversarial_weight > 0 trains on (labelled image, mask, "
                              "unlabelled image) triples (see advzoo.models.dan.dan_dataset); "
                              "got (image, mask) pairs")
        logs = {}
        if self.adversarial_weight:
            for _ in range(self.n_critic):
                logs.update(self.apply_update("discriminator", lambda: self.discriminator_losses(
                    image, unlabelled, True)))
        logs.update(self.apply_update("segmentor", lambda: self.segmentor_losses(
            image, mask, unlabelled, True)))
        self.record_segmentation(mask, logs.pop("prediction"))
        return self.record(logs)

    def test_step(self, data):
        """Pairs: CE and Dice. Triples: every loss, without updates."""
        image, mask, unlabelled = self.unpack_batch(data)
        logs = self.segmentor_losses(image, mask, unlabelled, False)[1]
        if self.adversarial_weight and unlabelled is not None:
            logs.update(self.discriminator_losses(image, unlabelled, False)[1])
        self.record_segmentation(mask, logs.pop("prediction"))
        results = self.record(logs)
        return {k: v for k, v in results.items() if k in logs or k == "dice"}

