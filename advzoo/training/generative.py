"""What every latent-variable generator offers: codes, sampling, interpolation, grids."""
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
        return self.generate(latent.sample_latent(n, self.latent_dim, seed))

    def interpolate(self, steps: int = 8, method: str = "slerp", seed: int | None = None,
                    z0=None, z1=None) -> np.ndarray:
        """G along a path from z0 to z1 (random codes from `seed` when not given)."""
        if z0 is None or z1 is None:
            pair = latent.sample_latent(2, self.latent_dim, seed)
            z0 = pair[0] if z0 is None else z0
            z1 = pair[1] if z1 is None else z1
        return self.generate(latent.interpolate(z0, z1, steps, method))

    def sample_grid(self, n: int = 64, seed: int | None = None, columns: int | None = None):
        """A uint8 picture of n samples tiled in a grid (for images in [-1, 1])."""
        return latent.image_grid(self.sample(n, seed), columns=columns)
