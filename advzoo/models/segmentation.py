"""What the adversarial segmentation families share (`adversarial_segmentation`, `segan`, `dan`,
and the domain adaptation families `dann`, `adda`, `pixelda`).

- `segmentation_pairs` / `segmentation_arrays`: the built-in (image, mask) data: `task="vessels"`
  (the `retina` phantom, binary vessel masks) or `task="organs"` (the `ct_slices` phantom, 8-class
  organ label maps, 2D or 3D), images in [-1, 1]; `randomise=` draws the phantom's appearance at
  random per image (SynthSeg-style domain randomisation, `advzoo.data.DomainRandomisation`);
- `SegmentationMixin`: the segmentor S (the shared U-Net / ResNet generator of
  `advzoo.networks.translation` with a sigmoid head for 2 classes, softmax for more), its voxel
  cross-entropy, the class map and the (image, segmentation) pair a discriminator judges, the Dice
  tracker of `fit`/`evaluate`, `segment()` for users and `segmentation_report()` (Dice and
  connected components on held-out data) for presets and benchmarks;
- `dann_dataset` / `DomainAdaptationMixin`: (source image, source mask, target image) triples of
  the `domain_shift` phantom and the target/source Dice report of the adaptation families.

Pair input modes (Luc et al. 2016, Sec. 3.2): the discriminator sees the class-probability map
(`mask`), the image and the map concatenated along the channels (`concat`), or the image
multiplied by each class map (`product`: C_image x K channels, Luc's "product" encoding, which
also hides the value gap between one-hot labels and soft predictions behind the image texture).
Binary segmentors output one sigmoid channel p; their class map is [1 - p, p].
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from advzoo import data as zoo_data
from advzoo.data.randomisation import resolve_randomise
from advzoo.errors import AdvzooError, check_choice, check_shape
from advzoo.networks.translation import (build_generator, free_spatial, generator_depth,
                                         patchgan, spatial_rank)
from advzoo.contract import to_model_units
from advzoo.training.translation import UNITS, as_batch, check_unit_range, run_size_free

TASKS = ("vessels", "organs")
PAIR_MODES = ("mask", "concat", "product")
TASK_CLASSES = {"vessels": 2, "organs": len(zoo_data.CT_LABELS)}
SEGMENTATION_LEARNING_RATE = 1e-3
EPSILON = 1e-7  # probabilities are clipped to [eps, 1 - eps] inside the log of the cross-entropy


def task_for(num_classes: int) -> str:
    """The built-in task of a segmentor with `num_classes` outputs (2 vessels, 8 organs)."""
    return "vessels" if num_classes == 2 else "organs"


def task_segmentor_config(task: str, size: int = 32) -> dict:
    """`image_shape` and `num_classes` of a 2D segmentor for built-in `task` at size x size: the
    RGB retina for vessels (2 classes), one-channel CT slices for organs (8 labels)."""
    check_choice("task", task, TASKS)
    return {"image_shape": (size, size, 3 if task == "vessels" else 1),
            "num_classes": TASK_CLASSES[task]}


def segmentation_arrays(split: str = "train", image_shape=(32, 32, 3), task: str = "vessels",
                        n: int | None = None, seed: int = 0,
                        randomise=False) -> tuple[np.ndarray, np.ndarray]:
    """(images in [-1, 1], masks) numpy arrays of a built-in segmentation task.

    vessels: `retina` at (S, S, 3) RGB or (S, S, 1) green channel, S >= 32; masks float32 {0, 1}.
    organs: `ct_slices` at (S, S, 1) or volumes (D, H, W, 1) (sides >= 16), HU window
    [-1024, 1024] -> [-1, 1]; masks int32 label maps over `advzoo.data.CT_LABELS`.

    randomise: domain randomisation of the images (SynthSeg-style: per-label random intensities,
    bias field, blur and resolution, noise, gamma; `advzoo.data.randomisation`): False (default,
    the phantom's own rendering, unchanged bit for bit), True (`DomainRandomisation()`'s ranges),
    a dict of `DomainRandomisation` fields, or a `DomainRandomisation` (`resolve_randomise`).
    The masks are those of `randomise=False`, bit for bit; the images keep their range (retina
    [0, 1], CT [-1000, 1000] HU-like synthetic contrast) before the same map to [-1, 1].
    """
    check_choice("task", task, TASKS)
    options = resolve_randomise(randomise, "segmentation data")  # checked before any draw
    extra = {} if options is None else {"randomise": options}
    image_shape = check_shape(image_shape, "image_shape")
    ndim = spatial_rank(image_shape, "image_shape")
    if task == "vessels":
        if ndim != 2 or image_shape[0] != image_shape[1] or image_shape[2] not in (1, 3) \
                or image_shape[0] < 32:
            raise AdvzooError(f"task 'vessels' (retina phantom) has images (S, S, 3) or (S, S, 1) "
                              f"with S >= 32, not image_shape {image_shape}; pass your own "
                              "(image, mask) dataset to fit().")
        arrays = zoo_data.retina_arrays(split, n=n, size=image_shape[0], channels=image_shape[2],
                                        seed=seed, **extra)
        return zoo_data.to_unit(arrays["images"], 0.0, 1.0), arrays["masks"]
    if image_shape[-1] != 1:
        raise AdvzooError(f"task 'organs' (ct_slices phantom) has one channel, not image_shape "
                          f"{image_shape}")
    size = image_shape[0] if ndim == 2 and image_shape[0] == image_shape[1] else image_shape[:-1]
    arrays = zoo_data.ct_slices_arrays(split, n=n, size=size, ndim=ndim, seed=seed, **extra)
    return zoo_data.hu_to_unit(arrays["images"]), arrays["labels"]


def segmentation_pairs(split: str = "train", batch_size: int | None = None,
                       image_shape=(32, 32, 3), task: str = "vessels", n: int | None = None,
                       shuffle: bool | None = None, seed: int = 0, randomise=False):
    """(image, mask) pairs of `segmentation_arrays` as a `tf.data.Dataset` (shuffled for train);
    `randomise` as there."""
    from advzoo.data._common import as_dataset

    images, masks = segmentation_arrays(split, image_shape, task, n=n, seed=seed,
                                        randomise=randomise)
    return as_dataset((images, masks), batch_size=batch_size,
                      shuffle=(split == "train") if shuffle is None else bool(shuffle), seed=seed)


DOMAIN_ORGANS = ("liver", "kidney", "spleen", "bone", "vessel")


def check_domain_image_shape(image_shape) -> int:
    """The side S of the built-in domain_shift data's (S, S, 1) images."""
    image_shape = check_shape(image_shape, "image_shape")
    if len(image_shape) != 3 or image_shape[0] != image_shape[1] or image_shape[2] != 1 \
            or image_shape[0] < 16 or image_shape[0] % 2:
        raise AdvzooError(f"the domain_shift phantom has images (S, S, 1) with an even S >= 16, "
                          f"not image_shape {image_shape}; pass your own (source image, source "
                          "mask, target image) dataset to fit() (3D volumes included).")
    return image_shape[0]


def dann_dataset(split: str = "train", batch_size: int | None = None, image_shape=(32, 32, 1),
                 organ: str = "liver", domain: str = "target", n: int | None = None,
                 shuffle: bool | None = None, seed: int = 0):
    """Unsupervised domain adaptation data from the `domain_shift` phantom (two CT scanners): the
    default dataset of `dann`, `adda` and `pixelda`.

    train: (source image, source mask, target image) triples, the target images shuffled
    independently of the source pairs; the target masks are dropped. val / test: (image, mask)
    pairs of `domain` ("target": the adaptation's score; "source": the supervised domain).
    Images in [-1, 1]; organ: a binary organ mask, or "all" (int32 label maps over CT_LABELS).
    """
    from advzoo.data._common import as_dataset, paired_with_unpaired

    size = check_domain_image_shape(image_shape)
    check_choice("organ", organ, DOMAIN_ORGANS + ("all",))
    check_choice("domain", domain, ("source", "target"))
    arrays = zoo_data.domain_shift_arrays(split, n=n, size=size, organ=organ, seed=seed)
    to_unit = lambda x: zoo_data.to_unit(x, 0.0, 1.0)  # noqa: E731
    if split != "train":
        return as_dataset((to_unit(arrays[f"{domain}_images"]), arrays[f"{domain}_masks"]),
                          batch_size=batch_size, shuffle=bool(shuffle), seed=seed)
    return paired_with_unpaired((to_unit(arrays["source_images"]), arrays["source_masks"]),
                                to_unit(arrays["target_images"]), batch_size=batch_size,
                                shuffle=True if shuffle is None else bool(shuffle), seed=seed)


def check_weight(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 \
            or not np.isfinite(value):
        raise AdvzooError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise AdvzooError(f"{name} must be a positive int, got {value!r}")
    return int(value)


class SegmentationMixin:
    """Mixed into an `AdversarialModel` whose `inference_player` is a segmentor `self.segmentor`.

    A family calls `build_segmentor(...)` in its __init__ (sets `image_shape`, `num_classes`,
    `segmentor`), then `add_segmentation_metrics()` after `players_ready()`.
    """

    inference_player = "segmentor"
    size_free = True  # S, and every player judging its output, is fully convolutional

    @property
    def free_image_shape(self) -> tuple:
        """`image_shape` with free spatial sizes: what `segment` accepts."""
        return free_spatial(self.image_shape)

    # -- construction ---------------------------------------------------------------------------

    def build_segmentor(self, image_shape, num_classes: int, generator: str = "unet",
                        generator_filters: int = 16, norm: str = "batch", dropout: float = 0.0,
                        depth: int | None = None, n_blocks: int = 6) -> keras.Model:
        """S: `unet` or `resnet` of the translation networks with a sigmoid (2 classes: one
        foreground channel) or softmax (K > 2 classes) head, 2D or 3D."""
        self.image_shape = check_shape(image_shape, "image_shape")
        spatial_rank(self.image_shape, "image_shape")
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise AdvzooError(f"num_classes must be an int >= 2 (2 = binary foreground/background),"
                              f" got {num_classes!r}")
        check_positive_int("generator_filters", generator_filters)
        self.num_classes = num_classes
        check_choice("generator", generator, ("unet", "resnet"))
        options = dict(filters=generator_filters, norm=norm, dropout=dropout,
                       output_activation="sigmoid" if self.binary else "softmax")
        # the U-Net's levels are an explicit option, resolved once and stored in the config, so a
        # preset's architecture never depends on the size it is run at
        self.depth = generator_depth(generator, self.image_shape, depth)
        if generator == "unet":
            options["depth"] = self.depth
        else:
            options["n_blocks"] = n_blocks
        self.segmentor = build_generator(generator, self.image_shape, self.output_channels,
                                         name="segmentor", **options)
        return self.segmentor

    def feature_model(self, names, network: keras.Model | None = None,
                      name: str = "feature_extractor") -> keras.Model:
        """A functional view of a segmentor (default: S) returning [its output, the activations of
        the layers `names`...], sharing its layers and weights (what a domain classifier reads,
        e.g. `advzoo.networks.segmentation.unet_feature_names`)."""
        network = self.segmentor if network is None else network
        features = [network.get_layer(n).output for n in names]
        return keras.Model(network.inputs, [network.outputs[0], *features], name=name)

    def nominal_feature_shapes(self, feature_model: keras.Model) -> list[tuple]:
        """The shapes (no batch axis) of a `feature_model`'s activations at the model's
        `image_shape`: the networks take any size, so their own shapes are free."""
        shapes = feature_model.compute_output_shape((1, *self.image_shape))
        return [tuple(int(s) for s in shape[1:]) for shape in shapes[1:]]

    def default_optimizers(self) -> dict:
        """Adam(1e-3, beta_1=0.5) for every player: segmentation networks take larger steps than
        image generators (on the retina phantom, 600 CE steps of the U-Net reached test Dice 0.66
        at 1e-3 against 0.39 at the GAN default 2e-4); `compile(optimizers=...)` overrides."""
        return {p: keras.optimizers.Adam(SEGMENTATION_LEARNING_RATE, beta_1=0.5)
                for p in self.players}

    @property
    def binary(self) -> bool:
        return self.num_classes == 2

    @property
    def output_channels(self) -> int:
        """Channels of S's output: 1 sigmoid foreground channel, or K softmax channels."""
        return 1 if self.binary else self.num_classes

    def pair_channels(self, mode: str) -> int:
        """Channels of the (image, segmentation) pair of `pair_input` in `mode`."""
        check_choice("input mode", mode, PAIR_MODES)
        image = self.image_shape[-1]
        return {"mask": self.num_classes, "concat": image + self.num_classes,
                "product": image * self.num_classes}[mode]

    def pair_discriminator(self, mode: str, filters: int, n_layers: int, norm: str,
                           output: str = "image", name: str = "discriminator") -> keras.Model:
        """A PatchGAN judging `pair_input(image, class_map, mode)` (one logit per patch/image)."""
        check_choice("discriminator", output, ("patch", "image"))
        check_positive_int("discriminator_filters", filters)
        return patchgan((*self.image_shape[:-1], self.pair_channels(mode)), filters=filters,
                        n_layers=n_layers, norm=norm, output=output, name=name)

    # -- maps and losses ------------------------------------------------------------------------

    def class_map(self, prediction):
        """S's output as a K-channel probability map (binary: [1 - p, p])."""
        prediction = tf.cast(prediction, tf.float32)
        return tf.concat([1.0 - prediction, prediction], -1) if self.binary else prediction

    def target_map(self, mask):
        """The reference as a K-channel one-hot map: binary masks (> 0.5 is foreground) or integer
        label maps (..., 1), or already one-hot (..., K)."""
        mask = tf.convert_to_tensor(mask)
        if mask.shape[-1] == self.num_classes and self.num_classes > 2:
            return tf.cast(mask, tf.float32)
        if self.binary:
            foreground = tf.cast(tf.cast(mask, tf.float32) > 0.5, tf.float32)
            return tf.concat([1.0 - foreground, foreground], -1)
        labels = tf.cast(tf.round(tf.cast(mask[..., 0], tf.float32)), tf.int32)
        return tf.one_hot(labels, self.num_classes, dtype=tf.float32)

    def check_mask(self, mask, image):
        """The reference masks of a batch, checked against the image shape and `image`'s size."""
        channels = (1, self.num_classes) if not self.binary else (1,)
        mask = tf.convert_to_tensor(mask)
        if mask.shape[-1] not in channels:
            raise AdvzooError(f"{type(self).__name__} expects masks of shape (batch, "
                              f"{', '.join(map(str, self.image_shape[:-1]))}, 1) (a binary mask "
                              "or an integer label map), got (batch, "
                              f"{', '.join(str(s) for s in mask.shape[1:])})")
        label_map = mask.shape[-1] == 1 and not self.binary
        # binary masks are binarised (> 0.5 is foreground, `target_map`), label maps are not
        return self.check_input(mask, (*self.image_shape[:-1], mask.shape[-1]), "masks",
                                like=image, like_what="images",
                                values="labels" if label_map else "unit",
                                num_classes=self.num_classes)

    def voxel_ce(self, mask, prediction):
        """Mean voxel cross-entropy -sum_k y_k log s_k(x) (Luc Eq. 1, first term), float32."""
        target = self.target_map(mask)
        probabilities = tf.clip_by_value(self.class_map(prediction), EPSILON, 1.0 - EPSILON)
        return tf.reduce_mean(-tf.reduce_sum(target * tf.math.log(probabilities), axis=-1))

    def unpack_triple(self, data, triple: str, third: str, require_mask: bool = True):
        """(image, mask, third image or None) of a batch: an (image, mask, image) triple, or
        Keras' (x, y[, sample_weight]) without a third image. `triple` names the expected
        elements for the error raised when the mask is missing, `third` the third image."""
        if isinstance(data, (tuple, list)) and len(data) == 3:
            image, mask, other = data
        else:
            image, mask, _ = keras.utils.unpack_x_y_sample_weight(data)
            other = None
        if mask is None and require_mask:
            raise AdvzooError(f"{type(self).__name__} trains on {triple} triples; got images only")
        image = self.check_input(image, self.image_shape, "images")
        if other is not None:  # batched beside the images, so of their size
            other = self.check_input(other, self.image_shape, third, like=image,
                                     like_what="images")
        return image, None if mask is None else self.check_mask(mask, image), other

    def pair_input(self, image, class_map, mode: str):
        """The (image, segmentation) input of a pair discriminator (Luc Sec. 3.2)."""
        image, class_map = tf.cast(image, tf.float32), tf.cast(class_map, tf.float32)
        if mode == "mask":
            return class_map
        if mode == "concat":
            return tf.concat([image, class_map], -1)
        # product: every image channel times every class map, (..., C_image * K)
        product = image[..., :, None] * class_map[..., None, :]
        return tf.reshape(product, tf.concat([tf.shape(image)[:-1],
                                              [self.image_shape[-1] * self.num_classes]], 0))

    # -- Dice in fit / evaluate -----------------------------------------------------------------

    def dataset_options(self) -> dict:
        """The built-in task matching S: retina vessels for 2 classes, CT organs for more."""
        return {"image_shape": self.image_shape, "task": task_for(self.num_classes)}

    def add_segmentation_metrics(self) -> None:
        """A mean per-image Dice tracker (foreground classes averaged), after `players_ready()`."""
        from advzoo.metrics.keras_metrics import Dice

        self.trackers["dice"] = Dice(num_classes=None if self.binary else self.num_classes,
                                     name="dice")

    def record_segmentation(self, mask, prediction) -> None:
        self.trackers["dice"].update_state(tf.cast(mask, tf.float32),
                                           tf.cast(prediction, tf.float32))

    # -- for users ------------------------------------------------------------------------------

    def call(self, images, training=False):
        return self.segmentor(images, training=training)

    def segment(self, images, batch_size: int = 32, probabilities: bool = False,
                check_range: bool = True, tile=None, overlap: float = 0.25,
                blend: str = "gaussian", units: str = "model") -> np.ndarray:
        """Segment `images` ((N, *spatial, C) or one image, any spatial size, scaled to [-1, 1]).

        Sizes that are not a multiple of `size_multiple` are padded by reflection and cropped
        back; `tile` runs overlapping tiles whose probabilities are blended (`translate`'s
        options). Returns int32 label maps (N, ..., 1) (binary: 1 = foreground, p > 0.5), or S's
        float32 output with `probabilities=True` (binary: (N, ..., 1) foreground probability;
        otherwise (N, ..., K) class probabilities). `units="physical"` maps the images in through
        the model's input contract (e.g. 8-bit RGB or HU).
        """
        check_choice("units", units, UNITS)
        what = f"{type(self).__name__}.segment"
        array, single = as_batch(images, self.free_image_shape, what)
        if units == "physical":
            array = to_model_units(array, self.io_contract()[0])
        if check_range:
            check_unit_range(array, f"{what} inputs")
        out = run_size_free(lambda x: self.segmentor(x, training=False), array,
                            self.size_multiple, batch_size, tile=tile, overlap=overlap,
                            blend=blend)
        if not probabilities:
            out = ((out > 0.5) if self.binary else np.argmax(out, -1)[..., None]).astype(np.int32)
        return out[0] if single else out

    def segmentation_report(self, split: str = "test", n: int | None = None, seed: int = 0,
                            images=None, masks=None) -> dict:
        """Dice and connected components of S on held-out data (the built-in task's `split`, or
        the given images and masks).

        dice: mean per-image Dice (foreground classes averaged). components: mean number of
        connected foreground components per image of the prediction (8-/26-connected; per class
        summed), beside the reference's; component_excess: mean |predicted - reference| count
        (holes and fragments that adversarial training should remove, Luc et al. 2016).
        """
        from advzoo.metrics import connected_components, dice

        if images is None:
            images, masks = segmentation_arrays(split, self.image_shape, task_for(self.num_classes),
                                                n=n, seed=seed)
        predicted = self.segment(images)
        masks = np.asarray(masks)
        if self.binary:
            truth = (masks > 0.5).astype(np.int32)
            scores = dice(truth, predicted, per_image=True)
            labels = (1,)
        else:
            truth = masks.astype(np.int32)
            labels = tuple(range(1, self.num_classes))
            scores = dice(truth, predicted, labels=labels, per_image=True).mean(-1)

        def components(maps):
            return sum(connected_components(maps == k, per_image=True) for k in labels)

        pred_cc, true_cc = components(predicted), components(truth)
        return {"dice": float(np.mean(scores)), "dice_std": float(np.std(scores)),
                "components": float(pred_cc.mean()), "reference_components": float(true_cc.mean()),
                "component_excess": float(np.abs(pred_cc - true_cc).mean()),
                "images": int(len(images))}

    def sample_report(self) -> dict:
        """The preset metadata's numbers: `segmentation_report()` on the test split."""
        return self.segmentation_report()


class DomainAdaptationMixin:
    """Scoring of the unsupervised domain adaptation families (`dann`, `adda`, `pixelda`) on the
    built-in `domain_shift` phantom; mixed in before `SegmentationMixin`."""

    def dataset_options(self) -> dict:
        """`dann_dataset` options matching S: the liver (binary) or every organ's label map."""
        return {"image_shape": self.image_shape, "organ": "liver" if self.binary else "all"}

    def domain_report(self, split: str = "test", n: int | None = None, seed: int = 0,
                      organ: str | None = None) -> dict:
        """Dice of the segmentor on the `domain_shift` phantom's target and source images (the
        target masks are read here only, for scoring)."""
        size = check_domain_image_shape(self.image_shape)
        organ = organ or ("liver" if self.binary else "all")
        arrays = zoo_data.domain_shift_arrays(split, n=n, size=size, organ=organ, seed=seed)
        report = {}
        for domain in ("target", "source"):
            scores = self.segmentation_report(
                images=zoo_data.to_unit(arrays[f"{domain}_images"], 0.0, 1.0),
                masks=arrays[f"{domain}_masks"])
            report[f"{domain}_dice"] = scores["dice"]
            report[f"{domain}_dice_std"] = scores["dice_std"]
        report["images"] = int(len(arrays["target_images"]))
        return report

    def sample_report(self) -> dict:
        """The preset metadata's numbers: target and source Dice on the test split."""
        return self.domain_report()
