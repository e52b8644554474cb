"""The shared image-to-image pieces: U-Net, ResNet generator, PatchGAN (2D/3D), ReflectionPadding,
ImagePool, TranslationMixin.translate, translation_pairs and the perceptual loss."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from advzoo.data import translation_pairs, translation_pairs_arrays
from advzoo.errors import AdvzooError
from advzoo.layers import ImagePool, ReflectionPadding
from advzoo.networks import (build_generator, patchgan, patchgan_receptive_field,
                             resnet_generator, unet)


@pytest.mark.parametrize("shape", [(16, 16, 2), (8, 8, 8, 1)])
def test_generators_keep_spatial_shape_and_float32_output(shape):
    x = np.random.default_rng(0).uniform(-1, 1, (2, *shape)).astype(np.float32)
    for net in (unet(shape, 3, filters=4), resnet_generator(shape, 3, filters=4, n_blocks=1)):
        y = net(x)
        assert y.shape == (2, *shape[:-1], 3) and y.dtype == tf.float32
        assert np.abs(np.asarray(y)).max() <= 1.0  # tanh


def test_unet_depth_reaches_one_voxel_and_skips_every_level():
    net = unet((32, 32, 1), filters=4)
    bottleneck = keras.Model(net.input, net.get_layer("unet_down4").output)
    assert bottleneck.compute_output_shape((1, 32, 32, 1))[1:3] == (1, 1)
    assert net.input.shape[1:] == (None, None, 1)  # size-free: runs at any multiple of 32
    assert len([l for l in net.layers if l.name.startswith("unet_skip")]) == 4
    assert len([l for l in net.layers if "dropout" in l.name]) == 3  # Isola's three innermost


def test_residual_generator_starts_near_identity_and_learns_a_correction():
    shape = (16, 16, 1)
    x = np.random.default_rng(1).uniform(-1, 1, (2, *shape)).astype(np.float32)
    net = unet(shape, 1, filters=4, residual=True)
    out = np.asarray(net(x))
    assert np.abs(out - x).mean() < np.abs(x).mean()  # input + small initial correction
    zero = keras.Model(net.input, net.get_layer("unet_output").output)(x)
    np.testing.assert_allclose(out, x + np.asarray(zero), atol=1e-5)


def test_patchgan_receptive_field_and_conditional_input():
    assert [patchgan_receptive_field(n) for n in (1, 2, 3)] == [16, 34, 70]
    d = patchgan((32, 32, 1), condition_shape=(32, 32, 2), filters=4, n_layers=3)
    x, y = np.zeros((2, 32, 32, 1), np.float32), np.zeros((2, 32, 32, 2), np.float32)
    logits = d([y, x])
    assert logits.shape == (2, 4, 4, 1) and logits.dtype == tf.float32
    whole = patchgan((8, 8, 8, 1), filters=4, n_layers=2, output="image", norm="spectral")
    assert whole(np.zeros((3, 8, 8, 8, 1), np.float32)).shape == (3, 1)


def test_patchgan_logit_depends_only_on_its_receptive_field():
    d = patchgan((64, 64, 1), filters=4, n_layers=1, norm="none")  # field 16
    x = np.random.default_rng(0).normal(size=(1, 64, 64, 1)).astype(np.float32)
    moved = x.copy()
    moved[0, 48:, 48:] += 5.0  # far corner
    a, b = np.asarray(d(x))[0, :, :, 0], np.asarray(d(moved))[0, :, :, 0]
    assert np.allclose(a[:8, :8], b[:8, :8], atol=1e-6) and not np.allclose(a, b)


@pytest.mark.parametrize("call, match", [
    (lambda: unet((30, 30, 1)), "multiple of 16"),
    (lambda: unet((16, 16)), r"\(H, W, C\)"),
    (lambda: resnet_generator((16, 16, 1), n_blocks=-1), "n_blocks must be an int >= 0"),
    (lambda: patchgan((16, 16, 1), condition_shape=(8, 8, 1)), "same spatial size"),
    (lambda: patchgan((16, 16, 1), norm="batchnorm"), "Did you mean 'batch'"),
    (lambda: build_generator("unett", (16, 16, 1), 1), "Did you mean 'unet'"),
    (lambda: unet((16, 16, 1), 2, residual=True), "input has 1"),
])
def test_bad_network_options_are_named(call, match):
    with pytest.raises(AdvzooError, match=match):
        call()


def test_reflection_padding_mirrors_2d_and_3d():
    x = np.arange(9, dtype=np.float32).reshape(1, 3, 3, 1)
    y = np.asarray(ReflectionPadding(1)(x))[0, :, :, 0]
    np.testing.assert_array_equal(y[0, 1:4], x[0, 1, :, 0])  # row -1 mirrors row 1
    assert ReflectionPadding(2)(np.zeros((1, 4, 4, 4, 2), np.float32)).shape == (1, 8, 8, 8, 2)


def test_image_pool_stores_then_swaps_with_history():
    pool = ImagePool(4, seed=0)
    first = [np.asarray(pool(tf.fill((2, 2, 2, 1), float(i)))) for i in range(2)]
    assert [f[:, 0, 0, 0].tolist() for f in first] == [[0, 0], [1, 1]]  # filling: returned as is
    assert int(pool.count) == 4
    seen = np.concatenate([np.asarray(pool(tf.fill((2, 2, 2, 1), float(i))))[:, 0, 0, 0]
                           for i in range(2, 40)])
    assert set(np.unique(seen)) - set(range(40)) == set()
    fresh = np.sum(seen == np.repeat(np.arange(2, 40), 2))
    assert 0.3 < fresh / len(seen) < 0.7  # about half new, half history
    assert np.asarray(ImagePool(0)(tf.ones((3, 2, 2, 1)))).sum() == 12  # pool_size 0: identity
    with pytest.raises(ValueError, match="pool_size must be an int >= 0"):
        ImagePool(-1)


def test_image_pool_compiles_with_xla_and_round_trips():
    pool = ImagePool(3, image_shape=(2, 2, 1), seed=1)
    step = tf.function(lambda x: pool(x), jit_compile=True)
    step(tf.ones((2, 2, 2, 1)))
    restored = ImagePool.from_config(pool.get_config())
    restored.set_weights(pool.get_weights())
    np.testing.assert_array_equal(restored.images.numpy(), pool.images.numpy())


def test_translation_pairs_tasks_ranges_and_unpaired_targets():
    for task in ("mr_to_ct", "sketch_xray", "csmri"):
        src, tgt = translation_pairs_arrays(task, "val", n=6, size=32)
        assert src.shape == tgt.shape == (6, 32, 32, 1)
        assert src.min() >= -1 and src.max() <= 1 and tgt.min() >= -1 and tgt.max() <= 1
    src, tgt = translation_pairs_arrays("sketch_xray", "val", n=6, size=32)
    _, unpaired = translation_pairs_arrays("sketch_xray", "val", n=6, size=32, paired=False)
    assert all(not np.array_equal(unpaired[i], tgt[i]) for i in range(6))  # no own target
    assert sorted(map(bytes, unpaired)) == sorted(map(bytes, tgt))  # same images, permuted
    (x, y), = translation_pairs("mr_to_ct", "val", n=4, size=16, ndim=3, batch_size=4).take(1)
    assert x.shape == (4, 16, 16, 16, 1)
    with pytest.raises(AdvzooError, match="Did you mean 'lowdose_ct'"):
        translation_pairs_arrays("low_dose_ct")
    with pytest.raises(AdvzooError, match="2D data only"):
        translation_pairs_arrays("csmri", ndim=3)


class _Doubler(keras.Model):
    """A minimal model with the mixin: its translator halves its input."""

    def __init__(self):
        super().__init__()
        inp = keras.Input((8, 8, 1))
        self.net = keras.Model(inp, keras.layers.Rescaling(0.5)(inp))

    def inference_model(self):
        return self.net


def test_translate_checks_shape_and_range_and_keeps_layout():
    from advzoo.training import TranslationMixin

    model = type("Halver", (TranslationMixin, _Doubler), {})()
    batch = np.random.default_rng(0).uniform(-1, 1, (5, 8, 8, 1)).astype(np.float32)
    np.testing.assert_allclose(model.translate(batch, batch_size=2), batch / 2, atol=1e-6)
    np.testing.assert_allclose(model.translate(tf.constant(batch[0])), batch[0] / 2, atol=1e-6)
    with pytest.raises(AdvzooError, match=r"scaled to \[-1, 1\].*hu_to_unit"):
        model.translate(batch * 500)
    with pytest.raises(AdvzooError, match=r"expected images of shape \(8, 8, 1\)"):
        model.translate(np.zeros((2, 16, 16, 1), np.float32))
    with pytest.raises(AdvzooError, match="NaN"):
        model.translate(np.full((1, 8, 8, 1), np.nan, np.float32))


def test_perceptual_loss_is_zero_for_equal_images_and_grows_with_noise():
    from advzoo.perceptual import perceptual_loss, perceptual_network

    extractor = perceptual_network("act1b")
    assert not extractor.trainable_weights
    x = tf.constant(translation_pairs_arrays("mr_to_ct", "val", n=4, size=32)[1])
    rng = np.random.default_rng(0)
    losses = [float(perceptual_loss(extractor, x, x + s * rng.normal(size=x.shape)))
              for s in (0.0, 0.05, 0.2)]
    assert losses[0] == 0.0 and losses[0] < losses[1] < losses[2]
    with pytest.raises(AdvzooError, match="Did you mean 'act1b'"):
        perceptual_network("act1")
