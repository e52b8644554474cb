"""The `adversarial_segmentation` family (Luc; Moeskops; Kohl): the pair input modes, CE and
adversarial weights, fit/evaluate with Dice, save/load, export, mixed precision, distribution,
bad options, the CLI and the shipped preset."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import advzoo
from advzoo.models.segmentation import (segmentation_arrays, task_for,
                                        task_segmentor_config)
from conftest import (assert_mirrored_matches_single, assert_save_load_export,
                      segment_probabilities, segmentor_without_dice)

KEYS = {"d_loss", "s_loss", "ce", "adversarial", "d_real", "d_fake", "dice"}


def tiny(**overrides):
    config = dict(image_shape=(16, 16, 3), generator_filters=4, discriminator_filters=4,
                  n_layers=2, seed=0)
    config.update(overrides)
    return advzoo.build("adversarial_segmentation", **config)


@pytest.fixture(scope="module")
def vessels16():
    """16 retina images and vessel masks, cropped to 16x16 (the phantom's smallest size is 32)."""
    images, masks = segmentation_arrays("train", (32, 32, 3), n=16)
    return images[:, 8:24, 8:24], masks[:, 8:24, 8:24]


def test_fit_evaluate_segment_on_default_data():
    model = tiny(image_shape=(32, 32, 3))
    family = advzoo.get_family("adversarial_segmentation")
    data = family.dataset(model, batch_size=8, n=16)
    image, mask = next(iter(data))
    assert image.shape == (8, 32, 32, 3) and mask.shape == (8, 32, 32, 1)
    history = model.fit(data, epochs=1, verbose=0)
    assert set(history.history) == KEYS
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    assert int(model.segmentor_optimizer.iterations) == 2
    assert int(model.discriminator_optimizer.iterations) == 2
    val = family.dataset(model, split="val", batch_size=8, n=8)
    assert set(model.evaluate(val, verbose=0, return_dict=True)) == KEYS
    labels = model.segment(image.numpy())
    assert labels.shape == (8, 32, 32, 1) and labels.dtype == np.int32
    assert set(np.unique(labels)) <= {0, 1}
    probabilities = model.segment(image.numpy()[0], probabilities=True)
    assert probabilities.shape == (32, 32, 1) and 0 <= probabilities.min() <= probabilities.max() <= 1
    report = model.segmentation_report(n=8)
    assert set(report) >= {"dice", "components", "reference_components", "component_excess"}
    with pytest.raises(ValueError, match=r"scaled to \[-1, 1\]"):
        model.segment(image.numpy() * 5)


@pytest.mark.parametrize("mode, channels", [("mask", 2), ("concat", 5), ("product", 6)])
def test_pair_input_modes(mode, channels, vessels16):
    images, masks = vessels16
    model = tiny(input_mode=mode)
    assert model.discriminator.input_shape[-1] == channels
    class_map = model.class_map(model.segmentor(images[:2]))
    pair = model.pair_input(images[:2], class_map, mode).numpy()
    assert pair.shape == (2, 16, 16, channels)
    p = model.segmentor(images[:2]).numpy()
    if mode == "product":  # Luc: every image channel times every class map [1 - p, p]
        np.testing.assert_allclose(pair[..., 1::2], images[:2] * p, atol=1e-6)
        np.testing.assert_allclose(pair[..., 0::2], images[:2] * (1 - p), atol=1e-6)
    elif mode == "concat":
        np.testing.assert_allclose(pair[..., :3], images[:2])
        np.testing.assert_allclose(pair[..., 4:], p, atol=1e-6)
    # reference pairs use the one-hot mask
    target = model.target_map(masks[:2]).numpy()
    np.testing.assert_array_equal(target[..., 1:], masks[:2] > 0.5)


def test_voxel_ce_is_keras_cross_entropy(vessels16):
    images, masks = vessels16
    model = tiny()
    p = model.segmentor(images)
    expected = keras.losses.BinaryCrossentropy()(masks, p)
    np.testing.assert_allclose(model.voxel_ce(masks, p), expected, rtol=1e-4)
    organs = tiny(image_shape=(16, 16, 1), num_classes=8)
    labels = np.random.default_rng(0).integers(0, 8, (2, 16, 16, 1)).astype(np.int32)
    probabilities = organs.segmentor(np.zeros((2, 16, 16, 1), np.float32))
    np.testing.assert_allclose(
        organs.voxel_ce(labels, probabilities),
        keras.losses.SparseCategoricalCrossentropy()(labels, probabilities), rtol=1e-4)


def test_ce_only_baseline_and_adversarial_only(vessels16):
    images, masks = vessels16
    baseline = tiny(adversarial_weight=0.0)
    before = [w.copy() for w in baseline.discriminator.get_weights()]
    history = baseline.fit(images, masks, batch_size=8, epochs=1, verbose=0)
    assert set(history.history) == {"s_loss", "ce", "dice"}
    for a, b in zip(before, baseline.discriminator.get_weights()):
        np.testing.assert_array_equal(a, b)  # the baseline never trains a discriminator
    np.testing.assert_allclose(history.history["s_loss"], history.history["ce"])
    kohl = tiny(ce_weight=0.0, objective="lsgan", discriminator="patch")
    history = kohl.fit(images, masks, batch_size=8, epochs=1, verbose=0)
    assert set(history.history) == KEYS
    np.testing.assert_allclose(history.history["s_loss"], 0.1 * np.array(history.history["adversarial"]),
                               rtol=1e-5)


def test_task_segmentor_config_matches_the_built_in_data():
    for task in ("vessels", "organs"):
        config = task_segmentor_config(task, size=32)
        assert task_for(config["num_classes"]) == task
        images, masks = segmentation_arrays("test", config["image_shape"], task, n=2)
        assert images.shape == (2, *config["image_shape"])
    assert task_segmentor_config("organs")["num_classes"] == len(advzoo.data.CT_LABELS)
    with pytest.raises(advzoo.AdvzooError, match="vessel"):
        task_segmentor_config("vessel")


def test_organs_multiclass_3d():
    model = tiny(image_shape=(16, 16, 16, 1), num_classes=8, n_layers=1, norm="instance",
                 objective="wgan_gp", n_critic=1)
    data = advzoo.get_family("adversarial_segmentation").dataset(model, batch_size=2, n=2)
    image, labels = next(iter(data))
    assert image.shape == (2, 16, 16, 16, 1) and labels.dtype == tf.int32
    history = model.fit(data, epochs=1, verbose=0)
    assert set(history.history) == KEYS | {"gradient_penalty"}
    assert model.segment(image.numpy()).shape == (2, 16, 16, 16, 1)
    assert 0 <= model.segmentation_report(n=2)["dice"] <= 1


def test_save_load_and_float32_export(tmp_path, vessels16):
    images, masks = vessels16
    model = tiny()
    model.fit(images, masks, batch_size=8, epochs=1, verbose=0)
    assert_save_load_export(model, tmp_path, segment_probabilities, images[:4],
                            iterations={"segmentor": 2})


def test_mixed_precision_step(vessels16):
    images, masks = vessels16
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = tiny()
    assert model.segmentor.get_layer("segmentor_down0").compute_dtype == "float16"
    history = model.fit(images, masks, batch_size=8, epochs=1, verbose=0)
    assert set(history.history) == KEYS
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    assert model.segment(images[:2], probabilities=True).dtype == np.float32


DISTRIBUTED = segmentor_without_dice("advzoo.models.adversarial_segmentation",
                                     "AdversarialSegmentation") + r'''

def build(strategy, weights=None):
    with strategy.scope():
        m = NoDice(image_shape=(16, 16, 1), generator_filters=4, discriminator_filters=4,
                   n_layers=2, norm="layer", seed=0)  # batch statistics differ per replica
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
    (dict(input_mode="sum"), r"'sum'.*Expected one of: concat, mask, product"),
    (dict(ce_weight=0.0, adversarial_weight=0.0), "both 0"),
    (dict(adversarial_weight=-1), "adversarial_weight must be a finite number >= 0"),
    (dict(num_classes=1), "num_classes must be an int >= 2"),
    (dict(generator="vnet"), r"'vnet'.*Expected one of: resnet, unet"),
    (dict(discriminator="pixel"), r"Expected one of: image, patch"),
    (dict(objective="wgan_gp"), "cannot use batch norm"),
    (dict(image_shape=(20, 20, 3)), "multiple of"),
    (dict(image_shape=(16, 16)), r"\(H, W, C\) for 2D"),
])
def test_bad_configuration_fails_at_build_time(bad, match):
    with pytest.raises(ValueError, match=match):
        tiny(**bad)


def test_bad_data_is_explained(vessels16):
    images, masks = vessels16
    model = tiny()
    with pytest.raises(ValueError, match="images only"):
        model.fit(images, batch_size=8, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"masks of shape \(batch, 16, 16, 1\)"):
        model.fit(images, np.concatenate([masks, masks], -1), batch_size=8, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"task 'vessels'.*S >= 32"):
        advzoo.get_family("adversarial_segmentation").dataset(model)


def test_cli_trains_two_steps_on_the_default_data(tmp_path):
    from advzoo.cli import main

    out = tmp_path / "run"
    assert main(["train", "adversarial_segmentation", "--steps", "2", "--batch-size", "4",
                 "--out", str(out), "--set", "generator_filters=4",
                 "--set", "discriminator_filters=4"]) == 0
    model = keras.saving.load_model(out / "model.keras")
    assert model.family_name == "adversarial_segmentation" and model.image_shape == (32, 32, 3)


def test_preset_segments_vessels():
    model = advzoo.load("adversarial_segmentation_retina")
    meta = advzoo.weights.read_metadata(
        advzoo.weights.resolve_preset("adversarial_segmentation_retina"))
    report = model.segmentation_report(n=32)
    assert report["dice"] > 0.5  # an untrained segmentor scores ~0.2 (all vessel) or 0
    assert abs(report["dice"] - meta["metrics"]["dice"]) < 0.1
