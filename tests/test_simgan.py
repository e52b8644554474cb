"""The `simgan` family: unaligned default data, the refiner's self-regularisation and history pool,
translate, save/load, export, mixed precision, distribution, bad options, the CLI and the shipped
preset."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import advzoo
from advzoo.models.simgan import lowdose_report, soft_tissue_noise_hu
from conftest import assert_mirrored_matches_single, assert_save_load_export

KEYS = {"d_loss", "r_loss", "adversarial_loss", "self_regularization", "d_real", "d_fake",
        "psnr", "ssim", "mae"}


def tiny(**overrides):
    config = dict(image_shape=(32, 32, 1), generator_filters=4, n_blocks=1,
                  discriminator_filters=4, n_layers=2, pool_size=4, seed=0)
    config.update(overrides)
    return advzoo.build("simgan", **config)


def default_data(model, split="train", n=8, batch_size=4):
    return advzoo.get_family("simgan").dataset(model, split=split, n=n, batch_size=batch_size)


def test_default_data_is_unaligned_for_training_and_aligned_for_evaluation():
    model = tiny()
    arr = advzoo.data.lowdose_ct_arrays("train", n=8, size=32)
    routine = advzoo.data.hu_to_unit(arr["routine"])
    data = advzoo.get_family("simgan").dataset(model, n=8, batch_size=8, shuffle=False)
    low, target = (t.numpy() for t in next(iter(data)))
    np.testing.assert_allclose(low, advzoo.data.hu_to_unit(arr["low"]), atol=1e-6)
    assert not any(np.allclose(t, r) for t, r in zip(target, routine))  # other subjects
    assert set(map(bytes, target)) == set(map(bytes, routine.astype(np.float32)))
    _, test_target = next(iter(default_data(model, "test", batch_size=8)))
    test_routine = advzoo.data.hu_to_unit(advzoo.data.lowdose_ct_arrays("test", n=8, size=32)["routine"])
    np.testing.assert_allclose(test_target.numpy(), test_routine, atol=1e-6)


def test_window_option_scales_the_default_data_with_the_same_pairing():
    family = advzoo.get_family("simgan")
    window = (-160.0, 240.0)
    low, target = (t.numpy() for t in next(iter(
        family.dataset(tiny(window=window), n=8, batch_size=8, shuffle=False))))
    arr = advzoo.data.lowdose_ct_arrays("train", n=8, size=32)
    np.testing.assert_allclose(low, advzoo.data.hu_to_unit(arr["low"], window), atol=1e-6)
    _, full = next(iter(family.dataset(tiny(), n=8, batch_size=8, shuffle=False)))
    np.testing.assert_allclose(
        advzoo.data.hu_to_unit(advzoo.data.unit_to_hu(full.numpy()), window), target, atol=2e-3)


@pytest.mark.parametrize("options", [dict(), dict(generator="unet", discriminator="image",
                                                  objective="lsgan", pool_size=0)])
def test_fit_evaluate_on_default_data(options):
    model = tiny(**options)
    history = model.fit(default_data(model), epochs=1, verbose=0)
    assert set(history.history) == KEYS
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    result = model.evaluate(default_data(model, "test"), verbose=0, return_dict=True)
    assert set(result) == KEYS and result["psnr"] > 20  # a near-identity refiner, aligned target
    assert int(model.refiner_optimizer.iterations) == 2
    if options.get("pool_size", 4):
        assert int(model.pool.count) == 4  # the history holds the refined images of the steps


def test_refiner_starts_at_identity_and_self_regularisation_is_l1():
    model = tiny()
    low = advzoo.data.hu_to_unit(advzoo.data.lowdose_ct_arrays("test", n=4, size=32)["low"])
    refined = model.translate(low)
    assert np.abs(refined - low).mean() < 0.05  # residual refiner: R(y) = y + r(y), r small
    _, logs = model.refiner_losses(tf.constant(low), training=False)
    np.testing.assert_allclose(float(logs["self_regularization"]), np.abs(refined - low).mean(),
                               rtol=1e-4)


def test_translate_numpy_tensors_single_and_batch_and_range_check():
    model = tiny()
    y = np.random.default_rng(0).uniform(-1, 1, (3, 32, 32, 1)).astype(np.float32)
    batch = model.translate(y, batch_size=2)
    assert batch.shape == (3, 32, 32, 1) and batch.dtype == np.float32
    np.testing.assert_allclose(model.translate(tf.constant(y[0])), batch[0], atol=1e-5)
    with pytest.raises(ValueError, match=r"scaled to \[-1, 1\]"):
        model.translate(np.full((32, 32, 1), 40.0, np.float32))
    assert model.translate(np.zeros((2, 16, 16, 1), np.float32)).shape == (2, 16, 16, 1)
    with pytest.raises(ValueError, match=r"expected images of shape \(None, None, 1\)"):
        model.translate(np.zeros((2, 16, 16, 3), np.float32))
    with pytest.raises(ValueError, match="sources only"):
        model.fit(y, epochs=1, verbose=0)


def test_save_load_and_float32_export(tmp_path):
    model = tiny()
    model.fit(default_data(model), epochs=1, verbose=0)
    y = np.random.default_rng(1).uniform(-1, 1, (4, 32, 32, 1)).astype(np.float32)
    loaded = assert_save_load_export(model, tmp_path, lambda m, x: m.translate(x), y,
                                     iterations={"refiner": 2})
    np.testing.assert_array_equal(loaded.pool.images.numpy(), model.pool.images.numpy())


def test_mixed_precision_step():
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = tiny(objective="wgan_gp", n_critic=1)
    assert model.refiner.get_layer("refiner_stem_conv").compute_dtype == "float16"
    history = model.fit(default_data(model, n=4), epochs=1, verbose=0)
    assert "gradient_penalty" in history.history
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    assert model.translate(np.zeros((2, 32, 32, 1), np.float32)).dtype == np.float32


DISTRIBUTED = r'''
from advzoo.models.simgan import SimGAN

def build(strategy, weights=None):
    with strategy.scope():
        m = SimGAN(image_shape=(16, 16, 1), generator_filters=4, n_blocks=1,
                   discriminator_filters=4, n_layers=1, discriminator_norm="layer",
                   pool_size=50, seed=0)  # no batch statistics; the pool is still filling
        m.compile(optimizers={p: keras.optimizers.SGD(0.01) for p in m.players})
        if weights is not None:
            m.set_weights(weights)
    return m

rng = np.random.default_rng(0)
y = rng.uniform(-1, 1, (16, 16, 16, 1)).astype("float32")
x = np.tanh(rng.uniform(-1, 1, (16, 16, 16, 1))).astype("float32")
'''


def test_mirrored_strategy_on_two_cpus_matches_single_device():
    assert_mirrored_matches_single(DISTRIBUTED, data="(y, x)", fit="dict(batch_size=8, epochs=1)")


@pytest.mark.parametrize("bad, match", [
    (dict(pool_size=-1), r"pool_size must be an int >= 0.*got -1"),
    (dict(pool_size=2.5), r"pool_size must be an int >= 0"),
    (dict(lambda_l1=-0.5), r"lambda_l1 must be >= 0"),
    (dict(generator="resnt"), r"Unknown generator 'resnt'\. Did you mean 'resnet'"),
    (dict(discriminator="pixel"), r"Expected one of: image, patch"),
    (dict(objective="wgan_gp", discriminator_norm="batch"), "batch norm"),
    (dict(image_shape=(30, 30, 1), n_layers=2), "multiple of 4"),
    (dict(objective="lsgn"), r"Did you mean 'lsgan'"),
    (dict(window=(240, -160)), r"window must be \(lo, hi\) in HU with lo < hi"),
])
def test_bad_configuration_fails_at_build_time(bad, match):
    with pytest.raises(ValueError, match=match):
        tiny(**bad)


def test_shape_not_matching_the_data_is_refused():
    model = tiny()
    data = advzoo.data.translation_pairs("lowdose_ct", n=4, size=64, paired=False, batch_size=4)
    # the refiner takes any size; the history pool is sized for image_shape
    with pytest.raises(ValueError, match=r"holds images of shape \(32, 32, 1\).*got "
                                         r"\(64, 64, 1\).*advzoo.load\(preset, image_shape"):
        model.fit(data, epochs=1, verbose=0)


def test_noise_measure_separates_the_doses():
    arr = advzoo.data.lowdose_ct_arrays("test", n=8, size=32)
    low = soft_tissue_noise_hu(arr["low"], arr["noiseless"], arr["labels"])
    routine = soft_tissue_noise_hu(arr["routine"], arr["noiseless"], arr["labels"])
    assert low > 1.5 * routine > 0
    report = lowdose_report(lambda images: images, n=8, size=32)  # the identity "refiner"
    assert report["refined_psnr"] == report["input_psnr"]


def test_cli_trains_two_steps_on_the_default_data(tmp_path):
    from advzoo.cli import main

    out = tmp_path / "run"
    assert main(["train", "simgan", "--steps", "2", "--batch-size", "2", "--out", str(out),
                 "--set", "image_shape=[32,32,1]", "--set", "generator_filters=4",
                 "--set", "n_blocks=1", "--set", "discriminator_filters=4",
                 "--set", "pool_size=3"]) == 0
    loaded = keras.saving.load_model(out / "model.keras")
    assert loaded.family_name == "simgan" and loaded.pool_size == 3


def test_preset_moves_low_dose_toward_routine_dose():
    model = advzoo.load("simgan_lowdose_ct")
    report = lowdose_report(model.translate, n=32, size=model.image_shape[0])
    assert report["refined_psnr"] > report["input_psnr"]
    assert report["refined_noise_hu"] < report["input_noise_hu"]
    metadata = advzoo.weights.read_metadata(advzoo.weights.resolve_preset("simgan_lowdose_ct"))
    assert metadata["metrics"]["refined_psnr"] > metadata["metrics"]["input_psnr"]
