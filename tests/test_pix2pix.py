"""The `pix2pix` family (and its `wgan_vgg` preset): fit/evaluate on the default pairs in 2D and 3D,
every generator / discriminator / loss option, translate, save/load, export, mixed precision,
distribution, bad options, the CLI and the shipped presets."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import advzoo
from advzoo.data import translation_pairs_arrays
from conftest import assert_mirrored_matches_single, assert_save_load_export

IMAGE_KEYS = {"psnr", "ssim", "mae"}
GAN_KEYS = {"d_loss", "d_real", "d_fake", "g_loss", "g_adversarial", "voxel_loss"} | IMAGE_KEYS


def tiny(graph=False, **overrides):
    """A tiny pix2pix; eager unless `graph` (tracing a step costs more than running a few tiny
    steps eagerly on the shared CPUs; the default configuration is also tested traced)."""
    config = dict(source_shape=(16, 16, 1), generator_filters=4, discriminator_filters=4,
                  n_layers=1, task="mr_to_ct", seed=0)
    config.update(overrides)
    model = advzoo.build("pix2pix", **config)
    if not graph:
        model.compile(run_eagerly=True)
    return model


def fit_default(model, steps=2, batch_size=2):
    data = advzoo.get_family("pix2pix").dataset(model, batch_size=batch_size, n=8).take(steps)
    history = model.fit(data, epochs=1, verbose=0)
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    return history, model.evaluate(data.take(1), verbose=0, return_dict=True)


@pytest.mark.parametrize("options, extra", [
    (dict(graph=True), set()),
    (dict(generator="resnet", n_blocks=1, discriminator="image", residual=True,
          voxel_loss="l2", task="lowdose_ct", source_shape=(32, 32, 1)), set()),
    (dict(objective="wgan_gp", n_critic=2, discriminator_norm="layer", lambda_perceptual=0.1,
          task="csmri"), {"gradient_penalty", "perceptual_loss"}),
    (dict(source_shape=(16, 16, 16, 1), task="lowdose_ct", residual=True, n_layers=2,
          objective="lsgan", norm="instance"), set()),
    (dict(source_shape=(16, 16, 16, 1), generator="resnet", n_blocks=1, objective="wgan_gp",
          n_critic=1, norm="none", task="mr_to_ct"), {"gradient_penalty"}),
], ids=["unet-patch-2d-traced", "resnet-image-residual-l2", "wgan_gp-perceptual", "3d-unet-lsgan",
        "3d-resnet-wgan_gp"])
def test_fit_evaluate_on_default_data(options, extra):
    model = tiny(**options)
    history, results = fit_default(model)
    assert set(history.history) == GAN_KEYS | extra
    assert set(results) == GAN_KEYS | extra
    critic_steps = model.n_critic * 2
    assert int(model.discriminator_optimizer.iterations) == critic_steps
    assert int(model.generator_optimizer.iterations) == 2


def test_voxel_loss_alone_baseline_skips_the_discriminator():
    model = tiny(lambda_adversarial=0.0)
    history, results = fit_default(model)
    assert set(history.history) == {"g_loss", "voxel_loss"} | IMAGE_KEYS
    assert int(model.discriminator_optimizer.iterations) == 0
    assert int(model.generator_optimizer.iterations) == 2
    np.testing.assert_allclose(results["g_loss"], 100.0 * results["voxel_loss"], rtol=1e-5)


def test_networks_follow_the_options():
    model = tiny(source_shape=(32, 32, 1), n_layers=3)
    source = np.zeros((2, 32, 32, 1), np.float32)
    assert model.discriminator([source, source]).shape == (2, 4, 4, 1)  # a logit per patch
    whole = tiny(source_shape=(32, 32, 1), discriminator="image")
    assert whole.discriminator([source, source]).shape == (2, 1)
    # residual: G(y) = y + R(y); zeroing R's last layer gives the identity
    residual = tiny(residual=True)
    head = residual.generator.get_layer("unet_generator_out_conv")
    head.set_weights([np.zeros_like(w) for w in head.get_weights()])
    y = np.random.default_rng(0).uniform(-1, 1, (3, 16, 16, 1)).astype(np.float32)
    np.testing.assert_allclose(residual.translate(y), y, atol=1e-6)
    assert tiny(source_shape=(16, 16, 2), target_shape=(16, 16, 1)).translate(
        np.zeros((16, 16, 2), np.float32)).shape == (16, 16, 1)


def test_translate_numpy_tensors_single_and_batch_and_range_check():
    model = tiny(source_shape=(16, 16, 16, 1), task="lowdose_ct")
    source, _ = translation_pairs_arrays("lowdose_ct", "test", n=3, size=16, ndim=3)
    source = np.clip(source, -1, 1)
    batch = model.translate(source, batch_size=2)
    assert batch.shape == (3, 16, 16, 16, 1) and batch.dtype == np.float32
    np.testing.assert_allclose(model.translate(tf.constant(source[0])), batch[0], atol=1e-5)
    two_d = tiny()
    assert two_d.translate(tf.zeros((5, 16, 16, 1))).shape == (5, 16, 16, 1)
    with pytest.raises(ValueError, match=r"scaled to \[-1, 1\]"):
        two_d.translate(np.full((16, 16, 1), 300.0, np.float32))
    # size-free: other sizes are padded to the U-Net's stride and cropped back
    assert two_d.size_multiple == 16 and two_d.translate(np.zeros((2, 8, 8, 1))).shape[1:3] == (8, 8)
    with pytest.raises(ValueError, match=r"expected images of shape \(None, None, 1\)"):
        two_d.translate(np.zeros((2, 16, 16, 2), np.float32))
    with pytest.raises(ValueError, match="sources only"):
        two_d.fit(np.zeros((4, 16, 16, 1), np.float32), batch_size=2, epochs=1, verbose=0)


def test_save_load_and_float32_export(tmp_path):
    model = tiny(objective="wgan_gp", n_critic=1, discriminator_norm="instance",
                 lambda_perceptual=0.5, residual=True)
    fit_default(model, steps=1)
    y = np.random.default_rng(1).uniform(-1, 1, (4, 16, 16, 1)).astype(np.float32)
    assert_save_load_export(model, tmp_path, lambda m, x: m.translate(x), y,
                            iterations={"generator": 1})


def test_mixed_precision_step():
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = tiny(objective="wgan_gp", n_critic=1, discriminator_norm="layer")
    assert model.generator.get_layer("unet_generator_down0").compute_dtype == "float16"
    history, _ = fit_default(model, steps=1)
    assert "gradient_penalty" in history.history
    assert model.translate(np.zeros((2, 16, 16, 1), np.float32)).dtype == np.float32


DISTRIBUTED = r'''
from advzoo.models.pix2pix import Pix2Pix

def build(strategy, weights=None):
    with strategy.scope():
        m = Pix2Pix(source_shape=(16, 16, 1), generator_filters=4, discriminator_filters=4,
                    n_layers=1, norm="none", dropout=0.0, seed=0)  # no batch statistics, no noise
        m.compile(optimizers={p: keras.optimizers.SGD(0.01) for p in m.players})
        if weights is not None:
            m.set_weights(weights)
    return m

rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, (16, 16, 16, 1)).astype("float32")
y = np.tanh(x * 1.5).astype("float32")
'''


def test_mirrored_strategy_on_two_cpus_matches_single_device():
    assert_mirrored_matches_single(DISTRIBUTED, data="(x, y)", fit="dict(batch_size=8, epochs=1)")


@pytest.mark.parametrize("bad, match", [
    (dict(source_shape=(16, 16, 16, 1), lambda_perceptual=0.1), "needs 2D images"),
    (dict(objective="wgan_gp"), r"batch norm.*discriminator_norm to 'layer', 'instance' or 'none'"),
    (dict(objective="wgan_gp", norm="instance", discriminator_norm="batch"), "batch norm"),
    (dict(generator="unet3"), r"Unknown generator 'unet3'\. Did you mean 'unet'"),
    (dict(discriminator="pixel"), r"Expected one of: image, patch"),
    (dict(voxel_loss="l3"), r"Unknown voxel_loss 'l3'\. Did you mean"),
    (dict(source_shape=(24, 24, 1)), "multiple of 16"),
    (dict(source_shape=(16, 16, 1), target_shape=(8, 8, 1)), "spatial size"),
    (dict(lambda_l1=-1), "lambda_l1 must be a number >= 0"),
    (dict(lambda_l1=0, lambda_adversarial=0), "no loss"),
    (dict(source_shape=(16, 16)), r"\(H, W, C\) for 2D or \(D, H, W, C\)"),
    (dict(task="ct"), "Unknown task"),
    (dict(task="lowdose_ct", window=(240, -160)), r"window must be \(lo, hi\) in HU with lo < hi"),
    (dict(task="lowdose_ct", window="soft"), r"window must be \(lo, hi\) in HU, got 'soft'"),
    (dict(task="csmri", window=(-160, 240)), r"task 'csmri' has none; the CT tasks are"),
])
def test_bad_configuration_fails_at_build_time(bad, match):
    with pytest.raises(ValueError, match=match):
        tiny(**bad)


def test_window_scales_the_ct_data_and_the_report_in_hu():
    """A soft-tissue `window` reaches the default data, `sample_report`'s MAE in HU and the saved
    config."""
    window = (-160.0, 240.0)
    model = tiny(task="lowdose_ct", window=window, lambda_adversarial=0.0,
                 source_shape=(32, 32, 1))
    low, routine = next(iter(advzoo.get_family("pix2pix").dataset(model, n=4, batch_size=4,
                                                                  shuffle=False)))
    arr = advzoo.data.lowdose_ct_arrays("train", n=4, size=32)
    np.testing.assert_allclose(low, advzoo.data.hu_to_unit(arr["low"], window), atol=1e-6)
    np.testing.assert_allclose(routine, advzoo.data.hu_to_unit(arr["routine"], window), atol=1e-6)
    report = model.sample_report(n=4)
    test = advzoo.data.lowdose_ct_arrays("test", n=4, size=32)
    # the report's HU are those the model sees: clipped to the window
    expected = advzoo.metrics.mae_hu(np.clip(test["routine"], *window),
                                     np.clip(test["low"], *window))
    assert report["input_mae_hu"] == pytest.approx(expected, rel=1e-4)
    assert report["input_mae_hu"] < advzoo.metrics.mae_hu(test["routine"], test["low"])
    restored = type(model).from_config(model.get_config())
    assert restored.window == window and restored.dataset_options()["window"] == window
    assert tiny(task="lowdose_ct").window == advzoo.data.CT_WINDOW


def test_3d_needs_a_3d_task():
    with pytest.raises(ValueError, match="2D data only"):
        advzoo.get_family("pix2pix").dataset(tiny(source_shape=(16, 16, 16, 1), task="csmri"))


def test_cli_trains_two_steps_on_the_default_data(tmp_path):
    from advzoo.cli import main

    out = tmp_path / "run"
    assert main(["train", "pix2pix", "--steps", "2", "--batch-size", "2", "--out", str(out),
                 "--set", "source_shape=[16,16,1]", "--set", "generator_filters=4",
                 "--set", "discriminator_filters=4", "--set", "n_layers=1",
                 "--set", "task=csmri"]) == 0
    loaded = keras.saving.load_model(out / "model.keras")
    assert loaded.family_name == "pix2pix" and loaded.task == "csmri"


PRESETS = ["pix2pix_mr_to_ct", "pix2pix_lowdose_ct", "pix2pix_sketch_xray", "pix2pix_csmri",
           "pix2pix_lowdose_ct_3d",
           "wgan_vgg_lowdose_ct"]


@pytest.mark.parametrize("name", PRESETS)
def test_preset_translates_better_than_the_input(name):
    model = advzoo.load(name)
    options = model.dataset_options()
    source, target = translation_pairs_arrays(options["task"], "test", n=16,
                                              size=options["size"], ndim=options["ndim"])
    output = model.translate(np.clip(source, -1, 1))
    assert advzoo.metrics.psnr(target, output, 2.0) > advzoo.metrics.psnr(target, source, 2.0)
    metadata = advzoo.weights.read_metadata(advzoo.weights.resolve_preset(name))
    assert metadata["metrics"]["psnr"] > metadata["metrics"]["input_psnr"]


def test_wgan_vgg_preset_is_a_pix2pix_with_the_phantom_perceptual_network():
    model = advzoo.load("wgan_vgg_lowdose_ct")
    assert model.family_name == "pix2pix" and model.objective.name == "wgan_gp"
    assert model.lambda_perceptual > 0 and model.get_config()["discriminator"] == "image"
    metadata = advzoo.weights.read_metadata(advzoo.weights.resolve_preset("wgan_vgg_lowdose_ct"))
    assert "not VGG" in metadata["metrics"]["perceptual_network"]
    assert "PHANTOM feature network (not VGG)" in metadata["summary"]
