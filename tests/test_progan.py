"""The `progan` family: growth with fade-in inside one fit via the callback, real images at the
current resolution, joint image + mask synthesis and its Dice; fit/evaluate, save/load, export,
mixed precision, distribution, bad options."""
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import advzoo
from advzoo.training.callbacks import ProgressiveGrowing
from conftest import assert_mirrored_matches_single


def tiny(**overrides):
    """Three stages, 4 -> 8 -> 16, image + bone mask."""
    config = dict(image_shape=(16, 16, 2), start_size=4, latent_dim=8, filters=8, seed=0)
    config.update(overrides)
    return advzoo.build("progan", **config)


@pytest.fixture(scope="module")
def slices():
    data = advzoo.data.ct_slices("train", n=16, size=16, labels=True)
    images, labels = (np.stack(a) for a in zip(*data.as_numpy_iterator()))
    masks = (labels == advzoo.data.CT_LABELS.index("bone")) * 2.0 - 1.0
    return np.concatenate([images, masks], axis=-1).astype(np.float32)


def blocks_are_constant(images, size):
    n, side = images.shape[0], images.shape[1]
    f = side // size
    tiles = images.reshape(n, size, f, size, f, -1)
    return np.allclose(tiles, tiles[:, :, :1, :, :1], atol=1e-5)


def test_schedule_of_the_callback():
    growth = [ProgressiveGrowing.growth_at(s, 2, 3) for s in range(12)]
    assert growth == [(0, 1.0), (0, 1.0), (1, 0.5), (1, 1.0), (1, 1.0), (1, 1.0),
                      (2, 0.5), (2, 1.0), (2, 1.0), (2, 1.0), (2, 1.0), (2, 1.0)]
    with pytest.raises(ValueError, match="phase_steps >= 1"):
        ProgressiveGrowing(0)


def test_outputs_have_the_resolution_of_the_active_stage(slices):
    model = tiny()
    assert model.stages == 3 and model.growth == (0, 1.0) and model.resolution == 4
    samples = model.sample(4, seed=0)
    assert samples.shape == (4, 16, 16, 2) and blocks_are_constant(samples, 4)
    real = model.real_at_growth(tf.constant(slices[:4])).numpy()
    assert blocks_are_constant(real, 4)
    np.testing.assert_allclose(real[:, 0, 0], slices[:4, :4, :4].mean(axis=(1, 2)), rtol=1e-5)
    model.set_growth(1, 1.0)
    assert blocks_are_constant(model.sample(4, seed=0), 8)
    assert not blocks_are_constant(model.sample(4, seed=0), 4)
    model.set_growth(1, 0.5)  # half-way: the mean of the 4x4 and 8x8 versions
    half = model.real_at_growth(tf.constant(slices[:4])).numpy()
    model.set_growth(0, 1.0)
    coarse = model.real_at_growth(tf.constant(slices[:4])).numpy()
    model.set_growth(1, 1.0)
    fine = model.real_at_growth(tf.constant(slices[:4])).numpy()
    np.testing.assert_allclose(half, 0.5 * (coarse + fine), atol=1e-6)
    model.set_growth(2, 1.0)
    np.testing.assert_allclose(model.real_at_growth(tf.constant(slices[:4])).numpy(), slices[:4])
    with pytest.raises(ValueError, match="0 <= level < 3"):
        model.set_growth(3, 1.0)


def test_one_fit_grows_to_full_size_through_the_fade_ins(slices):
    model = tiny()
    growing = ProgressiveGrowing(phase_steps=2)
    history = model.fit(slices, batch_size=4, epochs=3, verbose=0, callbacks=[growing])  # 12 steps
    assert growing.history[:8] == [(0, 1.0), (0, 1.0), (1, 0.5), (1, 1.0), (1, 1.0), (1, 1.0),
                                   (2, 0.5), (2, 1.0)]
    assert model.growth == (2, 1.0) and model.resolution == 16
    assert history.history["level"] == pytest.approx([0.5, 1.5, 2.0])
    assert not blocks_are_constant(model.sample(4, seed=0), 8)
    expected = {"d_loss", "g_loss", "d_real", "d_fake", "gradient_penalty", "drift", "level", "alpha"}
    assert set(history.history) == expected
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    assert set(model.evaluate(slices, batch_size=4, verbose=0, return_dict=True)) == expected
    assert int(model.generator_optimizer.iterations) == 12  # n_critic = 1 (Karras)
    assert int(model.discriminator_optimizer.iterations) == 12


def test_fit_adds_the_schedule_itself(slices):
    model = tiny()
    model.fit(slices, batch_size=4, epochs=1, verbose=0)  # 4 steps: 5 phases of 1 step (floor)
    assert model.growth == (2, 1.0)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        tiny().fit(tf.data.Dataset.from_tensor_slices(slices).batch(4).repeat(), epochs=1,
                   steps_per_epoch=None, verbose=0)


def test_mask_alignment_measure(slices):
    model = tiny()
    real = model.mask_alignment(slices)
    assert real["dice_bone"] > 0.8  # a real mask lines up with its own image's bone
    assert real["dice_bone_shuffled"] < real["dice_bone"] - 0.2  # not with another image's
    report = model.sample_report(n=16)
    assert set(report) == {"resolution", "samples", "dice_bone", "dice_bone_shuffled_pairs",
                           "dice_bone_real_data"}
    assert report["dice_bone_real_data"] > 0.8


def test_save_load_identical_samples_and_growth(tmp_path, slices):
    model = tiny()
    model.fit(slices[:8], batch_size=4, epochs=1, verbose=0, callbacks=[ProgressiveGrowing(1)])
    model.set_growth(1, 0.25)
    model.save(tmp_path / "p.keras")
    loaded = keras.saving.load_model(tmp_path / "p.keras")
    assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
    assert loaded.growth == (1, 0.25)
    z = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
    np.testing.assert_array_equal(loaded.generate(z), model.generate(z))


def test_export_float32_signature(tmp_path):
    model = tiny()
    model.set_growth(2, 1.0)
    loaded = tf.saved_model.load(str(model.export(tmp_path / "exp")))
    serve = loaded.signatures["serving_default"]
    assert [s.dtype for s in serve.structured_input_signature[1].values()] == [tf.float32]
    z = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
    out = list(serve(tf.constant(z)).values())[0].numpy()
    assert out.shape == (4, 16, 16, 2)
    np.testing.assert_allclose(out, model.generate(z), atol=1e-5)


def test_mixed_precision_step(slices):
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = tiny()
    assert model.generator.get_layer("conv_1a").compute_dtype == "float16"
    model.set_growth(1, 0.5)
    logs = model.train_step(tf.constant(slices[:8]))
    assert all(v.dtype == tf.float32 and np.isfinite(v.numpy()) for v in logs.values())
    assert float(logs["alpha"]) == 0.5
    assert model.sample(2).dtype == np.float32


def test_cli_train_three_steps(tmp_path):
    from advzoo.cli import main

    assert main(["train", "progan", "--steps", "3", "--batch-size", "8",
                 "--out", str(tmp_path / "run"), "--set", "image_shape=[16,16,2]",
                 "--set", "filters=8", "--set", "latent_dim=8"]) == 0
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert {"drift", "level", "val_d_loss"} <= set(history)


@pytest.mark.parametrize("bad, match", [
    (dict(image_shape=(24, 24, 2)), r"4 \* 2\^k with k >= 1.*got image side 24"),
    (dict(image_shape=(16, 16, 2), start_size=16), r"16 \* 2\^k with k >= 1.*got image side 16"),
    (dict(start_size=6), "start_size must be a power of two >= 4, got 6"),
    (dict(image_shape=(16, 8, 2)), "square"),
    (dict(image_shape=(16, 16, 1)), "no image channel beside the 1 mask channels"),
    (dict(mask_organs=("heart",)), "mask_organs must be distinct organs"),
    (dict(drift=-1.0), "drift must be >= 0"),
    (dict(latent_dim=0), "latent_dim must be a positive int"),
])
def test_bad_configuration_fails_at_build_time(bad, match):
    with pytest.raises(ValueError, match=match):
        tiny(**bad)


DISTRIBUTED = r'''
import advzoo.losses
from advzoo.models.progan import ProGAN
from advzoo.training.callbacks import ProgressiveGrowing

advzoo.losses.interpolate = lambda real, fake, seed=None: 0.5 * (real + fake)

class Fixed(ProGAN):
    def sample_latent(self, batch_size):
        return tf.ones((batch_size, self.latent_dim)) * 0.3

def build(strategy, weights=None):
    with strategy.scope():
        m = Fixed(image_shape=(16, 16, 2), start_size=8, latent_dim=4, filters=8)
        m.compile(optimizers={"generator": keras.optimizers.SGD(0.01),
                              "discriminator": keras.optimizers.SGD(0.01)})
        if weights is not None:
            m.set_weights(weights)
    return m

x = np.random.default_rng(0).uniform(-1, 1, (16, 16, 16, 2)).astype("float32")
'''


def test_mirrored_strategy_on_two_cpus_matches_single_device():
    assert_mirrored_matches_single(DISTRIBUTED, data='(x,)',
                                   fit='dict(batch_size=8, epochs=1, callbacks=[ProgressiveGrowing(1)])')
