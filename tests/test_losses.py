"""The Table-1 objectives against direct numpy evaluations of the METHODS.md formulas."""
import zlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from advzoo import losses


def log_sigmoid(x):
    x = np.asarray(x, np.float64)
    return -np.logaddexp(0.0, -x)  # log(1 / (1 + e^-x)), exact in float64


def log_one_minus_sigmoid(x):
    return -np.logaddexp(0.0, np.asarray(x, np.float64))


# D and G losses exactly as the METHODS.md table writes them, in float64 numpy.
REFERENCE = {
    "gan": (lambda r, f: -log_sigmoid(r).mean() - log_one_minus_sigmoid(f).mean(),
            lambda f: log_one_minus_sigmoid(f).mean()),
    "nsgan": (lambda r, f: -log_sigmoid(r).mean() - log_one_minus_sigmoid(f).mean(),
              lambda f: -log_sigmoid(f).mean()),
    "lsgan": (lambda r, f: ((r - 1) ** 2).mean() + (f ** 2).mean(),
              lambda f: ((f - 1) ** 2).mean()),
    "wgan": (lambda r, f: -r.mean() + f.mean(), lambda f: -f.mean()),
    "wgan_gp": (lambda r, f: -r.mean() + f.mean(), lambda f: -f.mean()),
    "hinge": (lambda r, f: np.maximum(0, 1 - r).mean() + np.maximum(0, 1 + f).mean(),
              lambda f: -f.mean()),
}


@pytest.mark.parametrize("name", sorted(losses.OBJECTIVES))
@pytest.mark.parametrize("scale", [1.0, 5.0, 100.0])
def test_losses_match_numpy_formulas(name, scale):
    rng = np.random.default_rng([zlib.crc32(name.encode()), int(scale)])
    real = (rng.standard_normal(64) * scale).astype(np.float32)
    fake = (rng.standard_normal(64) * scale).astype(np.float32)
    objective = losses.get_objective(name)
    d_ref, g_ref = REFERENCE[name]
    d_expected = float(d_ref(real.astype(np.float64), fake.astype(np.float64)))
    g_expected = float(g_ref(fake.astype(np.float64)))
    d = float(objective.discriminator_loss(tf.constant(real), tf.constant(fake)))
    g = float(objective.generator_loss(tf.constant(fake)))
    assert np.isfinite(d) and np.isfinite(g)
    # 1e-6, relative once the loss itself is large (float32 keeps ~7 significant digits)
    assert d == pytest.approx(d_expected, abs=1e-6 * max(1.0, abs(d_expected)))
    assert g == pytest.approx(g_expected, abs=1e-6 * max(1.0, abs(g_expected)))


@pytest.mark.parametrize("name", sorted(losses.OBJECTIVES))
def test_losses_and_gradients_finite_at_logit_magnitude_100(name):
    objective = losses.get_objective(name)
    real = tf.Variable([100.0, -100.0, 100.0, -100.0])
    fake = tf.Variable([-100.0, 100.0, 100.0, -100.0])
    with tf.GradientTape(persistent=True) as tape:
        d = objective.discriminator_loss(real, fake)
        g = objective.generator_loss(fake)
    for value in (d, g, *tape.gradient(d, [real, fake]), tape.gradient(g, fake)):
        assert np.all(np.isfinite(value.numpy()))


def test_losses_are_float32_for_float16_logits():
    objective = losses.get_objective("nsgan")
    half = tf.constant([3.0, -2.0], tf.float16)
    assert objective.discriminator_loss(half, half).dtype == tf.float32
    assert objective.generator_loss(half).dtype == tf.float32


def test_paper_defaults():
    wgan, gp = losses.get_objective("wgan"), losses.get_objective("wgan_gp")
    assert (wgan.n_critic, wgan.clip_value) == (5, 0.01)
    assert isinstance(wgan.make_optimizer(), keras.optimizers.RMSprop)
    assert wgan.make_optimizer().learning_rate.numpy() == pytest.approx(5e-5)
    assert (gp.n_critic, gp.gradient_penalty) == (5, 10.0)
    adam = gp.make_optimizer()
    assert isinstance(adam, keras.optimizers.Adam)
    assert (adam.beta_1, adam.beta_2) == (0.0, 0.9)
    assert adam.learning_rate.numpy() == pytest.approx(1e-4)
    assert losses.get_objective("nsgan").n_critic == 1


def test_unknown_objective_suggests_closest():
    with pytest.raises(ValueError, match=r"Unknown objective 'wgangp'.*'wgan_gp'"):
        losses.get_objective("wgangp")


@pytest.mark.parametrize("shape", [(5, 7), (5, 4, 3), (5, 4, 4, 2), (5, 3, 3, 3, 2)])
def test_gradient_penalty_of_linear_critic_equals_hand_computation(shape):
    # D(x) = <w, x> + b has gradient w everywhere, so the penalty is (||w||_2 - 1)^2 exactly,
    # for inputs of any rank (1D sequences, 2D images, 3D volumes).
    rng = np.random.default_rng(1)
    w = rng.standard_normal(shape[1:]).astype(np.float32) * 0.3
    axes = tuple(range(1, len(shape)))

    def critic(x):
        return tf.reduce_sum(x * w, axis=axes) + 0.5

    real = tf.constant(rng.standard_normal(shape), tf.float32)
    fake = tf.constant(rng.standard_normal(shape), tf.float32)
    penalty = losses.gradient_penalty(critic, real, fake, seed=3).numpy()
    expected = (np.sqrt((w.astype(np.float64) ** 2).sum()) - 1.0) ** 2
    assert penalty == pytest.approx(expected, rel=1e-5)


def test_gradient_penalty_of_quadratic_critic_uses_per_sample_interpolates():
    # D(x) = ||x||^2 / 2 has gradient x: the penalty is the mean over samples of
    # (||x_hat_i|| - 1)^2 with x_hat_i = e_i real_i + (1 - e_i) fake_i, e_i ~ U[0, 1] per sample.
    rng = np.random.default_rng(2)
    real = rng.standard_normal((16, 6)).astype(np.float32)
    fake = rng.standard_normal((16, 6)).astype(np.float32)
    x_hat = losses.interpolate(real, fake, seed=7).numpy()
    # each x_hat_i lies on the segment real_i -> fake_i with one factor for all its coordinates
    eps = (x_hat - fake) / (real - fake)
    assert np.allclose(eps, eps[:, :1], atol=1e-4)
    assert eps.min() >= 0 and eps.max() <= 1 and eps[:, 0].std() > 0.1
    penalty = losses.gradient_penalty(lambda x: 0.5 * tf.reduce_sum(x ** 2, axis=1), real, fake,
                                      seed=7).numpy()
    expected = ((np.linalg.norm(x_hat.astype(np.float64), axis=1) - 1.0) ** 2).mean()
    assert penalty == pytest.approx(expected, rel=1e-5)


def test_clip_weights_bounds_every_trainable_weight():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.layers[0].kernel.assign(np.full((4, 3), 5.0, np.float32))
    losses.clip_weights(model, 0.01)
    assert all(np.abs(w.numpy()).max() <= 0.01 for w in model.trainable_weights)


def test_reconstruction_losses():
    a = np.array([[0.0, 1.0], [2.0, -1.0]], np.float32)
    b = np.array([[1.0, 1.0], [0.0, 1.0]], np.float32)
    assert losses.l1_loss(a, b).numpy() == pytest.approx(np.abs(a - b).mean())
    assert losses.l2_loss(a, b).numpy() == pytest.approx(((a - b) ** 2).mean())
    assert losses.get_reconstruction_loss("l1") is losses.l1_loss
    with pytest.raises(ValueError, match="'l1'"):
        losses.get_reconstruction_loss("L1")
