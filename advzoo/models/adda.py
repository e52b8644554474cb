"""`adda`: adversarial discriminative domain adaptation of a segmentor (Tzeng et al. 2017,
"Adversarial Discriminative Domain Adaptation"; Dou et al. 2018, "Unsupervised Cross-Modality
Domain Adaptation of ConvNets for Biomedical Image Segmentations with Adversarial Loss", the
review's MR -> CT cardiac example).

Two stages (Tzeng Fig. 3):

1. Pre-training (stage "source", Tzeng Eq. 8): a source model, encoder M_s and task head C (here
   the zoo's shared U-Net segmentor S = C o M_s), learns from labelled source images alone:

       min_{M_s, C}  L_cls = E_(x_s, y_s) [ -sum_k y_k log C(M_s(x_s))_k ]   (voxel cross-entropy).

2. Adversarial adaptation (stage "target", Tzeng Eq. 9-10): M_s and C are frozen; a target
   encoder M_t, initialised from M_s (untied weights), and a domain discriminator D play

       min_D   L_advD = -E_xs [log D(M_s(x_s))] - E_xt [log(1 - D(M_t(x_t)))]
       min_M_t L_advM = -E_xt [log D(M_t(x_t))]        (the GAN loss with inverted labels),

   the `nsgan` objective with the source features as "real" and the target features as "fake"
   (other objectives: `gan` is Tzeng's minimax form, `lsgan`, `hinge`, `wgan`). The target
   segmentor is C o M_t: the head C is reused unchanged on target features.

Which layers form M_t (`adapted_levels`): Dou (Sec. 2.2) adapts only the early layers (a
"domain adaptation module" replacing the first blocks of the source network) and keeps the
higher layers of the source network frozen; here the first `adapted_levels` encoder depths of the
U-Net are M_t (trainable in stage "target"), everything after them, the decoder and the head C
included, is frozen with the source weights. `adapted_levels=None` adapts every layer but the
output convolution (Tzeng: the whole encoder, C being the last layer).

What D reads (`multi_connected`, `domain_levels`): Dou's domain critic module reads feature maps
of several layers; as in `dann` (Kamnitsas' multi-connected classifier, shared in
`advzoo.networks.segmentation.multi_depth_classifier`), D reads the head's input plus the
encoder activations of the first `domain_levels` depths, pooled to image size / 2**domain_levels
and concatenated. Reading only the head's input does not reach what the U-Net's skip connections
carry past the adapted layers.

Frozen means frozen in BatchNorm too: the frozen layers of the target segmentor keep their
trainable flag off, so Keras runs their BatchNorm with the source's moving statistics; the
adapted layers normalise target batches with their own statistics while they are trained.

Data: stage "source" trains on (image, mask) pairs or on (source image, source mask, target
image) triples (the target images are then not read); stage "target" trains on triples
(`dann_dataset`), reading the source images and the target images only: no mask is read.
Validation and test data are (target image, target mask) pairs: the score is the target Dice.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from advzoo.errors import AdvzooError, check_choice
from advzoo.models.segmentation import (DomainAdaptationMixin, SegmentationMixin,
                                        check_positive_int, dann_dataset)
from advzoo.networks.segmentation import (check_feature_levels, multi_depth_classifier,
                                          unet_feature_names)
from advzoo.networks.translation import build_generator
from advzoo.training import AdversarialModel
from advzoo.zoo import register_family

STAGES = ("source", "target")
OBJECTIVES = ("nsgan", "gan", "lsgan", "hinge", "wgan")  # no gradient penalty on a feature list
STAGE_LOSSES = {
    "source": ("loss", "ce"),
    "target": ("loss", "d_loss", "d_real", "d_fake", "adversarial_loss", "domain_accuracy", "ce"),
}


@keras.saving.register_keras_serializable(package="advzoo")
@register_family("adda", default_dataset=dann_dataset, section="E",
                 summary="adversarial discriminative domain adaptation (Tzeng; Dou): source "
                         "segmentor pre-trained, then a target encoder trained against a "
                         "multi-depth feature discriminator, the source model frozen")
class ADDA(DomainAdaptationMixin, SegmentationMixin, AdversarialModel):
    """ADDA in two `fit` stages (Tzeng Eq. 8, then Eq. 9-10), switched by `set_stage`.

    Usage, like any Keras model with a two-phase schedule:

        model = advzoo.build("adda", image_shape=(32, 32, 1))     # stage "source"
        model.fit(source_pairs_or_triples, ...)                    # supervised pre-training
        model.set_stage("target")  # snapshot S -> source_segmentor (frozen), freeze S's upper
                                   # layers, fresh optimizers (re-compiled with the same config)
        model.fit(triples, ...)                                    # adversarial adaptation
        model.segment(target_images)                               # C(M_t(x_t))

    `segmentor` is always the deployed network (`segment`, `inference_model`, `export`): the
    source model while in stage "source", the adapted target segmentor C o M_t after
    `set_stage("target")`. `source_segmentor` is the frozen stage-1 copy (M_s and C) that gives D
    its "real" features. The stage is part of the config, so a saved model reloads in its stage;
    `ADDA(stage="target")` starts adaptation from the segmentor's current weights.

    `fit` logs: stage "source": loss (= ce), ce, dice. Stage "target": d_loss, d_real, d_fake
    (D's loss and mean logits on source and target features), adversarial_loss (M_t's
    inverted-label loss; also `loss`), domain_accuracy (D's). `evaluate` on (image, mask) pairs:
    loss (= ce), ce, dice of `segmentor`; on triples also the adversarial terms (stage "target").

    Args:
        image_shape: (H, W, C) or (D, H, W, C): 2D or 3D by its rank.
        num_classes: 2 (binary sigmoid head) or K > 2 (softmax).
        generator: "unet" (the shared U-Net, whose encoder depths are adapted and read).
        generator_filters, norm, dropout, depth: of the U-Net.
        discriminator_filters: width of D's first convolution (doubled in its second).
        multi_connected: D reads the head's input and `domain_levels` encoder depths (Dou,
            Kamnitsas) rather than the head's input only.
        domain_levels: encoder depths D reads when multi-connected; also the resolution D pools
            its inputs to (image size / 2**domain_levels).
        adapted_levels: encoder depths forming M_t, trained in stage "target" (Dou: early
            layers); None: every layer but the output convolution (Tzeng).
        stage: "source" or "target" (see `set_stage`).
        objective: D's and M_t's adversarial loss (nsgan: Tzeng's inverted labels).
        n_critic: D updates per M_t update (None: the objective's default).
        seed: of the model's random draws.
    """

    players = ("discriminator", "segmentor")  # update order of stage "target" (D, then M_t)
    critic = "discriminator"
    generator_players = "segmentor"
    training_stages = STAGES  # what `advzoo.recipes` runs in order for a staged preset

    def __init__(self, image_shape=(32, 32, 1), num_classes: int = 2, generator: str = "unet",
                 generator_filters: int = 16, discriminator_filters: int = 16,
                 norm: str = "batch", dropout: float = 0.0, depth: int | None = None,
                 multi_connected: bool = True, domain_levels: int = 3,
                 adapted_levels: int | None = 3, stage: str = "source",
                 objective: str = "nsgan", n_critic: int | None = None,
                 seed: int | None = None, **kwargs):
        check_choice("objective", objective, OBJECTIVES)
        check_choice("stage", stage, STAGES)
        super().__init__(objective=objective, n_critic=n_critic, seed=seed, **kwargs)
        check_choice("generator", generator, ("unet",))
        if not isinstance(multi_connected, bool):
            raise AdvzooError(f"multi_connected must be True or False, got {multi_connected!r}")
        check_positive_int("discriminator_filters", discriminator_filters)
        self.multi_connected = multi_connected
        self.build_segmentor(image_shape, num_classes, generator, generator_filters, norm,
                             dropout, depth=depth)
        self.domain_levels = check_feature_levels("domain_levels", domain_levels,
                                                  self.image_shape, depth)
        if adapted_levels is not None:
            check_feature_levels("adapted_levels", adapted_levels, self.image_shape, depth)
        self.adapted_levels = adapted_levels
        # M_s and C: the same U-Net, a separate copy of the weights (Tzeng: untied encoders)
        self.source_segmentor = build_generator(
            generator, self.image_shape, self.output_channels, name="source_segmentor",
            filters=generator_filters, norm=norm, dropout=dropout, depth=depth,
            output_activation="sigmoid" if self.binary else "softmax")
        self.source_segmentor.trainable = False
        levels = domain_levels if multi_connected else 0
        self.feature_names = unet_feature_names(levels)
        self.target_features = self.feature_model(self.feature_names, name="target_features")
        self.source_features = self.feature_model(
            unet_feature_names(levels, name="source_segmentor"), self.source_segmentor,
            name="source_features")
        self.discriminator = multi_depth_classifier(
            self.nominal_feature_shapes(self.target_features), self.image_shape,
            self.domain_levels, discriminator_filters, name="discriminator")
        self.set_family_config(
            image_shape=self.image_shape, num_classes=num_classes, generator=generator,
            generator_filters=generator_filters, discriminator_filters=discriminator_filters,
            norm=norm, dropout=dropout, depth=self.depth, multi_connected=multi_connected,
            domain_levels=domain_levels, adapted_levels=adapted_levels, stage="source")
        self.stage = "source"
        self._enter_stage("source")
        if stage == "target":
            self.set_stage("target")

    # -- stages ---------------------------------------------------------------------------------

    @property
    def adapted_layers(self) -> tuple[str, ...]:
        """Names of the segmentor's layers that form M_t (trained in stage "target")."""
        if self.adapted_levels is None:
            head = {f"{self.segmentor.name}_out_conv", f"{self.segmentor.name}_output"}
            return tuple(layer.name for layer in self.segmentor.layers if layer.name not in head)
        return tuple(f"{self.segmentor.name}_down{i}{suffix}"
                     for i in range(self.adapted_levels) for suffix in ("", "_norm"))

    def set_stage(self, stage: str) -> None:
        """Switch between supervised pre-training ("source") and adaptation ("target").

        Entering "target" from "source" copies the segmentor's weights (M_s and C) into the frozen
        `source_segmentor`, so M_t starts at M_s (Tzeng Sec. 3.2), and freezes every layer of the
        segmentor but M_t's. Going back to "source" unfreezes the segmentor (the snapshot stays).
        A compiled model is re-compiled with fresh optimizers of the same configuration (the
        trained variables changed; under `tf.distribute`, call it inside the strategy's scope);
        the next `fit` traces the new stage's step.
        """
        check_choice("stage", stage, STAGES)
        if stage == self.stage:
            return
        if stage == "target":
            for mine, theirs in zip(self.segmentor.layers, self.source_segmentor.layers):
                for variable, value in zip(theirs.weights, mine.weights):
                    variable.assign(value)
        self.stage = stage
        self._family_config["stage"] = stage
        self._enter_stage(stage)
        if self.player_optimizers:
            self.compile_from_config(self.get_compile_config())
        self.train_function = self.test_function = self.predict_function = None

    def _enter_stage(self, stage: str) -> None:
        adapted = set(self.adapted_layers)
        for layer in self.segmentor.layers:
            layer.trainable = stage == "source" or layer.name in adapted
        self.loss_names = STAGE_LOSSES[stage]
        self.players_ready()
        self.add_segmentation_metrics()

    # -- losses of one step ---------------------------------------------------------------------

    def unpack_batch(self, data):
        """(source image, source mask or None, target image or None)."""
        return self.unpack_triple(data, "(source image, source mask, target image)",
                                  "target images", require_mask=False)

    def supervised_losses(self, image, mask, training: bool):
        """L_cls of the segmentor (Tzeng Eq. 8): the voxel cross-entropy, and its prediction."""
        prediction = self.segmentor(image, training=training)
        ce = self.voxel_ce(mask, prediction)
        return ce, {"loss": ce, "ce": ce, "prediction": prediction}

    def adversarial_losses(self, source, target):
        """(D's loss, M_t's loss) of Tzeng Eq. 9-10 as functions of `training`: source features
        M_s(x_s) (frozen, inference mode) are D's "real", target features M_t(x_t) its "fake"."""
        source_features = [tf.stop_gradient(f)
                           for f in self.source_features(source, training=False)[1:]]
        threshold = 0.5 if self.objective.name == "lsgan" else 0.0

        def discriminator_losses(training):
            target_features = self.target_features(target, training=training)[1:]
            logits = []  # D's logits of this forward pass, for its accuracy

            def critic(features):
                logits.append(tf.cast(self.discriminator(features, training=training),
                                      tf.float32))
                return logits[-1]

            loss, logs = self.critic_loss(critic, source_features, target_features)
            real, fake = logits
            logs["domain_accuracy"] = 0.5 * (
                tf.reduce_mean(tf.cast(real > threshold, tf.float32))
                + tf.reduce_mean(tf.cast(fake <= threshold, tf.float32)))
            return loss, logs

        def target_encoder_losses(training):
            target_features = self.target_features(target, training=training)[1:]
            loss = self.objective.generator_loss(self.discriminator(target_features,
                                                                    training=training))
            return loss, {"loss": loss, "adversarial_loss": loss}

        return discriminator_losses, target_encoder_losses

    def train_step(self, data):
        image, mask, target = self.unpack_batch(data)
        if self.stage == "source":
            if mask is None:
                raise AdvzooError("adda's stage 'source' trains on (image, mask) pairs or "
                                  "(source image, source mask, target image) triples; got "
                                  "images only")
            # supervised pre-training: target images, if given, are not read (source-only)
            logs = self.apply_update("segmentor",
                                     lambda: self.supervised_losses(image, mask, True))
            self.record_segmentation(mask, logs.pop("prediction"))
            names = set(logs) | {"dice"}
        else:
            if target is None:
                raise AdvzooError("adda's stage 'target' trains on (source image, source mask, "
                                  "target image) triples (see advzoo.models.dann.dann_dataset; "
                                  "the masks are not read); got pairs")
            logs = self.critic_then_generator(*self.adversarial_losses(image, target))
            names = set(logs)
        results = self.record(logs)
        return {k: v for k, v in results.items() if k in names}

    def test_step(self, data):
        """Pairs: CE and Dice of the segmentor. Triples: CE and Dice on the source pairs, and in
        stage "target" D's and M_t's losses on (source, target) images, without updates."""
        image, mask, target = self.unpack_batch(data)
        if mask is None:
            raise AdvzooError("adda evaluates on (image, mask) pairs or triples; got images only")
        logs = self.supervised_losses(image, mask, False)[1]
        self.record_segmentation(mask, logs.pop("prediction"))
        if target is not None and self.stage == "target":
            logs.update(self.evaluate_losses(*self.adversarial_losses(image, target)))
            logs["loss"] = logs["ce"]
        results = self.record(logs)
        return {k: v for k, v in results.items() if k in logs or k == "dice"}

    # -- reports --------------------------------------------------------------------------------

    def domain_report(self, split: str = "test", n: int | None = None, seed: int = 0,
                      organ: str | None = None) -> dict:
        """Dice of the segmentor on the `domain_shift` phantom's target and source images (the
        target masks are read here only, for scoring), and the stage it is in."""
        report = super().domain_report(split=split, n=n, seed=seed, organ=organ)
        report["stage"] = self.stage
        return report
