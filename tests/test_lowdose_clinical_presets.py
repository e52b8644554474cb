"""The low-dose CT presets for real scans (issue 17): trained at 128x128 on the randomised
`lowdose_ct_clinical` phantoms, checked on pydicom's real CT by benchmarks/real_ct_clinical.py."""
import json
import pathlib

import numpy as np
import pytest
from conftest import load_script

import advzoo
from advzoo import weights
from advzoo.errors import AdvzooError

CLINICAL = ("pix2pix_lowdose_ct_clinical", "wgan_vgg_lowdose_ct_clinical",
            "simgan_lowdose_ct_clinical")
RESULT = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "real_ct_clinical.json"


def test_clinical_pairs_task():
    source, target = advzoo.data.translation_pairs_arrays("lowdose_ct_clinical", "val", n=2,
                                                          size=32)
    assert source.shape == target.shape == (2, 32, 32, 1)
    arr = advzoo.data.lowdose_ct_clinical_arrays("val", n=2, size=32)
    np.testing.assert_allclose(target, advzoo.data.hu_to_unit(arr["noiseless"]), atol=1e-6)
    np.testing.assert_allclose(source, advzoo.data.hu_to_unit(arr["low"]), atol=1e-6)
    _, routine = advzoo.data.translation_pairs_arrays("lowdose_ct_clinical", "val", n=2, size=32,
                                                      target="routine")
    np.testing.assert_allclose(routine, advzoo.data.hu_to_unit(arr["routine"]), atol=1e-6)
    with pytest.raises(AdvzooError, match="noiseless"):
        advzoo.data.translation_pairs_arrays("lowdose_ct_clinical", "val", n=2, size=32,
                                             target="full")


def test_simgan_task_is_checked_before_work():
    with pytest.raises(AdvzooError, match="lowdose_ct_clinical"):
        advzoo.build("simgan", image_shape=(32, 32, 1), task="lowdose_ct_clinic")


def test_simgan_on_the_clinical_task():
    """task="lowdose_ct_clinical": the default data are (low dose, another slice's noiseless
    reconstruction) for training, aligned for val; sample_report measures against noiseless."""
    model = advzoo.build("simgan", image_shape=(32, 32, 1), generator_filters=4, n_blocks=1,
                         discriminator_filters=4, task="lowdose_ct_clinical", seed=0)
    assert model.get_config()["task"] == "lowdose_ct_clinical"
    family = advzoo.zoo.get_family("simgan")
    source, target = next(iter(family.dataset(model, split="val", batch_size=2, n=2)))
    arr = advzoo.data.lowdose_ct_clinical_arrays("val", n=2, size=32)
    np.testing.assert_allclose(target, advzoo.data.hu_to_unit(arr["noiseless"]), atol=1e-6)
    report = model.sample_report(n=8)  # the Frechet distance's precision/recall needs k < n
    assert report["noiseless_noise_hu"] == 0.0 and report["images"] == 8
    assert report["input_noise_hu"] > 5.0


@pytest.fixture(scope="module")
def quarter_dose_ct_small():
    pytest.importorskip("pydicom")
    real = load_script("benchmarks/real_ct_lowdose.py")
    sl, skipped = real.quarter_dose_slice("CT_small.dcm", 0)
    if sl is None:
        pytest.skip(skipped)
    return real, sl


@pytest.mark.parametrize("name", CLINICAL)
def test_clinical_preset_loads_runs_and_matches_its_metadata(name, quarter_dose_ct_small):
    model = advzoo.load(name)
    meta = weights.read_metadata(weights.resolve_preset(name))
    assert meta["trained_on"]["options"]["task"] == "lowdose_ct_clinical"
    # the phantom test figures of metadata.json, re-measured
    report = model.sample_report()
    for key, value in meta["metrics"].items():
        if isinstance(value, float):
            assert report[key] == pytest.approx(value, rel=1e-3, abs=1e-3), key
    # the real slice's row of the benchmark, re-measured: CT_small.dcm at a simulated quarter
    # dose, HU in and out through the preset's contract
    real, sl = quarter_dose_ct_small
    low = np.round(sl["sim"]["low"])
    out = model.translate(low[None, ..., None].astype(np.float32), units="physical")[0, ..., 0]
    assert out.shape == low.shape and np.all(np.isfinite(out))
    measured = real.measures(out.astype(np.float64), sl["reference"], sl["body"], sl["soft"])
    rows = json.loads(RESULT.read_text())["rows"]
    row = next(r for r in rows if r["test data"] == "real CT CT_small" and r["image"] == name)
    assert measured["PSNR in body (dB)"] == pytest.approx(row["PSNR in body (dB)"], abs=0.02)
    assert measured["SSIM in body"] == pytest.approx(row["SSIM in body"], abs=2e-4)
    # and its metadata says what the benchmark found on real data
    statement = meta["validated_on_real_data"]
    assert statement["validated"] and statement["benchmark"] == "benchmarks/real_ct_clinical.py"


def test_benchmark_goal_is_computed_from_its_rows():
    bench = load_script("benchmarks/real_ct_clinical.py")
    result = json.loads(RESULT.read_text())
    assert bench.goal(result["rows"]) == result["goal"]
    assert set(result["goal"]) == set(CLINICAL)


def test_simgan_clinical_applied_to_a_file_leaves_air_and_bone_as_they_came(tmp_path):
    nib = pytest.importorskip("nibabel")
    from advzoo import apply, scan_io

    hu = advzoo.data.lowdose_ct_clinical_arrays("val", n=2, size=64)["low"][..., 0]
    nib.save(nib.Nifti1Image(hu.transpose(1, 2, 0), np.diag([0.7, 0.7, 2.5, 1.0])),
             str(tmp_path / "scan.nii.gz"))
    model = advzoo.load("simgan_lowdose_ct_clinical")
    apply.apply_files(model, tmp_path / "scan.nii.gz", tmp_path / "refined.nii.gz", axis=2,
                      progress=False)
    refined = scan_io.read_scan(tmp_path / "refined.nii.gz").array[..., 0].transpose(2, 0, 1)
    outside = (hu < -160) | (hu > 240)
    assert outside.mean() > 0.2  # air around the body, and bone
    np.testing.assert_allclose(refined[outside], hu[outside], atol=0.01)
    inside = ~outside
    assert np.abs(refined[inside] - hu[inside]).mean() > 1.0  # the soft tissue is refined
