"""`infogan`: InfoGAN, G(z, c), D(x) and Q(c | x) (Chen et al. 2016).

Eq. 5: min_{G,Q} max_D V(D, G) - lambda * L_I(G, Q), with L_I(G, Q) = E[log Q(c | G(z, c))] + H(c)
the variational lower bound of the mutual information I(c; G(z, c)) (Eq. 4). The code c holds
categorical codes (uniform one-hot) and continuous codes (uniform on [-1, 1]); Q shares all
convolutional layers with D and adds one hidden layer and a head per code (Sec. 5). Both updates
of a step minimise the MI term on the same freshly generated batch: D's update trains the shared
trunk and Q's head, G's update makes G's samples carry their code. No labels are used: a
categorical code of 10 values ends up picking the digit class when the data are digits (Sec. 6.1).

G reads one vector [z, c]: `latent_dim` is its whole length (noise_dim + the code sizes), so
sampling, interpolation and inversion work on it as for `gan`; `prior` draws the structured code.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from advzoo import losses, networks
from advzoo.errors import AdvzooError, check_shape
from advzoo.models.gan import gan_dataset
from advzoo.training import AdversarialModel, GenerativeMixin
from advzoo.zoo import register_family


def matched_accuracy(clusters, classes, num_clusters: int | None = None,
                     num_classes: int | None = None) -> float:
    """Accuracy after the best one-to-one matching of cluster ids to class ids (Hungarian
    algorithm, `scipy.optimize.linear_sum_assignment`): how well unsupervised clusters
    recover the classes; 1/K for a random assignment of K balanced classes."""
    from scipy.optimize import linear_sum_assignment

    clusters, classes = np.asarray(clusters, int).ravel(), np.asarray(classes, int).ravel()
    if clusters.shape != classes.shape or clusters.size == 0:
        raise ValueError(f"matched_accuracy needs equal non-empty label arrays, got "
                         f"{clusters.shape} and {classes.shape}")
    counts = np.zeros((num_clusters or clusters.max() + 1, num_classes or classes.max() + 1))
    np.add.at(counts, (clusters, classes), 1)
    rows, cols = linear_sum_assignment(-counts)
    return float(counts[rows, cols].sum() / clusters.size)


@keras.saving.register_keras_serializable(package="advzoo")
@register_family("infogan", default_dataset=gan_dataset, section="B",
                 summary="InfoGAN (Chen): G(z, c), D(x), Q(c|x) sharing D's trunk; "
                         "mutual-information term on categorical + continuous codes")
class InfoGAN(GenerativeMixin, AdversarialModel):
    """InfoGAN with a DCGAN backbone.

    Args:
        image_shape: (S, S, C) with S = 4 * 2^k.
        noise_dim: dimension of the incompressible noise z (Chen use 62 on MNIST).
        categorical_codes: sizes of the categorical codes, each >= 2 (Chen: one code of 10).
        continuous_codes: number of continuous codes, uniform on [-1, 1] (Chen: 2).
        lambda_categorical, lambda_continuous: weights of the two parts of the MI term
            (Chen: 1 for discrete codes, smaller for continuous ones).
        objective, n_critic, generator_filters, discriminator_filters, discriminator_norm,
            output_activation: as in `gan`.
        generator_norm: G's normalisation, "batch" (Radford, Chen), "layer", "instance", "none".
        q_units: width of Q's hidden layer.
    """

    players = ("discriminator", "generator")
    loss_names = ("d_loss", "g_loss", "d_real", "d_fake", "mi_categorical", "mi_continuous",
                  "gradient_penalty")

    def __init__(self, image_shape=(16, 16, 1), noise_dim: int = 62, categorical_codes=(10,),
                 continuous_codes: int = 2, lambda_categorical: float = 1.0,
                 lambda_continuous: float = 0.1, objective: str = "nsgan",
                 n_critic: int | None = None, generator_filters: int = 64,
                 discriminator_filters: int = 64, generator_norm: str = "batch",
                 discriminator_norm: str = "auto", output_activation: str = "tanh",
                 q_units: int = 128, seed: int | None = None,
                 **kwargs):
        super().__init__(objective=objective, n_critic=n_critic, seed=seed, **kwargs)
        image_shape = check_shape(image_shape, "image_shape")
        if isinstance(categorical_codes, int):
            categorical_codes = (categorical_codes,)
        categorical_codes = tuple(categorical_codes)
        if not isinstance(noise_dim, int) or noise_dim < 0:
            raise AdvzooError(f"noise_dim must be an int >= 0, got {noise_dim!r}")
        if any(not isinstance(k, int) or k < 2 for k in categorical_codes):
            raise AdvzooError(f"each categorical code needs >= 2 values (an int), got "
                              f"categorical_codes={categorical_codes}")
        if not isinstance(continuous_codes, int) or continuous_codes < 0:
            raise AdvzooError(f"continuous_codes must be an int >= 0, got {continuous_codes!r}")
        if not categorical_codes and continuous_codes == 0:
            raise AdvzooError("infogan needs a code of dimension >= 1: got no categorical codes "
                              "and continuous_codes=0 (that is a plain gan)")
        for name, value in (("lambda_categorical", lambda_categorical),
                            ("lambda_continuous", lambda_continuous)):
            if not value >= 0:
                raise AdvzooError(f"{name} must be >= 0, got {value!r}")
        norm = networks.discriminator_norm_for(discriminator_norm,
                                               bool(self.objective.gradient_penalty))
        self.image_shape = image_shape
        self.noise_dim, self.categorical_codes = noise_dim, categorical_codes
        self.continuous_codes = continuous_codes
        self.lambda_categorical, self.lambda_continuous = float(lambda_categorical), float(lambda_continuous)
        self.latent_dim = noise_dim + sum(categorical_codes) + continuous_codes
        self.loss_names = tuple(
            n for n in self.loss_names
            if not (n == "gradient_penalty" and not self.objective.gradient_penalty)
            and not (n == "mi_categorical" and not categorical_codes)
            and not (n == "mi_continuous" and not continuous_codes))
        self.generator = networks.dcgan_generator(self.latent_dim, image_shape, generator_filters,
                                                  networks.validate_norm(generator_norm),
                                                  activation_out=output_activation)
        self.discriminator = networks.info_discriminator(
            image_shape, categorical_codes, continuous_codes, discriminator_filters, norm, q_units)
        self.set_family_config(
            image_shape=image_shape, noise_dim=noise_dim, categorical_codes=categorical_codes,
            continuous_codes=continuous_codes, lambda_categorical=lambda_categorical,
            lambda_continuous=lambda_continuous, generator_filters=generator_filters,
            discriminator_filters=discriminator_filters, generator_norm=generator_norm,
            discriminator_norm=discriminator_norm, output_activation=output_activation,
            q_units=q_units)
        self.players_ready()

    def call(self, latent, training=False):
        return self.generator(latent, training=training)

    def default_optimizers(self) -> dict:
        """Chen et al. App. C: Adam with learning rate 2e-4 for D (and Q) and 1e-3 for G, for
        the log-loss objectives; Wasserstein objectives keep their own paper defaults."""
        optimizers = super().default_optimizers()
        if not self.objective.is_critic:
            optimizers["generator"] = self.objective.make_optimizer(learning_rate=1e-3)
        return optimizers

    def dataset_options(self) -> dict:
        return {"image_shape": self.image_shape}

    # -- codes ----------------------------------------------------------------------------------

    def sample_latent(self, batch_size):
        """[z, c]: z ~ N(0, I), each categorical code uniform one-hot, continuous ~ U[-1, 1]."""
        parts = [keras.random.normal((batch_size, self.noise_dim), seed=self.seed_generator)]
        for k in self.categorical_codes:
            ids = keras.random.randint((batch_size,), 0, k, seed=self.seed_generator)
            parts.append(tf.one_hot(ids, k))
        parts.append(keras.random.uniform((batch_size, self.continuous_codes), -1.0, 1.0,
                                          seed=self.seed_generator))
        return tf.concat(parts, axis=1)

    def prior(self, n: int, seed: int | None = None, categorical=None, continuous=None) -> np.ndarray:
        """n codes [z, c] as numpy, the codes drawn from their priors unless given.

        Args:
            categorical: class ids of the categorical codes, shape (n,) for the first code or
                (n, number of codes).
            continuous: (n, continuous_codes) values.
        """
        rng = np.random.default_rng(seed)
        parts = [rng.standard_normal((n, self.noise_dim))]
        ids = None if categorical is None else np.asarray(categorical, int).reshape(n, -1)
        if ids is not None and ids.shape[1] > len(self.categorical_codes):
            raise AdvzooError(f"got {ids.shape[1]} categorical values per sample for "
                              f"{len(self.categorical_codes)} categorical codes")
        for i, k in enumerate(self.categorical_codes):
            col = ids[:, i] if ids is not None and i < ids.shape[1] else rng.integers(0, k, n)
            if np.any(col < 0) or np.any(col >= k):
                raise AdvzooError(f"categorical code {i} takes values in [0, {k}), got {col}")
            parts.append(np.eye(k)[col])
        if continuous is None:
            parts.append(rng.uniform(-1.0, 1.0, (n, self.continuous_codes)))
        else:
            continuous = np.asarray(continuous, np.float32)
            if continuous.shape != (n, self.continuous_codes):
                raise AdvzooError(f"expected continuous codes of shape ({n}, "
                                  f"{self.continuous_codes}), got {continuous.shape}")
            parts.append(continuous)
        return np.concatenate(parts, axis=1).astype(np.float32)

    def sample(self, n: int = 16, seed: int | None = None, categorical=None,
               continuous=None) -> np.ndarray:
        """n samples G(z, c), with chosen categorical / continuous codes when given."""
        return self.generate(self.prior(n, seed, categorical, continuous))

    def split_codes(self, latent):
        """[z, c] -> (list of one-hot categorical codes, continuous codes or None)."""
        start, categorical = self.noise_dim, []
        for k in self.categorical_codes:
            categorical.append(latent[:, start:start + k])
            start += k
        return categorical, (latent[:, start:] if self.continuous_codes else None)

    def predict_codes(self, images, batch_size: int = 256):
        """Q's estimate of the codes of images: (list of (n, k) categorical probabilities,
        (n, continuous_codes) means or None)."""
        outs = [self.discriminator(tf.constant(np.asarray(images[i:i + batch_size], np.float32)),
                                   training=False)[1:]
                for i in range(0, len(images), batch_size)]
        cat = [np.concatenate([tf.nn.softmax(o[j]).numpy() for o in outs])
               for j in range(len(self.categorical_codes))]
        cont = (np.concatenate([np.asarray(o[-1]) for o in outs]) if self.continuous_codes else None)
        return cat, cont

    def sample_report(self, n: int = 1000, seed: int = 0) -> dict:
        """How well the first categorical code picks the digit class, without labels.

        code_class_accuracy: samples generated for each value of the code, classified by the
        real-digit classifier, accuracy after the best code-to-class matching.
        q_cluster_accuracy: Q's code on real held-out digits as a clustering, same matching.
        """
        from advzoo import data as zoo_data
        from advzoo.metrics import DigitClassifier

        if not self.categorical_codes or self.image_shape[-1] != 1:
            raise AdvzooError("infogan.sample_report measures digits with a categorical code")
        k = self.categorical_codes[0]
        codes = np.arange(n) % k
        samples = self.sample(n, seed=seed, categorical=codes)
        predicted = DigitClassifier().predict(samples)
        real, labels = zoo_data.digits_arrays("test", image_size=self.image_shape[0])
        q_codes = self.predict_codes(real)[0][0].argmax(axis=1)
        return {"code_class_accuracy": matched_accuracy(codes, predicted, k, 10),
                "q_cluster_accuracy": matched_accuracy(q_codes, labels, k, 10),
                "code_values_used_by_q": int(len(np.unique(q_codes))), "samples": n}

    # -- losses of one step -----------------------------------------------------------------------

    def information_loss(self, latent, q_outputs):
        """lambda * -L_I for generated samples whose codes were `latent` (Eq. 4-5)."""
        categorical, continuous = self.split_codes(latent)
        cat_logits = q_outputs[:len(self.categorical_codes)]
        means = q_outputs[-1] if self.continuous_codes else None
        total, parts = losses.mutual_information_loss(
            categorical, cat_logits, continuous, means, self.lambda_categorical,
            self.lambda_continuous)
        return total, {k: v for k, v in parts.items() if k in self.loss_names}

    def discriminator_losses(self, real, training: bool):
        latent = self.sample_latent(tf.shape(real)[0])
        fake = self.generator(latent, training=training)
        real_logits = self.discriminator(real, training=training)[0]
        fake_out = self.discriminator(fake, training=training)
        loss = self.objective.discriminator_loss(real_logits, fake_out[0])
        logs = {"d_real": tf.reduce_mean(real_logits), "d_fake": tf.reduce_mean(fake_out[0])}
        if self.objective.gradient_penalty:
            logs["gradient_penalty"] = losses.gradient_penalty(
                lambda x: self.discriminator(x, training=training)[0], real, fake,
                seed=self.seed_generator)
            loss += self.objective.gradient_penalty * logs["gradient_penalty"]
        info, info_logs = self.information_loss(latent, fake_out[1:])
        return loss + info, {"d_loss": loss, **logs, **info_logs}

    def generator_losses(self, batch_size, training: bool):
        latent = self.sample_latent(batch_size)
        out = self.discriminator(self.generator(latent, training=training), training=training)
        loss = self.objective.generator_loss(out[0])
        info, info_logs = self.information_loss(latent, out[1:])
        return loss + info, {"g_loss": loss, **info_logs}

    # -- the algorithm ----------------------------------------------------------------------------

    def step_losses(self, real):
        """D (with Q's information term) then G and Q, as in Chen et al. Sec. 5; the MI
        terms reported by evaluate are those of the generator's batch."""
        return (lambda training: self.discriminator_losses(real, training=training),
                lambda training: self.generator_losses(tf.shape(real)[0], training=training))
