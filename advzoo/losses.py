"""Adversarial objectives of Table 1 of the review (Eq. 1-4) and the reconstruction losses.

Every adversarial loss takes the discriminator's *logits* (its raw, pre-sigmoid output), works in
float32 whatever the compute dtype of the network, and is written in softplus form so that logits
of magnitude 100 give finite values and gradients. With sigma the logistic function,
log sigma(t) = -softplus(-t) and log(1 - sigma(t)) = -softplus(t).

Each objective is one `Objective` object holding its two losses and the paper defaults that go
with it (number of critic updates per generator update, weight clipping, gradient-penalty weight,
optimizer). `get_objective(name)` returns it; an unknown name lists the closest ones.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import keras
import tensorflow as tf

from advzoo.errors import unknown_name

EPSILON_NORM = 1e-12  # inside the square root of the gradient norm, so its gradient stays finite at 0


def _f32(x) -> tf.Tensor:
    return tf.cast(x, tf.float32)


def _mean(x) -> tf.Tensor:
    return tf.reduce_mean(_f32(x))


@dataclasses.dataclass(frozen=True)
class Objective:
    """One adversarial objective: D and G losses on logits plus its paper defaults.

    Attributes:
        name: registry id (`gan`, `nsgan`, `lsgan`, `wgan`, `wgan_gp`, `hinge`).
        discriminator_loss: f(real_logits, fake_logits) -> scalar float32.
        generator_loss: f(fake_logits) -> scalar float32.
        n_critic: discriminator (critic) updates per generator update.
        clip_value: WGAN weight clipping to [-c, c] after each critic update, or None.
        gradient_penalty: lambda of the WGAN-GP penalty (0 for none).
        optimizer: (class name, kwargs) of the optimizer the paper used for both players.
        reference: paper and equation the formulas come from.
    """

    name: str
    discriminator_loss: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]
    generator_loss: Callable[[tf.Tensor], tf.Tensor]
    n_critic: int = 1
    clip_value: float | None = None
    gradient_penalty: float = 0.0
    optimizer: tuple[str, dict] = ("Adam", {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.999})
    reference: str = ""

    @property
    def is_critic(self) -> bool:
        """True for Wasserstein objectives, whose D is an unbounded critic."""
        return self.name.startswith("wgan")

    def make_optimizer(self, **overrides) -> keras.optimizers.Optimizer:
        """A fresh optimizer with this objective's paper defaults (`overrides` replace them)."""
        class_name, kwargs = self.optimizer
        return keras.optimizers.get({"class_name": class_name, "config": {**kwargs, **overrides}})


# --- Table 1, written exactly as in METHODS.md section A -------------------------------------

def gan_discriminator_loss(real_logits, fake_logits):
    """Eq. 1: -E[log D(x)] - E[log(1 - D(G(z)))]."""
    return _mean(tf.nn.softplus(-_f32(real_logits))) + _mean(tf.nn.softplus(_f32(fake_logits)))


def gan_generator_loss(fake_logits):
    """Eq. 1, saturating minimax form: E[log(1 - D(G(z)))]."""
    return -_mean(tf.nn.softplus(_f32(fake_logits)))


def nsgan_generator_loss(fake_logits):
    """Eq. 2 (GAN-MA, non-saturating): -E[log D(G(z))]."""
    return _mean(tf.nn.softplus(-_f32(fake_logits)))


def lsgan_discriminator_loss(real_logits, fake_logits):
    """LSGAN (Mao et al.): E[(D(x) - 1)^2] + E[D(G(z))^2], D the raw (linear) output."""
    return _mean(tf.square(_f32(real_logits) - 1.0)) + _mean(tf.square(_f32(fake_logits)))


def lsgan_generator_loss(fake_logits):
    """LSGAN: E[(D(G(z)) - 1)^2]."""
    return _mean(tf.square(_f32(fake_logits) - 1.0))


def wgan_discriminator_loss(real_logits, fake_logits):
    """Eq. 3 (critic): -E[D(x)] + E[D(G(z))]."""
    return -_mean(real_logits) + _mean(fake_logits)


def wgan_generator_loss(fake_logits):
    """Eq. 3 and 4: -E[D(G(z))]."""
    return -_mean(fake_logits)


def hinge_discriminator_loss(real_logits, fake_logits):
    """Hinge loss (Lim & Ye; Miyato et al.): E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]."""
    return _mean(tf.nn.relu(1.0 - _f32(real_logits))) + _mean(tf.nn.relu(1.0 + _f32(fake_logits)))


OBJECTIVES: dict[str, Objective] = {
    o.name: o
    for o in (
        Objective("gan", gan_discriminator_loss, gan_generator_loss,
                  reference="Goodfellow et al. 2014, Eq. 1; Adam(2e-4, 0.5) as in Radford et al."),
        Objective("nsgan", gan_discriminator_loss, nsgan_generator_loss,
                  reference="Goodfellow et al. 2014, Eq. 2 (GAN-MA)"),
        Objective("lsgan", lsgan_discriminator_loss, lsgan_generator_loss,
                  reference="Mao et al. 2017, least squares GAN"),
        Objective("wgan", wgan_discriminator_loss, wgan_generator_loss, n_critic=5, clip_value=0.01,
                  optimizer=("RMSprop", {"learning_rate": 5e-5}),
                  reference="Arjovsky et al. 2017, Eq. 3, Algorithm 1"),
        Objective("wgan_gp", wgan_discriminator_loss, wgan_generator_loss, n_critic=5,
                  gradient_penalty=10.0,
                  optimizer=("Adam", {"learning_rate": 1e-4, "beta_1": 0.0, "beta_2": 0.9}),
                  reference="Gulrajani et al. 2017, Eq. 4, Algorithm 1"),
        Objective("hinge", hinge_discriminator_loss, wgan_generator_loss,
                  reference="Lim & Ye 2017; Miyato et al. 2018"),
    )
}


def get_objective(name: str | Objective) -> Objective:
    """The `Objective` called `name` (an `Objective` is returned unchanged)."""
    if isinstance(name, Objective):
        return name
    if name not in OBJECTIVES:
        raise unknown_name("objective", name, OBJECTIVES)
    return OBJECTIVES[name]


# --- Gradient penalty (Eq. 4) ------------------------------------------------------------------

def interpolate(real, fake, seed=None):
    """Random points x_hat = eps * real + (1 - eps) * fake on the lines between pairs.

    eps ~ U[0, 1] is drawn once per sample (Gulrajani et al., Algorithm 1) and broadcast over all
    remaining axes, so 1D sequences, 2D images and 3D volumes are all handled.
    """
    real, fake = _f32(real), _f32(fake)
    shape = tf.concat([tf.shape(real)[:1], tf.ones([tf.rank(real) - 1], tf.int32)], axis=0)
    eps = keras.random.uniform(shape, 0.0, 1.0, seed=seed)
    return eps * real + (1.0 - eps) * fake


def gradient_penalty(critic: Callable[[tf.Tensor], tf.Tensor], real, fake, seed=None,
                     target_norm: float = 1.0):
    """E[(||grad_x D(x_hat)||_2 - 1)^2] on random interpolates (Eq. 4, without lambda).

    Args:
        critic: maps a batch of inputs to logits (close over any conditioning input).
        real, fake: batches of the same shape, any rank >= 2.
        seed: a `keras.random.SeedGenerator` or int for the interpolation factors.
    """
    x_hat = interpolate(real, fake, seed=seed)
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        logits = _f32(critic(x_hat))
    grads = _f32(tape.gradient(logits, x_hat))
    axes = tf.range(1, tf.rank(grads))
    norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=axes) + EPSILON_NORM)
    return tf.reduce_mean(tf.square(norm - target_norm))


def clip_weights(model: keras.Model, clip_value: float) -> None:
    """WGAN weight clipping: every trainable weight of `model` into [-c, c] (Arjovsky, Alg. 1)."""
    for w in model.trainable_weights:
        w.assign(tf.clip_by_value(w, -clip_value, clip_value))


# --- Reconstruction and feature losses ---------------------------------------------------------

def l1_loss(target, prediction):
    """Mean absolute error, E[|x - G(y)|], in float32 (pix2pix Eq. 6 voxel term)."""
    return _mean(tf.abs(_f32(target) - _f32(prediction)))


def l2_loss(target, prediction):
    """Mean squared error, E[(x - G(y))^2], in float32."""
    return _mean(tf.square(_f32(target) - _f32(prediction)))


RECONSTRUCTION_LOSSES = {"l1": l1_loss, "l2": l2_loss}


def get_reconstruction_loss(name: str):
    """`l1_loss` or `l2_loss` by name."""
    if name not in RECONSTRUCTION_LOSSES:
        raise unknown_name("reconstruction loss", name, RECONSTRUCTION_LOSSES)
    return RECONSTRUCTION_LOSSES[name]


# --- InfoGAN's mutual-information term and a penalty for multi-input critics -------------------

def mutual_information_loss(categorical_codes=(), categorical_logits=(), continuous_codes=None,
                            continuous_means=None, lambda_categorical: float = 1.0,
                            lambda_continuous: float = 0.1):
    """InfoGAN's -L_I(G, Q) up to the constant H(c) (Chen et al. 2016, Eq. 4-5).

    L_I = E_{c ~ P(c), x ~ G(z, c)}[log Q(c | x)] + H(c) lower-bounds I(c; G(z, c)). For a
    categorical code Q is a softmax, so -log Q is the cross-entropy of the one-hot code given Q's
    logits; for continuous codes Q is a factored Gaussian with unit variance, so -log Q is
    0.5 * (c - mean)^2 summed over dimensions (plus a constant). Chen weight the continuous
    term lower (Sec. 6); the defaults are their lambda = 1 (categorical) and 0.1 (continuous).

    Args:
        categorical_codes, categorical_logits: matching sequences of (batch, k_i) one-hot codes and
            Q's logits for them.
        continuous_codes, continuous_means: (batch, d) codes and Q's means, or None.

    Returns:
        (total, {"mi_categorical": ..., "mi_continuous": ...}) float32 scalars (unweighted parts).
    """
    if len(categorical_codes) != len(categorical_logits):
        raise ValueError(f"mutual_information_loss: {len(categorical_codes)} categorical codes but "
                         f"{len(categorical_logits)} logit tensors")
    categorical = tf.constant(0.0)
    for codes, logits in zip(categorical_codes, categorical_logits):
        categorical += _mean(tf.nn.softmax_cross_entropy_with_logits(_f32(codes), _f32(logits)))
    continuous = tf.constant(0.0)
    if continuous_codes is not None:
        diff = _f32(continuous_codes) - _f32(continuous_means)
        continuous = _mean(0.5 * tf.reduce_sum(tf.square(diff), axis=-1))
    total = lambda_categorical * categorical + lambda_continuous * continuous
    return total, {"mi_categorical": categorical, "mi_continuous": continuous}


def joint_gradient_penalty(critic: Callable, reals, fakes, seed=None, target_norm: float = 1.0):
    """Eq. 4 for a critic of several inputs, e.g. BiGAN's D(x, z): one eps per sample moves every
    input along its real-fake line, and the norm is that of the gradient w.r.t. all inputs
    together, ||(grad_x D, grad_z D)||_2.

    Args:
        critic: maps a list of input batches to logits.
        reals, fakes: matching sequences of batches (any ranks, same batch size).
    """
    reals, fakes = [_f32(r) for r in reals], [_f32(f) for f in fakes]
    if len(reals) != len(fakes) or not reals:
        raise ValueError(f"joint_gradient_penalty needs matching non-empty input lists, got "
                         f"{len(reals)} real and {len(fakes)} fake")
    eps = keras.random.uniform(tf.shape(reals[0])[:1], 0.0, 1.0, seed=seed)

    def expand(e, t):
        return tf.reshape(e, tf.concat([tf.shape(t)[:1], tf.ones([tf.rank(t) - 1], tf.int32)], 0))

    hats = [expand(eps, r) * r + (1.0 - expand(eps, r)) * f for r, f in zip(reals, fakes)]
    with tf.GradientTape() as tape:
        tape.watch(hats)
        logits = _f32(critic(hats))
    squares = [tf.reduce_sum(tf.reshape(tf.square(_f32(g)), (tf.shape(g)[0], -1)), axis=1)
               for g in tape.gradient(logits, hats)]
    norm = tf.sqrt(tf.add_n(squares) + EPSILON_NORM)
    return tf.reduce_mean(tf.square(norm - target_norm))


# --- Feature matching (Salimans et al. 2016, Sec. 3.1) ------------------------------------------

def feature_matching_loss(real_features, fake_features):
    """|| E_x f(x) - E_z f(G(z)) ||_2^2 / d (Salimans et al. 2016, Sec. 3.1): the squared distance
    between the batch means of the d activations f of an intermediate layer of D on real and on
    generated samples, divided by d so that its scale does not depend on the layer's width.

    G minimises it instead of fooling D's output: it matches the statistics D finds
    discriminative rather than D's current decision. Features of any rank are flattened per
    sample; float32 whatever the compute dtype.
    """
    real, fake = _f32(real_features), _f32(fake_features)
    real = tf.reshape(real, (tf.shape(real)[0], -1))
    fake = tf.reshape(fake, (tf.shape(fake)[0], -1))
    return tf.reduce_mean(tf.square(tf.reduce_mean(real, 0) - tf.reduce_mean(fake, 0)))
