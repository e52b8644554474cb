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
from advzoo.models.segmentation import (DomainAdaptationMixin, SegmentationMixin,
                                        check_positive_int, check_weight, dann_dataset)
from advzoo.networks.segmentation import (check_feature_levels, multi_depth_classifier,
                                          unet_feature_names)
from advzoo.training import AdversarialModel
from advzoo.zoo import register_family

@keras.saving.register_keras_serializable(package="advzoo")
@register_family("dann", default_dataset=dann_dataset, section="E",
                 summary="domain-adversarial segmentor (Ganin; Kamnitsas multi-connected): "
                         "gradient reversal to a domain classifier on the U-Net's activations")
class DANN(DomainAdaptationMixin, SegmentationMixin, AdversarialModel):
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
        self.multi_connected = multi_connected
        self.build_segmentor(image_shape, num_classes, generator, generator_filters, norm,
                             dropout, depth=depth)
        self.domain_levels = check_feature_levels("domain_levels", domain_levels,
                                                  self.image_shape, depth)
        # H's activations that D reads: the head's input (Ganin), plus encoder depths (Kamnitsas)
        self.feature_names = unet_feature_names(domain_levels if multi_connected else 0)
        self.feature_extractor = self.feature_model(self.feature_names)
        self.domain_classifier = self.build_domain_classifier(
            self.nominal_feature_shapes(self.feature_extractor),
            discriminator_filters)
        self.gradient_reversal = GradientReversal(name="gradient_reversal")
        self.domain_weight = keras.Variable(self.lambda_domain, trainable=False, dtype="float32",
                                            name="domain_weight")
        if not self.lambda_domain:  # source-only: no domain classifier terms to report
            self.loss_names = ("loss", "ce")
        self.set_family_config(
            image_shape=self.image_shape, num_classes=num_classes, generator=generator,
            generator_filters=generator_filters, discriminator_filters=discriminator_filters,
            norm=norm, dropout=dropout, depth=self.depth, lambda_domain=lambda_domain,
            multi_connected=multi_connected, domain_levels=domain_levels)
        self.players_ready()
        self.add_segmentation_metrics()

    def build_domain_classifier(self, shapes, filters: int) -> keras.Model:
        """D: each activation average-pooled to image size / 2**domain_levels, concatenated
        (Kamnitsas), two convolutions, global average pooling, one domain logit (1 = target)."""
        return multi_depth_classifier(shapes, self.image_shape, self.domain_levels, filters,
                                      name="domain_classifier")

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
        return self.unpack_triple(data, "(source image, source mask, target image)",
                                  "target images")

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
