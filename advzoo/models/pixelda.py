"""`pixelda`: pixel-level domain adaptation (Bousmalis et al. 2017, "Unsupervised Pixel-Level
Domain Adaptation with Generative Adversarial Networks"), here for segmentation.

A generator G(x_s, z) maps a labelled source image x_s and a noise vector z to an image in the
look of the target domain; a discriminator D tells real target images x_t from G(x_s, z); a task
network T (the zoo's shared U-Net segmentor) learns from the translated images G(x_s, z) and the
source images x_s with the SOURCE labels y_s, and at test time segments real target images whose
labels it never saw. Bousmalis Eq. 1 and 6:

    min_{G, T} max_D  alpha L_d(D, G) + beta L_t(G, T) + gamma L_c(G),
    L_d = E_{x_t}[log D(x_t)] + E_{x_s, z}[log(1 - D(G(x_s, z)))]                         (Eq. 2)
    L_t = E_{x_s, y_s, z}[-y_s log T(G(x_s, z)) - y_s log T(x_s)]                           (Eq. 3)
    L_c = E[1/k ||(x_s - G(x_s, z)) o m||^2 - 1/k^2 ((x_s - G(x_s, z))^T m)^2]               (Eq. 5)

optimised, as in the paper (Sec. 3), by alternating two steps per batch:

1. D and T with G fixed: D descends the objective's discriminator loss (target real, G(x_s, z)
   fake), T descends L_t (one joint `apply_update` of the two players, whose variables are
   disjoint, so it is exactly two separate steps);
2. G with D and T fixed: lambda_adv * the objective's generator loss on D(G(x_s, z)) +
   lambda_task * the cross-entropy of T on G(x_s, z) (it keeps the translation's content
   segmentable with the source labels) + lambda_content * L_c.

Weights. Bousmalis found alpha (adversarial) = 0.13 and beta (task) = 0.011 by search on their
digit and LineMod tasks. With Adam only the ratios within one player's loss matter, so the zoo
writes G's loss as lambda_adv * L_gen + lambda_task * L_t(G) + lambda_content * L_c with
lambda_adv = 1 and lambda_task = 0.1 by default (10 : 1, near the paper's 0.13 : 0.011 = 12 : 1;
the `pixelda_domain_shift` preset uses these). T and D each step on their own unweighted loss
(with Adam the overall scale of a player's loss does not matter).

The content-similarity loss L_c (`content_loss`): "pmse" is Bousmalis' pairwise mean squared
error, which penalises differences between pixel pairs of x_s and G(x_s, z) but not a global
intensity shift, so G may change the overall intensity and keep the shapes; "l1" / "l2" are the
plain distances to the source image (SimGAN's self-regularisation). The paper masks L_c with the
rendered object's foreground m; the zoo's phantoms fill the image with anatomy, so m is the whole
image (every pixel, k = their number). lambda_content = 0 disables it.

G is the shared ResNet generator (`generator="resnet"`, at full resolution with
`n_downsampling=0` like Bousmalis' generator, which keeps its convolutions at the input
resolution) or U-Net; the noise enters as the paper does it: z ~ U(-1, 1)^noise_dim through a
dense layer to one image-sized channel, concatenated with x_s (`noise_dim=0`: G(x_s) only). D is
the shared PatchGAN (patch or whole-image logits).

`lambda_adv = 0` is the source-only baseline: T learns from the labelled source images only
(same network, data and steps; G and D are not updated and the target images are not read at
all, not even by T's batch-norm statistics).

Data (shared with `dann`, `advzoo.models.dann.dann_dataset`): each training element is (source
image, source mask, target image); target masks are never read in training. Validation and test
data are (target image, target mask) pairs: the score is the target-domain Dice.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from advzoo.errors import AdvzooError, check_choice
from advzoo.models.segmentation import (DomainAdaptationMixin, SegmentationMixin,
                                        check_positive_int, check_weight, dann_dataset)
from advzoo.networks.conditional import discriminator_norm_for
from advzoo.layers import ResizeLike
from advzoo.networks.translation import build_generator, image_input, patchgan
from advzoo.training import AdversarialModel
from advzoo.training.translation import as_batch, check_unit_range, run_size_free
from advzoo.zoo import register_family

CONTENT_LOSSES = ("pmse", "l1", "l2")
#: objectives with one D update per G update (the paper's alternation of Sec. 3)
OBJECTIVES = ("gan", "nsgan", "lsgan", "hinge")
NETWORKS = ("segmentor", "generator")


def pmse(source, generated, mask=None):
    """Bousmalis Eq. 5: masked pairwise mean squared error between x_s and G(x_s), per image
    1/k ||d o m||^2 - 1/k^2 (d^T m)^2 with d = x_s - G(x_s) and k the number of mask pixels
    (mask None: every pixel), averaged over the batch. Zero for G(x_s) = x_s + c (a global
    intensity shift costs nothing; the relative intensities, i.e. the shapes, must stay)."""
    d = tf.cast(source, tf.float32) - tf.cast(generated, tf.float32)
    m = tf.ones_like(d) if mask is None else tf.cast(mask, tf.float32) * tf.ones_like(d)
    axes = tuple(range(1, len(d.shape)))
    k = tf.maximum(tf.reduce_sum(m, axes), 1.0)
    return tf.reduce_mean(tf.reduce_sum(tf.square(d) * m, axes) / k
                          - tf.square(tf.reduce_sum(d * m, axes)) / tf.square(k))


def content_similarity(kind: str, source, generated):
    """L_c of `kind` ("pmse", "l1", "l2") between the source images and their translations."""
    if kind == "pmse":
        return pmse(source, generated)
    d = tf.cast(source, tf.float32) - tf.cast(generated, tf.float32)
    return tf.reduce_mean(tf.abs(d) if kind == "l1" else tf.square(d))


@keras.saving.register_keras_serializable(package="advzoo")
@register_family("pixelda", default_dataset=dann_dataset, section="E",
                 summary="pixel-level domain adaptation (Bousmalis): G(x_s, z) translates labelled "
                         "source images to the target look against D; the segmentor learns from "
                         "G(x_s, z) and x_s with the source labels")
class PixelDA(DomainAdaptationMixin, SegmentationMixin, AdversarialModel):
    """Generator G(x_s, z), image discriminator D and task network T (Bousmalis Eq. 6).

    `fit` takes (source image, source mask, target image) triples (e.g. `dann_dataset`); with
    `lambda_adv=0` (source only) plain (image, mask) pairs work too. `evaluate` on (image, mask)
    pairs reports T's cross-entropy and mean per-image Dice (on target data: the adaptation's
    score); on triples also every training loss. `segment()` runs T, `translate()` runs G, and
    `export()` writes T (or G with `network="generator"`).

    Args:
        image_shape: (H, W, C) or (D, H, W, C): 2D or 3D by its rank (both domains alike).
        num_classes: 2 (binary sigmoid head) or K > 2 (softmax) of the task network T.
        generator: G's body: "resnet" (Bousmalis: residual blocks at full resolution) or "unet".
        generator_filters, n_blocks, n_downsampling, norm: of G (n_blocks, n_downsampling for
            "resnet"; n_downsampling=0 keeps every block at the input resolution).
        residual: G(x_s, z) = x_s + r(x_s, z) (the network learns the change of look only and
            starts near the identity; a zoo choice, Bousmalis' G outputs the image directly).
        noise_dim: length of z ~ U(-1, 1) (Bousmalis: 10); 0: no noise input.
        discriminator: "patch" (a logit per patch) or "image" (one logit per image).
        discriminator_filters, n_layers, discriminator_norm: of D ("auto": batch norm).
        segmentation_filters, segmentation_norm, segmentation_depth: of T, the shared U-Net.
        lambda_adv: weight of G's adversarial loss (0: the source-only baseline).
        lambda_task: weight of T's cross-entropy on G(x_s, z) in G's loss (Bousmalis' beta).
        lambda_content: weight of the content-similarity loss L_c in G's loss (gamma; 0: off).
        content_loss: "pmse" (Bousmalis Eq. 5), "l1" or "l2".
        train_on_source: T also learns from the source images x_s (Eq. 3's second term); False:
            from the translations only (T's source cross-entropy is then only reported).
        objective: D's and G's adversarial losses (gan, nsgan, lsgan, hinge).
        seed: of the model's random draws (the noise z).
    """

    players = ("discriminator", "segmentor", "generator")

    def __init__(self, image_shape=(32, 32, 1), num_classes: int = 2, generator: str = "resnet",
                 generator_filters: int = 16, n_blocks: int = 4, n_downsampling: int = 0,
                 norm: str = "batch", residual: bool = True, noise_dim: int = 10,
                 discriminator: str = "patch", discriminator_filters: int = 16,
                 n_layers: int = 2, discriminator_norm: str = "auto",
                 segmentation_filters: int = 16, segmentation_norm: str = "batch",
                 segmentation_depth: int | None = None, lambda_adv: float = 1.0,
                 lambda_task: float = 0.1, lambda_content: float = 0.0,
                 content_loss: str = "pmse", train_on_source: bool = True,
                 objective: str = "nsgan", n_critic: int | None = None,
                 seed: int | None = None, **kwargs):
        check_choice("objective", objective, OBJECTIVES)
        if n_critic not in (None, 1):
            raise AdvzooError(f"pixelda alternates one D-and-T step with one G step (Bousmalis "
                              f"Sec. 3); n_critic must be None or 1, got {n_critic!r}")
        super().__init__(objective=objective, n_critic=n_critic, seed=seed, **kwargs)
        check_choice("generator", generator, ("resnet", "unet"))
        check_choice("discriminator", discriminator, ("patch", "image"))
        check_choice("content_loss", content_loss, CONTENT_LOSSES)
        self.lambda_adv = check_weight("lambda_adv", lambda_adv)
        self.lambda_task = check_weight("lambda_task", lambda_task)
        self.lambda_content = check_weight("lambda_content", lambda_content)
        for option, value in (("residual", residual), ("train_on_source", train_on_source)):
            if not isinstance(value, bool):
                raise AdvzooError(f"{option} must be True or False, got {value!r}")
        if isinstance(noise_dim, bool) or not isinstance(noise_dim, int) or noise_dim < 0:
            raise AdvzooError(f"noise_dim must be an int >= 0 (0: no noise input), "
                              f"got {noise_dim!r}")
        check_positive_int("generator_filters", generator_filters)
        check_positive_int("discriminator_filters", discriminator_filters)
        self.content_loss, self.noise_dim = content_loss, noise_dim
        self.train_on_source = train_on_source
        # T first: build_segmentor checks and sets image_shape and num_classes
        self.build_segmentor(image_shape, num_classes, "unet", segmentation_filters,
                             segmentation_norm, dropout=0.0, depth=segmentation_depth)
        g_options = dict(filters=generator_filters, norm=norm, residual=residual)
        if generator == "resnet":
            g_options.update(n_blocks=n_blocks, n_downsampling=n_downsampling)
        self.generator = self.build_translator(generator, g_options)
        self.discriminator = patchgan(
            self.image_shape, filters=discriminator_filters, n_layers=n_layers,
            norm=discriminator_norm_for(discriminator_norm, False), output=discriminator,
            name="discriminator")
        self.loss_names = self.adaptation_loss_names() if self.lambda_adv else ("ce",)
        self.set_family_config(
            image_shape=self.image_shape, num_classes=num_classes, generator=generator,
            generator_filters=generator_filters, n_blocks=n_blocks,
            n_downsampling=n_downsampling, norm=norm, residual=residual, noise_dim=noise_dim,
            discriminator=discriminator, discriminator_filters=discriminator_filters,
            n_layers=n_layers, discriminator_norm=discriminator_norm,
            segmentation_filters=segmentation_filters, segmentation_norm=segmentation_norm,
            segmentation_depth=self.depth, lambda_adv=lambda_adv,
            lambda_task=lambda_task, lambda_content=lambda_content, content_loss=content_loss,
            train_on_source=train_on_source)
        self.players_ready()
        self.add_segmentation_metrics()

    def adaptation_loss_names(self) -> tuple[str, ...]:
        names = ["d_loss", "d_real", "d_fake", "task_loss", "ce_translated", "ce",
                 "g_loss", "g_adversarial", "g_task"]
        if self.lambda_content:
            names.append("content_loss")
        return tuple(names)

    def build_translator(self, kind: str, options: dict) -> keras.Model:
        """G(x_s, z): z (Bousmalis: U(-1, 1)^10) through a dense layer to one image-sized
        channel, concatenated with x_s, into the shared `resnet_generator` / `unet` body."""
        spatial, channels = self.image_shape[:-1], self.image_shape[-1]
        image = image_input(self.image_shape, "source_image")
        if not self.noise_dim:
            body = build_generator(kind, self.image_shape, channels, name="generator_body",
                                   **options)
            return keras.Model(image, body(image), name="generator")
        noise = keras.Input((self.noise_dim,), name="noise")
        channel = keras.layers.Dense(int(np.prod(spatial)), name="noise_dense")(noise)
        channel = keras.layers.Reshape((*spatial, 1), name="noise_channel")(channel)
        channel = ResizeLike(name="noise_to_image_size")([channel, image])
        x = keras.layers.Concatenate(name="image_and_noise")([image, channel])
        # the body reads C + 1 channels; with residual=True it adds its output to the first C
        # (the image), so G still starts near the identity
        body = build_generator(kind, (*spatial, channels + 1), channels, name="generator_body",
                               **options)
        return keras.Model([image, noise], body(x), name="generator")

    # -- G and its noise ------------------------------------------------------------------------

    def sample_noise(self, batch_size):
        """z ~ U(-1, 1)^noise_dim (Bousmalis Sec. 4), from the model's seed generator."""
        return keras.random.uniform((batch_size, self.noise_dim), -1.0, 1.0,
                                    seed=self.seed_generator)

    def translated(self, source, training: bool, noise=None):
        """G(x_s, z) (a fresh z unless given)."""
        if not self.noise_dim:
            return self.generator(source, training=training)
        if noise is None:
            noise = self.sample_noise(tf.shape(source)[0])
        return self.generator([source, noise], training=training)

    def translate(self, images, noise=None, seed: int | None = 0, batch_size: int = 32,
                  check_range: bool = True) -> np.ndarray:
        """G(x_s, z): source images ((N, *spatial, C) or one image, any spatial size, in
        [-1, 1]) in the target look, float32 numpy of the input's layout.

        noise: (N, noise_dim) codes, or None to draw z ~ U(-1, 1) with numpy's `seed`. The
        noise channel is resized to each image's (padded) size.
        """
        what = f"{type(self).__name__}.translate"
        array, single = as_batch(images, self.free_image_shape, what)
        if check_range:
            check_unit_range(array, f"{what} inputs")
        if self.noise_dim:
            if noise is None:
                noise = np.random.default_rng(seed).uniform(-1, 1, (len(array), self.noise_dim))
            noise = np.asarray(noise, np.float32).reshape(-1, self.noise_dim) if single \
                else np.asarray(noise, np.float32)
            if noise.shape != (len(array), self.noise_dim):
                raise AdvzooError(f"{what}: noise must have shape ({len(array)}, "
                                  f"{self.noise_dim}), got {noise.shape}")
        elif noise is not None:
            raise AdvzooError(f"{what}: this generator takes no noise (noise_dim=0)")
        if not self.noise_dim:
            out = run_size_free(lambda x: self.generator(x, training=False), array,
                                self.size_multiple, batch_size)
        else:  # one call per batch of images, each with its own codes
            out = np.concatenate([run_size_free(
                lambda x, z=noise[i:i + batch_size]: self.generator([x, z], training=False),
                array[i:i + batch_size], self.size_multiple, batch_size)
                for i in range(0, len(array), batch_size)])
        return out[0] if single else out

    def export(self, filepath, overwrite: bool = False, network: str = "segmentor", **kwargs):
        """SavedModel of T (default) or of G (`network="generator"`: inputs source images and,
        with noise_dim > 0, the noise z), float32 signature."""
        from advzoo.export import export_inference_model

        check_choice("network", network, NETWORKS)
        return export_inference_model(self, filepath, overwrite=overwrite,
                                      network=getattr(self, network), **kwargs)

    # -- losses of one step ---------------------------------------------------------------------

    def unpack_batch(self, data):
        """(source image, source mask, target image or None)."""
        return self.unpack_triple(data, "(source image, source mask, target image)",
                                  "target images")

    def discriminator_and_task_losses(self, source, mask, target, training: bool):
        """Step 1 (G fixed): D's loss on real x_t vs G(x_s, z) (Eq. 2) + T's L_t (Eq. 3)."""
        fake = tf.stop_gradient(self.translated(source, training))
        d_loss, d_logs = self.critic_loss(
            lambda x: self.discriminator(x, training=training), target, fake)
        n = tf.shape(source)[0]
        if self.train_on_source:
            # one forward pass of translated and source images: T's batch norm sees both
            prediction = self.segmentor(tf.concat([fake, source], 0), training=training)
            ce_translated = self.voxel_ce(mask, prediction[:n])
            ce = self.voxel_ce(mask, prediction[n:])
            task, logs = ce_translated + ce, {"ce": ce}
        else:
            prediction = self.segmentor(fake, training=training)
            ce_translated = task = self.voxel_ce(mask, prediction)
            # reported only: T on the source images in inference mode (its batch norm keeps the
            # statistics of the translations alone)
            logs = {"ce": tf.stop_gradient(self.voxel_ce(
                mask, self.segmentor(source, training=False)))}
        return d_loss + task, {**d_logs, "task_loss": task, "ce_translated": ce_translated,
                               **logs, "prediction": prediction[:n]}

    def generator_losses(self, source, mask, training: bool):
        """Step 2 (D and T fixed): lambda_adv L_gen(D(G)) + lambda_task L_t(T(G)) +
        lambda_content L_c(G) (Eq. 6 seen from G)."""
        fake = self.translated(source, training)
        adversarial = self.objective.generator_loss(self.discriminator(fake, training=training))
        task = self.voxel_ce(mask, self.segmentor(fake, training=training))
        loss = self.lambda_adv * adversarial + self.lambda_task * task
        logs = {"g_adversarial": adversarial, "g_task": task}
        if self.lambda_content:
            logs["content_loss"] = content_similarity(self.content_loss, source, fake)
            loss += self.lambda_content * logs["content_loss"]
        return loss, {"g_loss": loss, **logs}

    def source_only_losses(self, source, mask, training: bool):
        prediction = self.segmentor(source, training=training)
        ce = self.voxel_ce(mask, prediction)
        return ce, {"ce": ce, "prediction": prediction}

    def train_step(self, data):
        source, mask, target = self.unpack_batch(data)
        if not self.lambda_adv:
            # source-only baseline: T on the labelled source images; the target images are not
            # seen at all, so any target-domain gain of pixelda is the adaptation's
            logs = self.apply_update("segmentor",
                                     lambda: self.source_only_losses(source, mask, True))
        else:
            if target is None:
                raise AdvzooError("pixelda with lambda_adv > 0 trains on (source image, source "
                                  "mask, target image) triples (see advzoo.models.dann."
                                  "dann_dataset); got (image, mask) pairs")
            logs = self.apply_update(("discriminator", "segmentor"),
                                     lambda: self.discriminator_and_task_losses(
                                         source, mask, target, True))
            logs.update(self.apply_update("generator",
                                          lambda: self.generator_losses(source, mask, True)))
        self.record_segmentation(mask, logs.pop("prediction"))
        return self.record(logs)

    def test_step(self, data):
        """Pairs (e.g. target images and masks): T's cross-entropy and Dice. Triples: also every
        training loss, without updates (Dice then of T on G(x_s, z))."""
        source, mask, target = self.unpack_batch(data)
        if target is None or not self.lambda_adv:
            logs = self.source_only_losses(source, mask, False)[1]
        else:
            logs = self.discriminator_and_task_losses(source, mask, target, False)[1]
            logs.update(self.generator_losses(source, mask, False)[1])
        self.record_segmentation(mask, logs.pop("prediction"))
        results = self.record(logs)
        return {k: v for k, v in results.items() if k in logs or k == "dice"}
