"""The `lapgan` family: the pyramid decomposition, per-level players, coarse-to-fine sampling at
4x the coarsest size; fit/evaluate, save/load, export, mixed precision, distribution, bad options."""
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import advzoo
from advzoo.models.lapgan import downsample, upsample
from conftest import assert_mirrored_matches_single


def tiny(**overrides):
    """Two levels (8 -> 16) unless a test asks for the three of the paper (8 -> 16 -> 32)."""
    config = dict(image_shape=(16, 16, 1), levels=2, latent_dim=4, generator_filters=4,
                  discriminator_filters=4, seed=0)
    config.update(overrides)
    return advzoo.build("lapgan", **config)


def three_levels(**overrides):
    return tiny(image_shape=(32, 32, 1), levels=3, latent_dim=6, **overrides)


@pytest.fixture
def slices():
    return advzoo.data.hu_to_unit(advzoo.data.ct_slices_arrays("train", n=16, size=16)["images"])


@pytest.fixture
def slices32():
    return advzoo.data.hu_to_unit(advzoo.data.ct_slices_arrays("train", n=8, size=32)["images"])


def test_players_are_a_list_of_levels():
    model = three_levels()
    assert model.players == ("discriminator_0", "generator_0", "discriminator_1", "generator_1",
                             "discriminator_2", "generator_2")
    assert [s[0] for s in model.level_shapes] == [8, 16, 32]
    assert model.generator_0.output.shape == (None, 8, 8, 1)
    assert [tuple(t.shape) for t in model.generator_2.inputs] == [(None, 32, 32, 1), (None, 2)]
    # every player has its own optimizer
    assert len({id(model.player_optimizers[p]) for p in model.players}) == 6


def test_laplacian_decomposition_reconstructs_the_image(slices32):
    slices = slices32
    model = three_levels()
    images = tf.constant(slices[:4])
    levels = model.level_inputs(images)
    assert [tuple(t.shape[1:3]) for t, _ in levels] == [(8, 8), (16, 16), (32, 32)]
    # I_K = u(...u(I_0) + h_1...) + h_K: the pyramid is exact
    image = levels[0][0]
    for residual, low in levels[1:]:
        np.testing.assert_allclose(upsample(image).numpy(), low.numpy(), atol=1e-6)
        image = upsample(image) + residual
    np.testing.assert_allclose(image.numpy(), slices[:4], atol=1e-5)
    np.testing.assert_allclose(downsample(images).numpy()[0, 0, 0, 0], slices[0, :2, :2, 0].mean(),
                               rtol=1e-5)


def test_sampler_is_coarse_to_fine_at_4x_the_coarsest_size():
    model = three_levels()
    z = np.random.default_rng(0).standard_normal((3, 6)).astype(np.float32)
    samples = model.generate(z)
    assert samples.shape == (3, 32, 32, 1)
    z = tf.constant(z)
    image = model.generator_0(z[:, :2])
    for k in (1, 2):
        low = upsample(image)
        image = low + getattr(model, f"generator_{k}")([low, z[:, 2 * k:2 * k + 2]])
    np.testing.assert_allclose(samples, image.numpy(), atol=1e-5)
    assert model.sample(2, seed=1).shape == (2, 32, 32, 1)
    assert model.coarse_upsampled(2, seed=0).shape == (2, 32, 32, 1)


def test_fit_and_evaluate_report_every_level(slices):
    model = tiny()
    history = model.fit(slices, batch_size=8, epochs=2, verbose=0)
    expected = {f"{p}_loss_{k}" for p in "dg" for k in range(2)}
    assert set(history.history) == expected
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    assert set(model.evaluate(slices, batch_size=8, verbose=0, return_dict=True)) == expected
    for p in model.players:
        assert int(model.player_optimizers[p].iterations) == 4, p


def test_save_load_identical_samples(tmp_path, slices):
    model = tiny()
    model.fit(slices, batch_size=8, epochs=1, verbose=0)
    model.save(tmp_path / "l.keras")
    loaded = keras.saving.load_model(tmp_path / "l.keras")
    assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
    z = np.random.default_rng(0).standard_normal((4, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.generate(z), model.generate(z))
    assert int(loaded.generator_1_optimizer.iterations) == 2


def test_export_float32_signature(tmp_path):
    model = three_levels()
    loaded = tf.saved_model.load(str(model.export(tmp_path / "exp")))
    serve = loaded.signatures["serving_default"]
    assert [s.dtype for s in serve.structured_input_signature[1].values()] == [tf.float32]
    z = np.random.default_rng(0).standard_normal((3, 6)).astype(np.float32)
    out = list(serve(tf.constant(z)).values())[0].numpy()
    assert out.shape == (3, 32, 32, 1)
    np.testing.assert_allclose(out, model.generate(z), atol=1e-5)


def test_mixed_precision_step(slices):
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = tiny(objective="wgan_gp", n_critic=1)
    assert model.generator_1.get_layer("conv_0").compute_dtype == "float16"
    logs = model.train_step(tf.constant(slices[:8]))
    assert all(v.dtype == tf.float32 and np.isfinite(v.numpy()) for v in logs.values())
    assert "gradient_penalty_1" in logs
    assert model.sample(2).dtype == np.float32


def test_wgan_clips_every_level_critic(slices):
    model = tiny(objective="wgan", n_critic=1)
    model.fit(slices, batch_size=8, epochs=1, verbose=0)
    for k in range(2):
        critic = getattr(model, f"discriminator_{k}")
        assert max(np.abs(w.numpy()).max() for w in critic.trainable_weights) <= 0.01 + 1e-7


def test_cli_train_three_steps(tmp_path):
    from advzoo.cli import main

    assert main(["train", "lapgan", "--steps", "3", "--batch-size", "8",
                 "--out", str(tmp_path / "run"), "--set", "generator_filters=4",
                 "--set", "discriminator_filters=4", "--set", "image_shape=[16,16,1]",
                 "--set", "levels=2", "--set", "latent_dim=4"]) == 0
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert {"g_loss_1", "val_d_loss_0"} <= set(history)
    assert (tmp_path / "run" / "samples.png").is_file()


@pytest.mark.parametrize("bad, match", [
    (dict(levels=1), r"levels >= 2.*got levels=1"),
    (dict(image_shape=(24, 24, 1), levels=3, latent_dim=6), r"side of c \* 2\^2.*got side 24"),
    (dict(image_shape=(16, 16, 1), levels=3, latent_dim=6),
     r"coarsest side c = 4 \* 2\^j >= 8.*got side 16"),
    (dict(image_shape=(32, 16, 1)), "square"),
    (dict(latent_dim=7), r"multiple of levels=2.*got 7"),
    (dict(objective="wgan_gp", discriminator_norm="batch"), "batch norm"),
])
def test_bad_configuration_fails_at_build_time(bad, match):
    with pytest.raises(ValueError, match=match):
        tiny(**bad)


DISTRIBUTED = r'''
from advzoo.models.lapgan import LAPGAN

class Fixed(LAPGAN):
    def sample_latent(self, batch_size):
        return tf.ones((batch_size, self.latent_dim)) * 0.3

def build(strategy, weights=None):
    with strategy.scope():
        m = Fixed(image_shape=(16, 16, 1), levels=2, latent_dim=4, generator_filters=4,
                  discriminator_filters=4, generator_norm="none", discriminator_norm="none",
                  objective="lsgan")
        m.compile(optimizers={p: keras.optimizers.SGD(0.01) for p in m.players})
        if weights is not None:
            m.set_weights(weights)
    return m

x = np.random.default_rng(0).uniform(-1, 1, (16, 16, 16, 1)).astype("float32")
'''


def test_mirrored_strategy_on_two_cpus_matches_single_device():
    assert_mirrored_matches_single(DISTRIBUTED, data='(x,)',
                                   fit='dict(batch_size=8, epochs=1)')
