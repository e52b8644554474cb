"""The `gan` family end to end: fit/evaluate for every objective and backbone, n_critic,
save/load with optimizer state, mixed precision, distribution, minibatch discrimination."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import advzoo
from advzoo.layers import MinibatchDiscrimination
from advzoo.losses import OBJECTIVES
from conftest import assert_mirrored_matches_single, tiny_gan


@pytest.mark.parametrize("backbone", ["mlp", "dcgan"])
@pytest.mark.parametrize("objective", sorted(OBJECTIVES))
def test_fit_and_evaluate_every_objective_and_backbone(objective, backbone, tiny_digits):
    images, _ = tiny_digits
    model = tiny_gan(generator=backbone, discriminator=backbone, objective=objective, n_critic=1)
    seen = []
    probe = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(dict(logs)))
    history = model.fit(images, batch_size=16, epochs=2, verbose=0, callbacks=[probe])
    expected = {"d_loss", "g_loss", "d_real", "d_fake"}
    if objective == "wgan_gp":
        expected.add("gradient_penalty")
    assert set(history.history) == expected
    assert all(len(v) == 2 and np.all(np.isfinite(v)) for v in history.history.values())
    assert len(seen) == 2 and set(seen[0]) == expected  # a callback sees every loss
    result = model.evaluate(images, batch_size=16, verbose=0, return_dict=True)
    assert set(result) == expected
    # every step updated each player once (n_critic=1), through fit's own loop
    assert int(model.discriminator_optimizer.iterations) == 4
    assert int(model.generator_optimizer.iterations) == 4


def test_training_moves_both_players(tiny_digits):
    images, _ = tiny_digits
    model = tiny_gan(generator="mlp", discriminator="mlp")
    before = [w.numpy().copy() for w in model.generator.trainable_weights + model.discriminator.trainable_weights]
    model.fit(images, batch_size=16, epochs=1, verbose=0)
    after = model.generator.trainable_weights + model.discriminator.trainable_weights
    assert all(not np.allclose(b, a.numpy()) for b, a in zip(before, after))


@pytest.mark.parametrize("objective", ["wgan", "wgan_gp"])
def test_n_critic_five_critic_updates_per_generator_update(objective, tiny_digits):
    images, _ = tiny_digits
    model = tiny_gan(generator="mlp", discriminator="mlp", objective=objective)
    assert model.n_critic == 5  # the paper default
    model.fit(images, batch_size=8, epochs=1, verbose=0)  # 4 steps
    assert int(model.generator_optimizer.iterations) == 4
    assert int(model.discriminator_optimizer.iterations) == 20
    assert int(model.optimizer.iterations) == 4  # what TensorBoard and steps/s read


def test_wgan_clips_critic_weights_after_every_update(tiny_digits):
    images, _ = tiny_digits
    model = tiny_gan(generator="mlp", discriminator="mlp", objective="wgan")
    model.fit(images, batch_size=16, epochs=1, verbose=0)
    assert max(np.abs(w.numpy()).max() for w in model.discriminator.trainable_weights) <= 0.01 + 1e-7
    assert max(np.abs(w.numpy()).max() for w in model.generator.trainable_weights) > 0.01


def test_default_optimizers_follow_objective_and_can_be_overridden():
    model = tiny_gan(generator="mlp", discriminator="mlp", objective="wgan")
    assert isinstance(model.discriminator_optimizer, keras.optimizers.RMSprop)
    model.compile(optimizers={"generator": keras.optimizers.SGD(0.1)})
    assert isinstance(model.generator_optimizer, keras.optimizers.SGD)
    assert isinstance(model.discriminator_optimizer, keras.optimizers.RMSprop)
    with pytest.raises(ValueError, match="player.*'discriminatr'.*'discriminator'"):
        model.compile(optimizers={"discriminatr": "adam"})


def test_save_load_same_samples_and_training_continues(tmp_path, tiny_digits):
    images, _ = tiny_digits
    model = tiny_gan(objective="wgan_gp", n_critic=2)
    model.fit(images, batch_size=16, epochs=1, verbose=0)
    path = tmp_path / "x.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
    z = np.random.default_rng(0).standard_normal((5, model.latent_dim)).astype(np.float32)
    np.testing.assert_array_equal(loaded.generate(z), model.generate(z))
    for player in ("generator", "discriminator"):
        saved = getattr(model, f"{player}_optimizer").variables
        restored = getattr(loaded, f"{player}_optimizer").variables
        assert len(saved) == len(restored) > 2
        for a, b in zip(saved, restored):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert int(loaded.discriminator_optimizer.iterations) == 4
    loaded.fit(images, batch_size=16, epochs=1, verbose=0)
    assert int(loaded.discriminator_optimizer.iterations) == 8
    assert int(loaded.generator_optimizer.iterations) == 4


def test_wrong_input_shape_to_fit_is_a_clear_error():
    model = tiny_gan()
    with pytest.raises(ValueError, match=r"expects samples of shape \(batch, 8, 8, 1\), got \(batch, 16, 16, 1\)"):
        model.fit(np.zeros((8, 16, 16, 1), np.float32), batch_size=4, epochs=1, verbose=0)
    assert int(model.generator_optimizer.iterations) == 0


@pytest.mark.parametrize("bad, match", [
    (dict(image_shape=(12, 12, 1)), r"4 \* 2\^k"),
    (dict(image_shape=(16, 8, 1)), "square"),
    (dict(latent_dim=0), "latent_dim must be a positive int"),
    (dict(generator="unet"), r"'unet'.*Expected one of: dcgan, mlp"),
    (dict(objective="wgan_gp", discriminator_norm="batch"), "batch norm"),
    (dict(n_critic=0), "n_critic"),
    (dict(discriminator_norm="group"), "Expected one of"),
])
def test_bad_configuration_fails_at_build_time(bad, match):
    with pytest.raises(ValueError, match=match):
        tiny_gan(**bad)


def test_mixed_precision_fit_and_float32_export(tmp_path, tiny_digits):
    images, _ = tiny_digits
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = tiny_gan(objective="wgan_gp", n_critic=2, discriminator_norm="layer")
    assert model.generator.layers[2].compute_dtype == "float16"
    for player in ("generator", "discriminator"):
        assert isinstance(getattr(model, f"{player}_optimizer"), keras.optimizers.LossScaleOptimizer)
    history = model.fit(images, batch_size=16, epochs=2, verbose=0)
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    step = model.train_step(tf.constant(images[:8]))
    assert all(v.dtype == tf.float32 for v in step.values())
    assert int(model.generator_optimizer.iterations) > 0  # updates were applied, not all skipped
    path = model.export(tmp_path / "mp")
    loaded = tf.saved_model.load(str(path))  # keep a reference: its variables die with it
    serve = loaded.signatures["serving_default"]
    spec = serve.structured_input_signature[1]
    assert [s.dtype for s in spec.values()] == [tf.float32]
    z = np.random.default_rng(0).standard_normal((3, model.latent_dim)).astype(np.float32)
    out = list(serve(tf.constant(z)).values())[0]
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), model.generate(z), atol=1e-3)


DISTRIBUTED = r'''
import advzoo.losses
from advzoo.models.gan import GAN

# Random draws differ between one device and two; fix them so the runs must agree exactly:
# the gradient penalty's interpolates at the midpoint, and the codes below.
advzoo.losses.interpolate = lambda real, fake, seed=None: 0.5 * (real + fake)

class FixedCodeGAN(GAN):  # the same z for a sample on one device or two
    def sample_latent(self, batch_size):
        return tf.ones((batch_size, self.latent_dim)) * 0.3

def build(strategy, weights=None):
    with strategy.scope():
        m = FixedCodeGAN(image_shape=(8, 8, 1), generator="mlp", discriminator="mlp",
                         latent_dim=4, hidden_units=(16, 16), objective=OBJECTIVE, n_critic=2)
        m.compile(optimizers={"generator": keras.optimizers.SGD(0.05),
                              "discriminator": keras.optimizers.SGD(0.05)})
        if weights is not None:
            m.set_weights(weights)
    return m

x = np.random.default_rng(0).uniform(-1, 1, (32, 8, 8, 1)).astype("float32")
'''


@pytest.mark.parametrize("objective", ["nsgan", "wgan_gp"])
def test_mirrored_strategy_on_two_cpus_matches_single_device(objective):
    assert_mirrored_matches_single(DISTRIBUTED.replace("OBJECTIVE", repr(objective)), data='(x,)',
                                   fit='dict(batch_size=8, epochs=2)')


def test_minibatch_discrimination_layer_matches_definition():
    layer = MinibatchDiscrimination(num_kernels=3, kernel_dim=2)
    features = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    out = layer(features).numpy()
    assert out.shape == (4, 5 + 3)
    np.testing.assert_allclose(out[:, :5], features)
    m = (features @ layer.kernel.numpy()).reshape(4, 3, 2)
    expected = np.zeros((4, 3))
    for i in range(4):
        for j in range(4):
            if i != j:
                expected[i] += np.exp(-np.abs(m[i] - m[j]).sum(axis=-1))
    np.testing.assert_allclose(out[:, 5:], expected, rtol=1e-5)
    # identical samples are maximally close: each kernel sums exp(0) over the N - 1 others
    same = layer(np.repeat(features[:1], 4, axis=0)).numpy()
    np.testing.assert_allclose(same[:, 5:], 3.0, rtol=1e-6)
    with pytest.raises(ValueError, match="num_kernels >= 1"):
        MinibatchDiscrimination(num_kernels=0)


@pytest.mark.parametrize("backbone", ["mlp", "dcgan"])
def test_minibatch_discrimination_option_trains_and_round_trips(backbone, tmp_path, tiny_digits):
    images, _ = tiny_digits
    model = tiny_gan(generator=backbone, discriminator=backbone, minibatch_discrimination=(4, 3))
    assert any(isinstance(l, MinibatchDiscrimination) for l in model.discriminator.layers)
    model.fit(images, batch_size=16, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.discriminator(images[:4]), model.discriminator(images[:4]), rtol=1e-5)


def test_ring_gan_on_points():
    model = advzoo.build("gan", image_shape=(2,), generator="mlp", discriminator="mlp",
                         output_activation="linear", latent_dim=4, hidden_units=(16, 16))
    data = advzoo.get_family("gan").dataset(model, batch_size=32)
    history = model.fit(data.take(3), epochs=1, verbose=0)
    assert np.isfinite(history.history["d_loss"][0])
    report = model.sample_report(n=64)
    assert set(report) == {"modes_covered", "high_quality"}


def test_latent_utilities_on_the_generator():
    model = tiny_gan()
    assert model.sample(6, seed=1).shape == (6, 8, 8, 1)
    np.testing.assert_array_equal(model.sample(3, seed=1), model.sample(3, seed=1))
    path = model.interpolate(steps=5, method="linear", seed=2)
    assert path.shape == (5, 8, 8, 1)
    grid = model.sample_grid(9, seed=0, columns=3)
    assert grid.dtype == np.uint8 and grid.shape == (3 * 9 + 1, 3 * 9 + 1, 1)
    with pytest.raises(ValueError, match=r"shape \(n, 8\)"):
        model.generate(np.zeros((2, 3), np.float32))


def test_joint_update_of_two_players_steps_each_optimizer_once(tiny_digits):
    # BiGAN-style: one loss, two players, each with its own optimizer
    model = tiny_gan(generator="mlp", discriminator="mlp")
    images = tf.constant(tiny_digits[0][:8])
    before = [w.numpy().copy() for w in model.generator.trainable_weights + model.discriminator.trainable_weights]
    model.apply_update(("generator", "discriminator"),
                       lambda: model.discriminator_losses(images, training=True))
    assert int(model.generator_optimizer.iterations) == 1
    assert int(model.discriminator_optimizer.iterations) == 1
    after = model.generator.trainable_weights + model.discriminator.trainable_weights
    assert all(not np.allclose(b, a.numpy()) for b, a in zip(before, after))


@pytest.mark.parametrize("objective", ["nsgan", "wgan_gp"])
def test_jit_compile_and_steps_per_execution_pass_through(objective, tiny_digits):
    images, _ = tiny_digits
    model = tiny_gan(generator="mlp", discriminator="mlp", objective=objective, n_critic=2)
    model.compile(jit_compile=True, steps_per_execution=2)
    assert model.jit_compile is True and model.steps_per_execution == 2
    history = model.fit(images, batch_size=8, epochs=1, verbose=0)  # 4 steps, 2 per call
    assert np.isfinite(history.history["g_loss"][0])
    assert int(model.generator_optimizer.iterations) == 4
    assert int(model.discriminator_optimizer.iterations) == 8


def test_summary_and_fit_with_validation_and_early_stopping(tiny_digits):
    images, _ = tiny_digits
    model = tiny_gan(generator="mlp", discriminator="mlp")
    lines = []
    model.summary(print_fn=lambda line, **kwargs: lines.append(line))
    assert any("generator" in line for line in lines)
    stop = keras.callbacks.EarlyStopping(monitor="val_d_loss", patience=0, mode="max")
    history = model.fit(images[:16], validation_data=images[16:], batch_size=8, epochs=5,
                        verbose=0, callbacks=[stop])
    assert {"val_d_loss", "val_g_loss"} <= set(history.history)
    assert 1 <= len(history.history["d_loss"]) <= 5


def test_tensorboard_callback_writes_every_loss(tmp_path, tiny_digits):
    images, _ = tiny_digits
    model = tiny_gan(generator="mlp", discriminator="mlp")
    model.fit(images, batch_size=16, epochs=2, verbose=0,
              callbacks=[keras.callbacks.TensorBoard(str(tmp_path), update_freq="epoch")])
    tags = set()
    for event_file in (tmp_path / "train").glob("events.out.tfevents.*"):
        for record in tf.compat.v1.train.summary_iterator(str(event_file)):
            tags.update(v.tag for v in record.summary.value)
    assert {"epoch_d_loss", "epoch_g_loss", "epoch_d_real", "epoch_d_fake"} <= tags
