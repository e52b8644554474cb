"""advzoo.data.simulate_low_dose (the shared low-dose CT physics) and the clinical-resolution
low-dose phantom lowdose_ct_clinical_arrays (issue #17, point 1)."""
import numpy as np
import pytest

from advzoo import data as D
from advzoo.data import lowdose as L

SIZE = 128
PIXEL_MM = 0.8
DOSES = (1.0, 0.25, 0.0625)


def _disc_phantom(size=SIZE):
    """A uniform soft-tissue disc (40 HU, radius 0.375 x size) in air, and its central region
    (radius 0.19 x size) where the noise is measured."""
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2.0
    r = np.hypot(yy, xx)
    return np.where(r < 0.375 * size, 40.0, -1000.0), r < 0.19 * size


@pytest.fixture(scope="module")
def disc_scans():
    """{dose: (low, reference)} of 4 noise realisations (a batch of 4 copies) at 128 x 128."""
    hu, _ = _disc_phantom()
    batch = np.repeat(hu[None], 4, axis=0)
    return {dose: L.simulate_low_dose(batch, dose, pixel_mm=PIXEL_MM, seed=11) for dose in DOSES}


def test_noise_sd_scales_as_inverse_sqrt_dose_at_128(disc_scans):
    _, region = _disc_phantom()
    sd = {dose: float((low - ref)[:, region].std()) for dose, (low, ref) in disc_scans.items()}
    print("noise sd (HU) by dose:", sd, "ratios:", sd[0.25] / sd[1.0], sd[0.0625] / sd[1.0])
    # Poisson counts: sd ~ 1 / sqrt(photons) = 1 / sqrt(flux x dose)
    assert sd[0.25] / sd[1.0] == pytest.approx(2.0, rel=0.10), sd
    assert sd[0.0625] / sd[1.0] == pytest.approx(4.0, rel=0.10), sd
    assert 2.0 < sd[1.0] < 40.0, sd  # a plausible routine-dose noise in HU


def test_reference_is_noiseless_and_matches_the_phantom(disc_scans):
    hu, region = _disc_phantom()
    refs = [ref for _, ref in disc_scans.values()]
    for ref in refs[1:]:  # the reference depends on neither dose nor noise draw
        np.testing.assert_array_equal(ref, refs[0])
    np.testing.assert_array_equal(refs[0][0], refs[0][3])
    err = np.abs(refs[0][0] - hu)[region]  # FBP of the noiseless scan: the disc (with ripples)
    assert err.mean() < 3.0 and err.max() < 15.0, (err.mean(), err.max())
    low = disc_scans[0.25][0]
    assert not np.array_equal(low[0], low[1])  # each slice of a batch gets its own noise


def test_reference_does_not_depend_on_seed_or_flux():
    hu, _ = _disc_phantom(48)
    low0, ref0 = L.simulate_low_dose(hu, 0.25, pixel_mm=2.0, seed=0)
    low1, ref1 = L.simulate_low_dose(hu, 0.25, pixel_mm=2.0, seed=1)
    _, ref2 = L.simulate_low_dose(hu, 0.5, pixel_mm=2.0, flux=1e4, seed=2)
    np.testing.assert_array_equal(ref0, ref1)
    np.testing.assert_array_equal(ref0, ref2)
    assert not np.array_equal(low0, low1)


def test_deterministic_under_a_seed_and_batch_consistent():
    hu, _ = _disc_phantom(48)
    a = L.simulate_low_dose(hu, 0.25, pixel_mm=2.0, seed=5)
    b = L.simulate_low_dose(hu, 0.25, pixel_mm=2.0, seed=5)
    c = L.simulate_low_dose(hu, 0.25, pixel_mm=2.0, seed=np.random.default_rng(5))
    for x, y in ((a, b), (a, c)):
        np.testing.assert_array_equal(x[0], y[0])
        np.testing.assert_array_equal(x[1], y[1])
    assert a[0].shape == a[1].shape == hu.shape and a[0].dtype == np.float64
    # slice 0 of a batch gets the noise of a single slice with the same seed; (N, S, S, 1) kept
    batch = L.simulate_low_dose(np.stack([hu, hu])[..., None], 0.25, pixel_mm=2.0, seed=5)
    assert batch[0].shape == (2, 48, 48, 1)
    np.testing.assert_array_equal(batch[0][0, ..., 0], a[0])
    # per-slice doses: the second, at a quarter of the dose, is noisier
    low, ref = L.simulate_low_dose(np.stack([hu, hu]), [1.0, 0.25], pixel_mm=2.0, seed=5)
    inside = np.hypot(*(np.mgrid[:48, :48] - 23.5)) < 9
    assert (low[1] - ref[1])[inside].std() > 1.5 * (low[0] - ref[0])[inside].std()


def test_backends_agree_and_filters_and_unpadded_scan():
    hu, inside = _disc_phantom(32)
    _, ref_sparse = L.simulate_low_dose(hu, 1.0, pixel_mm=3.0, backend="sparse")
    _, ref_sk = L.simulate_low_dose(hu, 1.0, pixel_mm=3.0, backend="skimage")
    np.testing.assert_allclose(ref_sparse, ref_sk, atol=1e-6)
    # Shepp-Logan smooths the noise a little compared with the ramp filter
    ramp = L.simulate_low_dose(hu, 0.25, pixel_mm=3.0, seed=1)
    sl = L.simulate_low_dose(hu, 0.25, pixel_mm=3.0, filter_name="shepp-logan", seed=1)
    assert (sl[0] - sl[1])[inside].std() < (ramp[0] - ramp[1])[inside].std()
    # pad=False: air outside the inscribed circle (the lowdose_ct phantoms' setting)
    square = np.full((32, 32), 40.0)
    square[:, :4] = 500.0  # outside the scan circle: not seen
    low, ref = L.simulate_low_dose(np.where(hu > -1000, square, -1000.0), 0.25, pixel_mm=3.0,
                                   pad=False)
    _, ref_masked = L.simulate_low_dose(hu, 0.25, pixel_mm=3.0, pad=False)
    np.testing.assert_array_equal(ref, ref_masked)
    assert ref[0, 0] == -1000.0 and np.abs(ref - hu)[inside].mean() < 10.0
    assert L.default_n_angles(128) == 293 and L.padded_side(128) == 186


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(dose=0.0), ValueError, r"simulate_low_dose: dose must be in \(0.0, 1.0\], got 0.0"),
    (dict(dose=1.5), ValueError, r"dose must be in \(0.0, 1.0\], got 1.5"),
    (dict(dose=[0.25, 0.5]), ValueError, r"dose must be a number or 1 numbers.*got shape \(2,\)"),
    (dict(pixel_mm=-1.0), ValueError, r"pixel_mm must be in \(0.0, 10000.0\], got -1.0"),
    (dict(pixel_mm="0.7mm"), ValueError, r"pixel_mm must be a number in .*got '0.7mm'"),
    (dict(flux=0), ValueError, r"flux must be in \(0.0, 1000000000000.0\], got 0"),
    (dict(filter_name="ram"), ValueError, r"filter_name must be one of \['ramp', 'shepp-logan'.*got 'ram'"),
    (dict(n_angles=2), ValueError, r"n_angles must be an int >= 4, got 2"),
    (dict(backend="gpu"), ValueError, r"backend must be one of \['auto', 'sparse', 'skimage'\], got 'gpu'"),
    (dict(seed=-1), ValueError, r"seed must be a non-negative int, got -1"),
    (dict(pad="yes"), ValueError, r"pad must be True or False, got 'yes'"),
    (dict(hu=np.zeros((16, 12))), ValueError, r"hu must be a square slice.*got shape \(16, 12\)"),
    (dict(hu=np.full((16, 16), np.nan)), ValueError, r"hu must be finite, got 256 NaN"),
])
def test_bad_arguments_name_what_was_expected_and_given(kwargs, error, match):
    args = dict(hu=np.zeros((16, 16)), dose=0.25, pixel_mm=1.0)
    args.update(kwargs)
    hu, dose = args.pop("hu"), args.pop("dose")
    with pytest.raises(error, match=match):
        L.simulate_low_dose(hu, dose, **args)


def test_pixel_size_is_required():
    with pytest.raises(TypeError, match="pixel_mm"):
        L.simulate_low_dose(np.zeros((16, 16)), 0.25)


# ----------------------------------------------------------------------------------------------
# lowdose_ct_clinical_arrays

KEYS = {"low", "routine", "noiseless", "phantom", "labels"}


def test_clinical_phantom_shapes_dtypes_ranges():
    arr = D.lowdose_ct_clinical_arrays("val", n=3, size=64, seed=0)
    ref = D.lowdose_ct_arrays("val", n=3, size=32)
    assert set(ref) == KEYS and KEYS <= set(arr)  # the dict of lowdose_ct_arrays, and metadata
    for k in KEYS:
        assert arr[k].shape == (3, 64, 64, 1), k
        assert arr[k].dtype == ref[k].dtype, k
        assert np.all(np.isfinite(arr[k])), k
    labels = arr["labels"][..., 0]
    assert labels.min() >= 0 and labels.max() < len(D.CT_LABELS)
    assert arr["phantom"].min() >= -1000.0 and arr["phantom"].max() <= 1000.0
    for k in ("low", "routine", "noiseless"):
        assert -3000.0 < arr[k].min() and arr[k].max() < 3000.0, k
    lo, hi = D.CLINICAL_FLUX
    assert np.all((arr["flux"] >= lo) & (arr["flux"] <= hi))
    np.testing.assert_allclose(arr["dose"], 0.25)
    assert np.all((arr["pixel_mm"] >= 80 / 64) & (arr["pixel_mm"] <= 420 / 64))
    assert np.all((arr["body_mm"] >= 250) & (arr["body_mm"] <= 420))
    assert np.all((arr["blur_px"] >= 0) & (arr["blur_px"] <= 1))
    assert set(arr["filter"]) <= {0, 1}  # ramp, shepp-logan
    # noise: the low-dose scan is noisier than the routine one; the reference is its noiseless FBP
    body = arr["noiseless"][..., 0] > -500
    noise_low = (arr["low"] - arr["noiseless"])[..., 0][body].std()
    noise_routine = (arr["routine"] - arr["noiseless"])[..., 0][body].std()
    assert noise_low > 1.5 * noise_routine > 0


def test_clinical_phantom_at_128_and_fixed_scanner():
    arr = D.lowdose_ct_clinical_arrays("test", n=2, size=SIZE, flux=5e5, dose=(0.1, 0.5),
                                       fov_mm=400.0, body_mm=300.0, blur_px=0.0, filter_name="ramp",
                                       seed=1)
    assert arr["low"].shape == (2, SIZE, SIZE, 1) and arr["low"].dtype == np.float32
    np.testing.assert_allclose(arr["flux"], 5e5)
    np.testing.assert_allclose(arr["pixel_mm"], 400.0 / SIZE, rtol=1e-6)
    assert np.all((arr["dose"] >= 0.1) & (arr["dose"] <= 0.5)) and np.all(arr["filter"] == 0)
    # a 300 mm body fits in a 400 mm field of view: air all around the border
    border = np.concatenate([arr["labels"][:, 0], arr["labels"][:, -1]], axis=1)
    assert np.all(border == 0)


def test_clinical_phantom_deterministic_and_seeded():
    a = D.lowdose_ct_clinical_arrays("train", n=2, size=48, seed=3)
    D.clear_cache()
    b = D.lowdose_ct_clinical_arrays("train", n=2, size=48, seed=3)
    c = D.lowdose_ct_clinical_arrays("train", n=2, size=48, seed=4)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert not np.array_equal(a["low"], c["low"])
    # scanner parameters vary between samples
    assert len(set(np.round(a["flux"]).tolist())) == 2


def test_clinical_tf_dataset_is_scaled():
    low, target = next(iter(D.lowdose_ct_clinical(n=2, size=48, batch_size=2, target="noiseless")))
    assert low.shape == target.shape == (2, 48, 48, 1)
    assert float(np.abs(low.numpy()).max()) <= 1.0


@pytest.mark.parametrize("kwargs,match", [
    (dict(size=16), "lowdose_ct_clinical: size must be an int >= 32, got 16"),
    (dict(flux=(1e6, 1e4)), r"flux must be a number or a \(low, high\) range with low <= high"),
    (dict(dose=0.0), r"dose must be in \(0.0, 1.0\], got 0.0"),
    (dict(fov_mm="wide"), r"fov_mm must be a number in .*got 'wide'"),
    (dict(blur_px=(0.0, 20.0)), r"blur_px must be .* in \[0, 10\], got \(0.0, 20.0\)"),
    (dict(filter_name=("ramp", "box")), r"filter_name must be one of .*got 'box'"),
    (dict(filter_name=()), r"filter_name must be a filter name or a non-empty tuple"),
    (dict(split="testing"), r"Unknown split 'testing'"),
])
def test_clinical_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        D.lowdose_ct_clinical_arrays(n=1, **kwargs)
