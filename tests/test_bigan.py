"""The `bigan` family: joint G/E update, fit/evaluate, save/load, encoder export, mixed
precision, distribution, the joint gradient penalty, bad options."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import advzoo
from advzoo.losses import joint_gradient_penalty
from conftest import assert_mirrored_matches_single

KEYS = {"d_loss", "ge_loss", "d_real", "d_fake"}


def tiny_bigan(**overrides):
    config = dict(image_shape=(8, 8, 1), latent_dim=4, generator_filters=8, encoder_filters=8,
                  discriminator_filters=8, joint_units=16, seed=0)
    config.update(overrides)
    return advzoo.build("bigan", **config)


@pytest.mark.parametrize("objective", ["nsgan", "wgan_gp"])
def test_fit_evaluate_updates_generator_and_encoder_jointly(objective, tiny_digits):
    images, _ = tiny_digits
    model = tiny_bigan(objective=objective, n_critic=2)
    before = [w.numpy().copy() for w in model.encoder.trainable_weights]
    history = model.fit(images, batch_size=16, epochs=2, verbose=0)
    expected = KEYS | ({"gradient_penalty"} if objective == "wgan_gp" else set())
    assert set(history.history) == expected
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    assert set(model.evaluate(images, batch_size=16, verbose=0, return_dict=True)) == expected
    assert int(model.discriminator_optimizer.iterations) == 8
    assert int(model.generator_optimizer.iterations) == int(model.encoder_optimizer.iterations) == 4
    assert all(not np.allclose(b, a.numpy()) for b, a in zip(before, model.encoder.trainable_weights))


def test_default_data_and_encode():
    model = tiny_bigan(image_shape=(16, 16, 1))
    data = advzoo.get_family("bigan").dataset(model, batch_size=8).take(2)
    assert next(iter(data)).shape == (8, 16, 16, 1)
    model.fit(data, epochs=1, verbose=0)
    codes = model.encode(np.zeros((3, 16, 16, 1), np.float32))
    assert codes.shape == (3, 4) and codes.dtype == np.float32
    with pytest.raises(ValueError, match=r"encode expects images of shape"):
        model.encode(np.zeros((3, 8, 8, 1)))


def test_generator_and_encoder_loss_is_discriminator_loss_with_labels_swapped(tiny_digits):
    model = tiny_bigan()
    real = tf.constant(tiny_digits[0][:8])
    z = tf.constant(np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32))
    model.sample_latent = lambda batch_size: z  # the same codes in both losses
    d_loss, d_logs = model.discriminator_losses(real, training=False)
    ge_loss, _ = model.generator_encoder_losses(real, training=False)
    real_logits = model.discriminator([real, model.encoder(real)])
    fake_logits = model.discriminator([model.generator(z), z])
    softplus = lambda t: np.log1p(np.exp(t))  # noqa: E731
    np.testing.assert_allclose(d_loss, softplus(-real_logits).mean() + softplus(fake_logits).mean(), rtol=1e-5)
    np.testing.assert_allclose(ge_loss, softplus(-fake_logits).mean() + softplus(real_logits).mean(), rtol=1e-5)


def test_joint_gradient_penalty_of_a_linear_critic():
    # D(x, z) = <a, x> + <b, z> has gradient (a, b) everywhere: penalty (||(a, b)|| - 1)^2
    a = np.full((2, 2, 1), 0.5, np.float32)
    b = np.array([1.0, 2.0], np.float32)

    def critic(pair):
        x, z = pair
        return tf.reduce_sum(x * a, axis=[1, 2, 3]) + tf.reduce_sum(z * b, axis=1)

    rng = np.random.default_rng(0)
    reals = [rng.standard_normal((4, 2, 2, 1)).astype(np.float32), rng.standard_normal((4, 2)).astype(np.float32)]
    fakes = [rng.standard_normal((4, 2, 2, 1)).astype(np.float32), rng.standard_normal((4, 2)).astype(np.float32)]
    expected = (np.sqrt(4 * 0.25 + 1 + 4) - 1) ** 2
    np.testing.assert_allclose(joint_gradient_penalty(critic, reals, fakes, seed=1), expected, rtol=1e-5)


def test_save_load_and_float32_export_of_the_encoder(tmp_path, tiny_digits):
    images, _ = tiny_digits
    model = tiny_bigan()
    model.fit(images, batch_size=16, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.encode(images[:5]), model.encode(images[:5]))
    z = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.generate(z), model.generate(z))
    assert int(loaded.encoder_optimizer.iterations) == 2
    saved = tf.saved_model.load(str(model.export(tmp_path / "encoder")))
    spec = saved.signatures["serving_default"].structured_input_signature[1]
    assert [s.dtype for s in spec.values()] == [tf.float32]
    np.testing.assert_allclose(saved.serve(tf.constant(images[:5])).numpy(), model.encode(images[:5]), atol=1e-5)


def test_mixed_precision_step(tiny_digits):
    images, _ = tiny_digits
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = tiny_bigan()
    assert model.encoder.get_layer("down_0").compute_dtype == "float16"
    assert model.encoder.outputs[0].dtype == "float32"
    history = model.fit(images, batch_size=16, epochs=1, verbose=0)
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    assert int(model.encoder_optimizer.iterations) > 0


DISTRIBUTED = r'''
from advzoo.models.bigan import BiGAN

class FixedCodes(BiGAN):
    def sample_latent(self, batch_size):
        return tf.ones((batch_size, self.latent_dim)) * 0.3

def build(strategy, weights=None):
    with strategy.scope():
        m = FixedCodes(image_shape=(8, 8, 1), latent_dim=4, generator_filters=4, encoder_filters=4,
                       discriminator_filters=4, joint_units=8, generator_norm="none",
                       encoder_norm="none", discriminator_norm="layer")
        m.compile(optimizers={p: keras.optimizers.SGD(0.05) for p in m.players})
        if weights is not None:
            m.set_weights(weights)
    return m

x = np.random.default_rng(0).uniform(-1, 1, (32, 8, 8, 1)).astype("float32")
'''


def test_mirrored_strategy_on_two_cpus_matches_single_device():
    assert_mirrored_matches_single(DISTRIBUTED, data='(x,)',
                                   fit='dict(batch_size=8, epochs=1)')


@pytest.mark.parametrize("bad, match", [
    (dict(latent_dim=0), "latent_dim must be a positive int, got 0"),
    (dict(joint_units=0), "joint_units must be a positive int, got 0"),
    (dict(encoder_norm="group"), r"'group'.*Expected one of"),
    (dict(image_shape=(8, 16, 1)), "square"),
    (dict(objective="wgan_gp", discriminator_norm="batch"), "batch norm"),
])
def test_bad_configuration_fails_at_build_time(bad, match):
    with pytest.raises(ValueError, match=match):
        tiny_bigan(**bad)


def test_default_build():
    model = advzoo.build("bigan")
    assert model.image_shape == (32, 32, 1) and model.inference_model() is model.encoder


def test_cli_trains_three_steps_on_the_default_data(tmp_path):
    from advzoo.cli import main

    out = tmp_path / "run"
    assert main(["train", "bigan", "--steps", "3", "--batch-size", "8", "--out", str(out), "--set", "generator_filters=8", "--set", "discriminator_filters=8", "--set", "encoder_filters=8", "--set", "image_shape=[16,16,1]"]) == 0
    assert (out / "model.keras").is_file() and (out / "samples.png").is_file()
    assert keras.saving.load_model(out / "model.keras").family_name == "bigan"


def test_preset_loads_and_its_encoder_beats_a_random_one():
    model = advzoo.load("bigan_nodules")
    meta = advzoo.weights.read_metadata(advzoo.weights.resolve_preset("bigan_nodules"))["metrics"]
    assert meta["probe_accuracy"] > meta["random_encoder_probe_accuracy"]
    patches = advzoo.data.hu_to_unit(advzoo.data.nodules_arrays("test", n=8, size=32)["images"])
    codes = model.encode(patches)
    assert codes.shape == (8, 64) and np.all(np.isfinite(codes))
    # G(E(x)) is closer to x than a random sample is: E inverts G
    assert np.abs(model.generate(codes) - patches).mean() < np.abs(model.sample(8, seed=0) - patches).mean()
