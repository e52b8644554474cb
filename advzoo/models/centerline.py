"""`centerline_gan`: blood-vessel geometry synthesis of Wolterink et al. (MIDL 2018).

A coronary artery centreline is a fixed-length sequence of (x, y, z, r) points (position and
lumen radius). G and the critic are 1D convolutional networks along the sequence
(`advzoo.networks.seq1d`), trained with WGAN-GP (Gulrajani et al. Eq. 4, Algorithm 1: n_critic = 5,
lambda = 10, Adam(1e-4, 0, 0.9)); the update loop and losses are those of the `gan` family, whose
gradient penalty handles rank-3 (batch, points, 4) input.

Wolterink et al. show that the latent space organises the vessels: codes of left and right
coronary trees (and of short and long vessels) are linearly separable. `sample_report` measures
this with a linear probe (see `latent_probe`).
"""
from __future__ import annotations

import keras
import numpy as np

from advzoo import data as zoo_data
from advzoo import networks
from advzoo.errors import AdvzooError, check_shape
from advzoo.models.gan import GAN
from advzoo.training import AdversarialModel
from advzoo.zoo import register_family


def centerline_dataset(split: str = "train", batch_size: int | None = None,
                       image_shape=(64, 4), seed: int = 0, **kwargs):
    """`advzoo.data.centerlines` with as many points per vessel as `image_shape` asks for."""
    image_shape = tuple(image_shape)
    if len(image_shape) != 2 or image_shape[1] != 4:
        raise AdvzooError(f"centerline_gan's data are (points, 4) sequences of (x, y, z, r), "
                          f"got image_shape {image_shape}")
    return zoo_data.centerlines(split=split, points=image_shape[0], batch_size=batch_size,
                                seed=seed, **kwargs)


def vessel_features(sequences) -> np.ndarray:
    """Flattened (x, y, z, r) sequences in the scaled units of `advzoo.data.centerlines`."""
    sequences = np.asarray(sequences, np.float32)
    return sequences.reshape(len(sequences), -1)


def latent_probe(z, labels, folds: int = 5, seed: int = 0) -> dict:
    """Cross-validated accuracy of a logistic regression predicting `labels` from codes `z`.

    Returns dict(accuracy, majority): the probe's mean held-out accuracy and the accuracy of
    always answering the most frequent label (the chance level the probe must beat).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    labels = np.asarray(labels)
    counts = np.bincount(labels, minlength=2)
    majority = float(counts.max() / counts.sum())
    if counts.min() < folds:  # one class (almost) never generated: nothing to separate
        return {"accuracy": majority, "majority": majority}
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    scores = cross_val_score(LogisticRegression(max_iter=2000), z, labels, cv=cv)
    return {"accuracy": float(scores.mean()), "majority": majority}


@keras.saving.register_keras_serializable(package="advzoo")
@register_family("centerline_gan", default_dataset=centerline_dataset, section="B",
                 summary="Coronary centreline synthesis (Wolterink 2018): WGAN-GP with 1D "
                         "convolutions on (x, y, z, r) sequences")
class CenterlineGAN(GAN):
    """WGAN-GP on (points, 4) vessel sequences with 1D convolutional players.

    Args:
        image_shape: (points, 4); points = 8 * 2^k.
        latent_dim: dimension of z.
        generator_filters, discriminator_filters: widths of the 1D convolutions.
        kernel_size: length of the 1D kernels along the sequence.
        generator_norm: normalisation in G ("batch", as in DCGAN, or "layer", "instance", "none").
        discriminator_norm: "layer" (default; WGAN-GP's per-sample penalty forbids batch norm),
            "instance", "spectral" or "none".
        objective: any Table-1 objective (default wgan_gp, as in the paper).
    """

    def __init__(self, image_shape=(64, 4), latent_dim: int = 32, generator_filters: int = 32,
                 discriminator_filters: int = 32, kernel_size: int = 5,
                 generator_norm: str = "batch", discriminator_norm: str = "layer", objective: str = "wgan_gp",
                 n_critic: int | None = None, seed: int | None = None, **kwargs):
        # The networks are this family's own, so GAN.__init__ (which builds dcgan/mlp) is skipped.
        AdversarialModel.__init__(self, objective=objective, n_critic=n_critic, seed=seed, **kwargs)
        image_shape = check_shape(image_shape, "image_shape")
        if len(image_shape) != 2 or image_shape[1] != 4:
            raise AdvzooError(f"centerline_gan expects image_shape (points, 4) for (x, y, z, r) "
                              f"sequences, got {image_shape}")
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise AdvzooError(f"latent_dim must be a positive int, got {latent_dim!r}")
        if not isinstance(kernel_size, int) or kernel_size < 1:
            raise AdvzooError(f"kernel_size must be a positive int, got {kernel_size!r}")
        networks.validate_norm(generator_norm)
        norm = networks.validate_norm(discriminator_norm)
        if self.objective.gradient_penalty and norm == "batch":
            raise AdvzooError(
                "wgan_gp penalises each sample's gradient, which batch norm couples across the "
                "batch (Gulrajani et al. Sec. 4); use discriminator_norm 'layer', 'instance' or 'none'.")
        self.image_shape = image_shape
        self.latent_dim = latent_dim
        if not self.objective.gradient_penalty:
            self.loss_names = tuple(n for n in self.loss_names if n != "gradient_penalty")
        self.generator = networks.seq1d_generator(latent_dim, image_shape, generator_filters,
                                                  kernel_size, generator_norm,
                                                  activation_out="linear")
        self.discriminator = networks.seq1d_critic(image_shape, discriminator_filters,
                                                   kernel_size, norm)
        self.set_family_config(image_shape=image_shape, latent_dim=latent_dim,
                               generator_filters=generator_filters,
                               discriminator_filters=discriminator_filters,
                               kernel_size=kernel_size, generator_norm=generator_norm,
                               discriminator_norm=discriminator_norm)
        self.players_ready()

    def dataset_options(self) -> dict:
        return {"image_shape": self.image_shape}

    def sample_report(self, n: int = 1000, seed: int = 0) -> dict:
        """Linear-probe accuracy of left/right and short/long from z (Wolterink et al.'s claim).

        n codes z are drawn and decoded; each generated vessel is labelled (side, length class)
        by logistic regressions trained on real training vessels (their accuracy on real test
        vessels is `real_label_accuracy`); then a logistic regression predicts each label from z
        alone (5-fold cross-validated accuracy, against the majority-class rate).
        """
        from sklearn.linear_model import LogisticRegression

        from advzoo import latent

        points = self.image_shape[0]
        train = zoo_data.centerlines_arrays("train", points=points)
        test = zoo_data.centerlines_arrays("test", points=points)
        z = latent.sample_latent(n, self.latent_dim, seed)
        generated = vessel_features(self.generate(z))
        report = {}
        for label in ("side", "long"):
            classifier = LogisticRegression(max_iter=2000).fit(
                vessel_features(zoo_data.centerlines_to_unit(train["points"])), train[label])
            real_accuracy = classifier.score(
                vessel_features(zoo_data.centerlines_to_unit(test["points"])), test[label])
            probe = latent_probe(z, classifier.predict(generated), seed=seed)
            report[f"{label}_probe_accuracy"] = round(probe["accuracy"], 4)
            report[f"{label}_majority"] = round(probe["majority"], 4)
            report[f"{label}_real_label_accuracy"] = round(float(real_accuracy), 4)
        report["samples"] = n
        return report
