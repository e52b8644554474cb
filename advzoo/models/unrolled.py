"""`unrolled_gan`: Unrolled GANs of Metz et al. (2017).

The discriminator's own update is the ordinary one (the `gan` family's, Algorithm 1 of Goodfellow
et al.). The generator instead minimises the surrogate loss of Metz et al. Eq. 7,

    f_K(theta_G, theta_D) = f(theta_G, theta_D^K(theta_G, theta_D)),

where theta_D^0 = theta_D and theta_D^{k+1} = theta_D^k - eta * d L_D(theta_G, theta_D^k) /
d theta_D^k (Eq. 5-6, written for D's loss L_D = -f) are K look-ahead steps of D. The look-ahead
parameters are tensors, never assigned to D's variables, and every step is recorded by the
generator's tape, so G's gradient includes the second-order term d theta_D^K / d theta_G (Eq. 8)
that lets G anticipate how D would react and keeps it from collapsing onto one mode.

Look-ahead update rule (`unrolling_optimizer`):
- "sgd": Eq. 5-6 exactly, theta <- theta - eta * g.
- "adam": the rule of the authors' reference code (the unrolling replays D's Adam update), here
  with Adam moments started from zero at each unrolling (bias-corrected), so each step is close to
  eta * sign(g) at the start and the step size does not depend on the loss scale.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from advzoo import losses
from advzoo.errors import AdvzooError, check_choice
from advzoo.models.gan import GAN, gan_dataset
from advzoo.zoo import register_family

UNROLLING_OPTIMIZERS = ("adam", "sgd")
ADAM_BETAS = (0.5, 0.999)  # beta_1, beta_2 of the "adam" look-ahead (Metz et al.'s D optimizer)
ADAM_EPSILON = 1e-8
ADAM_TINY = 1e-30


@keras.saving.register_keras_serializable(package="advzoo")
@register_family("unrolled_gan", default_dataset=gan_dataset, section="B",
                 summary="Unrolled GAN (Metz): G back-propagates through k look-ahead steps of D")
class UnrolledGAN(GAN):
    """A `gan` whose generator update back-propagates through `unrolling_steps` steps of D.

    Every option of `gan` is accepted (backbones, objectives, minibatch discrimination, ...);
    the defaults are Metz et al.'s 2D mixture setting: MLP players on (2,) points.

    Args:
        unrolling_steps: K, the number of look-ahead steps of D (Metz et al.: 5); 0 gives `gan`.
        unrolling_optimizer: "adam" or "sgd", the look-ahead update rule (see the module).
        unrolling_learning_rate: eta of the look-ahead steps (Metz et al.'s D learning rate, 1e-4,
            is for 25k steps; the default here is larger for short CPU budgets).
    """

    loss_names = ("d_loss", "g_loss", "g_loss_unrolled", "d_real", "d_fake", "gradient_penalty")

    def __init__(self, image_shape=(2,), latent_dim: int = 16, generator: str = "mlp",
                 discriminator: str = "mlp", output_activation: str = "linear",
                 hidden_units=(128, 128), unrolling_steps: int = 5,
                 unrolling_optimizer: str = "adam", unrolling_learning_rate: float = 1e-3,
                 **kwargs):
        if not isinstance(unrolling_steps, int) or isinstance(unrolling_steps, bool) \
                or unrolling_steps < 0:
            raise AdvzooError(
                f"unrolling_steps must be an int >= 0 (Metz et al. use 5), got {unrolling_steps!r}")
        check_choice("unrolling_optimizer", unrolling_optimizer, UNROLLING_OPTIMIZERS)
        if not float(unrolling_learning_rate) > 0:
            raise AdvzooError(
                f"unrolling_learning_rate must be > 0, got {unrolling_learning_rate!r}")
        super().__init__(image_shape=image_shape, latent_dim=latent_dim, generator=generator,
                         discriminator=discriminator, output_activation=output_activation,
                         hidden_units=hidden_units, **kwargs)
        self.unrolling_steps = unrolling_steps
        self.unrolling_optimizer = unrolling_optimizer
        self.unrolling_learning_rate = float(unrolling_learning_rate)
        self.set_family_config(**self._family_config, unrolling_steps=unrolling_steps,
                               unrolling_optimizer=unrolling_optimizer,
                               unrolling_learning_rate=self.unrolling_learning_rate)

    def default_optimizers(self):
        """Metz et al.'s 2D mixture setting for the GAN objectives: Adam(beta_1 = 0.5) with G's
        learning rate 1e-3 and D's 1e-4 (a slow D that a plain GAN chases from mode to mode);
        the objective's paper defaults otherwise."""
        if self.objective.name not in ("gan", "nsgan"):
            return super().default_optimizers()
        return {"generator": keras.optimizers.Adam(1e-3, beta_1=0.5),
                "discriminator": keras.optimizers.Adam(1e-4, beta_1=0.5)}

    # -- the look-ahead ---------------------------------------------------------------------------

    def _lookahead_discriminator_loss(self, params, non_trainable, real, fake, training):
        """L_D at parameters `params` (tensors), through `stateless_call`; + GP for wgan_gp."""

        def critic(x):
            return self.discriminator.stateless_call(params, non_trainable, x, training=training)[0]

        loss = self.objective.discriminator_loss(critic(real), critic(fake))
        if self.objective.gradient_penalty:
            loss += self.objective.gradient_penalty * losses.gradient_penalty(
                critic, real, fake, seed=self.seed_generator)
        return loss

    def unroll_discriminator(self, real, fake, training: bool = True):
        """theta_D^K: K differentiable look-ahead steps of D from its current parameters.

        `fake` must be G's output under the caller's tape, so that theta_D^K depends on theta_G.
        Under a distribution strategy each step's gradient is averaged over the replicas, so the
        look-ahead is the one the global batch would give.
        """
        variables = self.discriminator.trainable_variables
        params = [tf.identity(v) for v in variables]
        non_trainable = [tf.identity(v) for v in self.discriminator.non_trainable_variables]
        context = tf.distribute.get_replica_context()
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        eta = self.unrolling_learning_rate
        b1, b2 = ADAM_BETAS
        m = [tf.zeros_like(p) for p in params]
        v = [tf.zeros_like(p) for p in params]
        for k in range(1, self.unrolling_steps + 1):
            with tf.GradientTape() as tape:
                tape.watch(params)
                loss = self._lookahead_discriminator_loss(params, non_trainable, real, fake,
                                                          training)
            grads = [tf.zeros_like(p) if g is None else tf.cast(g, p.dtype)
                     for p, g in zip(params, tape.gradient(loss, params))]
            if replicas > 1 and context is not None:
                grads = context.all_reduce(tf.distribute.ReduceOp.MEAN, grads)
            if self.unrolling_optimizer == "sgd":
                params = [p - eta * g for p, g in zip(params, grads)]
            else:
                m = [b1 * mi + (1 - b1) * g for mi, g in zip(m, grads)]
                v = [b2 * vi + (1 - b2) * tf.square(g) for vi, g in zip(v, grads)]
                step = eta * (1 - b2 ** k) ** 0.5 / (1 - b1 ** k)
                # sqrt of max(v, tiny): the same value, but a finite second-order gradient
                # where a parameter's gradient is exactly 0 (d sqrt(v)/dv is infinite at 0)
                params = [p - step * mi / (tf.sqrt(tf.maximum(vi, ADAM_TINY)) + ADAM_EPSILON)
                          for p, mi, vi in zip(params, m, v)]
            if self.objective.clip_value:  # WGAN: the look-ahead critic obeys the same clipping
                c = self.objective.clip_value
                params = [tf.clip_by_value(p, -c, c) for p in params]
        return params, non_trainable

    def generator_losses(self, real, training: bool):
        """f_K (Eq. 7): G's loss against D after K look-ahead steps on this batch.

        `g_loss` is G's loss against the current D (what `gan` reports), for comparison.
        """
        fake = self.generator(self.sample_latent(tf.shape(real)[0]), training=training)
        params, non_trainable = self.unroll_discriminator(real, fake, training=training)
        unrolled_logits = self.discriminator.stateless_call(params, non_trainable, fake,
                                                            training=training)[0]
        loss = self.objective.generator_loss(unrolled_logits)
        plain = self.objective.generator_loss(self.discriminator(fake, training=training))
        return loss, {"g_loss_unrolled": loss, "g_loss": tf.stop_gradient(plain)}

    # -- the algorithm ----------------------------------------------------------------------------

    def step_losses(self, real):
        """D's ordinary update, then G's update through the unrolled D (which needs real data)."""
        return (lambda training: self.discriminator_losses(real, training=training),
                lambda training: self.generator_losses(real, training=training))
