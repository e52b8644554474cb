"""benchmarks/_baselines.py: non-local means and TV with parameters tuned on validation phantoms."""
import numpy as np
import pytest
from conftest import load_script


@pytest.fixture(scope="module")
def B():
    return load_script("benchmarks/_baselines.py")


@pytest.fixture(scope="module")
def tiny():
    """3 piecewise-constant 32x32 images in [0, 1] with white noise of sd 0.08."""
    rng = np.random.default_rng(0)
    clean = np.full((3, 32, 32), 0.3)
    clean[:, 8:24, 6:20] = 0.7
    clean[1, 20:28, 20:30] = 0.5
    noisy = clean + rng.normal(0.0, 0.08, clean.shape)
    return noisy, clean


def _psnr(x, y):
    from skimage.metrics import peak_signal_noise_ratio

    return peak_signal_noise_ratio(y, x, data_range=1.0)


def test_tv_tuning_picks_the_grid_value_of_highest_validation_psnr(B, tiny):
    from skimage.restoration import denoise_tv_chambolle

    noisy, clean = tiny
    grid = (0.001, 0.05, 2.0)
    res = B.tune("tv", noisy, clean, grid)
    brute = {w: np.mean([_psnr(denoise_tv_chambolle(noisy[i], weight=w), clean[i]) for i in range(3)])
             for w in grid}
    assert res["best"] == max(brute, key=brute.get) == 0.05, brute
    assert res["parameter"] == "weight"
    for w in grid:
        assert res["psnr"][w] == pytest.approx(brute[w], abs=1e-9)


def test_nl_means_tuning_picks_the_grid_value_of_highest_validation_psnr(B, tiny):
    from skimage.restoration import denoise_nl_means

    noisy, clean = tiny
    grid = (0.05, 0.8, 3.0)
    res = B.tune("nl_means", noisy, clean, grid)
    brute = {}
    for k in grid:
        scores = []
        for i in range(3):
            sigma = B.estimate_sigma(noisy[i])
            out = denoise_nl_means(noisy[i], h=k * sigma, sigma=sigma, patch_size=5,
                                   patch_distance=6, fast_mode=True)
            scores.append(_psnr(out, clean[i]))
        brute[k] = np.mean(scores)
    assert res["best"] == max(brute, key=brute.get), brute
    assert res["best"] != 0.05  # h far below the noise does not denoise
    assert res["psnr"][res["best"]] > _psnr(noisy, clean) + 3.0
    # masks restrict the PSNR to the given pixels
    masks = np.zeros(noisy.shape, bool)
    masks[:, 8:24, 6:20] = True
    masked = B.tune("nl_means", noisy, clean, grid[:1], masks=masks)
    assert masked["psnr"][0.05] != pytest.approx(res["psnr"][0.05])


def test_estimate_sigma_without_pywavelets(B):
    rng = np.random.default_rng(1)
    image = np.linspace(0, 1, 128)[None] * np.ones((128, 1)) + rng.normal(0, 0.05, (128, 128))
    assert abs(B.estimate_sigma(image) - 0.05) < 0.005


def test_choose_parameters_uses_validation_phantoms_never_test(B):
    with pytest.raises(ValueError, match="never on test data; got split='test'"):
        B.choose_parameters(split="test")
    out = B.choose_parameters(split="val", n=2, size=32, phantom="lowdose_ct",
                              nlm_grid=(0.6, 1.0), tv_grid=(0.02, 0.08))
    assert out["nl_means"]["k"] in (0.6, 1.0) and out["tv"]["weight"] in (0.02, 0.08)
    assert set(out["nl_means"]["psnr"]) == {0.6, 1.0} and "'val'" in out["data"]
    assert out["nl_means"]["psnr"][out["nl_means"]["k"]] == max(out["nl_means"]["psnr"].values())
    # the chosen parameters apply to HU slices
    from advzoo import data as D

    low = D.lowdose_ct_arrays("val", n=1, size=32)["low"][0, ..., 0]
    assert B.nl_means(low, out["nl_means"]["k"]).shape == low.shape
    assert B.tv(low, out["tv"]["weight"]).shape == low.shape


@pytest.mark.parametrize("call,match", [
    (lambda B: B.tune("bm3d", np.zeros((1, 8, 8)), np.zeros((1, 8, 8))), "method must be one of"),
    (lambda B: B.tune("tv", np.zeros((1, 8, 8)), np.zeros((2, 8, 8))), "same shape, got"),
    (lambda B: B.tv_unit(np.zeros((8, 8)), -1.0), "weight must be a positive number, got -1.0"),
    (lambda B: B.choose_parameters(split="val", phantom="mri"), "phantom must be 'clinical' or 'lowdose_ct'"),
])
def test_bad_arguments(B, call, match):
    with pytest.raises(ValueError, match=match):
        call(B)
