"""The `srgan` family: single- and multi-contrast SR on the default data, MSE and perceptual content
losses, translate (with a reference), save/load, export, mixed precision, distribution, bad
options, the CLI and the shipped presets."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import advzoo
from conftest import assert_mirrored_matches_single, assert_save_load_export

KEYS = {"d_loss", "g_loss", "content_loss", "adversarial_loss", "d_real", "d_fake",
        "psnr", "ssim", "mae"}


def tiny(**overrides):
    config = dict(source_shape=(8, 8, 1), generator_filters=4, n_blocks=1,
                  discriminator_filters=4, n_layers=2, seed=0)
    config.update(overrides)
    return advzoo.build("srgan", **config)


def default_data(model, split="train", n=8, batch_size=4):
    return advzoo.get_family("srgan").dataset(model, split=split, n=n, batch_size=batch_size)


@pytest.mark.parametrize("options", [dict(), dict(
    reference_channels=1, residual=True, content_loss="perceptual", discriminator="patch",
    upsampling="transposed")])
def test_fit_evaluate_on_default_data(options):
    model = tiny(**options)
    data = default_data(model)
    x, y = next(iter(data))
    assert y.shape == (4, 16, 16, 1)
    history = model.fit(data, epochs=1, verbose=0)
    assert set(history.history) == KEYS
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    result = model.evaluate(default_data(model, "test"), verbose=0, return_dict=True)
    assert set(result) == KEYS and result["psnr"] > 0
    assert int(model.generator_optimizer.iterations) == 2
    # the perceptual network is frozen and not part of the model's weights
    assert len(model.weights) == len(tiny(**{**options, "content_loss": "mse"}).weights)


def test_generator_shapes_and_scale_four():
    model = tiny(scale=4, reference_channels=1)
    assert model.generator.compute_output_shape([(1, 8, 8, 1), (1, 32, 32, 1)]) == (1, 32, 32, 1)
    assert [tuple(i.shape[1:]) for i in model.generator.inputs] == [(None, None, 1)] * 2
    assert model.generator.get_layer("generator_up1_shuffle").factor == 2
    three = tiny(scale=3, residual=True)
    assert three.generator.compute_output_shape((1, 8, 8, 1)) == (1, 24, 24, 1)
    # residual: an untrained G is close to the bilinear up-sampling of its input
    low = np.full((1, 8, 8, 1), 0.3, np.float32)
    assert np.abs(three.translate(low) - 0.3).max() < 0.5


def test_translate_numpy_tensors_single_and_batch_and_range_check():
    model = tiny()
    low = np.random.default_rng(0).uniform(-1, 1, (3, 8, 8, 1)).astype(np.float32)
    batch = model.translate(low, batch_size=2)
    assert batch.shape == (3, 16, 16, 1) and batch.dtype == np.float32
    np.testing.assert_allclose(model.translate(tf.constant(low[0])), batch[0], atol=1e-5)
    with pytest.raises(ValueError, match=r"scaled to \[-1, 1\]"):
        model.translate(np.full((8, 8, 1), 3.0, np.float32))
    assert model.translate(np.zeros((2, 12, 12, 1), np.float32)).shape == (2, 24, 24, 1)
    with pytest.raises(ValueError, match="expected images of shape"):
        model.translate(np.zeros((2, 16, 16, 2), np.float32))
    with pytest.raises(ValueError, match="no reference input"):
        model.translate(low, reference=np.zeros((3, 16, 16, 1), np.float32))

    multi = tiny(reference_channels=1)
    ref = np.random.default_rng(1).uniform(-1, 1, (3, 16, 16, 1)).astype(np.float32)
    out = multi.translate(low, reference=ref, batch_size=2)
    assert out.shape == (3, 16, 16, 1)
    np.testing.assert_allclose(multi.translate(low[1], reference=tf.constant(ref[1])), out[1],
                               atol=1e-5)
    np.testing.assert_allclose(multi(
        [tf.constant(low), tf.constant(ref)]), out, atol=1e-5)
    assert np.abs(multi.translate(low, reference=-ref) - out).max() > 1e-4  # the reference counts
    with pytest.raises(ValueError, match=r"translate\(low_res, reference="):
        multi.translate(low)
    with pytest.raises(ValueError, match="one reference per image"):
        multi.translate(low, reference=ref[:2])
    with pytest.raises(ValueError, match=r"references must be scaled to \[-1, 1\]"):
        multi.translate(low, reference=ref * 5)
    with pytest.raises(ValueError, match=r"\(\(low_res, reference\), high_res\)"):
        multi.fit(low, np.zeros((3, 16, 16, 1), np.float32), epochs=1, verbose=0)


def test_save_load_and_float32_export(tmp_path):
    model = tiny(reference_channels=1, norm="batch")
    model.fit(default_data(model), epochs=1, verbose=0)
    rng = np.random.default_rng(1)
    low = rng.uniform(-1, 1, (4, 8, 8, 1)).astype(np.float32)
    ref = rng.uniform(-1, 1, (4, 16, 16, 1)).astype(np.float32)
    assert_save_load_export(model, tmp_path, lambda m, x, r: m.translate(x, reference=r),
                            low, ref, iterations={"generator": 2})


def test_mixed_precision_step():
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = tiny(objective="wgan_gp", n_critic=1, content_loss="perceptual")
    assert model.generator.get_layer("generator_stem").compute_dtype == "float16"
    history = model.fit(default_data(model, n=4), epochs=1, verbose=0)
    assert "gradient_penalty" in history.history
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    assert model.translate(np.zeros((2, 8, 8, 1), np.float32)).dtype == np.float32


DISTRIBUTED = r'''
from advzoo.models.srgan import SRGAN

def build(strategy, weights=None):
    with strategy.scope():
        m = SRGAN(source_shape=(8, 8, 1), reference_channels=1, generator_filters=4, n_blocks=1,
                  norm="none", discriminator_filters=4, n_layers=1, discriminator_norm="layer",
                  lambda_adversarial=0.1, seed=0)  # no batch statistics
        m.compile(optimizers={p: keras.optimizers.SGD(0.01) for p in m.players})
        if weights is not None:
            m.set_weights(weights)
    return m

rng = np.random.default_rng(0)
low = rng.uniform(-1, 1, (16, 8, 8, 1)).astype("float32")
ref = rng.uniform(-1, 1, (16, 16, 16, 1)).astype("float32")
high = np.tanh(np.repeat(np.repeat(low, 2, 1), 2, 2) + 0.3 * ref).astype("float32")
'''


def test_mirrored_strategy_on_two_cpus_matches_single_device():
    assert_mirrored_matches_single(DISTRIBUTED, data="((low, ref), high)",
                                   fit="dict(batch_size=8, epochs=1)")


@pytest.mark.parametrize("bad, match", [
    (dict(content_loss="vgg"), r"Unknown content_loss 'vgg'.*Expected one of: mse, perceptual"),
    (dict(content_loss="percptual"), r"Did you mean 'perceptual'"),
    (dict(scale=1), r"scale must be an int >= 2, got 1"),
    (dict(upsampling="deconv"), r"Unknown upsampling 'deconv'"),
    (dict(discriminator="pixel"), r"Expected one of: image, patch"),
    (dict(reference_channels=-1), r"reference_channels must be an int >= 0"),
    (dict(lambda_adversarial=-1), r"lambda_adversarial must be >= 0"),
    (dict(source_shape=(8, 8, 8, 1)), r"2D images"),
    (dict(objective="wgan_gp", discriminator_norm="batch"), "batch norm"),
    (dict(perceptual_layer="act9"), r"Unknown perceptual_layer"),
])
def test_bad_configuration_fails_at_build_time(bad, match):
    with pytest.raises(ValueError, match=match):
        tiny(**bad)


def test_scale_not_matching_the_data_is_refused():
    model = tiny(source_shape=(16, 16, 1))  # 16 -> 32
    data = advzoo.data.multi_contrast_sr(n=4, size=64, factor=4, reference=False, batch_size=4)
    with pytest.raises(ValueError, match=r"high-resolution targets.*\(batch, 32, 32, 1\).*times "
                                         r"2; got \(batch, 64, 64, 1\)"):
        model.fit(data, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="reference_channels=1"):
        model.fit(advzoo.data.multi_contrast_sr(n=4, size=32, batch_size=4), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="reference contrast"):
        advzoo.get_family("srgan").dataset(tiny(reference_channels=2))


def test_cli_trains_two_steps_on_the_default_data(tmp_path):
    from advzoo.cli import main

    out = tmp_path / "run"
    assert main(["train", "srgan", "--steps", "2", "--batch-size", "2", "--out", str(out),
                 "--set", "source_shape=[8,8,1]", "--set", "generator_filters=4",
                 "--set", "n_blocks=1", "--set", "discriminator_filters=4",
                 "--set", "n_layers=2", "--set", "reference_channels=1"]) == 0
    loaded = keras.saving.load_model(out / "model.keras")
    assert loaded.family_name == "srgan" and loaded.reference_channels == 1


@pytest.mark.parametrize("name", ["srgan_mr", "srgan_multicontrast"])
def test_preset_beats_cubic_upsampling(name):
    model = advzoo.load(name)
    arr = advzoo.data.multi_contrast_sr_arrays("test", n=16, size=model.target_shape[0],
                                               factor=model.scale)
    low, t1, t2 = (advzoo.data.mr_to_unit(arr[k]) for k in ("t2_low", "t1", "t2"))
    out = model.translate(low, reference=t1 if model.reference_channels else None)
    cubic = advzoo.data.mr_to_unit(arr["t2_upsampled"])
    assert advzoo.metrics.psnr(t2, out, 2.0) > advzoo.metrics.psnr(t2, cubic, 2.0)
    metadata = advzoo.weights.read_metadata(advzoo.weights.resolve_preset(name))
    assert metadata["metrics"]["srgan_psnr"] > metadata["metrics"]["cubic_psnr"]
