"""Classical denoising baselines of the low-dose CT benchmarks, each with its parameter chosen on a
VALIDATION split of phantoms, never on test data (issue #17, point 2).

- Non-local means (Buades, Coll & Morel, CVPR 2005): `skimage.restoration.denoise_nl_means` with
  patch 5, search distance 6, fast mode, sigma estimated per image by `estimate_sigma` (Donoho &
  Johnstone's robust MAD of the finest diagonal wavelet coefficients, Biometrika 1994) and filter
  strength h = k x sigma, k chosen from `NLM_K_GRID`.
- Total variation (Rudin, Osher & Fatemi, Physica D 1992; Chambolle's projection algorithm,
  J. Math. Imaging Vis. 2004): `skimage.restoration.denoise_tv_chambolle`, weight chosen from
  `TV_WEIGHT_GRID`.

Both work on the image mapped to [0, 1] over the HU window `WINDOW` = [-1024, 1024] (clipped), the
convention of `benchmarks/real_ct_lowdose.py`, and return HU. `choose_parameters(split="val")`
draws the validation split of a low-dose phantom (`lowdose_ct_clinical_arrays` by default, or
`lowdose_ct_arrays`), denoises every low-dose slice with every grid value, and keeps the value of
highest mean PSNR against the noiseless reconstruction over the body (reference > -500 HU), the
measure of the real-CT benchmark. It refuses split="test". `tune` does the same on arrays the
caller gives (the caller answers for them being validation data).

scikit-image's `estimate_sigma` needs PyWavelets; where it is missing (as here), `estimate_sigma`
below computes the same estimate without it (db2 high-pass filter, symmetric borders: agrees with
scikit-image's to ~1e-12).

    from _baselines import choose_parameters, nl_means, tv   # from benchmarks/
    params = choose_parameters(split="val", n=16, size=128)
    denoised_hu = nl_means(low_dose_hu, params["nl_means"]["k"])
"""
from __future__ import annotations

import math

import numpy as np

WINDOW = (-1024.0, 1024.0)
#: h / sigma of non-local means. On 16 validation slices of `lowdose_ct_clinical_arrays` (128 x 128,
#: quarter dose, its default flux `CLINICAL_FLUX`, seed 0) the mean body PSNR peaks at k = 1.5
#: (46.41 dB; 1.0: 45.16, 2.0: 45.93).
NLM_K_GRID = (0.4, 0.6, 0.8, 1.0, 1.5, 2.0, 2.5, 3.0)
#: weight of TV (Chambolle) on the [0, 1]-scaled window; same data: peak at 0.01 (45.28 dB; 0.005:
#: 43.71, 0.02: 44.62).
TV_WEIGHT_GRID = (0.005, 0.01, 0.02, 0.03, 0.04, 0.06, 0.08, 0.16)
NLM_OPTIONS = {"patch_size": 5, "patch_distance": 6, "fast_mode": True}
METHODS = ("nl_means", "tv")
BODY_HU = -500.0  # reference above this is body


def to_unit(hu, window=WINDOW):
    """HU -> [0, 1] over `window` (clipped)."""
    lo, hi = window
    return (np.clip(np.asarray(hu, np.float64), lo, hi) - lo) / (hi - lo)


def from_unit(u, window=WINDOW):
    lo, hi = window
    return np.asarray(u, np.float64) * (hi - lo) + lo


# Daubechies-2 decomposition high-pass filter (pywt.Wavelet("db2").dec_hi)
_DB2_DEC_HI = np.array([-0.48296291314453416, 0.8365163037378079, -0.2241438680420134,
                        -0.12940952255126037])


def estimate_sigma(image) -> float:
    """Noise sd of a 2D image: `skimage.restoration.estimate_sigma` when PyWavelets is installed,
    else the same estimator (median |finest HH db2 coefficient| / 0.6745, symmetric borders)."""
    try:
        import pywt  # noqa: F401
    except ImportError:
        x = np.asarray(image, np.float64)
        pad = len(_DB2_DEC_HI) - 1
        for axis in (0, 1):
            x = np.apply_along_axis(
                lambda v: np.convolve(np.pad(v, pad, mode="symmetric"), _DB2_DEC_HI, "valid")[1::2],
                axis, x)
        return float(np.median(np.abs(x)) / 0.6744897501960817)
    from skimage.restoration import estimate_sigma as skimage_sigma

    return float(skimage_sigma(np.asarray(image, np.float64)))


def _check_image(image, what):
    x = np.asarray(image, np.float64)
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 2:
        raise ValueError(f"{what}: expected one 2D image (H, W) or (H, W, 1), got shape {np.shape(image)}")
    return x


def nl_means_unit(image, k: float) -> np.ndarray:
    """Non-local means of a [0, 1] image with h = k x estimate_sigma(image)."""
    if not (isinstance(k, (int, float, np.floating)) and k > 0):
        raise ValueError(f"nl_means: k (h / sigma) must be a positive number, got {k!r}")
    from skimage.restoration import denoise_nl_means

    u = _check_image(image, "nl_means")
    sigma = estimate_sigma(u)
    return denoise_nl_means(u, h=float(k) * sigma, sigma=sigma, **NLM_OPTIONS)


def tv_unit(image, weight: float) -> np.ndarray:
    """TV (Chambolle) of a [0, 1] image."""
    if not (isinstance(weight, (int, float, np.floating)) and weight > 0):
        raise ValueError(f"tv: weight must be a positive number, got {weight!r}")
    from skimage.restoration import denoise_tv_chambolle

    return denoise_tv_chambolle(_check_image(image, "tv"), weight=float(weight))


def nl_means(hu, k: float, window=WINDOW) -> np.ndarray:
    """Non-local means of an HU slice on the [0, 1]-scaled window, in HU."""
    return from_unit(nl_means_unit(to_unit(hu, window), k), window)


def tv(hu, weight: float, window=WINDOW) -> np.ndarray:
    """TV (Chambolle) of an HU slice on the [0, 1]-scaled window, in HU."""
    return from_unit(tv_unit(to_unit(hu, window), weight), window)


_UNIT = {"nl_means": nl_means_unit, "tv": tv_unit}
_GRID = {"nl_means": NLM_K_GRID, "tv": TV_WEIGHT_GRID}
_PARAM = {"nl_means": "k", "tv": "weight"}


def psnr(image, reference, mask=None, data_range: float = 1.0) -> float:
    """PSNR (dB) of `image` against `reference` over `mask` (all pixels when None)."""
    image, reference = np.asarray(image, np.float64), np.asarray(reference, np.float64)
    if image.shape != reference.shape:
        raise ValueError(f"psnr: image and reference shapes differ: {image.shape} vs {reference.shape}")
    sel = np.ones(image.shape, bool) if mask is None else np.asarray(mask, bool)
    mse = float(np.mean((image[sel] - reference[sel]) ** 2))
    return float("inf") if mse == 0 else 10.0 * math.log10(data_range ** 2 / mse)


def tune(method: str, noisy, reference, grid=None, masks=None) -> dict:
    """Grid search of one baseline's parameter by mean PSNR over images.

    Args:
        method: "nl_means" (parameter k = h / sigma) or "tv" (parameter weight).
        noisy, reference: (N, H, W) or (N, H, W, 1) images in [0, 1] (validation data only).
        grid: the candidate values (default `NLM_K_GRID` / `TV_WEIGHT_GRID`).
        masks: optional (N, H, W) boolean masks where PSNR is measured (default: everywhere).

    Returns:
        dict(method, parameter=its name, best=the value of highest mean PSNR (the first such in
        grid order on a tie), psnr={value: mean PSNR}).
    """
    if method not in METHODS:
        raise ValueError(f"tune: method must be one of {list(METHODS)}, got {method!r}")
    grid = tuple(_GRID[method] if grid is None else grid)
    if not grid:
        raise ValueError(f"tune: grid must hold at least one value, got {grid!r}")
    noisy, reference = np.asarray(noisy, np.float64), np.asarray(reference, np.float64)
    if noisy.shape != reference.shape or noisy.ndim not in (3, 4) or len(noisy) < 1:
        raise ValueError(f"tune: noisy and reference must be (N, H, W) or (N, H, W, 1) of the same "
                         f"shape, got {noisy.shape} and {reference.shape}")
    if noisy.ndim == 4:
        noisy, reference = noisy[..., 0], reference[..., 0]
    if masks is not None:
        masks = np.asarray(masks, bool)
        masks = masks[..., 0] if masks.ndim == 4 else masks
        if masks.shape != noisy.shape:
            raise ValueError(f"tune: masks must have the images' shape {noisy.shape}, got {masks.shape}")
    fn = _UNIT[method]
    scores = {}
    for value in grid:
        scores[value] = float(np.mean([psnr(fn(noisy[i], value), reference[i],
                                            None if masks is None else masks[i])
                                       for i in range(len(noisy))]))
    best = max(grid, key=lambda v: (scores[v], -grid.index(v)))
    return {"method": method, "parameter": _PARAM[method], "best": best, "psnr": scores}


def choose_parameters(split: str = "val", n: int = 16, size: int = 128, dose: float = 0.25,
                      phantom: str = "clinical", window=WINDOW, nlm_grid=NLM_K_GRID,
                      tv_grid=TV_WEIGHT_GRID, seed: int = 0, **phantom_options) -> dict:
    """The baselines' parameters chosen on a validation split of low-dose CT phantoms.

    Args:
        split: "val" (or "train"); "test" is refused, so no parameter is ever tuned on test data.
        n, size, dose, seed: the phantom set (`phantom_options` go to the phantom too).
        phantom: "clinical" (`advzoo.data.lowdose_ct_clinical_arrays`, randomised scanners) or
            "lowdose_ct" (`advzoo.data.lowdose_ct_arrays`, the fixed 40 cm / 5e5-photon scan).
        window: HU window mapped to [0, 1] for the denoisers and the PSNR.

    Returns:
        dict(nl_means=dict(k, psnr={k: mean val PSNR}), tv=dict(weight, psnr={...}),
        data=a description of the validation set, for the benchmark's note).
    """
    if split == "test":
        raise ValueError("choose_parameters: the baselines' parameters are chosen on a validation "
                         "split, never on test data; got split='test' (use 'val')")
    if split not in ("train", "val"):
        raise ValueError(f"choose_parameters: split must be 'val' (or 'train'), got {split!r}")
    from advzoo import data as zd

    if phantom == "clinical":
        arr = zd.lowdose_ct_clinical_arrays(split, n=n, size=size, dose=dose, seed=seed, **phantom_options)
    elif phantom == "lowdose_ct":
        arr = zd.lowdose_ct_arrays(split, n=n, size=size, dose=dose, seed=seed, **phantom_options)
    else:
        raise ValueError(f"choose_parameters: phantom must be 'clinical' or 'lowdose_ct', got {phantom!r}")
    reference = arr["noiseless"][..., 0]
    noisy, ref_unit = to_unit(arr["low"][..., 0], window), to_unit(reference, window)
    body = reference > BODY_HU
    out = {}
    for method, grid in (("nl_means", nlm_grid), ("tv", tv_grid)):
        res = tune(method, noisy, ref_unit, grid, masks=body)
        out[method] = {res["parameter"]: res["best"], "psnr": res["psnr"]}
    out["data"] = (f"{phantom} phantoms, split {split!r}, n={n}, size {size}, dose {dose}, seed "
                   f"{seed}; PSNR over the body (noiseless > {BODY_HU:g} HU) on the window "
                   f"{list(window)} HU")
    return out


__all__ = ["WINDOW", "NLM_K_GRID", "TV_WEIGHT_GRID", "estimate_sigma", "nl_means", "tv",
           "nl_means_unit", "tv_unit", "psnr", "tune", "choose_parameters"]
