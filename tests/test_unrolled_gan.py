"""The `unrolled_gan` family: the look-ahead is Eq. 5-7 of Metz et al., G's gradient goes through
it, D's own update is untouched; fit/evaluate, save/load, export, mixed precision, distribution."""
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import advzoo
from conftest import assert_mirrored_matches_single

POINTS = np.random.default_rng(0).normal(0, 1, (32, 2)).astype(np.float32)


def tiny(**overrides):
    config = dict(latent_dim=4, hidden_units=(16, 16), unrolling_steps=2, seed=0)
    config.update(overrides)
    return advzoo.build("unrolled_gan", **config)


def test_fit_and_evaluate_report_the_same_losses():
    model = tiny()
    history = model.fit(POINTS, batch_size=8, epochs=2, verbose=0)
    expected = {"d_loss", "g_loss", "g_loss_unrolled", "d_real", "d_fake"}
    assert set(history.history) == expected
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    assert set(model.evaluate(POINTS, batch_size=8, verbose=0, return_dict=True)) == expected
    # one D update (the ordinary one) and one G update per step: the look-ahead steps no optimizer
    assert int(model.discriminator_optimizer.iterations) == 8
    assert int(model.generator_optimizer.iterations) == 8


def test_sgd_lookahead_is_eq_5_and_leaves_d_untouched():
    model = tiny(unrolling_steps=1, unrolling_optimizer="sgd", unrolling_learning_rate=0.5)
    real = tf.constant(POINTS[:8])
    fake = model.generator(model.sample_latent(8))
    before = [v.numpy().copy() for v in model.discriminator.trainable_variables]
    params, _ = model.unroll_discriminator(real, fake)
    with tf.GradientTape() as tape:
        loss = model.objective.discriminator_loss(model.discriminator(real), model.discriminator(fake))
    grads = tape.gradient(loss, model.discriminator.trainable_variables)
    for p, b, g in zip(params, before, grads):
        np.testing.assert_allclose(p.numpy(), b - 0.5 * g.numpy(), rtol=1e-5, atol=1e-6)
    for v, b in zip(model.discriminator.trainable_variables, before):
        np.testing.assert_array_equal(v.numpy(), b)


def test_generator_gradient_includes_the_lookahead_term():
    # f_K's gradient w.r.t. theta_G differs from f_0's (plain GAN) only through d theta_D^K / d theta_G
    # and the moved D; with K = 0 the two losses coincide exactly.
    real = tf.constant(POINTS[:16])
    z = tf.constant(np.random.default_rng(1).normal(size=(16, 4)).astype(np.float32))
    grads = {}
    for k in (0, 3):
        model = tiny(unrolling_steps=k, unrolling_optimizer="sgd", unrolling_learning_rate=1.0)
        model.sample_latent = lambda batch_size: z
        with tf.GradientTape() as tape:
            loss, logs = model.generator_losses(real, training=True)
        grads[k] = [g.numpy() for g in tape.gradient(loss, model.generator.trainable_variables)]
        if k == 0:
            np.testing.assert_allclose(float(logs["g_loss_unrolled"]), float(logs["g_loss"]), rtol=1e-6)
        else:
            assert abs(float(logs["g_loss_unrolled"]) - float(logs["g_loss"])) > 1e-4
    assert all(np.all(np.isfinite(g)) for g in grads[3])
    assert max(np.abs(a - b).max() for a, b in zip(grads[0], grads[3])) > 1e-4


def test_adam_lookahead_gradient_is_finite_where_a_d_gradient_is_exactly_zero():
    model = tiny(unrolling_steps=2, unrolling_optimizer="adam")
    logits = model.discriminator.get_layer("logits")
    kernel = logits.kernel.numpy()
    kernel[0] = 0.0  # hidden unit 0 no longer reaches the logit: its weights get exactly 0 gradient
    logits.kernel.assign(kernel)
    with tf.GradientTape() as tape:
        loss, _ = model.generator_losses(tf.constant(POINTS[:8]), training=True)
    grads = tape.gradient(loss, model.generator.trainable_variables)
    assert all(np.all(np.isfinite(g.numpy())) for g in grads)


def test_save_load_identical_samples(tmp_path):
    model = tiny()
    model.fit(POINTS, batch_size=8, epochs=1, verbose=0)
    model.save(tmp_path / "u.keras")
    loaded = keras.saving.load_model(tmp_path / "u.keras")
    assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
    assert loaded.unrolling_steps == 2 and loaded.unrolling_optimizer == "adam"
    z = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.generate(z), model.generate(z))
    loaded.fit(POINTS, batch_size=8, epochs=1, verbose=0)
    assert int(loaded.generator_optimizer.iterations) == 8


def test_export_float32_signature(tmp_path):
    model = tiny()
    loaded = tf.saved_model.load(str(model.export(tmp_path / "exp")))
    serve = loaded.signatures["serving_default"]
    assert [s.dtype for s in serve.structured_input_signature[1].values()] == [tf.float32]
    z = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(list(serve(tf.constant(z)).values())[0].numpy(), model.generate(z),
                               atol=1e-6)


def test_mixed_precision_step():
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = tiny(objective="wgan_gp", n_critic=1, discriminator_norm="layer")
    assert model.generator.layers[1].compute_dtype == "float16"
    logs = model.train_step(tf.constant(POINTS[:8]))
    assert all(v.dtype == tf.float32 and np.isfinite(v.numpy()) for v in logs.values())
    assert "gradient_penalty" in logs


def test_cli_train_three_steps(tmp_path):
    from advzoo.cli import main

    assert main(["train", "unrolled_gan", "--steps", "3", "--batch-size", "8",
                 "--out", str(tmp_path / "run"), "--set", "hidden_units=[8,8]"]) == 0
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert {"g_loss_unrolled", "val_g_loss_unrolled"} <= set(history)


@pytest.mark.parametrize("bad, match", [
    (dict(unrolling_steps=-1), r"unrolling_steps must be an int >= 0.*got -1"),
    (dict(unrolling_steps=2.5), r"unrolling_steps must be an int >= 0.*got 2.5"),
    (dict(unrolling_optimizer="rmsprop"), r"'rmsprop'.*Expected one of: adam, sgd"),
    (dict(unrolling_learning_rate=0.0), "unrolling_learning_rate must be > 0"),
    (dict(latent_dim=0), "latent_dim must be a positive int"),
])
def test_bad_configuration_fails_at_build_time(bad, match):
    with pytest.raises(ValueError, match=match):
        tiny(**bad)


DISTRIBUTED = r'''
from advzoo.models.unrolled import UnrolledGAN

class Fixed(UnrolledGAN):  # the same z for a sample on one device or two
    def sample_latent(self, batch_size):
        return tf.ones((batch_size, self.latent_dim)) * 0.3

def build(strategy, weights=None):
    with strategy.scope():
        m = Fixed(latent_dim=4, hidden_units=(16, 16), unrolling_steps=2,
                  unrolling_optimizer="sgd", unrolling_learning_rate=0.1)
        m.compile(optimizers={"generator": keras.optimizers.SGD(0.05),
                              "discriminator": keras.optimizers.SGD(0.05)})
        if weights is not None:
            m.set_weights(weights)
    return m

x = np.random.default_rng(0).normal(0, 1, (32, 2)).astype("float32")
'''


def test_mirrored_strategy_on_two_cpus_matches_single_device():
    assert_mirrored_matches_single(DISTRIBUTED, data='(x,)',
                                   fit='dict(batch_size=8, epochs=2)')
