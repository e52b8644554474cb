"""The layers of progressive growing (Karras et al. 2018): pixel norm, minibatch std-dev,
equalised learning rate, fade-in; each against its definition, and serialisation."""
import keras
import numpy as np
import pytest

from advzoo.layers import (EqualizedConv2D, EqualizedDense, FadeIn, MinibatchStdDev,
                           PixelNormalization)

RNG = np.random.default_rng(0)


def test_pixel_norm_gives_unit_mean_square_per_pixel():
    x = RNG.normal(0, 3, (2, 4, 4, 5)).astype(np.float32)
    out = PixelNormalization()(x).numpy()
    np.testing.assert_allclose(out, x / np.sqrt((x ** 2).mean(-1, keepdims=True) + 1e-8), rtol=1e-5)
    np.testing.assert_allclose((out ** 2).mean(-1), 1.0, rtol=1e-4)


def test_minibatch_stddev_matches_definition_per_group_of_consecutive_samples():
    x = RNG.normal(0, 1, (8, 3, 3, 2)).astype(np.float32)
    out = MinibatchStdDev(group_size=4)(x).numpy()
    assert out.shape == (8, 3, 3, 3)
    np.testing.assert_array_equal(out[..., :2], x)
    for g in range(2):
        group = x[4 * g:4 * g + 4].astype(np.float64)
        expected = np.sqrt(group.var(axis=0) + 1e-8).mean()
        np.testing.assert_allclose(out[4 * g:4 * g + 4, ..., 2], expected, rtol=1e-5)
    assert not np.isclose(out[0, 0, 0, 2], out[4, 0, 0, 2])  # the two groups differ
    # a batch the group size does not divide forms one group; identical samples give ~0
    odd = MinibatchStdDev(group_size=4)(x[:6]).numpy()[..., 2]
    np.testing.assert_allclose(odd, np.sqrt(x[:6].astype(np.float64).var(0) + 1e-8).mean(), rtol=1e-5)
    same = MinibatchStdDev(group_size=4)(np.repeat(x[:1], 4, axis=0)).numpy()[..., 2]
    np.testing.assert_allclose(same, 1e-4, rtol=1e-3)
    with pytest.raises(ValueError, match="group_size >= 2"):
        MinibatchStdDev(group_size=1)


def test_equalized_dense_scales_weights_at_run_time():
    layer = EqualizedDense(3)
    x = RNG.normal(0, 1, (5, 16)).astype(np.float32)
    out = layer(x).numpy()
    kernel = layer.kernel.numpy()
    assert 0.7 < kernel.std() < 1.3  # stored weights are N(0, 1) ...
    np.testing.assert_allclose(out, x @ (kernel * np.sqrt(2.0) / 4.0), rtol=1e-5, atol=1e-6)  # ... scaled by sqrt(2/16)
    with pytest.raises(ValueError, match="units >= 1"):
        EqualizedDense(0)


def test_equalized_conv_scales_weights_at_run_time():
    layer = EqualizedConv2D(4, kernel_size=3, gain=1.0)
    x = RNG.normal(0, 1, (2, 5, 5, 2)).astype(np.float32)
    out = layer(x).numpy()
    kernel = (layer.kernel.numpy() / np.sqrt(3 * 3 * 2)).astype(np.float32)
    reference = keras.ops.conv(x, kernel, padding="same").numpy()
    np.testing.assert_allclose(out, reference, rtol=1e-5, atol=1e-6)
    assert out.shape == (2, 5, 5, 4)
    with pytest.raises(ValueError, match="filters >= 1"):
        EqualizedConv2D(0)


@pytest.mark.parametrize("level, alpha, w_new", [
    (0, 1.0, 0.0),    # stage 2 not in yet
    (1, 1.0, 0.0),
    (2, 0.25, 0.25),  # stage 2 fading in
    (2, 1.0, 1.0),
    (3, 0.5, 1.0),    # a finer stage fading in: stage 2 fully in
])
def test_fade_in_weights_follow_level_and_alpha(level, alpha, w_new):
    layer = FadeIn(stage=2)
    old = np.full((1, 2), 10.0, np.float32)
    new = np.full((1, 2), 20.0, np.float32)
    layer([old, new])
    layer.set_growth(level, alpha)
    np.testing.assert_allclose(layer([old, new]).numpy(), (1 - w_new) * 10 + w_new * 20, rtol=1e-6)
    assert not layer.trainable_weights  # growth state is not learned
    with pytest.raises(ValueError, match="stage >= 1"):
        FadeIn(stage=0)


def test_layers_round_trip_through_keras_files(tmp_path):
    x_in = keras.Input((4, 4, 3))
    x = EqualizedConv2D(4, 3)(x_in)
    x = PixelNormalization()(x)
    x = FadeIn(1)([x, x * 2.0])
    x = MinibatchStdDev(2)(x)
    out = EqualizedDense(2)(keras.layers.Flatten()(x))
    model = keras.Model(x_in, out)
    for layer in model.layers:
        if isinstance(layer, FadeIn):
            layer.set_growth(1, 0.3)
    model.save(tmp_path / "layers.keras")
    loaded = keras.saving.load_model(tmp_path / "layers.keras")
    x = RNG.normal(0, 1, (4, 4, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-6)
    fade = [l for l in loaded.layers if isinstance(l, FadeIn)][0]
    assert float(fade.alpha.numpy()) == pytest.approx(0.3)
