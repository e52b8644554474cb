"""Latent inversion (`GenerativeMixin.invert`) on every generator, and AnoGAN's score built on it."""
import numpy as np
import pytest

import advzoo
from conftest import tiny_gan


def test_invert_recovers_the_code_of_a_generated_sample():
    model = advzoo.load("gan_digits_dcgan")
    z = np.random.default_rng(1).standard_normal((8, model.latent_dim)).astype(np.float32)
    target = model.generate(z)
    z_hat, residual = model.invert(target, steps=300, restarts=3, seed=0)
    assert z_hat.shape == z.shape and residual.shape == (8,)
    recovered = model.generate(z_hat)
    np.testing.assert_allclose(residual, np.abs(recovered - target).mean(axis=(1, 2, 3)), rtol=1e-4, atol=1e-6)
    assert residual.max() < 0.03  # pixel range is [-1, 1]
    # far closer than the other samples of the batch, and than where the search started
    others = np.abs(target[:, None] - target[None]).mean(axis=(2, 3, 4))
    assert residual.max() < 0.2 * others[~np.eye(8, dtype=bool)].min()
    starts = model.generate(np.random.default_rng(0).standard_normal(z.shape).astype(np.float32))
    assert residual.mean() < 0.1 * np.abs(starts - target).mean()


def test_more_restarts_never_lose():
    model = tiny_gan(generator="mlp", discriminator="mlp")
    target = model.sample(6, seed=3)
    _, one = model.invert(target, steps=20, restarts=1, seed=5)
    _, four = model.invert(target, steps=20, restarts=4, seed=5)  # its first start is the same
    assert np.all(four <= one + 1e-5)


def test_invert_batches_and_checks_its_arguments():
    model = tiny_gan(generator="mlp", discriminator="mlp")
    target = model.sample(5, seed=0)
    z, residual = model.invert(target, steps=5, restarts=2, batch_size=2)
    assert z.shape == (5, 8) and residual.shape == (5,)
    with pytest.raises(ValueError, match=r"expected images of shape \(n, 8, 8, 1\), got \(5, 16, 16, 1\)"):
        model.invert(np.zeros((5, 16, 16, 1)))
    with pytest.raises(ValueError, match="restarts must be a positive int, got 0"):
        model.invert(target, restarts=0)
    with pytest.raises(ValueError, match="takes only z"):
        model.invert(target, steps=2, condition=np.zeros(5))


def test_invert_a_conditional_generator_at_the_given_condition():
    model = advzoo.build("cgan", image_shape=(8, 8, 1), latent_dim=4, generator_filters=8,
                         discriminator_filters=8, seed=0)
    labels = np.array([1, 4, 7])
    target = model.sample(3, seed=2, condition=labels)
    z, residual = model.invert(target, steps=200, restarts=2, condition=labels)
    np.testing.assert_allclose(model.generate(z, labels), target, atol=0.05)
    with pytest.raises(ValueError, match="needs the condition"):
        model.invert(target, steps=2)


def test_infogan_prior_feeds_sampling_and_interpolation():
    model = advzoo.build("infogan", image_shape=(8, 8, 1), noise_dim=3, generator_filters=8,
                         discriminator_filters=8, q_units=8, seed=0)
    path = model.interpolate(steps=4, method="linear", seed=0)
    assert path.shape == (4, 8, 8, 1)
    codes = model.prior(2, seed=0)
    np.testing.assert_allclose(path[[0, -1]], model.generate(codes), atol=1e-6)
