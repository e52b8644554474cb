"""`vagan`: visual feature attribution with a Wasserstein GAN (Baumgartner et al. 2018, "Visual
Feature Attribution using Wasserstein GANs", CVPR).

A map generator M(x) reads an image of the abnormal class (c = 1) and outputs an additive map;
x + M(x) must be indistinguishable from images of the normal class (c = 0) for a WGAN critic D,
while an L1 penalty keeps M small, so M changes only what makes the image abnormal: M is the
visual attribution map of the abnormality (Baumgartner Eq. 3-5):

    y = x + M(x),   x ~ p(x | c = 1)
    L_GAN(M, D) = E_{x ~ p(x|c=0)}[D(x)] - E_{x ~ p(x|c=1)}[D(x + M(x))]          (Eq. 4)
    L_reg(M)    = ||M(x)||_1                                                       (Eq. 5)
    M* = arg min_M max_D  L_GAN(M, D) + lambda_map * L_reg(M),

with D Lipschitz through the WGAN-GP gradient penalty (Gulrajani et al. Eq. 4, lambda 10) and
n_critic = 5 critic updates per map-generator update, Adam(learning rate 1e-3, beta1 0, beta2
0.9) for both (the paper's experiments; the authors' code, baumgach/vagan-code). Unlike a
classifier's saliency, M is not a gradient: it is the change that turns this very image into a
normal-looking one, so it should cover the whole lesion and nothing else.

Networks (shared builders of `advzoo.networks.translation`, 2D or 3D by the rank of image_shape):
M is the zoo's U-Net with a linear output (the authors' "unet_16_2D_bn": batch norm, no dropout,
16 filters); D is the PatchGAN with its patch logits averaged into one logit per image (the
authors' fully convolutional critic with a final average pool, no normalisation, as the
gradient penalty is per sample).

L_reg is the mean of |M| over pixels (the authors' code: `reduce_mean(abs(M))`), so its per-pixel
gradient is lambda_map / N for N pixels, while the critic's input gradient has a norm near 1 (the
gradient penalty), about 1 / sqrt(N) per pixel where it is spread out. The balance of the two,
lambda / sqrt(N), is 0.9 for the authors' lambda 100 on 112x112 images; the same balance at 32x32
is lambda 28, and `lambda_map` defaults to 30 (the `vagan_lesions` preset; 100 at 32x32 drove M
to zero in our runs, 10 left it spread over the whole image). The authors'
`use_tanh` squashing of x + M is not used: our images are already in [-1, 1] and tanh(x) != x
would let the critic tell even a perfect x + M from a real image.

Default data: the `lesions` CT phantoms (hypodense liver lesions, 35-60 HU below the liver) in
the soft-tissue window; training pairs an abnormal image with an independently drawn normal one
(`vagan_dataset`), validation and test give (abnormal image, lesion mask) pairs, on which
`evaluate` reports the normalised cross-correlation and the pixel AUC of |M| with the mask.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from advzoo.errors import AdvzooError, check_choice, check_shape
from advzoo.models.anogan import SOFT_TISSUE_WINDOW
from advzoo.networks.common import validate_norm
from advzoo.networks.translation import build_generator, generator_depth, patchgan, spatial_rank
from advzoo.training import AdversarialModel, TranslationMixin
from advzoo.zoo import register_family


def _check_window(window) -> tuple:
    try:
        window = tuple(float(w) for w in window)
    except (TypeError, ValueError):
        window = ()
    if len(window) != 2 or not window[0] < window[1]:
        raise AdvzooError(f"window must be (low, high) in HU with low < high, got {window!r}")
    return window


def _lesion_side(image_shape) -> int:
    image_shape = check_shape(image_shape, "image_shape")
    if len(image_shape) != 3 or image_shape[0] != image_shape[1] or image_shape[2] != 1:
        raise AdvzooError(f"vagan has built-in data (the lesions phantom) for image_shape "
                          f"(S, S, 1), not {image_shape}; pass your own (abnormal image, normal "
                          "image) pairs to fit() (3D volumes included).")
    return image_shape[0]


def vagan_dataset(split: str = "train", batch_size: int | None = None, image_shape=(32, 32, 1),
                  window=SOFT_TISSUE_WINDOW, n: int | None = None, shuffle: bool | None = None,
                  seed: int = 0):
    """VA-GAN data from the `lesions` CT phantom, mapped to [-1, 1] through the CT `window` (HU).

    train: (abnormal image, normal image) pairs; the two classes are shuffled independently
    (seeds `seed` and `seed + 1`), so a pair is two unrelated subjects, as the critic compares
    distributions, not subjects. One epoch is one pass over the smaller class.
    val / test: (abnormal image, lesion mask) pairs, the masks in {0, 1}, for scoring the maps.
    `n` is the number of phantoms drawn (both classes, half of them abnormal).
    """
    from advzoo import data as zoo_data
    from advzoo.data._common import as_dataset

    size = _lesion_side(image_shape)
    window = _check_window(window)
    arrays = zoo_data.lesions_arrays(split, n=n, size=size, seed=seed)
    images = zoo_data.hu_to_unit(arrays["images"], window)
    abnormal = arrays["labels"] == 1
    if split != "train":
        return as_dataset((images[abnormal], arrays["masks"][abnormal]), batch_size=batch_size,
                          shuffle=bool(shuffle), seed=seed)
    sick = tf.data.Dataset.from_tensor_slices(images[abnormal])
    healthy = tf.data.Dataset.from_tensor_slices(images[~abnormal])
    if shuffle is None or shuffle:
        sick = sick.shuffle(int(abnormal.sum()), seed=seed, reshuffle_each_iteration=True)
        healthy = healthy.shuffle(int((~abnormal).sum()), seed=seed + 1,
                                  reshuffle_each_iteration=True)
    data = tf.data.Dataset.zip((sick, healthy))
    if batch_size is not None:
        if int(batch_size) < 1:
            raise AdvzooError(f"batch_size must be a positive int, got {batch_size!r}")
        data = data.batch(int(batch_size))
    return data.prefetch(tf.data.AUTOTUNE)


def map_overlap(maps, masks):
    """Per image: NCC and pixel AUC of |M| (max over channels) with the mask, and a weight of 1
    for images whose mask is neither empty nor full (0 otherwise: no correlation, no ROC).

    The graph version of `advzoo.metrics.attribution` for `evaluate` (ties in |M| are ranked by
    position here, averaged there; continuous maps have none).
    """
    batch = tf.shape(maps)[0]
    scores = tf.reshape(tf.reduce_max(tf.abs(tf.cast(maps, tf.float32)), axis=-1), (batch, -1))
    truth = tf.reshape(tf.cast(masks[..., 0] > 0.5, tf.float32), (batch, -1))
    pixels = tf.cast(tf.shape(scores)[1], tf.float32)
    positives = tf.reduce_sum(truth, axis=1)
    negatives = pixels - positives
    valid = tf.cast((positives > 0) & (negatives > 0), tf.float32)
    a = scores - tf.reduce_mean(scores, axis=1, keepdims=True)
    b = truth - tf.reduce_mean(truth, axis=1, keepdims=True)
    ncc = tf.reduce_sum(a * b, axis=1) / tf.sqrt(
        tf.reduce_sum(a * a, axis=1) * tf.reduce_sum(b * b, axis=1) + 1e-12)
    ranks = tf.cast(tf.argsort(tf.argsort(scores, axis=1), axis=1), tf.float32) + 1.0
    auc = (tf.reduce_sum(ranks * truth, axis=1) - positives * (positives + 1.0) / 2.0) \
        / tf.maximum(positives * negatives, 1.0)
    return ncc, auc, valid


@keras.saving.register_keras_serializable(package="advzoo")
@register_family("vagan", default_dataset=vagan_dataset, section="D",
                 summary="VA-GAN (Baumgartner): U-Net map generator M, x + M(x) judged normal by a "
                         "WGAN-GP critic, L1 on M; M is the attribution map of the abnormality")
class VAGAN(TranslationMixin, AdversarialModel):
    """Visual attribution GAN: map generator M ("generator") and WGAN-GP critic ("discriminator").

    `fit` takes (abnormal image, normal image) pairs in [-1, 1] (e.g. `vagan_dataset`);
    `attribute(images)` returns the maps M(x); `counterfactual(images)` returns x + M(x), the
    image made to look normal. `evaluate` on (abnormal image, lesion mask) pairs reports the map
    generator's losses and the overlap of |M| with the masks ("ncc", "pixel_auc"); on
    (abnormal image, lesion mask, normal image) triples it also reports the critic's losses.

    Args:
        image_shape: (H, W, C) or (D, H, W, C); the rank picks 2D or 3D networks.
        generator: "unet" (Baumgartner) or "resnet"; its output is linear (a signed map).
        discriminator: "image" (one logit per image: the authors' critic) or "patch".
        generator_filters, discriminator_filters: widths of the first layers (16 in the paper).
        n_layers: stride-2 layers of the critic.
        n_blocks: residual blocks of the ResNet generator.
        norm: the map generator's normalisation ("batch" as the authors').
        discriminator_norm: the critic's ("none"; not "batch" with wgan_gp: the penalty is per
            sample).
        dropout: dropout of the U-Net's inner decoder blocks (0: M is deterministic).
        depth: U-Net levels (3: the authors' U-Net pools three times; None: down to 1 pixel).
        objective, n_critic: `advzoo.losses` objective (wgan_gp, Baumgartner) and critic
            updates per map update (None: the objective's, 5 for wgan_gp).
        lambda_map: weight of the mean |M| (Eq. 5; see the module docstring for its scale).
        learning_rate: of both players' default optimizers (1e-3 as in the paper's experiments;
            the authors' code later suggests 1e-4).
        critic_warmup: training steps at the start in which only the critic learns.
        window: CT window (HU) of the built-in data (`vagan_dataset`, `sample_report`).
        seed: of the model's random draws (the gradient penalty's interpolation factors).
    """

    players = ("discriminator", "generator")
    train_loss_names = ("d_loss", "d_real", "d_fake", "gradient_penalty", "g_loss",
                        "g_adversarial", "map_l1")

    def __init__(self, image_shape=(32, 32, 1), generator: str = "unet",
                 discriminator: str = "image", generator_filters: int = 16,
                 discriminator_filters: int = 16, n_layers: int = 3, n_blocks: int = 6,
                 norm: str = "batch", discriminator_norm: str = "none", dropout: float = 0.0,
                 depth: int | None = 3, objective: str = "wgan_gp",
                 n_critic: int | None = None, lambda_map: float = 30.0,
                 learning_rate: float = 1e-3, critic_warmup: int = 0,
                 window=SOFT_TISSUE_WINDOW,
                 seed: int | None = None, **kwargs):
        super().__init__(objective=objective, n_critic=n_critic, seed=seed, **kwargs)
        try:
            image_shape = check_shape(image_shape, "image_shape")
        except (TypeError, ValueError):
            raise AdvzooError(f"image_shape must be a tuple of ints, (H, W, C) or (D, H, W, C), "
                              f"got {image_shape!r}") from None
        self.ndim = spatial_rank(image_shape, "image_shape")
        check_choice("generator", generator, ("unet", "resnet"))
        check_choice("discriminator", discriminator, ("patch", "image"))
        for name, value in (("generator_filters", generator_filters),
                            ("discriminator_filters", discriminator_filters)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise AdvzooError(f"{name} must be a positive int, got {value!r}")
        validate_norm(norm)
        validate_norm(discriminator_norm)
        if self.objective.gradient_penalty and discriminator_norm == "batch":
            raise AdvzooError(
                f"objective={self.objective.name!r} penalises the critic's gradient per sample "
                "(Gulrajani et al. Sec. 4), which batch norm mixes across the batch: set "
                "discriminator_norm to 'layer', 'instance' or 'none' (got 'batch').")
        if isinstance(lambda_map, bool) or not isinstance(lambda_map, (int, float)) \
                or not np.isfinite(lambda_map) or lambda_map < 0:
            raise AdvzooError(f"lambda_map must be a finite number >= 0, got {lambda_map!r}")
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) \
                or not np.isfinite(learning_rate) or learning_rate <= 0:
            raise AdvzooError(f"learning_rate must be a finite number > 0, got {learning_rate!r}")
        self.learning_rate = float(learning_rate)
        if isinstance(critic_warmup, bool) or not isinstance(critic_warmup, (int, np.integer)) \
                or critic_warmup < 0:
            raise AdvzooError(f"critic_warmup must be an int >= 0 (training steps in which only "
                              f"the critic learns), got {critic_warmup!r}")
        self.critic_warmup = int(critic_warmup)
        self.image_shape = image_shape
        self.lambda_map = float(lambda_map)
        self.window = _check_window(window)

        g_options = {"filters": generator_filters, "norm": norm, "dropout": dropout,
                     "output_activation": "linear"}
        self.depth = generator_depth(generator, image_shape, depth)
        if generator == "unet":
            g_options["depth"] = self.depth
        else:
            g_options["n_blocks"] = n_blocks
        # M(x): a signed map of the image's shape (linear output: hypo- and hyper-dense changes)
        self.generator = build_generator(generator, image_shape, image_shape[-1],
                                         name="map_generator", **g_options)
        self.discriminator = patchgan(image_shape, filters=discriminator_filters,
                                      n_layers=n_layers, norm=discriminator_norm,
                                      output=discriminator, name="critic")
        names = set(self.train_loss_names)
        if not self.objective.gradient_penalty:
            names.discard("gradient_penalty")
        self.loss_names = tuple(n for n in self.train_loss_names if n in names) + (
            "ncc", "pixel_auc")
        self.set_family_config(
            image_shape=image_shape, generator=generator, discriminator=discriminator,
            generator_filters=generator_filters, discriminator_filters=discriminator_filters,
            n_layers=n_layers, n_blocks=n_blocks, norm=norm,
            discriminator_norm=discriminator_norm, dropout=dropout, depth=self.depth,
            lambda_map=lambda_map, learning_rate=learning_rate, critic_warmup=critic_warmup,
            window=self.window)
        self.players_ready()

    def default_optimizers(self) -> dict:
        """The objective's optimizer (Adam, beta1 0, beta2 0.9 for wgan_gp) at `learning_rate`
        for both players (1e-3 in the paper's experiments)."""
        return {p: self.objective.make_optimizer(learning_rate=self.learning_rate)
                for p in self.players}

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def dataset_options(self) -> dict:
        _lesion_side(self.image_shape)
        return {"image_shape": self.image_shape, "window": self.window}

    # -- losses of one step (Baumgartner Eq. 4-5) ----------------------------------------------

    def critic_losses(self, abnormal, normal, training: bool):
        """D on normal images (real) against x + M(x) of abnormal ones (fake), with the
        gradient penalty on their interpolates (wgan_gp)."""
        fake = tf.stop_gradient(abnormal + self.generator(abnormal, training=training))
        return self.critic_loss(lambda x: self.discriminator(x, training=training), normal, fake)

    def generator_losses(self, abnormal, training: bool, outputs: dict | None = None):
        """-E[D(x + M(x))] (the objective's generator loss) + lambda_map * mean |M(x)|."""
        maps = self.generator(abnormal, training=training)
        if outputs is not None:
            outputs["maps"] = maps
        adversarial = self.objective.generator_loss(
            self.discriminator(abnormal + maps, training=training))
        map_l1 = tf.reduce_mean(tf.abs(tf.cast(maps, tf.float32)))
        loss = adversarial + self.lambda_map * map_l1
        return loss, {"g_loss": loss, "g_adversarial": adversarial, "map_l1": map_l1}

    def unpack_batch(self, data):
        """(abnormal images, normal images) of a training batch."""
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            got = f"{len(data)}-tuples" if isinstance(data, (tuple, list)) else "images only"
            raise AdvzooError("vagan trains on (abnormal image, normal image) pairs (see "
                              f"advzoo.models.vagan.vagan_dataset); got {got}")
        abnormal, normal = data
        abnormal = self.check_input(abnormal, self.image_shape, "abnormal images")
        return abnormal, self.check_input(normal, self.image_shape, "normal images", like=abnormal,
                                          like_what="abnormal images")

    def step_losses(self, batch):
        abnormal, normal = batch
        return (lambda training: self.critic_losses(abnormal, normal, training),
                lambda training: self.generator_losses(abnormal, training))

    def train_step(self, data):
        """n_critic critic updates, then one map-generator update (Baumgartner Alg. 1 / the
        authors' training loop); reports the training losses only.

        During the first `critic_warmup` steps the map generator's loss is multiplied by 0: its
        gradient is zero, so Adam (whose moments are still zero) leaves M unchanged while the
        critic learns what tells the classes apart (the authors train the critic alone, 100
        iterations per step, for their first 25 steps)."""
        abnormal, normal = self.unpack_batch(data)
        critic_losses, generator_losses = self.step_losses((abnormal, normal))
        if not self.critic_warmup:
            logs = self.critic_then_generator(critic_losses, generator_losses)
        else:
            active = tf.cast(self.generator_optimizer.iterations >= self.critic_warmup,
                             tf.float32)

            def gated(training):
                loss, logs = generator_losses(training)
                return active * loss, logs

            logs = self.critic_then_generator(critic_losses, gated)
        return {k: v for k, v in self.record(logs).items() if k in logs}

    def test_step(self, data):
        """(abnormal image, lesion mask) pairs: the map generator's losses and the overlap of |M|
        with the masks; (abnormal image, mask, normal image) triples: the critic's losses too."""
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise AdvzooError("vagan.evaluate takes (abnormal image, lesion mask) pairs or "
                              "(abnormal image, lesion mask, normal image) triples")
        abnormal = self.check_input(data[0], self.image_shape, "abnormal images")
        masks = self.check_input(data[1], self.image_shape[:-1] + (None,), "lesion masks",
                                 like=abnormal, like_what="abnormal images", values="unit")
        binary = tf.reduce_all(tf.logical_or(tf.equal(masks, 0.0), tf.equal(masks, 1.0)))
        tf.debugging.Assert(binary, ["vagan.evaluate: the second element must be lesion masks "
                                     "in {0, 1} (not normal images: evaluate takes (abnormal "
                                     "image, lesion mask[, normal image]))"])
        outputs = {}
        logs = self.generator_losses(abnormal, False, outputs)[1]
        if len(data) == 3:
            normal = self.check_input(data[2], self.image_shape, "normal images", like=abnormal,
                                      like_what="abnormal images")
            logs.update(self.critic_losses(abnormal, normal, False)[1])
        ncc, auc, valid = map_overlap(outputs["maps"], masks)
        self.trackers["ncc"].update_state(ncc, sample_weight=valid)
        self.trackers["pixel_auc"].update_state(auc, sample_weight=valid)
        return {k: v for k, v in self.record(logs).items()
                if k in logs or k in ("ncc", "pixel_auc")}

    # -- attribution -------------------------------------------------------------------------

    def attribute(self, images, batch_size: int = 32, check_range: bool = True,
                  **tiling) -> np.ndarray:
        """The attribution maps M(x) of `images` (numpy or tensor, one image or a batch, in
        [-1, 1], any spatial size; `tile`, `overlap`, `blend` as in `translate`); float32 numpy
        of the same layout. |M| is where the image looks abnormal; the sign says the direction
        of the change that makes it normal."""
        return self.translate(images, batch_size=batch_size, check_range=check_range, **tiling)

    def counterfactual(self, images, batch_size: int = 32, check_range: bool = True) -> np.ndarray:
        """x + M(x): the image changed to look like the normal class."""
        array = np.asarray(images.numpy() if hasattr(images, "numpy") else images, np.float32)
        return array + self.attribute(array, batch_size=batch_size, check_range=check_range)

    def attribution_report(self, split: str = "test", n: int = 256, seed: int = 0) -> dict:
        """NCC and pixel AUC of |M| with the lesion masks on the abnormal images of `n` lesion
        phantoms of `split` (mean and std over images), and the mean |M| on abnormal and on
        normal images (a map that only marks lesions is near 0 on normal images)."""
        from advzoo import data as zoo_data
        from advzoo.metrics.attribution import attribution_report

        arrays = zoo_data.lesions_arrays(split, n=n, size=_lesion_side(self.image_shape),
                                         seed=seed)
        images = zoo_data.hu_to_unit(arrays["images"], self.window)
        abnormal = arrays["labels"] == 1
        maps = self.attribute(images)
        report = attribution_report(maps[abnormal], arrays["masks"][abnormal])
        report["mean_abs_map_abnormal"] = float(np.abs(maps[abnormal]).mean())
        report["mean_abs_map_normal"] = float(np.abs(maps[~abnormal]).mean())
        return report

    def sample_report(self) -> dict:
        """The preset metadata's numbers: `attribution_report` on 256 test phantoms."""
        return self.attribution_report()
