"""What every latent-variable generator offers: codes, sampling, interpolation, grids, inversion."""
from __future__ import annotations

import numpy as np
import tensorflow as tf
import keras

from advzoo import latent


class GenerativeMixin:
    """Mixed into families with a generator G(z) and a `latent_dim`.

    Sampling inside `train_step` goes through `sample_latent(batch_size)`, the one place a
    subclass changes the prior (or a test makes it deterministic).
    """

    latent_dim: int

    def sample_latent(self, batch_size):
        """z ~ N(0, I) of shape (batch_size, latent_dim), from the model's seed generator."""
        return keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)

    def prior(self, n: int, seed: int | None = None) -> np.ndarray:
        """n codes from the generator's prior as numpy (N(0, I); families with structured codes
        override it). `sample` and `interpolate` draw through it."""
        return latent.sample_latent(n, self.latent_dim, seed)

    def generate(self, z, batch_size: int = 256) -> np.ndarray:
        """G(z) for an array of codes, as a float32 numpy array (batched, inference mode)."""
        z = np.asarray(z, np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"expected latent codes of shape (n, {self.latent_dim}), got {z.shape}")
        out = [np.asarray(self.generator(tf.constant(z[i:i + batch_size]), training=False),
                          np.float32) for i in range(0, len(z), batch_size)]
        return np.concatenate(out, axis=0)

    def sample(self, n: int = 16, seed: int | None = None) -> np.ndarray:
        """n samples G(z) with z drawn from a numpy generator seeded by `seed`."""
        return self.generate(self.prior(n, seed))

    def interpolate(self, steps: int = 8, method: str = "slerp", seed: int | None = None,
                    z0=None, z1=None) -> np.ndarray:
        """G along a path from z0 to z1 (random codes from `seed` when not given)."""
        if z0 is None or z1 is None:
            pair = self.prior(2, seed)
            z0 = pair[0] if z0 is None else z0
            z1 = pair[1] if z1 is None else z1
        return self.generate(latent.interpolate(z0, z1, steps, method))

    def sample_grid(self, n: int = 64, seed: int | None = None, columns: int | None = None):
        """A uint8 picture of n samples tiled in a grid (for images in [-1, 1])."""
        return latent.image_grid(self.sample(n, seed), columns=columns)

    # -- latent inversion (Creswell & Bharath 2018; Lipton & Tripathi 2017; Schlegl et al. 2017) --

    def decode(self, z, **conditions):
        """G(z) as a tensor in inference mode, differentiable in z (inversion goes through it).
        Conditional families take their extra generator inputs as keyword arguments."""
        if conditions:
            raise ValueError(f"{type(self).__name__}'s generator takes only z, got extra inputs "
                             f"{sorted(conditions)}")
        return self.generator(z, training=False)

    def inversion_loss(self, images, generated):
        """Per-sample distance minimised by `invert`: the mean absolute residual |x - G(z)|
        (Schlegl et al. Eq. 3). Families may add terms (AnoGAN's discrimination loss)."""
        diff = tf.abs(tf.cast(images, tf.float32) - tf.cast(generated, tf.float32))
        return tf.reduce_mean(tf.reshape(diff, (tf.shape(diff)[0], -1)), axis=1)

    def invert(self, images, steps: int = 300, restarts: int = 4, learning_rate: float = 0.05,
               batch_size: int = 256, seed: int | None = 0, **conditions):
        """Codes z whose G(z) best reproduces each image, G frozen.

        Gradient descent in z-space (Adam, `learning_rate`, `steps` iterations) on
        `inversion_loss(x, G(z))` from `restarts` random starts drawn from N(0, I) per image; the
        restart with the lowest final loss is kept (Creswell & Bharath, "Inverting the generator
        of a GAN"; Lipton & Tripathi, "Precise recovery of latent vectors"). Each image's loss
        is optimised independently of the others in its batch.

        Args:
            images: (n, *image_shape) array in the generator's output range.
            conditions: extra generator inputs of conditional families, one row per image.

        Returns:
            (z, residual): float32 arrays (n, latent_dim) and (n,), the final per-image loss.
        """
        for option, value in (("steps", steps), ("restarts", restarts), ("batch_size", batch_size)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"invert: {option} must be a positive int, got {value!r}")
        if not learning_rate > 0:
            raise ValueError(f"invert: learning_rate must be > 0, got {learning_rate!r}")
        images = np.asarray(images, np.float32)
        expected = tuple(self.generator.outputs[0].shape[1:])
        if images.shape[1:] != expected:
            raise ValueError(f"invert: expected images of shape (n, {', '.join(map(str, expected))}), "
                             f"got {images.shape}")
        conditions = {k: np.asarray(v, np.float32) for k, v in conditions.items()}
        for key, value in conditions.items():
            if len(value) != len(images):
                raise ValueError(f"invert: {key} has {len(value)} rows for {len(images)} images")
        # one eager call checks the generator's inputs with a clear error before any tracing
        self.decode(tf.zeros((1, self.latent_dim)), **{k: v[:1] for k, v in conditions.items()})
        rng = np.random.default_rng(seed)
        best_z, best_loss = [], []
        for i in range(0, len(images), batch_size):
            x = images[i:i + batch_size]
            n = len(x)
            z0 = rng.standard_normal((restarts * n, self.latent_dim)).astype(np.float32)
            tiled = {k: np.tile(v[i:i + n], (restarts,) + (1,) * (v.ndim - 1))
                     for k, v in conditions.items()}
            z, loss = self._inversion_loop(tf.constant(np.tile(x, (restarts,) + (1,) * (x.ndim - 1))),
                                           tf.constant(z0), tiled, tf.constant(int(steps)),
                                           tf.constant(float(learning_rate)))
            z = z.numpy().reshape(restarts, n, self.latent_dim)
            loss = loss.numpy().reshape(restarts, n)
            pick = loss.argmin(axis=0)
            best_z.append(z[pick, np.arange(n)])
            best_loss.append(loss[pick, np.arange(n)])
        return np.concatenate(best_z).astype(np.float32), np.concatenate(best_loss).astype(np.float32)

    @tf.function(reduce_retracing=True)
    def _inversion_loop(self, x, z0, conditions, steps, learning_rate,
                        beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        """Adam on z in one graph (Kingma & Ba, Algorithm 1); returns the final z and loss."""

        def per_sample(z):
            return self.inversion_loss(x, self.decode(z, **conditions))

        def step(t, z, m, v):
            with tf.GradientTape() as tape:
                tape.watch(z)
                total = tf.reduce_sum(per_sample(z))  # a sum keeps the samples independent
            g = tape.gradient(total, z)
            m = beta_1 * m + (1.0 - beta_1) * g
            v = beta_2 * v + (1.0 - beta_2) * tf.square(g)
            t1 = tf.cast(t + 1, tf.float32)
            m_hat = m / (1.0 - tf.pow(beta_1, t1))
            v_hat = v / (1.0 - tf.pow(beta_2, t1))
            return t + 1, z - learning_rate * m_hat / (tf.sqrt(v_hat) + epsilon), m, v

        zeros = tf.zeros_like(z0)
        _, z, _, _ = tf.while_loop(lambda t, *_: t < steps, step, (tf.constant(0), z0, zeros, zeros))
        return z, per_sample(z)
