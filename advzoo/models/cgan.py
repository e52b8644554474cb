"""`cgan`: conditional GAN, G(z, y) and D(x, y) (Mirza & Osindero 2014; Zhang et al. 2017).

Mirza & Osindero Eq. 2: min_G max_D E[log D(x | y)] + E[log(1 - D(G(z | y) | y))]: both players
see the condition y, so D rejects samples that do not match it and G must honour it. y is either a
class id, fed as a one-hot vector (Mirza's MNIST experiment), or an arbitrary continuous vector
(Zhang et al.'s StackGAN conditions on a text embedding). Fake samples are drawn for the
conditions of the real batch, so y follows the data distribution. Any Table-1 objective works;
wgan_gp penalises the gradient with respect to x at fixed y.

Default data: digits with their class ids (`condition="class"`), or with a continuous vector of
two standardised shape attributes of each digit (`condition="vector"`): its ink (mean
brightness) and its horizontal spread; `digit_attributes` measures both on any image, so one can
check that a generated digit has the attributes it was asked for.
"""
from __future__ import annotations

import functools

import keras
import numpy as np
import tensorflow as tf

from advzoo import data as zoo_data
from advzoo import latent, networks
from advzoo.errors import AdvzooError, check_choice, check_shape
from advzoo.training import AdversarialModel, GenerativeMixin
from advzoo.zoo import register_family

CONDITIONS = ("class", "vector")
DIGIT_ATTRIBUTES = ("ink", "horizontal_spread")


def _raw_attributes(images) -> np.ndarray:
    images = np.asarray(images, np.float32)
    ink = (np.clip(images[..., 0], -1.0, 1.0) + 1.0) / 2.0  # (n, S, S) in [0, 1]
    mass = ink.sum(axis=(1, 2)) + 1e-6
    cols = np.arange(ink.shape[2], dtype=np.float32) / ink.shape[2]
    col_mass = ink.sum(axis=1)  # (n, S)
    centre = (col_mass * cols).sum(axis=1) / mass
    spread = np.sqrt((col_mass * (cols[None] - centre[:, None]) ** 2).sum(axis=1) / mass)
    return np.stack([ink.mean(axis=(1, 2)), spread], axis=1)


@functools.lru_cache(maxsize=4)
def _attribute_scale(image_size: int):
    raw = _raw_attributes(zoo_data.digits_arrays("all", image_size=image_size)[0])
    return raw.mean(axis=0), raw.std(axis=0)


def digit_attributes(images) -> np.ndarray:
    """(n, 2) float32 `DIGIT_ATTRIBUTES` of (n, S, S, 1) digit images in [-1, 1]: mean ink and
    horizontal spread (standard deviation of the ink's column position), each standardised to
    zero mean and unit variance over all real digits at that size."""
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[-1] != 1 or images.shape[1] != images.shape[2]:
        raise AdvzooError(f"digit_attributes expects (n, S, S, 1) images, got shape {images.shape}")
    mean, std = _attribute_scale(images.shape[1])
    return ((_raw_attributes(images) - mean) / std).astype(np.float32)


def cgan_dataset(split: str = "train", batch_size: int | None = None, image_shape=(16, 16, 1),
                 condition: str = "class", condition_dim: int | None = None,
                 shuffle: bool | None = None, seed: int = 0):
    """Digits as (image, class id) pairs, or (image, `digit_attributes`) for `condition="vector"`."""
    check_choice("condition", condition, CONDITIONS)
    image_shape = tuple(image_shape)
    if len(image_shape) != 3 or image_shape[0] != image_shape[1] or image_shape[2] != 1:
        raise AdvzooError(f"cgan has built-in data (digits) for image_shape (S, S, 1), not "
                          f"{image_shape}; pass your own (image, condition) dataset to fit().")
    if condition == "class":
        return zoo_data.digits(split=split, image_size=image_shape[0], batch_size=batch_size,
                               labels=True, shuffle=shuffle, seed=seed)
    if condition_dim not in (None, len(DIGIT_ATTRIBUTES)):
        raise AdvzooError(f"the built-in vector condition has {len(DIGIT_ATTRIBUTES)} dimensions "
                          f"{DIGIT_ATTRIBUTES}, the model asks for condition_dim={condition_dim}; "
                          "pass your own (image, vector) dataset to fit().")
    images, _ = zoo_data.digits_arrays(split, image_size=image_shape[0], seed=seed)
    data = tf.data.Dataset.from_tensor_slices((images, digit_attributes(images)))
    if (split == "train") if shuffle is None else shuffle:  # as every built-in dataset
        data = data.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    if batch_size is not None:
        data = data.batch(int(batch_size))
    return data.prefetch(tf.data.AUTOTUNE)


@keras.saving.register_keras_serializable(package="advzoo")
@register_family("cgan", default_dataset=cgan_dataset, section="B",
                 summary="conditional GAN G(z, y), D(x, y) (Mirza; Zhang): y a class id (one-hot) "
                         "or any continuous vector")
class ConditionalGAN(GenerativeMixin, AdversarialModel):
    """Conditional DCGAN.

    `fit` takes (image, y) pairs: y an int class id (or its one-hot vector) for
    `condition="class"`, a float vector of `condition_dim` for `condition="vector"`.

    Args:
        image_shape: (S, S, C) with S = 4 * 2^k.
        latent_dim: dimension of z.
        condition: "class" (one-hot class ids) or "vector" (continuous vectors).
        num_classes: number of classes (>= 2) for `condition="class"`.
        condition_dim: length of y for `condition="vector"` (>= 1; default 2, the built-in
            digit attributes). For "class" it is num_classes and need not be given.
        objective, n_critic, generator_filters, discriminator_filters, discriminator_norm,
            minibatch_discrimination, output_activation: as in `gan`.
        generator_norm: G's normalisation, "batch" (Radford), "layer", "instance" or "none".
    """

    players = ("discriminator", "generator")
    loss_names = ("d_loss", "g_loss", "d_real", "d_fake", "gradient_penalty")

    def __init__(self, image_shape=(16, 16, 1), latent_dim: int = 64, condition: str = "class",
                 num_classes: int = 10, condition_dim: int | None = None,
                 objective: str = "nsgan", n_critic: int | None = None,
                 generator_filters: int = 64, discriminator_filters: int = 64,
                 generator_norm: str = "batch", discriminator_norm: str = "auto",
                 minibatch_discrimination=False,
                 output_activation: str = "tanh", seed: int | None = None, **kwargs):
        super().__init__(objective=objective, n_critic=n_critic, seed=seed, **kwargs)
        image_shape = check_shape(image_shape, "image_shape")
        check_choice("condition", condition, CONDITIONS)
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise AdvzooError(f"latent_dim must be a positive int, got {latent_dim!r}")
        if condition == "class":
            if not isinstance(num_classes, int) or num_classes < 2:
                raise AdvzooError(f"condition='class' needs num_classes >= 2 (an int), got "
                                  f"{num_classes!r}")
            if condition_dim not in (None, num_classes):
                raise AdvzooError(f"condition='class' conditions on a one-hot vector of "
                                  f"num_classes={num_classes}; got condition_dim={condition_dim}")
            width = num_classes
        else:
            condition_dim = len(DIGIT_ATTRIBUTES) if condition_dim is None else condition_dim
            if not isinstance(condition_dim, int) or condition_dim < 1:
                raise AdvzooError(f"condition='vector' needs condition_dim >= 1 (an int), got "
                                  f"{condition_dim!r}")
            width = condition_dim
        norm = networks.discriminator_norm_for(discriminator_norm,
                                               bool(self.objective.gradient_penalty))
        if isinstance(minibatch_discrimination, (list, tuple)):
            minibatch_discrimination = tuple(int(v) for v in minibatch_discrimination)
        self.image_shape, self.latent_dim, self.condition = image_shape, latent_dim, condition
        self.num_classes = num_classes if condition == "class" else None
        self.condition_dim = width
        if not self.objective.gradient_penalty:
            self.loss_names = tuple(n for n in self.loss_names if n != "gradient_penalty")
        self.generator = networks.conditional_generator(
            latent_dim, width, image_shape, generator_filters, networks.validate_norm(generator_norm),
            activation_out=output_activation)
        self.discriminator = networks.conditional_discriminator(
            image_shape, width, discriminator_filters, norm, minibatch_discrimination)
        self.set_family_config(
            image_shape=image_shape, latent_dim=latent_dim, condition=condition,
            num_classes=num_classes, condition_dim=None if condition == "class" else condition_dim,
            generator_filters=generator_filters, discriminator_filters=discriminator_filters,
            generator_norm=generator_norm, discriminator_norm=discriminator_norm,
            minibatch_discrimination=minibatch_discrimination,
            output_activation=output_activation)
        self.players_ready()

    def call(self, inputs, training=False):
        z, y = inputs
        return self.generator([z, self.condition_vector(y)], training=training)

    def dataset_options(self) -> dict:
        options = {"image_shape": self.image_shape, "condition": self.condition}
        if self.condition == "vector":
            options["condition_dim"] = self.condition_dim
        return options

    # -- conditions -----------------------------------------------------------------------------

    def condition_vector(self, y):
        """y as G's and D's float32 input: class ids -> one-hot; one-hot or vectors pass through."""
        y = tf.convert_to_tensor(y)
        if self.condition == "class" and not (y.shape.rank == 2 and y.shape[-1] == self.num_classes):
            return tf.one_hot(tf.cast(tf.reshape(y, (-1,)), tf.int32), self.num_classes)
        return self.check_input(y, (self.condition_dim,), "conditions y")

    def _condition_array(self, condition, n: int) -> np.ndarray:
        if self.condition == "class":
            ids = np.asarray(condition).reshape(-1)
            if ids.shape != (n,) or np.any(ids < 0) or np.any(ids >= self.num_classes) or \
                    not np.all(ids == np.round(ids)):
                raise AdvzooError(f"expected {n} class ids in [0, {self.num_classes}), got "
                                  f"{np.asarray(condition)!r:.200}")
            return np.eye(self.num_classes, dtype=np.float32)[ids.astype(int)]
        vectors = np.asarray(condition, np.float32)
        if vectors.shape != (n, self.condition_dim):
            raise AdvzooError(f"expected condition vectors of shape ({n}, {self.condition_dim}), "
                              f"got {vectors.shape}")
        return vectors

    def default_conditions(self, n: int, seed: int | None = None) -> np.ndarray:
        """Classes 0, 1, ..., K-1, 0, ... (class) or N(0, I) vectors (vector; the built-in
        attributes are standardised, so this is their typical range)."""
        if self.condition == "class":
            return np.arange(n) % self.num_classes
        return np.random.default_rng(seed).standard_normal((n, self.condition_dim)).astype(np.float32)

    def generate(self, z, condition=None, batch_size: int = 256) -> np.ndarray:
        """G(z, y) for codes z (n, latent_dim) and conditions: n class ids or (n, condition_dim)
        vectors (`default_conditions` when None)."""
        z = np.asarray(z, np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"expected latent codes of shape (n, {self.latent_dim}), got {z.shape}")
        y = self._condition_array(self.default_conditions(len(z)) if condition is None else condition,
                                  len(z))
        out = [np.asarray(self.generator([tf.constant(z[i:i + batch_size]),
                                          tf.constant(y[i:i + batch_size])], training=False))
               for i in range(0, len(z), batch_size)]
        return np.concatenate(out, axis=0).astype(np.float32)

    def sample(self, n: int = 16, seed: int | None = None, condition=None) -> np.ndarray:
        """n samples G(z, y), z from `seed`, y `condition` (`default_conditions` when None)."""
        return self.generate(self.prior(n, seed),
                             self.default_conditions(n, seed) if condition is None else condition)

    def interpolate(self, steps: int = 8, method: str = "slerp", seed: int | None = None,
                    z0=None, z1=None, condition=None) -> np.ndarray:
        """G along a path from z0 to z1 at one fixed condition (class 0 / a random vector)."""
        if z0 is None or z1 is None:
            pair = self.prior(2, seed)
            z0 = pair[0] if z0 is None else z0
            z1 = pair[1] if z1 is None else z1
        y = self.default_conditions(1, seed) if condition is None else np.asarray(condition)[None]
        return self.generate(latent.interpolate(z0, z1, steps, method),
                             np.repeat(y, steps, axis=0))

    def decode(self, z, condition=None):
        """G(z, y) as a tensor; `condition` (class ids or vectors) is required."""
        if condition is None:
            raise AdvzooError("cgan: inverting or decoding needs the condition of each image "
                              "(invert(images, condition=labels))")
        return self.generator([z, self.condition_vector(condition)], training=False)

    def sample_report(self, n: int = 1000, seed: int = 0) -> dict:
        """Class: accuracy of the asked class judged by the real-digit classifier (chance 1/K).
        Vector: correlation between the asked and the measured `digit_attributes`."""
        if self.condition == "class":
            from advzoo.metrics import DigitClassifier, digit_sample_report

            if self.num_classes != 10 or self.image_shape[-1] != 1:
                raise AdvzooError("cgan.sample_report measures digits (10 classes, 1 channel)")
            asked = np.arange(n) % 10
            samples = self.sample(n, seed=seed, condition=asked)
            predicted = DigitClassifier().predict(samples)
            per_class = [float((predicted[asked == k] == k).mean()) for k in range(10)]
            return {"asked_class_accuracy": float((predicted == asked).mean()),
                    "worst_class_accuracy": min(per_class),
                    **{k: v for k, v in digit_sample_report(samples).items()
                       if k in ("recognisable", "classifier_test_accuracy")},
                    "samples": n}
        if self.condition_dim != len(DIGIT_ATTRIBUTES):
            raise AdvzooError(f"cgan.sample_report measures the {len(DIGIT_ATTRIBUTES)} built-in "
                              f"digit attributes; this model has condition_dim={self.condition_dim}")
        real, _ = zoo_data.digits_arrays("test", image_size=self.image_shape[0])
        asked = digit_attributes(real)
        asked = asked[np.random.default_rng(seed).integers(0, len(asked), n)]
        measured = digit_attributes(self.sample(n, seed=seed, condition=asked))
        corr = [float(np.corrcoef(asked[:, i], measured[:, i])[0, 1]) for i in range(asked.shape[1])]
        return {**{f"{name}_correlation": c for name, c in zip(DIGIT_ATTRIBUTES, corr)},
                "attribute_mae": float(np.abs(asked - measured).mean()), "samples": n}

    # -- losses of one step -----------------------------------------------------------------------

    def discriminator_losses(self, real, y, training: bool):
        """Mirza Eq. 2 for D: real (x, y) against (G(z, y), y), + lambda * GP in x for wgan_gp."""
        fake = self.generator([self.sample_latent(tf.shape(real)[0]), y], training=training)
        return self.critic_loss(lambda x: self.discriminator([x, y], training=training), real,
                                fake)

    def generator_losses(self, y, training: bool):
        fake = self.generator([self.sample_latent(tf.shape(y)[0]), y], training=training)
        loss = self.objective.generator_loss(self.discriminator([fake, y], training=training))
        return loss, {"g_loss": loss}

    def unpack_batch(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if y is None:
            raise AdvzooError("cgan trains on (image, condition) pairs; got images only")
        return self.check_input(x, self.image_shape, "samples"), self.condition_vector(y)

    def step_losses(self, batch):
        """D(x, y) on real and fake pairs, then G(z, y) for the same conditions."""
        real, y = batch
        return (lambda training: self.discriminator_losses(real, y, training=training),
                lambda training: self.generator_losses(y, training=training))
