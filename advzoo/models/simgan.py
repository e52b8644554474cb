"""`simgan`: refining images toward an unpaired target domain (Shrivastava et al. 2017), as used
for unaligned low-dose -> routine-dose CT (Wolterink et al. 2017).

A refiner R maps a source image y (Shrivastava: synthetic; here: low-dose CT) to R(y), which a
local discriminator D cannot tell from images x of the target domain (routine-dose CT of OTHER
subjects: no aligned pairs are needed). Shrivastava Eq. 8 (with Eq. 4's local loss):

    L_R = sum_i  l_adv(D(R(y_i))) + lambda * || R(y_i) - y_i ||_1

- the adversarial term is the objective's generator loss on D's patch logits (Sec. 2.2, "local
  adversarial loss": D judges each receptive field of the PatchGAN, `discriminator="patch"`);
- the self-regularisation term (weight `lambda_l1`) keeps R(y) close to y, so the refined image
  keeps the content (anatomy, HU) of its input and only the domain-specific appearance (here: the
  noise texture of the low dose) changes;
- D minimises the objective's discriminator loss with real x and a history of refined images
  (Sec. 2.3, Algorithm 2): `advzoo.layers.ImagePool` of `pool_size` images. Shrivastava fill half
  of each D mini-batch from the buffer and half from the current refiner; the pool's rule (Zhu et
  al. 2017) returns each refined image with probability 1/2 as is and otherwise swaps it for a
  random stored one, which is the same half-history mix in expectation. `pool_size=0` disables it.

R is the shared ResNet (`generator="resnet"`, `n_downsampling=0` by default: Shrivastava's refiner
stays at full resolution with a few residual blocks) or U-Net, with `residual=True` (R(y) = y +
r(y): it starts at the identity and learns the correction, Wolterink et al.).

Default data: `advzoo.data.translation_pairs(task="lowdose_ct", paired=False)` for training (the
targets are other subjects' routine-dose scans); the val and test splits are the ALIGNED pairs
(`paired=None` chooses so), so `evaluate` and fit's validation report PSNR / SSIM / MAE of R(y)
against the routine-dose scan of the same subject, which training never saw. PSNR / SSIM / MAE
in fit's training logs compare with the unaligned targets and mean little. `window` (HU) sets the
CT window of the built-in data: through the full [-1024, 1024] window the dose's noise is ~0.02 in
[-1, 1] and a small D does not learn to see it within a few minutes of CPU training; the
`simgan_lowdose_ct` preset uses the soft-tissue window (-160, 240). `task="lowdose_ct_clinical"`
trains on the clinical-resolution phantoms of `advzoo.data.lowdose_ct_clinical` instead (targets:
noiseless reconstructions of other slices), as `simgan_lowdose_ct_clinical` does in the
soft-tissue window; its input contract passes values outside the window through (`outside:
"input"`), so a real slice's air and bone are left as they are. Through the full window that run's
D stayed at chance and R at the identity after 3000 steps at 128x128 (advzoo/presets.py).
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from advzoo import data as zoo_data
from advzoo import networks
from advzoo.data.pairs import LOWDOSE_TARGETS, ct_window
from advzoo.errors import AdvzooError, check_choice, check_shape
from advzoo.layers import ImagePool
from advzoo.training import AdversarialModel
from advzoo.training.translation import TranslationMixin
from advzoo.zoo import register_family

CT_WINDOW = zoo_data.CT_WINDOW

SOFT_TISSUE_LABELS = (2, 3, 4, 5)  # soft_tissue, liver, kidney, spleen of CT_LABELS
#: The built-in data a refiner can train on (`advzoo.data.translation_pairs` tasks), and the image
#: each compares the refined one with: the routine-dose scan, or the noiseless reconstruction.
TASKS = LOWDOSE_TARGETS


def simgan_dataset(split: str = "train", batch_size: int | None = None, image_shape=(64, 64, 1),
                   task: str = "lowdose_ct", paired: bool | None = None, window=CT_WINDOW,
                   n: int | None = None, shuffle: bool | None = None, seed: int = 0, **options):
    """(source, target) of `advzoo.data.translation_pairs`: unaligned for `split="train"`,
    aligned for val/test unless `paired` says otherwise (see the module docstring).

    For `task="lowdose_ct"` both are mapped to [-1, 1] through the CT `window` (HU): a narrower
    window than the default [-1024, 1024] (e.g. soft tissue, (-160, 240)) makes the noise that
    tells the doses apart 5x larger in the scaled images (air and bone are clipped)."""
    image_shape = check_shape(image_shape, "image_shape")
    if len(image_shape) != 3 or image_shape[0] != image_shape[1] or image_shape[2] != 1:
        raise AdvzooError(f"simgan has built-in data for image_shape (S, S, 1), not "
                          f"{image_shape}; pass your own (source, target) dataset to fit().")
    paired = split != "train" if paired is None else bool(paired)
    return zoo_data.translation_pairs(task, split, n=n, size=image_shape[0], paired=paired,
                                      batch_size=batch_size, shuffle=shuffle, seed=seed,
                                      window=window, **options)


@keras.saving.register_keras_serializable(package="advzoo")
@register_family("simgan", default_dataset=simgan_dataset, section="C",
                 summary="SimGAN refiner (Shrivastava; Wolterink 2017 unaligned low-dose CT): "
                         "R(y) vs. a local PatchGAN D, L1 self-regularisation, history pool")
class SimGAN(TranslationMixin, AdversarialModel):
    """SimGAN of Shrivastava et al. (2017).

    `fit` takes (source, target) pairs that need not be aligned: each target is just an image of
    the target domain.

    Args:
        image_shape: (H, W, C) of source and target images (2D or 3D (D, H, W, C)).
        generator: the refiner, "resnet" (default) or "unet".
        generator_filters, n_blocks, n_downsampling, norm: of the refiner (`resnet_generator`;
            `unet` uses generator_filters, norm and `depth`, its stride-2 levels: None goes
            down to 1 pixel at image_shape, stored resolved in the config).
        residual: R(y) = y + r(y) (default True).
        discriminator: "patch" (the local adversarial loss, Shrivastava Sec. 2.2) or "image".
        discriminator_filters, n_layers, discriminator_norm: of `networks.patchgan`
            (discriminator_norm "auto": batch, or layer for wgan_gp).
        lambda_l1: weight of the self-regularisation ||R(y) - y||_1 (Eq. 8's lambda).
        pool_size: refined images kept for D (Sec. 2.3); 0 disables the history.
        window: the CT window (HU) the built-in low-dose data and `sample_report` map to
            [-1, 1] (default the full [-1024, 1024]).
        task: the built-in data of `fit_on_default_data` and `sample_report`: "lowdose_ct" (the
            32x32-style phantom, routine-dose targets) or "lowdose_ct_clinical" (clinical
            resolution, randomised scanner, noiseless targets); it does not change the networks.
        objective, n_critic, seed: as in every family.
    """

    players = ("discriminator", "refiner")
    inference_player = "refiner"
    generator_players = "refiner"
    loss_names = ("d_loss", "r_loss", "adversarial_loss", "self_regularization", "d_real",
                  "d_fake", "gradient_penalty")

    def __init__(self, image_shape=(64, 64, 1), generator: str = "resnet",
                 generator_filters: int = 32, n_blocks: int = 4, n_downsampling: int = 0,
                 depth: int | None = None,
                 norm: str = "none", residual: bool = True, discriminator: str = "patch",
                 discriminator_filters: int = 32, n_layers: int = 2,
                 discriminator_norm: str = "auto", lambda_l1: float = 1.0, pool_size: int = 50,
                 window=CT_WINDOW, task: str = "lowdose_ct", objective: str = "nsgan",
                 n_critic: int | None = None, seed: int | None = None, **kwargs):
        super().__init__(objective=objective, n_critic=n_critic, seed=seed, **kwargs)
        image_shape = check_shape(image_shape, "image_shape")
        check_choice("generator", generator, tuple(networks.GENERATORS))
        check_choice("discriminator", discriminator, ("patch", "image"))
        if not isinstance(pool_size, int) or isinstance(pool_size, bool) or pool_size < 0:
            raise AdvzooError(f"pool_size must be an int >= 0 (0: no history of refined "
                              f"images), got {pool_size!r}")
        if not float(lambda_l1) >= 0:
            raise AdvzooError(f"lambda_l1 must be >= 0, got {lambda_l1!r}")
        check_choice("task", task, tuple(TASKS))
        window = ct_window(window, task)
        self.image_shape, self.lambda_l1, self.pool_size = image_shape, float(lambda_l1), pool_size
        self.window, self.task = window, task
        d_norm = networks.discriminator_norm_for(discriminator_norm,
                                                 bool(self.objective.gradient_penalty))
        if not self.objective.gradient_penalty:
            self.loss_names = tuple(n for n in self.loss_names if n != "gradient_penalty")
        g_options = dict(filters=generator_filters, norm=norm, residual=residual, name="refiner")
        self.depth = networks.generator_depth(generator, image_shape, depth)
        if generator == "resnet":
            g_options.update(n_blocks=n_blocks, n_downsampling=n_downsampling)
        else:
            g_options["depth"] = self.depth
        self.refiner = networks.build_generator(generator, image_shape, image_shape[-1],
                                                **g_options)
        self.discriminator = networks.patchgan(image_shape, filters=discriminator_filters,
                                               n_layers=n_layers, norm=d_norm,
                                               output=discriminator, name="discriminator")
        self.pool = ImagePool(pool_size, image_shape, seed=seed, name="refined_history")
        self.set_family_config(
            image_shape=image_shape, generator=generator, generator_filters=generator_filters,
            n_blocks=n_blocks, n_downsampling=n_downsampling, depth=self.depth, norm=norm,
            residual=residual,
            discriminator=discriminator, discriminator_filters=discriminator_filters,
            n_layers=n_layers, discriminator_norm=discriminator_norm, lambda_l1=lambda_l1,
            pool_size=pool_size, window=window, task=task)
        self.players_ready()
        self.add_image_metrics()

    def call(self, inputs, training=False):
        return self.refiner(inputs, training=training)

    def dataset_options(self) -> dict:
        return {"image_shape": self.image_shape, "window": self.window, "task": self.task}

    # -- losses of one step (Shrivastava Algorithm 1) ---------------------------------------------

    def unpack_batch(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if y is None:
            raise AdvzooError("simgan trains on (source, target) pairs (the target need not be "
                              "aligned: any image of the target domain); got sources only")
        source = self.check_input(x, self.image_shape, "source images")
        return source, self.check_input(y, self.image_shape, "target images", like=source,
                                        like_what="source images")

    def discriminator_losses(self, source, target, training: bool):
        """D: target-domain images real, refined images (through the history pool) fake."""
        refined = tf.stop_gradient(self.refiner(source, training=training))
        if training:
            refined = self.pool(refined)  # half history, half current (Sec. 2.3)
        return self.critic_loss(lambda x: self.discriminator(x, training=training), target,
                                refined)

    def refiner_losses(self, source, training: bool):
        """Shrivastava Eq. 8: local adversarial loss + lambda_l1 * ||R(y) - y||_1."""
        refined = self.refiner(source, training=training)
        adversarial = self.objective.generator_loss(self.discriminator(refined, training=training))
        regularization = tf.reduce_mean(tf.abs(tf.cast(refined, tf.float32) - source))
        loss = adversarial + self.lambda_l1 * regularization
        return loss, {"r_loss": loss, "adversarial_loss": adversarial,
                      "self_regularization": regularization, "output": refined}

    def step_losses(self, batch):
        source, target = batch
        return (lambda training: self.discriminator_losses(source, target, training),
                lambda training: self.refiner_losses(source, training))

    def train_step(self, data):
        source, target = self.unpack_batch(data)
        logs = self.critic_then_generator(*self.step_losses((source, target)))
        self.record_images(target, logs.pop("output"))
        return self.record(logs)

    def test_step(self, data):
        source, target = self.unpack_batch(data)
        logs = self.evaluate_losses(*self.step_losses((source, target)))
        self.record_images(target, logs.pop("output"))
        return self.record(logs)

    # -- measurements ---------------------------------------------------------------------------

    def sample_report(self, split: str = "test", n: int | None = None) -> dict:
        """`lowdose_report` of this refiner on the built-in low-dose CT data of its `task` (n:
        128 slices of `lowdose_ct`; the split's 64 of the slower `lowdose_ct_clinical`)."""
        if self.image_shape[-1] != 1 or len(self.image_shape) != 3:
            raise AdvzooError("simgan.sample_report measures the built-in 2D low-dose CT data")
        if n is None and self.task == "lowdose_ct":
            n = 128
        return lowdose_report(self.translate, split=split, n=n, size=self.image_shape[0],
                              window=self.window, task=self.task)


def soft_tissue_noise_hu(images_hu, noiseless_hu, labels, erode: int = 2) -> float:
    """Standard deviation (HU) of `images - noiseless` inside the soft-tissue organs (labels
    soft_tissue, liver, kidney, spleen, eroded by `erode` pixels so edges do not count): the
    noise (and, for a refined image, any other error) in homogeneous regions."""
    from scipy.ndimage import binary_erosion

    mask = np.isin(labels[..., 0], SOFT_TISSUE_LABELS)
    if erode:
        mask = np.stack([binary_erosion(m, iterations=erode) for m in mask])
    return float(np.std((np.asarray(images_hu) - noiseless_hu)[..., 0][mask]))


def lowdose_report(translate, split: str = "test", n: int | None = 128, size: int = 64,
                   window=CT_WINDOW, seed: int = 0, task: str = "lowdose_ct") -> dict:
    """How far `translate` (low-dose [-1, 1] -> refined [-1, 1]) moves low-dose CT toward
    routine dose, on `lowdose_ct_arrays(split)` (`task="lowdose_ct_clinical"`: toward the
    noiseless reconstruction, on `lowdose_ct_clinical_arrays(split)`; the keys below then say
    "noiseless" for "routine"):

    - soft-tissue noise sd in HU (`soft_tissue_noise_hu`) of input, refined and routine-dose;
    - Fréchet distance in the phantom feature space to the routine-dose images (of the same
      subjects) of input and of refined (`advzoo.metrics.feature_distances`);
    - PSNR / SSIM (data range 2, [-1, 1] through `window`) of input and refined against the
      aligned routine-dose image, which an unpaired refiner never saw with its input.

    Noise is measured in HU inside the soft-tissue organs, which every window of interest keeps
    unclipped; the Fréchet distance sees the images in `window`'s [-1, 1] scale.
    """
    from advzoo.metrics import feature_distances, psnr, ssim

    check_choice("task", task, tuple(TASKS))
    reference = TASKS[task]
    make = zoo_data.lowdose_ct_arrays if task == "lowdose_ct" else zoo_data.lowdose_ct_clinical_arrays
    arr = make(split, n=n, size=size, seed=seed)
    low = zoo_data.hu_to_unit(arr["low"], window)
    routine = zoo_data.hu_to_unit(arr[reference], window)
    refined = np.asarray(translate(low), np.float32)
    report = {}
    for tag, unit in (("input", low), ("refined", refined), (reference, routine)):
        # in HU as the model saw them (window-clipped; soft tissue lies inside any window used)
        report[f"{tag}_noise_hu"] = round(soft_tissue_noise_hu(
            zoo_data.unit_to_hu(unit, window), arr["noiseless"], arr["labels"]), 2)
    for tag, images in (("input", low), ("refined", refined)):
        report[f"{tag}_frechet"] = round(feature_distances(routine, images)["frechet"], 3)
        report[f"{tag}_psnr"] = round(psnr(routine, images, data_range=2.0), 3)
        report[f"{tag}_ssim"] = round(float(np.mean([ssim(r[..., 0], o[..., 0], data_range=2.0)
                                                     for r, o in zip(routine, images)])), 4)
    report["images"] = len(low)
    report["split"] = split
    return report
