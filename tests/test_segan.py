"""The `segan` family (Xue): the multi-scale critic and L1 loss, the min-max updates, fit/evaluate
with Dice, save/load, export, mixed precision, distribution, bad options, the CLI, the preset."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import advzoo
from advzoo.models.segmentation import segmentation_arrays
from advzoo.networks import multiscale_critic
from conftest import (assert_mirrored_matches_single, assert_save_load_export,
                      segment_probabilities, segmentor_without_dice)

KEYS = {"c_loss", "s_loss", "multiscale_l1", "ce", "dice"}


def tiny(**overrides):
    config = dict(image_shape=(16, 16, 3), generator_filters=4, critic_filters=4, n_layers=2,
                  seed=0)
    config.update(overrides)
    return advzoo.build("segan", **config)


@pytest.fixture(scope="module")
def vessels16():
    images, masks = segmentation_arrays("train", (32, 32, 3), n=16)
    return images[:, 8:24, 8:24], masks[:, 8:24, 8:24]


def test_multiscale_critic_returns_every_scale():
    critic = multiscale_critic((16, 16, 2), filters=4, n_layers=3)
    shapes = [tuple(s[1:]) for s in critic.compute_output_shape((1, 16, 16, 2))]
    assert shapes == [(16, 16, 2), (8, 8, 4), (4, 4, 8), (2, 2, 16)]
    assert all(o.dtype == "float32" for o in critic.outputs)
    volume = multiscale_critic((8, 8, 8, 1), filters=2, n_layers=1, norm="none")
    assert [tuple(s[1:]) for s in volume.compute_output_shape((1, 8, 8, 8, 1))] == [
        (8, 8, 8, 1), (4, 4, 4, 2)]
    with pytest.raises(ValueError, match="multiple of 8"):
        multiscale_critic((12, 12, 1), n_layers=3)


def test_multiscale_l1_is_the_mean_feature_distance(vessels16):
    images, masks = vessels16
    model = tiny()
    p = model.segmentor(images[:4])
    loss = float(model.multiscale_l1(images[:4], p, masks[:4], training=False))
    fake = model.multiscale_critic(images[:4] * p.numpy())
    real = model.multiscale_critic(images[:4] * (masks[:4] > 0.5))
    expected = np.mean([np.abs(np.asarray(a) - np.asarray(b)).mean() for a, b in zip(fake, real)])
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    # the reference itself is at distance 0
    assert float(model.multiscale_l1(images[:4], masks[:4], masks[:4], training=False)) == 0.0


def test_fit_is_min_max_with_clipped_critic_and_evaluate_reports_dice():
    model = tiny(image_shape=(32, 32, 3))
    family = advzoo.get_family("segan")
    data = family.dataset(model, batch_size=8, shuffle=False, n=16)
    before = float(model.multiscale_l1(*_first(data), training=False))
    model.compile(optimizers={"segmentor": keras.optimizers.SGD(0.0),
                              "multiscale_critic": keras.optimizers.SGD(0.5)})
    history = model.fit(data, epochs=1, verbose=0)
    assert set(history.history) == KEYS
    # C's loss is minus the distance (measured before its update, S's after it)
    assert history.history["c_loss"][0] < 0 < history.history["multiscale_l1"][0]
    # with S frozen, C's ascent step moved the masked images' features apart
    assert float(model.multiscale_l1(*_first(data), training=False)) > before
    assert max(float(np.abs(w).max()) for w in model.multiscale_critic.trainable_weights) <= 0.05 + 1e-7
    val = family.dataset(model, split="val", batch_size=8, n=8)
    assert set(model.evaluate(val, verbose=0, return_dict=True)) == KEYS
    assert model.segment(_first(data)[0]).shape == (8, 32, 32, 1)


def _first(data):
    image, mask = next(iter(data))
    return image, model_free_prediction(image), mask


def model_free_prediction(image):
    """A fixed soft segmentation (for measuring the critic alone)."""
    return tf.sigmoid(tf.reduce_mean(image, -1, keepdims=True) * 3.0)


def test_ce_only_baseline_and_organs(vessels16):
    images, masks = vessels16
    baseline = tiny(adversarial_weight=0.0, ce_weight=1.0)
    history = baseline.fit(images, masks, batch_size=8, epochs=1, verbose=0)
    assert set(history.history) == {"s_loss", "ce", "dice"}
    assert int(baseline.multiscale_critic_optimizer.iterations) == 0
    organs = tiny(image_shape=(16, 16, 1), num_classes=8, ce_weight=0.5, clip_value=None)
    assert organs.multiscale_critic.input_shape[-1] == 8  # the image times each class map
    labels = np.random.default_rng(0).integers(0, 8, (8, 16, 16, 1)).astype(np.int32)
    x = np.random.default_rng(1).uniform(-1, 1, (8, 16, 16, 1)).astype(np.float32)
    history = organs.fit(x, labels, batch_size=8, epochs=1, verbose=0)
    np.testing.assert_allclose(history.history["s_loss"][0], history.history["multiscale_l1"][0]
                               + 0.5 * history.history["ce"][0], rtol=1e-5)


def test_save_load_and_float32_export(tmp_path, vessels16):
    images, masks = vessels16
    model = tiny()
    model.fit(images, masks, batch_size=8, epochs=1, verbose=0)
    assert "objective" not in model.get_config()
    assert_save_load_export(model, tmp_path, segment_probabilities, images[:4])


def test_mixed_precision_step(vessels16):
    images, masks = vessels16
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = tiny()
    assert model.multiscale_critic.get_layer("critic_conv0").compute_dtype == "float16"
    history = model.fit(images, masks, batch_size=8, epochs=1, verbose=0)
    assert set(history.history) == KEYS
    assert all(np.isfinite(v[-1]) for v in history.history.values())


DISTRIBUTED = segmentor_without_dice("advzoo.models.segan", "SegAN") + r'''

def build(strategy, weights=None):
    with strategy.scope():
        m = NoDice(image_shape=(16, 16, 1), generator_filters=4, critic_filters=4, n_layers=2,
                   norm="layer", ce_weight=0.5, seed=0)
        m.compile(optimizers={p: keras.optimizers.SGD(0.05) for p in m.players})
        if weights is not None:
            m.set_weights(weights)
    return m

rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, (16, 16, 16, 1)).astype("float32")
y = (rng.uniform(0, 1, (16, 16, 16, 1)) > 0.8).astype("float32")
'''


def test_mirrored_strategy_on_two_cpus_matches_single_device():
    assert_mirrored_matches_single(DISTRIBUTED, data="(x, y)",
                                   fit="dict(batch_size=8, epochs=1)")


@pytest.mark.parametrize("bad, match", [
    (dict(ce_weight=0.0, adversarial_weight=0.0), "both 0"),
    (dict(clip_value=0.0), "clip_value must be > 0"),
    (dict(clip_value=-1.0), "clip_value must be a finite number"),
    (dict(n_layers=0), "n_layers must be an int >= 1"),
    (dict(critic_filters=0), "filters must be a positive int"),
    (dict(norm="group"), r"'group'.*Expected one of"),
    (dict(num_classes=2.5), "num_classes must be an int >= 2"),
])
def test_bad_configuration_fails_at_build_time(bad, match):
    with pytest.raises(ValueError, match=match):
        tiny(**bad)


def test_cli_trains_two_steps_on_the_default_data(tmp_path):
    from advzoo.cli import main

    out = tmp_path / "run"
    assert main(["train", "segan", "--steps", "2", "--batch-size", "4", "--out", str(out),
                 "--set", "generator_filters=4", "--set", "critic_filters=4"]) == 0
    assert keras.saving.load_model(out / "model.keras").family_name == "segan"


def test_preset_segments_vessels():
    model = advzoo.load("segan_retina")
    meta = advzoo.weights.read_metadata(advzoo.weights.resolve_preset("segan_retina"))
    report = model.segmentation_report(n=32)
    assert report["dice"] > 0.5
    assert abs(report["dice"] - meta["metrics"]["dice"]) < 0.1
