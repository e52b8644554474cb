"""The `pixelda` family (Bousmalis et al. 2017): the PMSE content loss, the two alternating steps
of Eq. 6 (D and T with G fixed, then G), the noise input, translate/segment, the source-only
baseline, save/load, export of T and of G, mixed precision, distribution, bad options, the CLI
and the preset."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import advzoo
from advzoo.models.dann import dann_dataset
from advzoo.models.pixelda import PixelDA, content_similarity, pmse
from conftest import (assert_mirrored_matches_single, assert_save_load_export,
                      segment_probabilities)

KEYS = {"d_loss", "d_real", "d_fake", "task_loss", "ce_translated", "ce", "g_loss",
        "g_adversarial", "g_task", "dice"}


def tiny(**overrides):
    """A compiled tiny pixelda, run eagerly: a few steps of three players cost less than tracing
    them (the traced step runs in the CLI and distribution tests)."""
    config = dict(image_shape=(16, 16, 1), generator_filters=4, n_blocks=1, noise_dim=3,
                  discriminator_filters=4, n_layers=1, segmentation_filters=4, seed=0)
    config.update(overrides)
    model = advzoo.build("pixelda", **config)
    model.compile(run_eagerly=True)
    return model


def test_pmse_ignores_a_global_shift_but_not_a_change_of_shape():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (2, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(pmse(x, x + 0.3), 0.0, atol=1e-6)
    y = x.copy()
    y[:, :4] += 0.5  # half of each image brighter: d has variance 1/16 per image
    np.testing.assert_allclose(pmse(x, y), 0.25 / 2 - 0.0625, rtol=1e-5)
    np.testing.assert_allclose(content_similarity("l1", x, x + 0.3), 0.3, rtol=1e-5)
    np.testing.assert_allclose(content_similarity("l2", x, x + 0.3), 0.09, rtol=1e-5)


def test_fit_evaluate_segment_translate(domain_triples16):
    model = tiny(lambda_content=1.0)
    assert [i.shape[1:] for i in model.generator.inputs] == [(None, None, 1), (3,)]
    history = model.fit(domain_triples16, epochs=1, verbose=0)
    assert set(history.history) == KEYS | {"content_loss"}
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    for player in model.players:  # one D-and-T step and one G step per batch (Sec. 3)
        assert int(getattr(model, f"{player}_optimizer").iterations) == 2
    val = dann_dataset("val", image_shape=(16, 16, 1), n=8, batch_size=4)
    assert set(model.evaluate(val, verbose=0, return_dict=True)) == {"ce", "dice"}
    logs = model.evaluate(domain_triples16, verbose=0, return_dict=True)
    assert set(logs) == KEYS | {"content_loss"}
    images = next(iter(val))[0].numpy()
    assert model.segment(images[:2]).shape == (2, 16, 16, 1)
    out = model.translate(images, seed=1)
    assert out.shape == images.shape and out.dtype == np.float32
    np.testing.assert_array_equal(model.translate(images, seed=1), out)
    z = np.zeros((4, 3), np.float32)
    assert np.abs(model.translate(images, noise=z) - out).max() > 0  # z changes G's output
    np.testing.assert_allclose(model.translate(images[0], noise=z[0]),
                               model.translate(images, noise=z)[0], atol=1e-6)
    with pytest.raises(ValueError, match="noise must have shape"):
        model.translate(images, noise=np.zeros((4, 2)))
    report = model.domain_report(n=4)
    assert set(report) == {"target_dice", "target_dice_std", "source_dice", "source_dice_std",
                           "images"}


def test_each_step_moves_only_its_players(domain_triples16):
    """Step 1 (Eq. 2 and 3): no gradient reaches G; step 2: G's loss is Eq. 6 seen from G."""
    image, mask, target = next(iter(domain_triples16))
    model = tiny(lambda_task=0.5, lambda_content=2.0, content_loss="l2")
    with tf.GradientTape() as tape:
        loss, logs = model.discriminator_and_task_losses(image, mask, target, training=False)
    grads = tape.gradient(loss, model.generator.trainable_variables)
    assert all(g is None for g in grads)
    np.testing.assert_allclose(loss, logs["d_loss"] + logs["ce_translated"] + logs["ce"],
                               rtol=1e-5)
    z = model.sample_noise(8)
    model.sample_noise = lambda n: z  # the same z for both evaluations
    loss, logs = model.generator_losses(image, mask, training=False)
    fake = model.translated(image, False)
    np.testing.assert_allclose(logs["content_loss"], np.mean((fake.numpy() - image.numpy()) ** 2),
                               rtol=1e-5)
    np.testing.assert_allclose(
        loss, logs["g_adversarial"] + 0.5 * logs["g_task"] + 2.0 * logs["content_loss"],
        rtol=1e-5)
    only_translations = tiny(train_on_source=False)
    loss, logs = only_translations.discriminator_and_task_losses(image, mask, target, False)
    np.testing.assert_allclose(loss, logs["d_loss"] + logs["ce_translated"], rtol=1e-5)
    assert np.isfinite(logs["ce"])  # reported, not trained on


def test_source_only_baseline_never_reads_target_images(domain_triples16):
    baseline = tiny(lambda_adv=0.0, noise_dim=0)
    baseline.compile(check_inputs=False)  # NaN stand-ins for what the step must never read
    before = [w.copy() for w in baseline.generator.get_weights() +
              baseline.discriminator.get_weights()]
    nan_targets = domain_triples16.map(lambda x, y, t: (x, y, t * np.nan))
    history = baseline.fit(nan_targets, epochs=1, verbose=0)
    assert set(history.history) == {"ce", "dice"}
    assert np.isfinite(history.history["ce"][-1])
    for a, b in zip(before, baseline.generator.get_weights() +
                    baseline.discriminator.get_weights()):
        np.testing.assert_array_equal(a, b)
    baseline.fit(domain_triples16.map(lambda x, y, t: (x, y)), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="triples"):
        tiny().fit(domain_triples16.map(lambda x, y, t: (x, y)), epochs=1, verbose=0)


def test_save_load_and_float32_export_of_segmentor_and_generator(tmp_path, domain_triples16):
    model = tiny()
    model.fit(domain_triples16.take(1), epochs=1, verbose=0)
    images = next(iter(domain_triples16))[2].numpy()
    loaded = assert_save_load_export(model, tmp_path, segment_probabilities, images[:4],
                                     iterations={"generator": 1, "segmentor": 1})
    z = np.random.default_rng(0).uniform(-1, 1, (4, 3)).astype("float32")
    np.testing.assert_array_equal(loaded.translate(images[:4], noise=z),
                                  model.translate(images[:4], noise=z))
    saved = tf.saved_model.load(str(model.export(tmp_path / "g", network="generator")))
    out = saved.serve(tf.constant(images[:4]), tf.constant(z))
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), model.translate(images[:4], noise=z), atol=1e-5)
    with pytest.raises(ValueError, match="network"):
        model.export(tmp_path / "x", network="discriminator")


def test_mixed_precision_step(domain_triples16):
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = tiny()
    history = model.fit(domain_triples16.take(1), epochs=1, verbose=0)
    assert set(history.history) == KEYS
    assert all(np.isfinite(v[-1]) for v in history.history.values())


def test_3d_step():
    model = PixelDA(image_shape=(8, 8, 8, 1), generator_filters=2, n_blocks=1, noise_dim=2,
                    discriminator_filters=2, n_layers=1, segmentation_filters=2, seed=0)
    model.compile(run_eagerly=True)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (2, 8, 8, 8, 1)).astype("float32")
    history = model.fit(tf.data.Dataset.from_tensor_slices((x, (x > 0.5) * 1.0, -x)).batch(2),
                        epochs=1, verbose=0)
    assert all(np.isfinite(v[-1]) for v in history.history.values())


DISTRIBUTED = r'''
from advzoo.models.pixelda import PixelDA

class FixedNoise(PixelDA):
    # per-replica random draws differ from one device's: fix z; an untrained segmentor's p sits
    # at the 0.5 threshold of Dice: compare the losses only
    def sample_noise(self, batch_size):
        return tf.ones((batch_size, self.noise_dim)) * 0.3

    def add_segmentation_metrics(self):
        pass

    def record_segmentation(self, mask, prediction):
        pass

def build(strategy, weights=None):
    with strategy.scope():
        m = FixedNoise(image_shape=(16, 16, 1), generator_filters=4, n_blocks=1, noise_dim=2,
                       norm="layer", discriminator_filters=4, n_layers=1,
                       discriminator_norm="layer", segmentation_filters=4,
                       segmentation_norm="layer", seed=0)
        # eagerly: the same strategy.run and global-batch averaging, without tracing the
        # three-player step twice (the traced step runs in the CLI test)
        m.compile(optimizers={p: keras.optimizers.SGD(0.05) for p in m.players},
                  run_eagerly=True)
        if weights is not None:
            m.set_weights(weights)
    return m

rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, (8, 16, 16, 1)).astype("float32")
y = (rng.uniform(0, 1, (8, 16, 16, 1)) > 0.8).astype("float32")
t = rng.uniform(-1, 1, (8, 16, 16, 1)).astype("float32")
triples = tf.data.Dataset.from_tensor_slices((x, y, t)).batch(8)  # one step, 4 per replica
'''


def test_mirrored_strategy_on_two_cpus_matches_single_device():
    assert_mirrored_matches_single(DISTRIBUTED, data="(triples,)", fit="dict(epochs=1)")


@pytest.mark.parametrize("bad, match", [
    (dict(lambda_adv=-1.0), "lambda_adv must be a finite number"),
    (dict(lambda_task=float("nan")), "lambda_task must be a finite number"),
    (dict(content_loss="ssim"), r"'ssim'.*Expected one of: l1, l2, pmse"),
    (dict(noise_dim=-1), "noise_dim must be an int >= 0"),
    (dict(train_on_source="yes"), "train_on_source must be True or False"),
    (dict(generator="dcgan"), r"'dcgan'.*Expected one of: resnet, unet"),
    (dict(objective="wgan_gp"), r"'wgan_gp'.*Expected one of"),
    (dict(n_critic=5), "n_critic must be None or 1"),
    (dict(discriminator_filters=0), "discriminator_filters must be a positive int"),
])
def test_bad_configuration_fails_at_build_time(bad, match):
    with pytest.raises(ValueError, match=match):
        tiny(**bad)


def test_cli_trains_two_steps_on_the_default_data(tmp_path):
    from advzoo.cli import main

    out = tmp_path / "run"
    assert main(["train", "pixelda", "--steps", "2", "--batch-size", "2", "--out", str(out),
                 "--set", "generator_filters=4", "--set", "n_blocks=1",
                 "--set", "discriminator_filters=4", "--set", "segmentation_filters=4"]) == 0
    assert keras.saving.load_model(out / "model.keras").family_name == "pixelda"


def test_preset_segments_the_target_scanner():
    model = advzoo.load("pixelda_domain_shift")
    meta = advzoo.weights.read_metadata(advzoo.weights.resolve_preset("pixelda_domain_shift"))
    assert meta["trained_on"]["options"]["organ"] == "liver"
    report = model.domain_report()
    # the shipped numbers are what the preset does (see benchmarks/results/pixelda_domain_shift
    # .json for the source-only baseline of the same recipe)
    assert report["target_dice"] > 0.5
    assert abs(report["target_dice"] - meta["metrics"]["target_dice"]) < 0.02
    assert model.inference_model().count_params() < 3e6 / 4  # < 3 MB of float32 weights
