"""The `anogan` family: a gan of normal images, Schlegl's score after inversion, fit/evaluate,
save/load, export, mixed precision, distribution, bad options."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import advzoo
from conftest import assert_mirrored_matches_single

KEYS = {"d_loss", "g_loss", "d_real", "d_fake"}


def tiny_anogan(**overrides):
    config = dict(image_shape=(16, 16, 1), latent_dim=8, generator_filters=8,
                  discriminator_filters=8, seed=0)
    config.update(overrides)
    return advzoo.build("anogan", **config)


def test_default_data_is_normal_lesion_phantoms_and_fit_evaluate():
    model = tiny_anogan()
    family = advzoo.get_family("anogan")
    data = family.dataset(model, batch_size=16).take(2)
    batch = next(iter(data))
    assert batch.shape == (16, 16, 16, 1)
    normal = advzoo.data.lesions_arrays("train", size=16)
    n_normal = int((normal["labels"] == 0).sum())
    assert sum(int(b.shape[0]) for b in family.dataset(model, batch_size=64)) == n_normal
    history = model.fit(data, epochs=2, verbose=0)
    assert set(history.history) == KEYS
    assert set(model.evaluate(data, verbose=0, return_dict=True)) == KEYS


def test_score_is_residual_and_discrimination_weighted_by_lambda():
    model = tiny_anogan(lambda_feature=0.25)
    images = model.sample(4, seed=0) + 0.1 * np.random.default_rng(0).standard_normal((4, 16, 16, 1)).astype(np.float32)
    parts = model.anomaly_score(images, steps=20, restarts=2)
    np.testing.assert_allclose(parts["score"], 0.75 * parts["residual"] + 0.25 * parts["discrimination"], rtol=1e-4)
    generated = model.generate(parts["z"])
    np.testing.assert_allclose(parts["residual"], np.abs(images - generated).sum(axis=(1, 2, 3)), rtol=1e-4)
    f_x = model.discriminator_features(tf.constant(images)).numpy()
    f_g = model.discriminator_features(tf.constant(generated)).numpy()
    np.testing.assert_allclose(parts["discrimination"], np.abs(f_x - f_g).sum(axis=1), rtol=1e-4)
    # the features are those feeding D's logit
    logits = model.discriminator.get_layer("logits")
    np.testing.assert_allclose(logits(tf.constant(f_x)).numpy(), model.discriminator(images).numpy(), rtol=1e-5, atol=1e-6)


def test_an_image_the_generator_can_make_scores_lower_than_a_corrupted_one():
    model = tiny_anogan()
    clean = model.sample(4, seed=1)
    corrupted = clean.copy()
    corrupted[:, 4:10, 4:10] = -1.0  # a dark blob, as a hypodense lesion
    scores = model.anomaly_score(np.concatenate([clean, corrupted]), steps=150, restarts=2)["score"]
    assert scores[4:].min() > scores[:4].max()


def test_save_load_export_mixed_precision(tmp_path):
    model = tiny_anogan()
    model.fit(advzoo.get_family("anogan").dataset(model, batch_size=16).take(2), verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert type(loaded).__name__ == "AnoGAN" and loaded.get_config() == model.get_config()
    assert loaded.lambda_feature == 0.1 and loaded.family_name == "anogan"
    z = np.random.default_rng(0).standard_normal((3, 8)).astype(np.float32)
    np.testing.assert_array_equal(loaded.generate(z), model.generate(z))
    saved = tf.saved_model.load(str(model.export(tmp_path / "export")))
    spec = saved.signatures["serving_default"].structured_input_signature[1]
    assert [s.dtype for s in spec.values()] == [tf.float32]
    np.testing.assert_allclose(saved.serve(tf.constant(z)).numpy(), model.generate(z), atol=1e-5)

    keras.mixed_precision.set_global_policy("mixed_float16")
    mixed = tiny_anogan()
    history = mixed.fit(advzoo.get_family("anogan").dataset(mixed, batch_size=16).take(2), verbose=0)
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    scores = mixed.anomaly_score(mixed.sample(2, seed=0), steps=5, restarts=1)
    assert scores["score"].dtype == np.float32 and np.all(np.isfinite(scores["score"]))


DISTRIBUTED = r'''
from advzoo.models.anogan import AnoGAN

class FixedCodes(AnoGAN):
    def sample_latent(self, batch_size):
        return tf.ones((batch_size, self.latent_dim)) * 0.3

def build(strategy, weights=None):
    with strategy.scope():
        m = FixedCodes(image_shape=(16, 16, 1), latent_dim=4, generator="mlp", hidden_units=(16, 16),
                       discriminator_filters=4, discriminator_norm="layer")
        m.compile(optimizers={p: keras.optimizers.SGD(0.05) for p in m.players})
        if weights is not None:
            m.set_weights(weights)
    return m

x = np.random.default_rng(0).uniform(-1, 1, (32, 16, 16, 1)).astype("float32")
'''


def test_mirrored_strategy_on_two_cpus_matches_single_device():
    assert_mirrored_matches_single(DISTRIBUTED, data='(x,)',
                                   fit='dict(batch_size=8, epochs=1)')


@pytest.mark.parametrize("bad, match", [
    (dict(lambda_feature=1.5), r"expected a value in \[0, 1\], got 1.5"),
    (dict(latent_dim=0), "latent_dim must be a positive int"),
    (dict(image_shape=(24, 24, 1)), r"4 \* 2\^k"),
])
def test_bad_configuration_fails_at_build_time(bad, match):
    with pytest.raises(ValueError, match=match):
        tiny_anogan(**bad)


def test_default_build():
    model = advzoo.build("anogan")
    assert model.image_shape == (32, 32, 1) and model.lambda_feature == 0.1


def test_cli_trains_three_steps_on_the_default_data(tmp_path):
    from advzoo.cli import main

    out = tmp_path / "run"
    assert main(["train", "anogan", "--steps", "3", "--batch-size", "8", "--out", str(out), "--set", "generator_filters=8", "--set", "discriminator_filters=8", "--set", "image_shape=[16,16,1]"]) == 0
    assert (out / "model.keras").is_file() and (out / "samples.png").is_file()
    assert keras.saving.load_model(out / "model.keras").family_name == "anogan"


def test_window_sets_the_default_data_mapping():
    wide = tiny_anogan(window=(-1024, 1024))
    narrow = tiny_anogan()  # soft tissue, the default
    assert narrow.window == (-160.0, 240.0) and narrow.get_config()["window"] == (-160.0, 240.0)
    family = advzoo.get_family("anogan")
    x_wide = next(iter(family.dataset(wide, batch_size=8, shuffle=False)))
    x_narrow = next(iter(family.dataset(narrow, batch_size=8, shuffle=False)))
    raw = advzoo.data.lesions_arrays("train", size=16)
    normal_hu = raw["images"][raw["labels"] == 0][:8]
    np.testing.assert_allclose(x_narrow, advzoo.data.hu_to_unit(normal_hu, (-160, 240)), atol=1e-6)
    np.testing.assert_allclose(x_wide, advzoo.data.hu_to_unit(normal_hu, (-1024, 1024)), atol=1e-6)
    with pytest.raises(ValueError, match=r"low < high, got \(240.0, -160.0\)"):
        tiny_anogan(window=(240, -160))


def test_preset_loads_and_scores():
    model = advzoo.load("anogan_lesions")
    meta = advzoo.weights.read_metadata(advzoo.weights.resolve_preset("anogan_lesions"))["metrics"]
    assert set(meta) >= {"auc", "auc_residual_only", "auc_discrimination_only"}
    assert model.window == (-160.0, 240.0) and model.lambda_feature == 0.1
    slices = advzoo.data.hu_to_unit(advzoo.data.lesions_arrays("test", n=4, size=32)["images"], model.window)
    parts = model.anomaly_score(slices, steps=20, restarts=1)
    assert parts["score"].shape == (4,) and np.all(np.isfinite(parts["score"]))
