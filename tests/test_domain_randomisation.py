"""Domain randomisation of the segmentation phantoms (`randomise=` of ct_slices and retina,
advzoo.data.DomainRandomisation; issue #17, point 3)."""
import hashlib

import numpy as np
import pytest

from advzoo import data as D
from advzoo.data.randomisation import randomise_appearance


def _digest(arrays: dict) -> str:
    m = hashlib.sha256()
    for k in sorted(arrays):
        a = np.ascontiguousarray(arrays[k])
        m.update(k.encode())
        m.update(str(a.dtype).encode())
        m.update(str(a.shape).encode())
        m.update(a.tobytes())
    return m.hexdigest()


# sha256 of the phantoms computed BEFORE the randomise option was added (same numpy/scipy here);
# randomise=False (the default) must reproduce them bit for bit, so presets and benchmarks that
# train on these phantoms see the same data.
BEFORE = {
    "ct_slices_2d_64": (lambda: D.ct_slices_arrays("train", n=40, seed=0),
                        "d3c72c58ac28f182803f89198077bdd1a1d8d3f51aa2ffd9c8992a333fd8fe9a"),
    "ct_slices_2d_32_val": (lambda: D.ct_slices_arrays("val", n=40, size=32, seed=3),
                            "ab278d84f594517759abf3c8a72ac806416cb23dbbc31613ea42817fa5bd03e5"),
    "ct_slices_3d": (lambda: D.ct_slices_arrays("test", n=4, ndim=3, seed=1),
                     "efea373e4797e431f6a69c8c5a881c01cbc437e0060deaa31120985c9f1f8f6c"),
    "retina_64": (lambda: D.retina_arrays("train", n=40, seed=0),
                  "d0b45c4fce8e069777cd5694be8f7fbdbaace2ca6d6fda448325223285c36b59"),
    "retina_32_green": (lambda: D.retina_arrays("val", n=40, size=32, channels=1, seed=2),
                        "203a508b38ebe8b7e90e6fae9ac1dfc0ee6065f22a664d6a6a0eeab6179fb20f"),
    "lowdose_32": (lambda: D.lowdose_ct_arrays("train", n=8, size=32, seed=0),
                   "89136a3088481170545e246022fce83bc29cc7ce9d6ec71999b949872291b303"),
}


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_default_output_unchanged_bit_for_bit(name):
    make, digest = BEFORE[name]
    D.clear_cache()
    assert _digest(make()) == digest, f"{name}: the default phantom changed"


def _label_means(images, labels, n_labels):
    """(n, n_labels) mean image value per label and sample (NaN where a label is absent)."""
    out = np.full((len(images), n_labels), np.nan)
    for i in range(len(images)):
        for k in range(n_labels):
            sel = labels[i] == k
            if sel.any():
                out[i, k] = images[i][sel].mean()
    return out


def test_ct_randomised_labels_unchanged_intensities_vary_per_sample():
    plain = D.ct_slices_arrays("train", n=6, size=32, seed=2)
    rand = D.ct_slices_arrays("train", n=6, size=32, seed=2, randomise=True)
    np.testing.assert_array_equal(rand["labels"], plain["labels"])
    img, lab = rand["images"][..., 0], rand["labels"][..., 0]
    assert img.dtype == np.float32 and np.all(np.isfinite(img))
    assert img.min() >= -1000.0 and img.max() <= 1000.0  # CT_RANDOMISED_RANGE
    means = _label_means(img, lab, len(D.CT_LABELS))
    # the same label has very different intensities in different samples (clean CT: sd < 80 HU)
    for k in (0, 1, 2, 6):  # background, fat, soft tissue, bone: present in every sample
        assert np.nanstd(means[:, k]) > 150.0, (D.CT_LABELS[k], means[:, k])
    # and the order of the labels' intensities changes between samples (no fixed contrast)
    orders = {tuple(np.argsort(means[i, [0, 1, 2, 6]])) for i in range(len(means))}
    assert len(orders) > 1
    # the images are no longer the HU phantom
    assert np.abs(img - plain["images"][..., 0]).mean() > 100.0


def test_retina_randomised_masks_unchanged_colours_vary_per_sample():
    plain = D.retina_arrays("val", n=6, size=32, seed=1)
    rand = D.retina_arrays("val", n=6, size=32, seed=1, randomise=True)
    np.testing.assert_array_equal(rand["masks"], plain["masks"])
    np.testing.assert_array_equal(rand["fov"], plain["fov"])
    img = rand["images"]
    assert img.shape == plain["images"].shape and img.dtype == np.float32
    assert np.all(np.isfinite(img)) and img.min() >= 0.0 and img.max() <= 1.0
    # vessel - fundus contrast per sample and channel: varies in size and sign between samples
    fov, vessel = rand["fov"][..., 0] > 0, rand["masks"][..., 0] > 0
    contrast = np.array([[img[i][..., c][vessel[i]].mean() - img[i][..., c][fov[i] & ~vessel[i]].mean()
                          for c in range(3)] for i in range(len(img))])
    assert np.std(contrast) > 0.05 and (contrast > 0).any() and (contrast < 0).any(), contrast
    # green channel only
    green = D.retina_arrays("val", n=2, size=32, channels=1, seed=1, randomise=True)["images"]
    assert green.shape == (2, 32, 32, 1) and 0.0 <= green.min() and green.max() <= 1.0


def test_randomised_deterministic_under_a_seed_and_3d():
    a = D.ct_slices_arrays("train", n=3, size=32, seed=5, randomise=True)
    D.clear_cache()
    b = D.ct_slices_arrays("train", n=3, size=32, seed=5, randomise=True)
    c = D.ct_slices_arrays("train", n=3, size=32, seed=6, randomise=True)
    np.testing.assert_array_equal(a["images"], b["images"])
    assert not np.array_equal(a["images"], c["images"])
    # the first samples do not depend on n (as every phantom)
    more = D.ct_slices_arrays("train", n=5, size=32, seed=5, randomise=True)
    np.testing.assert_array_equal(more["images"][:3], a["images"])
    vol = D.ct_slices_arrays("train", n=2, size=16, ndim=3, seed=0, randomise=True)
    assert vol["images"].shape == (2, 16, 16, 16, 1) and np.all(np.isfinite(vol["images"]))
    assert vol["images"].min() >= -1000.0 and vol["images"].max() <= 1000.0


def test_options_are_honoured():
    labels = np.zeros((2, 32, 32), np.int64)
    labels[:, 8:24, 8:24] = 1
    off = D.DomainRandomisation(intensity=(0.2, 0.8), texture=(0.0, 0.0), bias=0.0, blur=(0.0, 0.0),
                                resolution=(1.0, 1.0), noise=(0.0, 0.0), gamma=(1.0, 1.0))
    img = randomise_appearance(np.random.default_rng(0), labels, off, num_labels=2)[..., 0]
    # with every corruption off, each label is flat and min-max normalised to {0, 1}
    for i in range(2):
        assert set(np.unique(img[i])) == {0.0, 1.0}
    noisy = D.DomainRandomisation(noise=(0.2, 0.2), resolution=(2.0, 2.0))
    img2 = randomise_appearance(np.random.default_rng(0), labels, noisy, num_labels=2)
    assert len(np.unique(img2)) > 100 and img2.min() >= 0.0 and img2.max() <= 1.0


def test_tf_data_forms_accept_randomise():
    img, lab = next(iter(D.ct_slices(n=2, size=32, labels=True, batch_size=2, randomise=True)))
    assert img.shape == lab.shape == (2, 32, 32, 1) and float(np.abs(img.numpy()).max()) <= 1.0
    img, mask = next(iter(D.retina(n=2, size=32, batch_size=2, randomise=True)))
    assert img.shape == (2, 32, 32, 3) and float(np.abs(img.numpy()).max()) <= 1.0


@pytest.mark.parametrize("call,match", [
    (lambda: D.DomainRandomisation(blur=(2.0, 1.0)),
     r"DomainRandomisation: blur must be a \(low, high\) pair with 0.0 <= low <= high <= 10.0, got \(2.0, 1.0\)"),
    (lambda: D.DomainRandomisation(intensity=0.5),
     r"intensity must be a \(low, high\) pair of numbers in \[0.0, 1.0\], got 0.5"),
    (lambda: D.DomainRandomisation(bias=-1), r"bias must be a number in \[0, 2\], got -1"),
    (lambda: D.DomainRandomisation(resolution=(0.5, 2.0)), r"resolution must be .* got \(0.5, 2.0\)"),
    (lambda: D.ct_slices_arrays(n=1, size=32, randomise="yes"),
     r"ct_slices: randomise must be False, True, a dict of DomainRandomisation fields "
     r"\(intensity, texture, .*\) or an advzoo.data.DomainRandomisation, got 'yes'"),
    (lambda: D.ct_slices_arrays(n=1, size=32, randomise={"blurr": (0.0, 1.0)}),
     r"Unknown randomise option 'blurr'. Did you mean 'blur'"),
    (lambda: D.retina_arrays(n=1, size=32, randomise=1.0), r"retina: randomise must be False, True"),
    (lambda: D.ct_slices_arrays(n=1, size=32, noise_hu=10.0, randomise=True),
     r"ct_slices: noise_hu applies to the HU phantom.*got noise_hu=10.0"),
])
def test_bad_options_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
