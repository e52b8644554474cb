"""The quarter-dose simulation of benchmarks/real_ct_lowdose.py on pydicom's CT_small.dcm."""
import numpy as np
import pytest
from conftest import load_script

pydicom = pytest.importorskip("pydicom")


@pytest.fixture(scope="module")
def bench():
    return load_script("benchmarks/real_ct_lowdose.py")


@pytest.fixture(scope="module")
def ct_small():
    from pydicom.data import get_testdata_file

    path = get_testdata_file("CT_small.dcm")
    if path is None:
        pytest.skip("pydicom's CT_small.dcm is not available")
    ds = pydicom.dcmread(path)
    hu = ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    return hu, float(ds.PixelSpacing[0])


def test_simulation_on_ct_small(bench, ct_small):
    hu, pixel_mm = ct_small
    quarter = bench.simulate_lowdose(hu, pixel_mm, dose=0.25, seed=0)
    full = bench.simulate_lowdose(hu, pixel_mm, dose=1.0, seed=0)
    assert quarter["low"].shape == quarter["noiseless"].shape == hu.shape
    assert quarter["n_angles"] == bench.default_n_angles(hu.shape[0])
    np.testing.assert_allclose(quarter["noiseless"], full["noiseless"])
    reference = quarter["noiseless"]
    body = bench.body_mask(reference)
    soft = bench.soft_tissue_mask(reference, body)
    # (c) the body covers a plausible part of the slice, and there is soft tissue to measure
    assert body.mean() > 0.2 and soft.sum() > 500
    # (a) the noiseless reconstruction is close to the slice inside the body
    assert np.abs(reference - hu)[body].mean() < 40
    # (b) quarter dose: about twice the full-dose noise sd in soft tissue (1/sqrt(dose))
    sd_quarter = (quarter["low"] - reference)[soft].std()
    sd_full = (full["low"] - full["noiseless"])[soft].std()
    assert 1.6 < sd_quarter / sd_full < 2.4, (sd_quarter, sd_full)
    # seeded: the same seed gives the same noise
    again = bench.simulate_lowdose(hu, pixel_mm, dose=0.25, seed=0)
    np.testing.assert_array_equal(again["low"], quarter["low"])


def test_measures_and_sigma(bench):
    rng = np.random.default_rng(0)
    reference = np.full((64, 64), -1000.0)
    reference[8:56, 8:56] = 40.0
    body = bench.body_mask(reference)
    soft = bench.soft_tissue_mask(reference, body)
    assert body.sum() == 48 * 48 and soft.sum() == 44 * 44
    noisy = reference + rng.normal(0, 20.0, reference.shape)
    m = bench.measures(noisy, reference, body, soft)
    assert abs(m["noise sd in soft tissue (HU)"] - 20) < 2
    assert abs(m["PSNR in body (dB)"] - 20 * np.log10(2048 / 20)) < 0.5
    assert bench.measures(reference, reference, body, soft)["SSIM in body"] == pytest.approx(1.0)
    # the PyWavelets-free noise estimate (white noise of sd 0.05 on a smooth ramp)
    image = np.linspace(0, 1, 128)[None] * np.ones((128, 1)) + rng.normal(0, 0.05, (128, 128))
    assert abs(bench.estimate_sigma(image) - 0.05) < 0.005
