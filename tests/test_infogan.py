"""The `infogan` family: structured codes, the mutual-information term, fit/evaluate, save/load,
export, mixed precision, distribution, bad options."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import advzoo
from advzoo.losses import mutual_information_loss
from advzoo.models.infogan import matched_accuracy
from conftest import assert_mirrored_matches_single

KEYS = {"d_loss", "g_loss", "d_real", "d_fake", "mi_categorical", "mi_continuous"}


def tiny_infogan(**overrides):
    config = dict(image_shape=(8, 8, 1), noise_dim=6, categorical_codes=(10,), continuous_codes=2,
                  generator_filters=8, discriminator_filters=8, q_units=16, seed=0)
    config.update(overrides)
    return advzoo.build("infogan", **config)


def test_fit_and_evaluate(tiny_digits):
    images, _ = tiny_digits
    model = tiny_infogan()
    assert model.latent_dim == 6 + 10 + 2
    history = model.fit(images, batch_size=16, epochs=6, verbose=0)
    assert set(history.history) == KEYS
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    assert set(model.evaluate(images, batch_size=16, verbose=0, return_dict=True)) == KEYS
    assert int(model.generator_optimizer.iterations) == 12
    assert 0.0 < history.history["mi_categorical"][0] < 2 * np.log(10)
    only_continuous = tiny_infogan(categorical_codes=(), continuous_codes=3)
    h = only_continuous.fit(images, batch_size=16, epochs=1, verbose=0)
    assert set(h.history) == KEYS - {"mi_categorical"}


def test_mutual_information_term_trains_g_and_q_to_carry_the_code():
    model = tiny_infogan()
    model.compile(optimizers={p: keras.optimizers.Adam(1e-2) for p in model.players})
    latent = model.sample_latent(32)

    def information():
        out = model.discriminator(model.generator(latent, training=True), training=True)
        return model.information_loss(latent, out[1:])

    first = float(information()[1]["mi_categorical"])
    assert first == pytest.approx(np.log(10), rel=0.3)  # Q knows nothing yet
    g_before = [w.numpy().copy() for w in model.generator.trainable_weights]
    for _ in range(30):
        model.apply_update(("discriminator", "generator"), information)
    assert float(information()[1]["mi_categorical"]) < 0.3 * first
    assert all(not np.allclose(b, a.numpy()) for b, a in zip(g_before, model.generator.trainable_weights))


def test_structured_prior():
    model = tiny_infogan(categorical_codes=(10, 3))
    codes = model.prior(50, seed=0)
    assert codes.shape == (50, 6 + 13 + 2)
    cat, cont = model.split_codes(codes)
    assert [c.shape[1] for c in cat] == [10, 3]
    for c in cat:
        np.testing.assert_array_equal(c.sum(axis=1), 1.0)
        assert set(np.unique(c)) == {0.0, 1.0}
    assert cont.shape == (50, 2) and np.all(np.abs(cont) <= 1.0)
    fixed = model.prior(4, seed=1, categorical=[[2, 0], [5, 1], [9, 2], [0, 0]], continuous=np.zeros((4, 2)))
    cat, cont = model.split_codes(fixed)
    np.testing.assert_array_equal(cat[0].argmax(axis=1), [2, 5, 9, 0])
    np.testing.assert_array_equal(cat[1].argmax(axis=1), [0, 1, 2, 0])
    np.testing.assert_array_equal(cont, 0.0)
    graph_codes = model.sample_latent(64).numpy()
    graph_cat, graph_cont = model.split_codes(graph_codes)
    np.testing.assert_array_equal(graph_cat[0].sum(axis=1), 1.0)
    assert np.all(np.abs(graph_cont) <= 1.0)
    with pytest.raises(ValueError, match=r"categorical code 1 takes values in \[0, 3\)"):
        model.prior(1, categorical=[[0, 3]])
    with pytest.raises(ValueError, match=r"continuous codes of shape \(2, 2\)"):
        model.prior(2, continuous=np.zeros((2, 3)))


def test_mutual_information_loss_matches_its_definition():
    rng = np.random.default_rng(0)
    codes = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 8)]
    logits = rng.standard_normal((8, 4)).astype(np.float32)
    cont = rng.uniform(-1, 1, (8, 2)).astype(np.float32)
    means = rng.standard_normal((8, 2)).astype(np.float32)
    total, parts = mutual_information_loss([codes], [logits], cont, means, 1.0, 0.1)
    log_q = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected_cat = -(codes * log_q).sum(axis=1).mean()
    expected_cont = (0.5 * ((cont - means) ** 2).sum(axis=1)).mean()
    np.testing.assert_allclose(parts["mi_categorical"], expected_cat, rtol=1e-5)
    np.testing.assert_allclose(parts["mi_continuous"], expected_cont, rtol=1e-5)
    np.testing.assert_allclose(total, expected_cat + 0.1 * expected_cont, rtol=1e-5)
    with pytest.raises(ValueError, match="2 categorical codes but 1 logit"):
        mutual_information_loss([codes, codes], [logits])


def test_matched_accuracy():
    classes = np.repeat(np.arange(5), 4)
    permuted = (classes + 2) % 5  # the same clustering under other names
    assert matched_accuracy(permuted, classes) == 1.0
    merged = np.where(classes == 4, 0, classes)  # two classes share a cluster
    assert matched_accuracy(merged, classes) == pytest.approx(0.8)


def test_save_load_and_float32_export(tmp_path, tiny_digits):
    images, _ = tiny_digits
    model = tiny_infogan()
    model.fit(images, batch_size=16, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.get_config() == model.get_config()
    codes = model.prior(5, seed=2)
    np.testing.assert_array_equal(loaded.generate(codes), model.generate(codes))
    q_model, q_loaded = model.predict_codes(images[:4]), loaded.predict_codes(images[:4])
    np.testing.assert_allclose(q_model[0][0], q_loaded[0][0], rtol=1e-6)
    saved = tf.saved_model.load(str(model.export(tmp_path / "export")))
    spec = saved.signatures["serving_default"].structured_input_signature[1]
    assert [s.dtype for s in spec.values()] == [tf.float32]
    np.testing.assert_allclose(saved.serve(tf.constant(codes)).numpy(), model.generate(codes), atol=1e-5)


def test_mixed_precision_step(tiny_digits):
    images, _ = tiny_digits
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = tiny_infogan()
    assert model.discriminator.get_layer("q_hidden").compute_dtype == "float16"
    assert all(o.dtype == "float32" for o in model.discriminator.outputs)
    history = model.fit(images, batch_size=16, epochs=1, verbose=0)
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    assert int(model.generator_optimizer.iterations) > 0


DISTRIBUTED = r'''
from advzoo.models.infogan import InfoGAN

class FixedCodes(InfoGAN):
    def sample_latent(self, batch_size):
        # per-replica batches of 4 see the same codes as the global batch of 8
        codes = tf.one_hot(tf.range(batch_size) % 4, 4)
        return tf.concat([tf.ones((batch_size, self.noise_dim)) * 0.3, codes,
                          tf.ones((batch_size, 1)) * 0.5], axis=1)

def build(strategy, weights=None):
    with strategy.scope():
        m = FixedCodes(image_shape=(8, 8, 1), noise_dim=4, categorical_codes=(4,),
                       continuous_codes=1, generator_filters=4, discriminator_filters=4,
                       q_units=8, generator_norm="none", discriminator_norm="layer")
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
    (dict(categorical_codes=(), continuous_codes=0), "code of dimension >= 1"),
    (dict(categorical_codes=(10, 1)), r"each categorical code needs >= 2 values.*\(10, 1\)"),
    (dict(continuous_codes=-1), r"continuous_codes must be an int >= 0, got -1"),
    (dict(noise_dim=-2), "noise_dim must be an int >= 0, got -2"),
    (dict(lambda_categorical=-1.0), "lambda_categorical must be >= 0"),
    (dict(image_shape=(10, 10, 1)), r"4 \* 2\^k"),
    (dict(objective="wgan_gp", discriminator_norm="batch"), "batch norm"),
])
def test_bad_configuration_fails_at_build_time(bad, match):
    with pytest.raises(ValueError, match=match):
        tiny_infogan(**bad)


def test_default_build():
    model = advzoo.build("infogan")
    assert model.latent_dim == 62 + 10 + 2 and model.generate(model.prior(2, seed=0)).shape == (2, 16, 16, 1)


def test_default_optimizers_follow_chen():
    model = tiny_infogan()
    assert float(model.generator_optimizer.learning_rate) == pytest.approx(1e-3)
    assert float(model.discriminator_optimizer.learning_rate) == pytest.approx(2e-4)
    critic = tiny_infogan(objective="wgan_gp", n_critic=1)
    assert float(critic.generator_optimizer.learning_rate) == pytest.approx(1e-4)


def test_cli_trains_three_steps_on_the_default_data(tmp_path):
    from advzoo.cli import main

    out = tmp_path / "run"
    assert main(["train", "infogan", "--steps", "3", "--batch-size", "8", "--out", str(out), "--set", "generator_filters=8", "--set", "discriminator_filters=8", "--set", "q_units=8"]) == 0
    assert (out / "model.keras").is_file() and (out / "samples.png").is_file()
    assert keras.saving.load_model(out / "model.keras").family_name == "infogan"


def test_preset_code_picks_the_digit_class():
    model = advzoo.load("infogan_digits")
    report = model.sample_report(n=300)
    assert report["code_class_accuracy"] > 0.45  # chance after matching is about 0.1-0.15
