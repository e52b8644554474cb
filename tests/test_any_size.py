"""Size-free presets: every image-to-image preset runs at sizes other than the one it was trained
at, fine-tunes there, exports with free spatial axes, and maps physical units through its input
contract."""
import numpy as np
import pytest

import advzoo
from advzoo.errors import AdvzooError
from tests.conftest import run_python

SIZE_FREE = ("pix2pix", "srgan", "simgan", "cyclegan", "adversarial_segmentation", "segan",
             "vagan", "dann", "adda", "pixelda", "dan")
PRESETS = [p for f in SIZE_FREE for p in advzoo.list_presets(f)]


def run_preset(model, images):
    """The preset's user-facing call on `images` in [-1, 1]: translate, segment or attribute."""
    if model.family_name == "vagan":
        return model.attribute(images)
    if hasattr(model, "segment") and model.family_name != "cyclegan":
        return model.segment(images, probabilities=True)
    if getattr(model, "reference_channels", 0):
        n, h, w, _ = images.shape
        reference = np.zeros((n, h * model.scale, w * model.scale, 1), np.float32)
        return model.translate(images, reference=reference)
    return model.translate(images)


def test_every_image_to_image_family_has_presets():
    assert {advzoo.get_preset(p).family for p in PRESETS} == set(SIZE_FREE)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_runs_at_other_sizes(name):
    model = advzoo.load(name, compile=False)
    assert model.size_free and model.size_multiple >= 1
    rng = np.random.default_rng(0)
    shape = tuple(model.image_shape)
    spatial = [(36, 40, 33)] if len(shape) == 4 else [(64, 64), (96, 96), (100, 100)]
    for size in spatial:
        images = rng.uniform(-1, 1, (2, *size, shape[-1])).astype(np.float32)
        out = run_preset(model, images)
        scale = getattr(model, "scale", 1) if model.family_name == "srgan" else 1
        assert out.shape[1:-1] == tuple(s * scale for s in size), (name, size, out.shape)
        assert np.all(np.isfinite(out))


def test_32_pixel_presets_fine_tune_at_64_with_a_plain_fit():
    source, target = advzoo.data.translation_pairs_arrays("mr_to_ct", "train", n=4, size=64)
    model = advzoo.load("pix2pix_mr_to_ct")
    history = model.fit(source, target, batch_size=2, epochs=1, verbose=0)
    assert np.isfinite(history.history["g_loss"][0])
    assert model.translate(source).shape == source.shape
    dann = advzoo.load("dann_domain_shift")
    triples = advzoo.get_family("dann").dataset(dann, image_shape=(64, 64, 1), n=4, batch_size=2)
    assert np.isfinite(dann.fit(triples.take(2), epochs=1, verbose=0).history["ce"][0])


# presets with fine-tuning at another size not covered above: the size of their default data
FINE_TUNE_SIZES = {"srgan_mr": {"source_shape": (32, 32, 1)},
                   "segan_retina": {"image_shape": (64, 64, 3)},
                   "vagan_lesions": {"image_shape": (64, 64, 1)},
                   "adda_domain_shift": {"image_shape": (64, 64, 1)},
                   "pixelda_domain_shift": {"image_shape": (64, 64, 1)}}


@pytest.mark.parametrize("name", sorted(FINE_TUNE_SIZES))
def test_more_presets_fine_tune_at_another_size_with_a_plain_fit(name):
    model = advzoo.load(name)
    (option, shape), = FINE_TUNE_SIZES[name].items()
    assert tuple(getattr(model, option)) != shape  # another size than the preset's
    data = advzoo.get_family(model.family_name).dataset(model, n=4, batch_size=2, **{option: shape})
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(data.take(1), epochs=1, verbose=0)
    assert all(np.isfinite(v[0]) for v in history.history.values()), history.history
    assert any(np.any(a != b) for a, b in zip(before, model.get_weights()))  # it trained
    images = next(iter(data))[0]
    images = images[0] if isinstance(images, tuple) else images
    out = run_preset(model, np.asarray(images))
    scale = getattr(model, "scale", 1) if model.family_name == "srgan" else 1
    assert out.shape[1:-1] == tuple(s * scale for s in shape[:-1]) and np.all(np.isfinite(out))


def test_pool_families_fine_tune_at_another_size_through_load_overrides():
    reference = advzoo.load("simgan_lowdose_ct")
    model = advzoo.load("simgan_lowdose_ct", image_shape=(64, 64, 1))
    x = np.random.default_rng(0).uniform(-1, 1, (2, 64, 64, 1)).astype(np.float32)
    np.testing.assert_array_equal(model.translate(x), reference.translate(x))  # same weights
    pairs = advzoo.get_family("simgan").dataset(model, n=4, batch_size=2)
    assert np.isfinite(model.fit(pairs.take(1), epochs=1, verbose=0).history["r_loss"][0])
    with pytest.raises(AdvzooError, match="Did you mean 'image_shape'"):
        advzoo.load("simgan_lowdose_ct", image_shap=(64, 64, 1))
    with pytest.raises(AdvzooError, match="change its networks"):
        advzoo.load("simgan_lowdose_ct", generator_filters=4)


def test_fit_refuses_sizes_off_the_stride_and_unaligned_pairs():
    model = advzoo.load("pix2pix_lowdose_ct")
    assert model.size_multiple == 32
    with pytest.raises(AdvzooError, match=r"multiples of 32.*pad_to_multiple"):
        model.fit(np.zeros((2, 48, 48, 1)), np.zeros((2, 48, 48, 1)), batch_size=2, verbose=0)
    with pytest.raises(AdvzooError, match=r"target images of shape \(batch, 64, 64, 1\): the "
                                          r"spatial size of the source images"):
        model.fit(np.zeros((2, 64, 64, 1)), np.zeros((2, 32, 32, 1)), batch_size=2, verbose=0)


def test_export_serves_any_size_without_advzoo(tmp_path):
    model = advzoo.load("pix2pix_lowdose_ct")
    path = model.export(tmp_path / "served")
    rng = np.random.default_rng(0)
    for size in (64, 96):
        x = rng.uniform(-1, 1, (2, size, size, 1)).astype(np.float32)
        np.save(tmp_path / f"x{size}.npy", x)
        np.save(tmp_path / f"keras{size}.npy", model.translate(x))
    code = f"""
import sys, numpy as np, tensorflow as tf
served = tf.saved_model.load({str(path)!r})
print(served.serve.concrete_functions[0].structured_input_signature)
for size in (64, 96):
    x = np.load({str(tmp_path)!r} + f"/x{{size}}.npy")
    y = served.serve(tf.constant(x)).numpy()
    assert y.dtype == np.float32 and y.shape == x.shape
    diff = np.abs(y - np.load({str(tmp_path)!r} + f"/keras{{size}}.npy")).max()
    assert diff < 1e-5, diff
assert "advzoo" not in sys.modules
print("served ok")
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "served ok" in result.stdout and "None, None, None, 1" in result.stdout


def test_tiled_translation_matches_the_whole_image_without_seams():
    model = advzoo.load("pix2pix_lowdose_ct")
    arrays = advzoo.data.lowdose_ct_arrays("test", n=2, size=128)
    x = advzoo.data.hu_to_unit(arrays["low"])
    whole = model.translate(x)
    tiled = model.translate(x, tile=96, overlap=0.5)
    assert tiled.shape == whole.shape
    inner = (slice(None), slice(16, -16), slice(16, -16))
    # the U-Net sees more than a tile, so tiles differ a little from the whole image; the
    # Gaussian blend keeps that far below the denoising it does (|output - input|)
    assert np.abs(tiled - whole)[inner].mean() < 0.1 * np.abs(whole - x)[inner].mean()
    # no seam: the tiled output changes no faster across a tile boundary than the whole one
    starts = (32,)  # the second tile along each axis starts at 128 - 96
    jump = lambda y: np.abs(np.diff(y, axis=2))[:, 20:-20, [s - 1 for s in starts]].mean()
    assert jump(tiled) < 1.5 * jump(whole)


def test_physical_units_go_through_the_preset_contract():
    hu = advzoo.data.lowdose_ct_arrays("test", n=2, size=64)["low"]
    model = advzoo.load("pix2pix_lowdose_ct")
    assert model.contract["input"]["units"] == "HU"
    manual = advzoo.data.unit_to_hu(model.translate(advzoo.data.hu_to_unit(hu)))
    np.testing.assert_allclose(model.translate(hu, units="physical"), manual, atol=1e-2)
    # the lesion preset states its soft-tissue window: physical HU give the trained mapping
    vagan = advzoo.load("vagan_lesions")
    lesions = advzoo.data.lesions_arrays("test", n=4, size=32)["images"]
    soft = vagan.attribute(advzoo.data.hu_to_unit(lesions, window=(-160, 240)))
    np.testing.assert_allclose(vagan.attribute(lesions, units="physical"), soft * 200.0,
                               atol=1e-3)
    retina = advzoo.load("adversarial_segmentation_retina")
    rgb = advzoo.data.retina_arrays("test", n=2, size=32)["images"]
    np.testing.assert_array_equal(retina.segment(rgb * 255.0, units="physical"),
                                  retina.segment(rgb * 2.0 - 1.0))
    fresh = advzoo.build("pix2pix", source_shape=(32, 32, 1), generator_filters=4,
                         discriminator_filters=4)
    with pytest.raises(AdvzooError, match="states no input contract"):
        fresh.translate(hu, units="physical")
    with pytest.raises(AdvzooError, match="units"):
        model.translate(hu, units="HU")


def test_a_contract_can_pass_values_outside_its_window_through():
    """outside="input": a narrow-window model (the soft-tissue refiner of real CT) leaves what
    it saw clipped (air, bone) as it came in; the contract refuses it where it cannot hold."""
    from advzoo.contract import check_contract, from_model_units

    soft = {"modality": "CT", "units": "HU", "window": [-160, 240]}
    contract = check_contract({"input": soft, "output": {**soft, "outside": "input"}})
    hu = np.array([[-1000.0, -100.0, 0.0, 240.0, 700.0]], np.float32)
    out = from_model_units(np.zeros_like(hu), contract["output"], inputs=hu)
    np.testing.assert_array_equal(out, [[-1000.0, 40.0, 40.0, 40.0, 700.0]])
    with pytest.raises(AdvzooError, match="give the inputs"):
        from_model_units(np.zeros_like(hu), contract["output"])
    with pytest.raises(AdvzooError, match="input's window"):
        check_contract({"input": {**soft, "window": [-1024, 1024]},
                        "output": {**soft, "outside": "input"}})
    with pytest.raises(AdvzooError, match="Did you mean 'input'"):
        check_contract({"input": soft, "output": {**soft, "outside": "inpt"}})
    model = advzoo.build("simgan", image_shape=(32, 32, 1), generator_filters=4, n_blocks=1,
                         discriminator_filters=4, window=(-160, 240), contract=contract)
    scan = np.full((1, 32, 32, 1), 40.0, np.float32)
    scan[:, :8] = -1000.0  # air
    scan[:, -8:] = 900.0  # bone
    refined = model.translate(scan, units="physical")
    np.testing.assert_array_equal(refined[:, :8], scan[:, :8])
    np.testing.assert_array_equal(refined[:, -8:], scan[:, -8:])
    inside = model.translate(advzoo.data.hu_to_unit(scan, window=(-160, 240)))[:, 8:-8]
    np.testing.assert_allclose(refined[:, 8:-8], advzoo.data.unit_to_hu(inside, (-160, 240)),
                               atol=1e-3)
