"""The `centerline_gan` family: 1D conv WGAN-GP on (x, y, z, r) sequences; the latent probe;
fit/evaluate, save/load, export, mixed precision, distribution, bad options."""
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import advzoo
from advzoo.models.centerline import latent_probe
from advzoo.networks import seq1d_critic, seq1d_generator
from conftest import assert_mirrored_matches_single


def tiny(**overrides):
    config = dict(image_shape=(16, 4), latent_dim=4, generator_filters=4,
                  discriminator_filters=4, kernel_size=3, n_critic=2, seed=0)
    config.update(overrides)
    return advzoo.build("centerline_gan", **config)


@pytest.fixture
def vessels():
    return advzoo.data.centerlines_to_unit(
        advzoo.data.centerlines_arrays("train", n=32, points=16)["points"])


def test_networks_are_1d_convolutional_and_shaped():
    g = seq1d_generator(4, (32, 4), filters=4, kernel_size=3)
    d = seq1d_critic((32, 4), filters=4, kernel_size=3)
    assert g.output.shape == (None, 32, 4) and d.output.shape == (None, 1)
    assert sum(isinstance(l, keras.layers.Conv1D) for l in g.layers) == 3  # two doublings + out
    assert sum(isinstance(l, keras.layers.Conv1D) for l in d.layers) == 2


def test_fit_and_evaluate_report_the_same_losses(vessels):
    model = tiny()
    history = model.fit(vessels, batch_size=8, epochs=2, verbose=0)
    expected = {"d_loss", "g_loss", "d_real", "d_fake", "gradient_penalty"}
    assert set(history.history) == expected
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    assert set(model.evaluate(vessels, batch_size=8, verbose=0, return_dict=True)) == expected
    assert int(model.discriminator_optimizer.iterations) == 16  # n_critic = 2
    assert int(model.generator_optimizer.iterations) == 8
    assert model.sample(3).shape == (3, 16, 4)


def test_latent_probe_finds_a_linear_split_and_not_a_random_one():
    z = np.random.default_rng(0).standard_normal((200, 6))
    separable = latent_probe(z, (z[:, 2] - z[:, 4] > 0).astype(int))
    random = latent_probe(z, np.random.default_rng(1).integers(0, 2, 200))
    assert separable["accuracy"] > 0.9 and abs(separable["majority"] - 0.5) < 0.1
    assert random["accuracy"] < 0.65
    one_class = latent_probe(z, np.zeros(200, int))
    assert one_class == {"accuracy": 1.0, "majority": 1.0}


def test_sample_report_keys_and_real_labeller():
    report = tiny().sample_report(n=100)
    assert set(report) == {"side_probe_accuracy", "side_majority", "side_real_label_accuracy",
                           "long_probe_accuracy", "long_majority", "long_real_label_accuracy",
                           "samples"}
    # the labeller of generated vessels is trained on real ones and must tell them apart
    assert report["side_real_label_accuracy"] > 0.95 and report["long_real_label_accuracy"] > 0.95


def test_save_load_identical_samples(tmp_path, vessels):
    model = tiny()
    model.fit(vessels, batch_size=8, epochs=1, verbose=0)
    model.save(tmp_path / "c.keras")
    loaded = keras.saving.load_model(tmp_path / "c.keras")
    assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
    z = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.generate(z), model.generate(z))


def test_export_float32_signature(tmp_path):
    model = tiny()
    loaded = tf.saved_model.load(str(model.export(tmp_path / "exp")))
    serve = loaded.signatures["serving_default"]
    assert [s.dtype for s in serve.structured_input_signature[1].values()] == [tf.float32]
    z = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    out = list(serve(tf.constant(z)).values())[0].numpy()
    assert out.shape == (3, 16, 4)
    np.testing.assert_allclose(out, model.generate(z), atol=1e-6)


def test_mixed_precision_step(vessels):
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = tiny()
    assert any(l.compute_dtype == "float16" for l in model.generator.layers
               if isinstance(l, keras.layers.Conv1D))
    logs = model.train_step(tf.constant(vessels[:8]))
    assert all(v.dtype == tf.float32 and np.isfinite(v.numpy()) for v in logs.values())
    assert int(model.generator_optimizer.iterations) == 1


def test_cli_train_three_steps(tmp_path):
    from advzoo.cli import main

    assert main(["train", "centerline_gan", "--steps", "3", "--batch-size", "8",
                 "--out", str(tmp_path / "run"), "--set", "generator_filters=4", "--set", "n_critic=1",
                 "--set", "discriminator_filters=4"]) == 0
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert {"gradient_penalty", "val_d_loss"} <= set(history)


@pytest.mark.parametrize("bad, match", [
    (dict(image_shape=(24, 4)), r"length of 8 \* 2\^k.*got sequence shape \(24, 4\)"),
    (dict(image_shape=(16, 3)), r"\(points, 4\).*got \(16, 3\)"),
    (dict(latent_dim=0), "latent_dim must be a positive int"),
    (dict(kernel_size=0), "kernel_size must be a positive int"),
    (dict(discriminator_norm="batch"), "batch norm"),
    (dict(objective="wgan_pg"), r"Unknown objective 'wgan_pg'"),
])
def test_bad_configuration_fails_at_build_time(bad, match):
    with pytest.raises(ValueError, match=match):
        tiny(**bad)


DISTRIBUTED = r'''
import advzoo.losses
from advzoo.models.centerline import CenterlineGAN

advzoo.losses.interpolate = lambda real, fake, seed=None: 0.5 * (real + fake)

class Fixed(CenterlineGAN):
    def sample_latent(self, batch_size):
        return tf.ones((batch_size, self.latent_dim)) * 0.3

def build(strategy, weights=None):
    with strategy.scope():
        m = Fixed(image_shape=(16, 4), latent_dim=4, generator_filters=4, discriminator_filters=4,
                  kernel_size=3, n_critic=2, generator_norm="none",
                  discriminator_norm="none")
        m.compile(optimizers={"generator": keras.optimizers.SGD(0.01),
                              "discriminator": keras.optimizers.SGD(0.01)})
        if weights is not None:
            m.set_weights(weights)
    return m

x = np.random.default_rng(0).normal(0, 0.3, (32, 16, 4)).astype("float32")
'''


def test_mirrored_strategy_on_two_cpus_matches_single_device():
    assert_mirrored_matches_single(DISTRIBUTED, data='(x,)',
                                   fit='dict(batch_size=8, epochs=1)')
