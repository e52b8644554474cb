"""Sliding-window inference: exact on pointwise maps, agrees with whole-image convolution away from
tile borders, upscales, and validates its arguments before predicting anything."""
import keras
import numpy as np
import pytest

from advzoo.errors import AdvzooError
from advzoo.inference import crop_to, pad_to_multiple, sliding_window

BLENDS = ("gaussian", "constant", "linear")


def _images(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


@pytest.mark.parametrize("blend", BLENDS)
@pytest.mark.parametrize("shape,tile", [((2, 13, 17, 2), 6), ((2, 13, 17, 2), (5, 8)),
                                        ((1, 7, 9, 11, 1), 4), ((2, 6, 7, 5, 3), (4, 6, 3))])
@pytest.mark.parametrize("fn", [lambda x: x, lambda x: 2 * x + 1])
def test_pointwise_predict_is_reproduced_exactly(blend, shape, tile, fn):
    images = _images(shape)
    out = sliding_window(fn, images, tile, overlap=0.3, batch_size=3, blend=blend)
    assert out.dtype == np.float32 and out.shape == images.shape
    np.testing.assert_allclose(out, fn(images), atol=1e-6, rtol=1e-6)


def test_tiles_are_batched_across_images_and_positions():
    sizes = []

    def predict(x):
        sizes.append(len(x))
        return x

    # 10 wide, tile 4, overlap 0.5 -> stride 2, origins 0, 2, 4, 6 on each axis: 16 tiles per image
    sliding_window(predict, _images((3, 10, 10, 1)), 4, overlap=0.5, batch_size=5)
    assert sum(sizes) == 3 * 16 and max(sizes) == 5 and len(sizes) == -(-48 // 5)


@pytest.mark.parametrize("shape,tile", [((2, 9, 11, 3), 4), ((1, 5, 6, 7, 2), (4, 4, 6))])
def test_upscaling_predict(shape, tile):
    images = _images(shape)

    def upscale(x):
        for axis in range(1, x.ndim - 1):
            x = np.repeat(x, 2, axis=axis)
        return x[..., :1] * 3.0

    out = sliding_window(upscale, images, tile, overlap=0.5)
    np.testing.assert_allclose(out, upscale(images), atol=1e-6)
    assert out.shape == (shape[0],) + tuple(2 * s for s in shape[1:-1]) + (1,)


def _conv_model():
    keras.utils.set_random_seed(1)
    init = keras.initializers.RandomNormal(stddev=0.3, seed=1)
    return keras.Sequential([keras.Input((None, None, 1)),
                             keras.layers.Conv2D(4, 3, padding="same", activation="tanh",
                                                 kernel_initializer=init, bias_initializer=init),
                             keras.layers.Conv2D(2, 3, padding="same", kernel_initializer=init,
                                                 bias_initializer=init)])


def _exact_mask(size, tile, starts, radius):
    """Pixels every covering tile sees at least `radius` from its edges (an edge on the image
    border pads with zeros like the whole image does, so it counts as exact)."""
    x = np.arange(size)
    ok = np.ones(size, bool)
    for s in starts:
        covered = (x >= s) & (x < s + tile)
        good = ((s == 0) | (x - s >= radius)) & ((s + tile == size) | (s + tile - 1 - x >= radius))
        ok &= ~covered | good
    return ok


@pytest.mark.parametrize("blend", BLENDS)
def test_conv_model_matches_whole_image_away_from_tile_borders(blend):
    model = _conv_model()
    images = _images((2, 20, 23, 1), seed=3)
    whole = model.predict(images, verbose=0)
    tiled = sliding_window(lambda x: model(x), images, 12, overlap=0.5, blend=blend)  # a tensor
    # stride 6: origins 0, 6, 8 on the 20 axis and 0, 6, 11 on the 23 axis; receptive radius 2
    mask = _exact_mask(20, 12, (0, 6, 8), 2)[:, None] & _exact_mask(23, 12, (0, 6, 11), 2)[None]
    assert mask.mean() > 0.3
    np.testing.assert_allclose(tiled[:, mask], whole[:, mask], atol=1e-5)
    assert np.abs(tiled[:, ~mask] - whole[:, ~mask]).max() > 1e-4  # the mask is not vacuous


def test_gaussian_blend_leaves_no_seams():
    model = _conv_model()
    yy, xx = np.mgrid[0:24, 0:40].astype(np.float32)
    images = (np.sin(xx / 6.0) * np.cos(yy / 7.0))[None, ..., None]
    whole = model.predict(images, verbose=0)
    grad_whole = np.diff(whole, axis=2)
    # tiles start at columns 0, 8, 16, 24: their inner edges sit between columns 7|8 ... 31|32
    edges = [7, 15, 23, 31]
    seams = {}
    for blend in ("gaussian", "constant"):
        tiled = sliding_window(lambda x: model.predict(x, verbose=0), images, (24, 16),
                               overlap=0.5, blend=blend)
        grad_tiled = np.diff(tiled, axis=2)
        seams[blend] = np.abs(grad_tiled[:, :, edges] - grad_whole[:, :, edges]).max()
    scale = np.abs(grad_whole).max()
    assert seams["gaussian"] < 0.02 * scale
    assert seams["constant"] > 10 * seams["gaussian"]  # the check does see seams when present


def test_pad_to_multiple_and_crop_to_still_round_trip():
    images = _images((1, 9, 10, 2))
    padded, before, sizes = pad_to_multiple(images, 4)
    assert padded.shape == (1, 12, 12, 2)
    np.testing.assert_array_equal(crop_to(padded, before, sizes), images)


def _never_called(x):
    raise AssertionError("predict must not be called on invalid arguments")


@pytest.mark.parametrize("images,kwargs,words", [
    ((1, 6, 9, 1), dict(tile=8), ["(6, 9)", "(8, 8)", "smaller than one tile"]),
    ((1, 3, 12, 12, 1), dict(tile=(4, 8, 8)), ["(3, 12, 12)", "(4, 8, 8)"]),
    ((1, 16, 16, 1), dict(tile=6, size_multiple=4), ["(6, 6)", "size_multiple=4"]),
    ((1, 16, 16, 1), dict(tile=8, overlap=1.0), ["overlap", "[0, 1)", "1.0"]),
    ((1, 16, 16, 1), dict(tile=8, overlap=-0.1), ["overlap", "-0.1"]),
    ((1, 16, 16, 1), dict(tile=8, blend="gausian"), ["'gausian'", "gaussian", "linear"]),
    ((16, 16, 1), dict(tile=8), ["(16, 16, 1)", "rank 3"]),
    ((1, 16, 16, 1), dict(tile=(8, 8, 8)), ["(8, 8, 8)", "2 ints"]),
    ((1, 16, 16, 1), dict(tile=8, batch_size=0), ["batch_size", "0"]),
    ((1, 16, 16, 1), dict(tile=8, sigma_scale=0.0), ["sigma_scale", "0.0"]),
])
def test_invalid_arguments_raise_before_predicting(images, kwargs, words):
    with pytest.raises(AdvzooError) as info:
        sliding_window(_never_called, np.zeros(images, np.float32), **kwargs)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_predict_with_non_integer_scale_is_rejected():
    with pytest.raises(AdvzooError, match=r"integer.*\(2, 8, 4, 1\)"):
        sliding_window(lambda x: x[:, :, :4], np.zeros((2, 8, 8, 1), np.float32), 8)
