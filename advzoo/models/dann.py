"""`dann`: domain-adversarial training of a segmentor (Ganin & Lempitsky 2015, "Unsupervised
Domain Adaptation by Backpropagation"; Ganin et al. 2016, JMLR), with the multi-connected domain
discriminator of Kamnitsas et al. (2017, "Unsupervised domain adaptation in brain lesion
segmentation with adversarial networks").

A feature extractor H and a label predictor C (together the segmentor S = C o H, the zoo's
shared U-Net: H is every layer but the output head C) learn from labelled source images; a domain
classifier D reads H's activations of source and (unlabelled) target images and tells the two
domains apart. Ganin Eq. 9:

    E(theta_f, theta_y, theta_d) = L_y(C(H(x_s)), y_s) - lambda L_d(D(H(x)), d),
    (theta_f, theta_y) = argmin E,   theta_d = argmax E,

reached by one gradient step of L_y + L_d on all parameters with a gradient reversal layer
(`advzoo.layers.GradientReversal`) between H and D: D descends L_d, H ascends lambda L_d, so H's
features become domain-invariant while staying discriminative for the segmentation. lambda
follows Ganin's schedule lambda_p = lambda_domain (2 / (1 + exp(-10 p)) - 1) over the training
progress p (`advzoo.training.callbacks.DomainAdaptationSchedule`, added by `fit` when not given).

Single-connected (Ganin): D reads H's last activations (the input of the head C).
Multi-connected (Kamnitsas Sec. 2.2): D also reads the encoder activations of the first
`domain_levels` depths, each average-pooled to the resolution of the deepest one and
concatenated, so the adaptation reaches the U-Net's skip connections, which would otherwise carry
domain-specific low-level features past a single adapted layer.

The zoo keeps one optimizer per player: "segmentor" and "domain_classifier" are stepped together
on the sum loss by `apply_update` with a tuple of players. `lambda_domain=0` is the source-only
baseline (same network, data and steps; the target images are then not used at all).

Data: each training element is (source image, source mask, target image); target masks are never
read in training. Validation and test data are (target image, target mask) pairs: the score of
domain adaptation is the target-domain Dice.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from advzoo.errors import AdvzooError, check_choice
from advzoo.layers import GradientReversal
from advzoo.models.segmentation import SegmentationMixin, check_positive_int, check_weight
from advzoo.networks.translation import conv, spatial_rank, unet_depth
from advzoo.training import AdversarialModel
from advzoo.zoo import register_family

ORGANS = ("liver", "kidney", "spleen", "bone", "vessel")


def check_domain_image_shape(image_shape) -> int:
    """The side S of the built-in domain_shift data's (S, S, 1) images."""
    image_shape = tuple(int(s) for s in image_shape)
    if len(image_shape) != 3 or image_shape[0] != image_shape[1] or image_shape[2] != 1 \
            or image_shape[0] < 16 or image_shape[0] % 2:
        raise AdvzooError(f"the domain_shift phantom has images (S, S, 1) with an even S >= 16, "
                          f"not image_shape {image_shape}; pass your own (source image, source "
                          "mask, target image) dataset to fit() (3D volumes included).")
    return image_shape[0]


def dann_dataset(split: str = "train", batch_size: int | None = None, image_shape=(32, 32, 1),
                 organ: str = "liver", domain: str = "target", n: int | None = None,
                 shuffle: bool | None = None, seed: int = 0):
    """Unsupervised domain adaptation data from the `domain_shift` phantom (two CT scanners).

    train: (source image, source mask, target image) triples, the target images shuffled
    independently of the source pairs; the target masks are dropped. val / test: (image, mask)
    pairs of `domain` ("target": the adaptation's score; "source": the supervised domain).
    Images in [-1, 1]; organ: a binary organ mask, or "all" (int32 label maps over CT_LABELS).
    """
    from advzoo import data as zoo_data
    from advzoo.data._common import as_dataset, paired_with_unpaired

    size = check_domain_image_shape(image_shape)
    check_choice("organ", organ, ORGANS + ("all",))
    check_choice("domain", domain, ("source", "target"))
    arrays = zoo_data.domain_shift_arrays(split, n=n, size=size, organ=organ, seed=seed)
    to_unit = lambda x: zoo_data.to_unit(x, 0.0, 1.0)  # noqa: E731
    if split != "train":
        return as_dataset((to_unit(arrays[f"{domain}_images"]), arrays[f"{domain}_masks"]),
                          batch_size=batch_size, shuffle=bool(shuffle), seed=seed)
    return paired_with_unpaired((to_unit(arrays["source_images"]), arrays["source_masks"]),
                                to_unit(arrays["target_images"]), batch_size=batch_size,
                                shuffle=True if shuffle is None else bool(shuffle), seed=seed)


@keras.saving.register_keras_serializable(package="advzoo")
@register_family("dann", default_dataset=dann_dataset, section="E",
                 summary="domain-adversarial segmentor (Ganin; Kamnitsas multi-connected): "
                         "gradient reversal to a domain classifier on the U-Net's activations")
class DANN(SegmentationMixin, AdversarialModel):
    """Segmentor S = C o H and domain classifier D through a gradient reversal layer (Ganin Eq. 9).

    `fit` takes (source image, source mask, target image) triples (e.g. `dann_dataset`); with
    `lambda_domain=0` plain (image, mask) pairs work too. A `DomainAdaptationSchedule` callback
    sets lambda before each batch (`fit` adds one when none is given). `evaluate` on (image, mask)
    pairs reports the cross-entropy and the mean per-image Dice (on target data: the adaptation's
    score); on triples it also reports the domain loss and D's accuracy.

    Args:
        image_shape: (H, W, C) or (D, H, W, C): 2D or 3D by its rank.
        num_classes: 2 (binary sigmoid head) or K > 2 (softmax).
        generator: "unet" (the shared U-Net: its activations are what D reads).
        generator_filters, norm, dropout, depth: of the U-Net.
        discriminator_filters: width of D's first convolution (doubled in its second).
        lambda_domain: the final weight of the reversed domain gradient (0: source-only).
        multi_connected: D reads several depths of H (Kamnitsas) rather than H's last layer only.
        domain_levels: encoder depths D reads when multi-connected; also sets the resolution D
            pools its inputs to (image size / 2**domain_levels).
        seed: of the model's random draws.
    """

    players = ("segmentor", "domain_classifier")
    critic = None  # D is a logistic classifier: no WGAN clipping
    loss_names = ("loss", "ce", "domain_loss", "domain_accuracy", "domain_weight")

    def __init__(self, image_shape=(32, 32, 1), num_classes: int = 2, generator: str = "unet",
                 generator_filters: int = 16, discriminator_filters: int = 16,
                 norm: str = "batch", dropout: float = 0.0, depth: int | None = None,
                 lambda_domain: float = 0.3, multi_connected: bool = True,
                 domain_levels: int = 3, objective: str = "nsgan", n_critic: int | None = None,
                 seed: int | None = None, **kwargs):
        check_choice("objective", objective, ("gan", "nsgan"))  # D's loss is the logistic loss
        if n_critic not in (None, 1):
            raise AdvzooError(f"dann updates H, C and D in one joint step (Ganin Eq. 13-15); "
                              f"n_critic must be None or 1, got {n_critic!r}")
        super().__init__(objective=objective, n_critic=n_critic, seed=seed, **kwargs)
        check_choice("generator", generator, ("unet",))
        self.lambda_domain = check_weight("lambda_domain", lambda_domain)
        if not isinstance(multi_connected, bool):
            raise AdvzooError(f"multi_connected must be True or False, got {multi_connected!r}")
        check_positive_int("discriminator_filters", discriminator_filters)
        check_positive_int("domain_levels", domain_levels)
        self.multi_connected = multi_connected
        self.build_segmentor(image_shape, num_classes, generator, generator_filters, norm,
                             dropout, depth=depth)
        levels = unet_depth(self.image_shape, depth)
        if domain_levels > levels:
            raise AdvzooError(f"domain_levels must be at most the U-Net's depth ({levels} for "
                              f"image_shape {self.image_shape}), got {domain_levels}")
        self.domain_levels = domain_levels
        # H's activations that D reads: the head's input (Ganin), plus encoder depths (Kamnitsas)
        names = ["segmentor_up_out_act"]
        if multi_connected:
            names += [f"segmentor_down{i}_act" for i in range(domain_levels)]
        self.feature_names = tuple(names)
        features = [self.segmentor.get_layer(n).output for n in names]
        self.feature_extractor = keras.Model(self.segmentor.inputs,
                                             [self.segmentor.outputs[0], *features],
                                             name="feature_extractor")
        self.domain_classifier = self.build_domain_classifier(
            [tuple(f.shape[1:]) for f in features], discriminator_filters)
        self.gradient_reversal = GradientReversal(name="gradient_reversal")
        self.domain_weight = keras.Variable(self.lambda_domain, trainable=False, dtype="float32",
                                            name="domain_weight")
        if not self.lambda_domain:  # source-only: no domain classifier terms to report
            self.loss_names = ("loss", "ce")
        self.set_family_config(
            image_shape=self.image_shape, num_classes=num_classes, generator=generator,
            generator_filters=generator_filters, discriminator_filters=discriminator_filters,
            norm=norm, dropout=dropout, depth=depth, lambda_domain=lambda_domain,
            multi_connected=multi_connected, domain_levels=domain_levels)
        self.players_ready()
        self.add_segmentation_metrics()

    def build_domain_classifier(self, shapes, filters: int) -> keras.Model:
        """D: each activation average-pooled to image size / 2**domain_levels, concatenated
        (Kamnitsas), two convolutions, global average pooling, one domain logit (1 = target)."""
        ndim = spatial_rank(self.image_shape, "image_shape")
        pool = keras.layers.AveragePooling2D if ndim == 2 else keras.layers.AveragePooling3D
        grid = tuple(max(1, s // 2 ** self.domain_levels) for s in self.image_shape[:-1])
        inputs, pooled = [], []
        for i, shape in enumerate(shapes):
            x = keras.Input(shape, name=f"domain_input{i}")
            inputs.append(x)
            factor = tuple(max(1, s // g) for s, g in zip(shape[:-1], grid))
            if any(f > 1 for f in factor):
                x = pool(factor, name=f"domain_pool{i}")(x)
            pooled.append(x)
        x = pooled[0] if len(pooled) == 1 else keras.layers.Concatenate(name="domain_concat")(pooled)
        for i, width in enumerate((filters, 2 * filters)):
            x = conv(ndim, width, 3, name=f"domain_conv{i}")(x)
            x = keras.layers.LeakyReLU(0.2, name=f"domain_conv{i}_act")(x)
        x = (keras.layers.GlobalAveragePooling2D if ndim == 2
             else keras.layers.GlobalAveragePooling3D)(name="domain_gap")(x)
        logit = keras.layers.Dense(1, dtype="float32", name="domain_logit")(x)
        return keras.Model(inputs, logit, name="domain_classifier")

    def dataset_options(self) -> dict:
        return {"image_shape": self.image_shape,
                "organ": "liver" if self.binary else "all"}

    def set_domain_weight(self, weight: float) -> None:
        """lambda of the gradient reversal layer for the next steps (the schedule's hook)."""
        self.domain_weight.assign(float(weight))

    def fit(self, *args, callbacks=None, **kwargs):
        """`keras.Model.fit`, with Ganin's lambda schedule over this call when no
        `DomainAdaptationSchedule` is among the callbacks."""
        from advzoo.training.callbacks import DomainAdaptationSchedule

        callbacks = list(callbacks or [])
        if not any(isinstance(c, DomainAdaptationSchedule) for c in callbacks):
            callbacks.append(DomainAdaptationSchedule())
        return super().fit(*args, callbacks=callbacks, **kwargs)

    # -- losses of one step ---------------------------------------------------------------------

    def unpack_batch(self, data):
        """(source image, source mask, target image or None)."""
        if isinstance(data, (tuple, list)) and len(data) == 3:
            image, mask, target = data
            target = self.check_input(target, self.image_shape, "target images")
        else:
            image, mask, _ = keras.utils.unpack_x_y_sample_weight(data)
            target = None
            if mask is None:
                raise AdvzooError("dann trains on (source image, source mask, target image) "
                                  "triples; got images only")
        return self.check_input(image, self.image_shape, "images"), self.check_mask(mask), target

    def domain_logits(self, features):
        """D(GRL(H(x))): the reversal sits between H and D, scaled by the current lambda."""
        reversed_features = [self.gradient_reversal(f, self.domain_weight) for f in features]
        return self.domain_classifier(reversed_features)

    def joint_losses(self, image, mask, target, training: bool):
        """L_y on the source + L_d of source (d = 0) and target (d = 1) features (Ganin Eq. 9);
        through the reversal layer, minimising the sum maximises lambda L_d in H."""
        if target is None:
            prediction = self.segmentor(image, training=training)
            ce = self.voxel_ce(mask, prediction)
            return ce, {"loss": ce, "ce": ce, "prediction": prediction}
        # one forward pass of both domains: BatchNorm normalises the mixed batch, as the
        # domain classifier sees it
        outputs = self.feature_extractor(tf.concat([image, target], 0), training=training)
        n = tf.shape(image)[0]
        prediction = outputs[0][:n]
        ce = self.voxel_ce(mask, prediction)
        logits = tf.cast(self.domain_logits(outputs[1:]), tf.float32)
        domains = tf.concat([tf.zeros_like(logits[:n]), tf.ones_like(logits[n:])], 0)
        domain_loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(domains, logits))
        accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.cast(logits > 0, tf.float32), domains),
                                          tf.float32))
        loss = ce + domain_loss
        return loss, {"loss": loss, "ce": ce, "domain_loss": domain_loss,
                      "domain_accuracy": accuracy, "domain_weight": self.domain_weight.value,
                      "prediction": prediction}

    def train_step(self, data):
        image, mask, target = self.unpack_batch(data)
        if self.lambda_domain and target is None:
            raise AdvzooError("dann with lambda_domain > 0 trains on (source image, source mask, "
                              "target image) triples (see advzoo.models.dann.dann_dataset); got "
                              "(image, mask) pairs")
        if not self.lambda_domain:
            # source-only baseline: the target images are not seen at all (not even by
            # BatchNorm's statistics), so any target-domain gain of dann is the adaptation's
            target = None
        players = self.players if target is not None else "segmentor"
        logs = self.apply_update(players, lambda: self.joint_losses(image, mask, target, True))
        self.record_segmentation(mask, logs.pop("prediction"))
        return self.record(logs)

    def test_step(self, data):
        """Pairs: CE and Dice. Triples: also the domain loss and D's accuracy, without updates
        (source-only models ignore the target images)."""
        image, mask, target = self.unpack_batch(data)
        if not self.lambda_domain:
            target = None
        logs = self.joint_losses(image, mask, target, False)[1]
        self.record_segmentation(mask, logs.pop("prediction"))
        results = self.record(logs)
        return {k: v for k, v in results.items() if k in logs or k == "dice"}

    # -- reports --------------------------------------------------------------------------------

    def domain_report(self, split: str = "test", n: int | None = None, seed: int = 0,
                      organ: str | None = None) -> dict:
        """Dice of S on the `domain_shift` phantom's target and source images (the target masks
        are read here only, for scoring)."""
        from advzoo import data as zoo_data

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

