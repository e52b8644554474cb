"""The `cgan` family: class and vector conditioning, fit/evaluate, save/load, export, mixed
precision, distribution, bad options, and the shipped preset."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import advzoo
from advzoo.models.cgan import digit_attributes
from conftest import assert_mirrored_matches_single

KEYS = {"d_loss", "g_loss", "d_real", "d_fake"}


def tiny_cgan(**overrides):
    config = dict(image_shape=(8, 8, 1), latent_dim=8, generator_filters=8,
                  discriminator_filters=8, seed=0)
    config.update(overrides)
    return advzoo.build("cgan", **config)


@pytest.mark.parametrize("condition", ["class", "vector"])
def test_fit_evaluate_on_default_data(condition):
    model = tiny_cgan(condition=condition)
    data = advzoo.get_family("cgan").dataset(model, batch_size=16).take(2)
    x, y = next(iter(data))
    assert y.shape == ((16,) if condition == "class" else (16, 2))
    history = model.fit(data, epochs=2, verbose=0)
    assert set(history.history) == KEYS
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    assert set(model.evaluate(data, verbose=0, return_dict=True)) == KEYS
    assert int(model.generator_optimizer.iterations) == 4


def test_condition_reaches_both_players(tiny_digits):
    images, labels = tiny_digits
    model = tiny_cgan()
    model.fit(images, labels, batch_size=16, epochs=1, verbose=0)
    z = np.repeat(np.random.default_rng(0).standard_normal((1, 8)).astype(np.float32), 10, axis=0)
    samples = model.generate(z, np.arange(10))
    assert np.abs(samples[1:] - samples[:1]).max() > 1e-3  # same z, another class: another image
    # class ids and their one-hot vectors are the same condition
    x = tf.constant(images[:4])
    one_hot = np.eye(10, dtype=np.float32)[labels[:4]]
    d_ids = model.discriminator([x, model.condition_vector(labels[:4])])
    np.testing.assert_allclose(d_ids, model.discriminator([x, model.condition_vector(one_hot)]))
    d_other = model.discriminator([x, model.condition_vector((labels[:4] + 1) % 10)])
    assert np.abs(np.asarray(d_ids) - np.asarray(d_other)).max() > 1e-5


def test_sampling_helpers_and_condition_errors():
    model = tiny_cgan()
    assert model.sample(12, seed=0).shape == (12, 8, 8, 1)
    np.testing.assert_array_equal(model.sample(4, seed=3, condition=[7, 7, 7, 7]),
                                  model.sample(4, seed=3, condition=[7, 7, 7, 7]))
    assert model.interpolate(steps=5, condition=3).shape == (5, 8, 8, 1)
    assert model.sample_grid(20, columns=10).shape == (2 * 9 + 1, 10 * 9 + 1, 1)
    with pytest.raises(ValueError, match=r"expected 2 class ids in \[0, 10\)"):
        model.generate(np.zeros((2, 8), np.float32), [3, 10])
    vector = tiny_cgan(condition="vector", condition_dim=3)
    with pytest.raises(ValueError, match=r"shape \(2, 3\), got \(2, 2\)"):
        vector.generate(np.zeros((2, 8), np.float32), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="images only"):
        model.fit(np.zeros((8, 8, 8, 1), np.float32), batch_size=4, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"conditions y of shape \(batch, 3\), got \(batch, 2\)"):
        vector.fit(np.zeros((8, 8, 8, 1), np.float32), np.zeros((8, 2), np.float32),
                   batch_size=4, epochs=1, verbose=0)


def test_digit_attributes_are_standardised_and_ordered():
    images, _ = advzoo.data.digits_arrays("all", image_size=16)
    attributes = digit_attributes(images)
    np.testing.assert_allclose(attributes.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(attributes.std(axis=0), 1.0, atol=1e-4)
    bold = np.clip(images[:1] + 0.8, -1, 1)  # more ink, same layout
    assert digit_attributes(bold)[0, 0] > digit_attributes(images[:1])[0, 0]
    narrow = np.full((1, 16, 16, 1), -1.0, np.float32)
    narrow[0, :, 7:9] = 1.0
    wide = np.full((1, 16, 16, 1), -1.0, np.float32)
    wide[0, :, [1, 14]] = 1.0
    assert digit_attributes(wide)[0, 1] > digit_attributes(narrow)[0, 1]


def test_save_load_and_float32_export(tmp_path, tiny_digits):
    images, labels = tiny_digits
    model = tiny_cgan(condition="vector", condition_dim=3)
    vectors = np.random.default_rng(0).standard_normal((32, 3)).astype(np.float32)
    model.fit(images, vectors, batch_size=16, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
    z = np.random.default_rng(1).standard_normal((5, 8)).astype(np.float32)
    np.testing.assert_array_equal(loaded.generate(z, vectors[:5]), model.generate(z, vectors[:5]))
    assert int(loaded.generator_optimizer.iterations) == 2
    saved = tf.saved_model.load(str(model.export(tmp_path / "export")))
    serve = saved.signatures["serving_default"]
    assert sorted(s.dtype.name for s in serve.structured_input_signature[1].values()) == ["float32"] * 2
    out = saved.serve(tf.constant(z), tf.constant(vectors[:5]))
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), model.generate(z, vectors[:5]), atol=1e-5)


def test_mixed_precision_step(tiny_digits):
    images, labels = tiny_digits
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = tiny_cgan(objective="wgan_gp", n_critic=1)
    assert model.generator.get_layer("project").compute_dtype == "float16"
    history = model.fit(images, labels, batch_size=16, epochs=1, verbose=0)
    assert set(history.history) == KEYS | {"gradient_penalty"}
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    assert model.sample(3, seed=0).dtype == np.float32
    assert int(model.generator_optimizer.iterations) > 0


DISTRIBUTED = r'''
from advzoo.models.cgan import ConditionalGAN

class FixedCodes(ConditionalGAN):
    def sample_latent(self, batch_size):
        return tf.ones((batch_size, self.latent_dim)) * 0.3

def build(strategy, weights=None):
    with strategy.scope():
        m = FixedCodes(image_shape=(8, 8, 1), latent_dim=4, generator_filters=4,
                       discriminator_filters=4, discriminator_norm="layer",
                       generator_norm="none")  # batch statistics differ per replica
        m.compile(optimizers={p: keras.optimizers.SGD(0.05) for p in m.players})
        if weights is not None:
            m.set_weights(weights)
    return m

rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, (32, 8, 8, 1)).astype("float32")
y = rng.integers(0, 10, 32).astype("int32")
'''


def test_mirrored_strategy_on_two_cpus_matches_single_device():
    assert_mirrored_matches_single(DISTRIBUTED, data='(x, y)',
                                   fit='dict(batch_size=8, epochs=1)')


@pytest.mark.parametrize("bad, match", [
    (dict(num_classes=1), r"num_classes >= 2.*got 1"),
    (dict(condition="vector", condition_dim=0), r"condition_dim >= 1.*got 0"),
    (dict(condition="text"), r"'text'.*Expected one of: class, vector"),
    (dict(num_classes=10, condition_dim=4), r"num_classes=10; got condition_dim=4"),
    (dict(image_shape=(12, 12, 1)), r"4 \* 2\^k"),
    (dict(latent_dim=0), "latent_dim must be a positive int"),
    (dict(objective="wgan_gp", discriminator_norm="batch"), "batch norm"),
])
def test_bad_configuration_fails_at_build_time(bad, match):
    with pytest.raises(ValueError, match=match):
        tiny_cgan(**bad)


def test_default_build_and_preset_draws_the_asked_digit():
    assert advzoo.build("cgan").image_shape == (16, 16, 1)
    model = advzoo.load("cgan_digits_class")
    report = model.sample_report(n=200)
    assert report["asked_class_accuracy"] > 0.8  # chance is 0.1


def test_cli_trains_three_steps_on_the_default_data(tmp_path):
    from advzoo.cli import main

    out = tmp_path / "run"
    assert main(["train", "cgan", "--steps", "3", "--batch-size", "8", "--out", str(out), "--set", "generator_filters=8", "--set", "discriminator_filters=8", "--set", "image_shape=[8,8,1]"]) == 0
    assert (out / "model.keras").is_file() and (out / "samples.png").is_file()
    assert keras.saving.load_model(out / "model.keras").family_name == "cgan"
