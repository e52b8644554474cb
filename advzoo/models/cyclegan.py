"""`cyclegan`: unpaired translation A <-> B with cycle consistency (Zhu et al. 2017), with the
SynSeg-Net segmentation head (Huo et al. 2018).

Players: G_AB (A -> B), G_BA (B -> A), D_A (real A vs G_BA(b)), D_B (real B vs G_AB(a)).
Zhu et al. Eq. 3 with the least-squares adversarial loss (Sec. 4, Mao et al.):

    L(G_AB, G_BA, D_A, D_B) = L_GAN(G_AB, D_B) + L_GAN(G_BA, D_A) + lambda_cycle * L_cyc,
    L_cyc = E_a ||G_BA(G_AB(a)) - a||_1 + E_b ||G_AB(G_BA(b)) - b||_1                      (Eq. 2)

plus the identity term of Sec. 5.2 (Taigman et al.), weighted lambda_identity * lambda_cycle as in
pytorch-CycleGAN-and-pix2pix: E_b ||G_AB(b) - b||_1 + E_a ||G_BA(a) - a||_1. One step is the
reference implementation's: both generators update jointly, then both discriminators, each on
a history of generated images (an `ImagePool` of `pool_size` per direction, Sec. 4 / Shrivastava
et al.), their loss halved (Sec. 7.1: "we divide the objective by 2 while optimizing D").

Segmentation head (Huo et al., SynSeg-Net, `segmentation_classes > 0`): a segmentor S (U-Net,
softmax) reads the synthesised G_AB(a) and is trained with the labels of the SOURCE image a,
jointly with the generators (its cross-entropy, weighted `lambda_segmentation`, also reaches
G_AB). At test time S segments real images of domain B, whose labels it never saw.

Default data: unpaired MR (A) / CT (B) phantoms of different subjects (`mr_slices(paired=False)`,
Wolterink et al. 2017); the val/test splits are paired (same subject), so `evaluate` can score
G_AB(a) against b (PSNR/SSIM/MAE) and S(b) against the organ labels (Dice).
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from advzoo import data as zoo_data
from advzoo import losses
from advzoo.data._common import as_dataset
from advzoo.errors import AdvzooError, check_choice, check_shape
from advzoo.layers import ImagePool
from advzoo.networks.translation import (build_generator, free_spatial, generator_depth,
                                         patchgan, spatial_rank, unet, unet_depth)
from advzoo.training import AdversarialModel, TranslationMixin
from advzoo.training.translation import as_batch, check_unit_range, run_size_free
from advzoo.zoo import register_family

DIRECTIONS = ("a_to_b", "b_to_a")
#: Organ classes of the built-in segmentation data (CT_LABELS merged so 32x32 stays learnable).
ORGAN_CLASSES = ("background", "body", "liver", "kidney", "bone")
# CT_LABELS (background, fat, soft_tissue, liver, kidney, spleen, bone, vessel) -> ORGAN_CLASSES
SEGMENTOR_LEARNING_RATE = 1e-3
_ORGAN_OF_LABEL = np.array([0, 1, 1, 2, 3, 1, 4, 1], np.int32)


def organ_classes(labels) -> np.ndarray:
    """`advzoo.data.CT_LABELS` label maps -> `ORGAN_CLASSES` ids (int32, same shape)."""
    return _ORGAN_OF_LABEL[np.asarray(labels, np.int64)]


def _check_shapes(source_shape, target_shape):
    source_shape = check_shape(source_shape, "source_shape")
    target_shape = check_shape(target_shape, "target_shape")
    spatial_rank(source_shape, "cyclegan source_shape")
    spatial_rank(target_shape, "cyclegan target_shape")
    if source_shape[:-1] != target_shape[:-1]:
        raise AdvzooError(f"cyclegan translates images of one spatial size: source_shape "
                          f"{source_shape} and target_shape {target_shape} differ before the "
                          "channel axis")
    return source_shape, target_shape


def cyclegan_dataset(split: str = "train", batch_size: int | None = None,
                     source_shape=(32, 32, 1), target_shape=(32, 32, 1), paired: bool | None = None,
                     segmentation_classes: int = 0, n: int | None = None,
                     shuffle: bool | None = None, seed: int = 0):
    """MR (A) / CT (B) phantoms in [-1, 1]: (mr, ct), or (mr, ct, mr_organ_labels) for the
    segmentation head.

    Args:
        source_shape, target_shape: (S, S, C) or (D, H, W, C); C = 1 (T1) or 2 (T1 and T2) for
            MR, 1 for CT.
        paired: None: unpaired (other subjects, `translation_pairs(paired=False)`) for "train",
            paired (same subject) for "val" / "test", so evaluation can compare G_AB(mr) with ct.
        segmentation_classes: 0, or len(ORGAN_CLASSES) = 5: adds the MR's organ label map
            (`organ_classes` of `mr_labels`); with paired data it is also the CT's label map.
    """
    source_shape, target_shape = _check_shapes(source_shape, target_shape)
    if source_shape[-1] not in (1, 2) or target_shape[-1] != 1:
        raise AdvzooError(f"cyclegan's built-in MR/CT data has 1 (T1) or 2 (T1, T2) MR channels "
                          f"and 1 CT channel; got source_shape {source_shape}, target_shape "
                          f"{target_shape}. Pass your own (a, b) dataset to fit().")
    if segmentation_classes not in (0, len(ORGAN_CLASSES)):
        raise AdvzooError(f"the built-in segmentation labels have {len(ORGAN_CLASSES)} classes "
                          f"{ORGAN_CLASSES}; got segmentation_classes={segmentation_classes}. Pass "
                          "your own (a, b, labels) dataset to fit().")
    paired = (split != "train") if paired is None else bool(paired)
    spatial = source_shape[:-1]
    arr = zoo_data.mr_slices_arrays(split, n=n, size=spatial, ndim=len(spatial),
                                    contrast="t1" if source_shape[-1] == 1 else "both",
                                    paired=paired, seed=seed)
    mr, ct = zoo_data.mr_to_unit(arr["mr"]), zoo_data.hu_to_unit(arr["ct"])
    parts = (mr, ct) if not segmentation_classes else (mr, ct, organ_classes(arr["mr_labels"]))
    return as_dataset(parts, batch_size=batch_size,
                      shuffle=(split == "train") if shuffle is None else shuffle, seed=seed)


@keras.saving.register_keras_serializable(package="advzoo")
@register_family("cyclegan", default_dataset=cyclegan_dataset, section="C",
                 summary="CycleGAN (Zhu): G_AB, G_BA, D_A, D_B, LSGAN + cycle L1 + identity, image "
                         "pools; unpaired MR<->CT (Wolterink), 2D/3D; SynSeg segmentation head (Huo)")
class CycleGAN(TranslationMixin, AdversarialModel):
    """CycleGAN with optional SynSeg-Net segmentor.

    `fit` takes (a, b) batches of the two domains (unpaired: any a with any b), or (a, b,
    labels_of_a) with `segmentation_classes > 0`.

    Args:
        image_shape: shape of both domains when source_shape / target_shape are not given.
        source_shape, target_shape: (H, W, C) or (D, H, W, C) of domain A and B (2D or 3D by
            rank); same spatial size.
        generator: "resnet" (Zhu, App. 7.2) or "unet".
        depth: stride-2 levels of a "unet" generator (None: down to 1 pixel at the image shape);
            stored resolved in the config, so the networks do not depend on the image size.
        discriminator: "patch" (70x70 PatchGAN for n_layers=3) or "image".
        generator_filters, discriminator_filters, n_blocks, n_layers, norm: as in
            pytorch-CycleGAN-and-pix2pix (ngf, ndf, resnet blocks, D layers, "instance").
        objective: adversarial loss id (default "lsgan", Zhu Sec. 4); wgan_gp adds the gradient
            penalty on each D, wgan clips both.
        lambda_cycle: weight of the cycle L1 loss (10).
        lambda_identity: identity weight relative to lambda_cycle (0.5; 0 disables; needs the
            same channels in both domains).
        pool_size: image-history size per direction (50; 0 disables).
        residual: generators predict the change to their input.
        segmentation_classes: 0 (off) or the number of classes K >= 2 of the SynSeg segmentor.
        segmentation_filters: width of the segmentor's U-Net (default generator_filters).
        segmentation_depth: its stride-2 levels (None: down to 1 pixel at target_shape).
        lambda_segmentation: weight of the segmentor's cross-entropy in the generators' loss.
    """

    players = ("generator_ab", "generator_ba", "discriminator_a", "discriminator_b")
    critic = None  # two critics: clipping and n_critic are handled in train_step
    inference_player = "generator_ab"
    loss_names = ("g_loss", "adv_ab", "adv_ba", "cycle_loss", "identity_loss", "d_a_loss",
                  "d_b_loss", "gradient_penalty", "seg_loss")

    def __init__(self, image_shape=(32, 32, 1), source_shape=None, target_shape=None,
                 generator: str = "resnet", discriminator: str = "patch",
                 generator_filters: int = 64, discriminator_filters: int = 64, n_blocks: int = 9,
                 n_layers: int = 3, depth: int | None = None, norm: str = "instance",
                 objective: str = "lsgan",
                 n_critic: int | None = None, lambda_cycle: float = 10.0,
                 lambda_identity: float = 0.5, pool_size: int = 50, residual: bool = False,
                 segmentation_classes: int = 0, segmentation_filters: int | None = None,
                 segmentation_depth: int | None = None,
                 lambda_segmentation: float = 1.0, seed: int | None = None, **kwargs):
        super().__init__(objective=objective, n_critic=n_critic, seed=seed, **kwargs)
        source_shape, target_shape = _check_shapes(
            image_shape if source_shape is None else source_shape,
            image_shape if target_shape is None else target_shape)
        check_choice("generator", generator, ("resnet", "unet"))
        check_choice("discriminator", discriminator, ("patch", "image"))
        for option, value in (("lambda_cycle", lambda_cycle), ("lambda_identity", lambda_identity),
                              ("lambda_segmentation", lambda_segmentation)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise AdvzooError(f"{option} must be a number >= 0, got {value!r}")
        if lambda_identity > 0 and source_shape[-1] != target_shape[-1]:
            raise AdvzooError(f"the identity loss feeds b to G_AB and a to G_BA, so both domains "
                              f"need the same channels; got {source_shape[-1]} and "
                              f"{target_shape[-1]}. Set lambda_identity=0.")
        if isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 0:
            raise AdvzooError(f"pool_size must be an int >= 0, got {pool_size!r}")
        if isinstance(segmentation_classes, bool) or not isinstance(segmentation_classes, int) or \
                segmentation_classes < 0 or segmentation_classes == 1:
            raise AdvzooError(f"segmentation_classes must be 0 (no segmentor) or an int >= 2, "
                              f"got {segmentation_classes!r}")
        if self.objective.gradient_penalty and norm == "batch":
            raise AdvzooError("wgan_gp penalises each sample's gradient, which batch norm couples "
                              "across the batch (Gulrajani et al. Sec. 4); use norm 'instance', "
                              "'layer' or 'none'.")
        self.source_shape, self.target_shape = source_shape, target_shape
        self.image_shape = source_shape  # what the model (G_AB) takes, as in every family
        self.lambda_cycle, self.lambda_identity = float(lambda_cycle), float(lambda_identity)
        self.lambda_segmentation = float(lambda_segmentation)
        self.segmentation_classes = segmentation_classes
        g_options = dict(filters=generator_filters, norm=norm, residual=residual)
        self.depth = generator_depth(generator, source_shape, depth)
        if generator == "resnet":
            g_options["n_blocks"] = n_blocks
        else:
            g_options["depth"] = self.depth
        self.generator_ab = build_generator(generator, source_shape, target_shape[-1],
                                            name="generator_ab", **g_options)
        self.generator_ba = build_generator(generator, target_shape, source_shape[-1],
                                            name="generator_ba", **g_options)
        d_options = dict(filters=discriminator_filters, n_layers=n_layers, norm=norm,
                         output=discriminator)
        self.discriminator_a = patchgan(source_shape, name="discriminator_a", **d_options)
        self.discriminator_b = patchgan(target_shape, name="discriminator_b", **d_options)
        # One history per direction (Zhu Sec. 4): D_A sees old G_BA(b), D_B old G_AB(a).
        self.pool_a = ImagePool(pool_size, image_shape=source_shape,
                                seed=None if seed is None else seed + 1, name="pool_a")
        self.pool_b = ImagePool(pool_size, image_shape=target_shape,
                                seed=None if seed is None else seed + 2, name="pool_b")
        names = list(self.loss_names)
        if segmentation_classes:
            self.players = self.players + ("segmentor",)
            self.segmentation_depth = unet_depth(target_shape, segmentation_depth)
            self.segmentor = unet(target_shape, segmentation_classes,
                                  depth=self.segmentation_depth,
                                  filters=segmentation_filters or generator_filters, norm=norm,
                                  dropout=0.0, output_activation="softmax", name="segmentor")
        else:
            names.remove("seg_loss")
        if not self.objective.gradient_penalty:
            names.remove("gradient_penalty")
        if not self.lambda_identity:
            names.remove("identity_loss")
        self.loss_names = tuple(names)
        self.set_family_config(
            source_shape=source_shape, target_shape=target_shape, generator=generator,
            discriminator=discriminator, generator_filters=generator_filters,
            discriminator_filters=discriminator_filters, n_blocks=n_blocks, n_layers=n_layers,
            depth=self.depth, norm=norm, lambda_cycle=lambda_cycle, lambda_identity=lambda_identity,
            pool_size=pool_size, residual=residual, segmentation_classes=segmentation_classes,
            segmentation_filters=segmentation_filters,
            segmentation_depth=self.segmentation_depth if segmentation_classes else None,
            lambda_segmentation=lambda_segmentation)
        self.players_ready()
        self.add_image_metrics()
        if segmentation_classes:
            from advzoo.metrics.keras_metrics import Dice

            self.trackers["dice"] = Dice(num_classes=segmentation_classes, name="dice")

    @property
    def generator_players(self):
        return ("generator_ab", "generator_ba") + (("segmentor",) if self.segmentation_classes
                                                   else ())

    def default_optimizers(self) -> dict:
        """The objective's optimizer (Adam(2e-4, 0.5) for lsgan, Zhu Sec. 7.1) for G_AB, G_BA,
        D_A, D_B; the supervised segmentor gets Adam(1e-3, 0.5): at 2e-4 a U-Net on 32x32
        phantoms learns only the body outline in a preset's budget (1,200 steps)."""
        optimizers = super().default_optimizers()
        if self.segmentation_classes:
            optimizers["segmentor"] = keras.optimizers.Adam(SEGMENTOR_LEARNING_RATE, beta_1=0.5)
        return optimizers

    def call(self, inputs, training=False):
        return self.generator_ab(inputs, training=training)

    def dataset_options(self) -> dict:
        return {"source_shape": self.source_shape, "target_shape": self.target_shape,
                "segmentation_classes": self.segmentation_classes}

    # -- translation and segmentation ----------------------------------------------------------

    def translation_network(self, direction: str = "a_to_b") -> keras.Model:
        """G_AB for direction "a_to_b" (the default), G_BA for "b_to_a"."""
        check_choice("direction", direction, DIRECTIONS)
        return self.generator_ab if direction == "a_to_b" else self.generator_ba

    def io_contract(self, direction: str = "a_to_b") -> tuple[dict, dict | None]:
        """The contract's sides for `direction`: domain A in and B out, swapped for b_to_a."""
        check_choice("direction", direction, DIRECTIONS)
        source, target = super().io_contract()
        return (source, target) if direction == "a_to_b" else (target, source)

    def translate(self, images, direction: str = "a_to_b", batch_size: int = 32,
                  check_range: bool = True, **tiling) -> np.ndarray:
        """G_AB(images) (direction="a_to_b") or G_BA(images) ("b_to_a"), inputs in [-1, 1], any
        spatial size (`tile`, `overlap`, `blend` as in `TranslationMixin.translate`)."""
        return super().translate(images, batch_size=batch_size, check_range=check_range,
                                 direction=direction, **tiling)

    def segment(self, images, probabilities: bool = False, batch_size: int = 32,
                **tiling) -> np.ndarray:
        """S(images) on real domain-B images (e.g. CT), any spatial size: int32 label maps
        (N, ..., 1), or the class probabilities (N, ..., K) with `probabilities=True`."""
        if not self.segmentation_classes:
            raise AdvzooError("this cyclegan has no segmentor; build it with "
                              "segmentation_classes=K (SynSeg-Net)")
        array, single = as_batch(images, free_spatial(self.target_shape), "CycleGAN.segment")
        check_unit_range(array, "CycleGAN.segment inputs")
        probs = run_size_free(lambda x: self.segmentor(x, training=False), array,
                              self.size_multiple, batch_size, **tiling)
        out = probs if probabilities else np.argmax(probs, axis=-1)[..., None].astype(np.int32)
        return out[0] if single else out

    def export(self, filepath, overwrite: bool = False, direction: str = "a_to_b", **kwargs):
        """SavedModel of G_AB (or of G_BA with direction="b_to_a"), float32 signature."""
        from advzoo.export import export_inference_model

        return export_inference_model(self, filepath, overwrite=overwrite,
                                      network=self.translation_network(direction), **kwargs)

    # -- losses of one step ---------------------------------------------------------------------

    def unpack_batch(self, data):
        parts = tuple(data) if isinstance(data, (tuple, list)) else (data,)
        if len(parts) == 1 and isinstance(parts[0], (tuple, list)):
            parts = tuple(parts[0])
        parts = tuple(p for p in parts if p is not None)
        if len(parts) not in (2, 3):
            raise AdvzooError(f"cyclegan trains on (a, b) batches of the two domains (or (a, b, "
                              f"labels of a) with segmentation_classes > 0); got {len(parts)} "
                              "tensor(s)")
        a = self.check_input(parts[0], self.source_shape, "domain A images")
        b = self.check_input(parts[1], self.target_shape, "domain B images", like=a,
                             like_what="domain A images")  # one size a batch, as the pools
        labels = None
        if self.segmentation_classes:
            if len(parts) < 3:
                raise AdvzooError("segmentation_classes > 0 trains the SynSeg segmentor on "
                                  "labels of the source images: the data must yield (a, b, "
                                  "labels of a); got (a, b) only")
            labels = parts[2]
            if len(labels.shape) == len(self.source_shape):  # (batch, *spatial) -> channel axis
                labels = tf.expand_dims(labels, -1)
            labels = tf.cast(self.check_input(labels, self.source_shape[:-1] + (1,),
                                              "segmentation labels", like=a,
                                              like_what="domain A images", values="labels",
                                              num_classes=self.segmentation_classes), tf.int32)
        return a, b, labels

    def generator_losses(self, a, b, labels, training: bool):
        """Zhu Eq. 3 for the generators (+ identity, + SynSeg cross-entropy); also returns the
        fakes G_AB(a), G_BA(b) for the discriminators' update."""
        fake_b = self.generator_ab(a, training=training)
        fake_a = self.generator_ba(b, training=training)
        adv_ab = self.objective.generator_loss(self.discriminator_b(fake_b, training=training))
        adv_ba = self.objective.generator_loss(self.discriminator_a(fake_a, training=training))
        cycle = (losses.l1_loss(a, self.generator_ba(fake_b, training=training))
                 + losses.l1_loss(b, self.generator_ab(fake_a, training=training)))  # Eq. 2
        total = adv_ab + adv_ba + self.lambda_cycle * cycle
        logs = {"adv_ab": adv_ab, "adv_ba": adv_ba, "cycle_loss": cycle}
        if self.lambda_identity:
            identity = (losses.l1_loss(b, self.generator_ab(b, training=training))
                        + losses.l1_loss(a, self.generator_ba(a, training=training)))
            total += self.lambda_identity * self.lambda_cycle * identity
            logs["identity_loss"] = identity
        if self.segmentation_classes:
            # SynSeg-Net: S learns on synthetic B with the source labels; the loss reaches G_AB.
            probs = tf.cast(self.segmentor(fake_b, training=training), tf.float32)
            seg = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
                tf.squeeze(labels, -1), probs))
            total += self.lambda_segmentation * seg
            logs["seg_loss"] = seg
        logs["g_loss"] = total
        return total, logs, fake_a, fake_b

    def discriminator_losses(self, a, b, fake_a, fake_b, training: bool):
        """Each D: real images of its domain against (pooled) fakes, halved (Zhu Sec. 7.1)."""
        logs, total = {}, 0.0
        for name, real, fake in (("a", a, fake_a), ("b", b, fake_b)):
            critic = getattr(self, f"discriminator_{name}")
            loss = 0.5 * self.objective.discriminator_loss(critic(real, training=training),
                                                           critic(fake, training=training))
            if self.objective.gradient_penalty:
                penalty = losses.gradient_penalty(lambda x: critic(x, training=training), real,
                                                  fake, seed=self.seed_generator)
                logs["gradient_penalty"] = logs.get("gradient_penalty", 0.0) + penalty
                loss += self.objective.gradient_penalty * penalty
            logs[f"d_{name}_loss"] = loss
            total += loss
        return total, logs

    def train_step(self, data):
        """One step of pytorch-CycleGAN: G_AB, G_BA (and S) jointly, then D_A and D_B on the
        pooled fakes of that same forward pass."""
        a, b, labels = self.unpack_batch(data)
        fakes = {}

        def generator_update():
            total, logs, fake_a, fake_b = self.generator_losses(a, b, labels, training=True)
            fakes.update(a=fake_a, b=fake_b)
            return total, logs

        logs = self.apply_update(self.generator_players, generator_update)
        fake_a = self.pool_a(tf.stop_gradient(fakes["a"]))
        fake_b = self.pool_b(tf.stop_gradient(fakes["b"]))
        for _ in range(self.n_critic):
            logs.update(self.apply_update(
                ("discriminator_a", "discriminator_b"),
                lambda: self.discriminator_losses(a, b, fake_a, fake_b, training=True)))
            if self.objective.clip_value:
                for critic in (self.discriminator_a, self.discriminator_b):
                    losses.clip_weights(critic, self.objective.clip_value)
        return self.record(logs)

    def test_step(self, data):
        """The same losses without updates or pools; G_AB(a) against b (meaningful on paired
        data, as the built-in val/test splits are) and S(b) against the labels."""
        a, b, labels = self.unpack_batch(data)
        _, logs, fake_a, fake_b = self.generator_losses(a, b, labels, training=False)
        logs.update(self.discriminator_losses(a, b, fake_a, fake_b, training=False)[1])
        self.record_images(b, fake_b)
        if self.segmentation_classes:
            self.trackers["dice"].update_state(labels, self.segmentor(b, training=False))
        return self.record(logs)

    # -- measurements ---------------------------------------------------------------------------

    def sample_report(self, n: int = 64, seed: int = 0) -> dict:
        """MR -> CT on the paired test split of the built-in data: MAE in HU (inside the body)
        of G_AB(mr) and of the identity mapping (the MR read as CT), PSNR/SSIM, and with the
        segmentor its Dice per organ on real CT (labels never seen in training)."""
        from advzoo.metrics import dice, mae_hu, psnr, ssim

        if self.target_shape[-1] != 1 or self.source_shape[-1] not in (1, 2):
            raise AdvzooError("cyclegan.sample_report measures MR (1-2 channels) -> CT (1)")
        spatial = self.source_shape[:-1]
        arr = zoo_data.mr_slices_arrays("test", n=n, size=spatial, ndim=len(spatial),
                                        contrast="t1" if self.source_shape[-1] == 1 else "both",
                                        paired=True, seed=seed)
        mr, ct = zoo_data.mr_to_unit(arr["mr"]), zoo_data.hu_to_unit(arr["ct"])
        body = arr["ct_labels"] > 0
        fake = self.translate(mr)
        report = {"mae_hu": mae_hu(ct, fake, mask=body, from_unit=True),
                  "identity_mae_hu": mae_hu(ct, mr[..., :1], mask=body, from_unit=True),
                  "psnr": np.mean(psnr(ct, fake, data_range=2.0, per_image=True)),
                  "ssim": np.mean(ssim(ct, fake, data_range=2.0, per_image=True))}
        if self.segmentation_classes == len(ORGAN_CLASSES):
            truth = organ_classes(arr["ct_labels"])
            per_class = dice(truth, self.segment(ct), labels=range(1, len(ORGAN_CLASSES)))
            report["target_dice"] = {name: float(v) for name, v in
                                     zip(ORGAN_CLASSES[1:], per_class)}
            report["target_mean_dice"] = float(np.mean(per_class))
        report = {k: (round(float(v), 4) if not isinstance(v, dict) else
                      {kk: round(vv, 4) for kk, vv in v.items()}) for k, v in report.items()}
        return {**report, "samples": n}
