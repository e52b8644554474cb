"""Image quality measures on numpy arrays: PSNR, SSIM (2D and 3D), MS-SSIM and MAE in HU.

`psnr` and `ssim` follow `skimage.metrics.peak_signal_noise_ratio` and
`skimage.metrics.structural_similarity` (same defaults: 7-wide uniform window, sample covariance,
K1 = 0.01, K2 = 0.03; or the 11-wide Gaussian window of Wang et al. with gaussian_weights=True),
and agree with them to float rounding (`tests/test_metrics.py`). Two conveniences on top:
`per_image=True` treats the first axis as the batch and returns one value per image, and
arrays shaped (N, ..., C) are read channel-last.
"""
from __future__ import annotations

import numpy as np

_MS_WEIGHTS = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])  # Wang, Simoncelli & Bovik 2003


def _pair(a, b, what):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"{what}: the two arrays differ in shape: {a.shape} vs {b.shape}")
    if a.size == 0:
        raise ValueError(f"{what}: got empty arrays")
    return a, b


def _data_range(a, data_range, what):
    if data_range is None:
        if np.issubdtype(a.dtype, np.integer):
            info = np.iinfo(a.dtype)
            return float(info.max - info.min) if info.min < 0 else float(info.max)
        raise ValueError(f"{what}: data_range is needed for float images (e.g. 2.0 for [-1, 1], "
                         f"2048.0 for the HU window [-1024, 1024]); got None")
    data_range = float(data_range)
    if not data_range > 0:
        raise ValueError(f"{what}: data_range must be > 0, got {data_range}")
    return data_range


def psnr(image_true, image_test, data_range=None, per_image: bool = False):
    """Peak signal-to-noise ratio in dB: 10 log10(data_range^2 / MSE).

    Args:
        image_true, image_test: arrays of the same shape.
        data_range: max - min of the possible values (needed for float images).
        per_image: if True, the first axis indexes images and an (N,) array is returned.

    Returns:
        float (inf when the images are identical), or an (N,) float64 array.
    """
    a, b = _pair(image_true, image_test, "psnr")
    r = _data_range(a, data_range, "psnr")
    a, b = a.astype(np.float64), b.astype(np.float64)
    axes = tuple(range(1, a.ndim)) if per_image else None
    mse = np.mean((a - b) ** 2, axis=axes)
    with np.errstate(divide="ignore"):
        out = 10.0 * np.log10(r * r / mse)
    return out if per_image else float(out)


def _filter(x, spatial_axes, win_size, gaussian):
    from scipy.ndimage import gaussian_filter, uniform_filter

    if gaussian:
        sigma = [1.5 if ax in spatial_axes else 0.0 for ax in range(x.ndim)]
        return gaussian_filter(x, sigma=sigma, truncate=3.5, mode="reflect")
    size = [win_size if ax in spatial_axes else 1 for ax in range(x.ndim)]
    return uniform_filter(x, size=size, mode="reflect")


def _ssim_terms(a, b, r, spatial_axes, win_size, gaussian, k1=0.01, k2=0.03):
    """SSIM map and contrast-structure map (cropped by the window's half-width)."""
    nd = len(spatial_axes)
    np_ = win_size ** nd
    cov_norm = 1.0 if gaussian else np_ / (np_ - 1.0)
    ux, uy = _filter(a, spatial_axes, win_size, gaussian), _filter(b, spatial_axes, win_size, gaussian)
    uxx = _filter(a * a, spatial_axes, win_size, gaussian)
    uyy = _filter(b * b, spatial_axes, win_size, gaussian)
    uxy = _filter(a * b, spatial_axes, win_size, gaussian)
    vx, vy, vxy = cov_norm * (uxx - ux * ux), cov_norm * (uyy - uy * uy), cov_norm * (uxy - ux * uy)
    c1, c2 = (k1 * r) ** 2, (k2 * r) ** 2
    cs = (2 * vxy + c2) / (vx + vy + c2)
    s = ((2 * ux * uy + c1) / (ux * ux + uy * uy + c1)) * cs
    pad = (win_size - 1) // 2
    crop = tuple(slice(pad, x - pad) if ax in spatial_axes else slice(None) for ax, x in enumerate(a.shape))
    return s[crop], cs[crop]


def _win(gaussian, win_size):
    if win_size is None:
        return 11 if gaussian else 7
    if int(win_size) != win_size or win_size < 3 or win_size % 2 == 0:
        raise ValueError(f"ssim: win_size must be an odd int >= 3, got {win_size!r}")
    return int(win_size)


def _axes(a, channel_axis, per_image, what):
    if per_image:
        if a.ndim not in (4, 5):
            raise ValueError(f"{what}: per_image=True needs (N, H, W, C) or (N, D, H, W, C) arrays, got shape {a.shape}")
        return tuple(range(1, a.ndim - 1))
    if channel_axis is None:
        spatial = tuple(range(a.ndim))
    else:
        ch = channel_axis % a.ndim
        spatial = tuple(ax for ax in range(a.ndim) if ax != ch)
    if len(spatial) not in (2, 3):
        raise ValueError(f"{what}: expected a 2D or 3D image (plus an optional channel axis), got shape {a.shape}")
    return spatial


def ssim(image_true, image_test, data_range=None, channel_axis=None, win_size=None,
         gaussian_weights: bool = False, per_image: bool = False):
    """Structural similarity of 2D or 3D images (Wang et al. 2004), as scikit-image computes it.

    Args:
        data_range: max - min of the possible values (needed for float images).
        channel_axis: axis of channels, averaged over (as scikit-image's `channel_axis`).
        win_size: odd window side (default 7, or 11 with gaussian_weights).
        gaussian_weights: Gaussian window (sigma 1.5) and population covariance, as in Wang et al.
        per_image: the input is a batch (N, H, W, C) or (N, D, H, W, C); returns (N,) values.

    Returns:
        float mean SSIM, or an (N,) float64 array.
    """
    a, b = _pair(image_true, image_test, "ssim")
    r = _data_range(a, data_range, "ssim")
    spatial = _axes(a, channel_axis, per_image, "ssim")
    win = _win(gaussian_weights, win_size)
    if min(a.shape[ax] for ax in spatial) < win:
        raise ValueError(f"ssim: every spatial side must be >= win_size {win}, got shape {a.shape}")
    s, _ = _ssim_terms(a.astype(np.float64), b.astype(np.float64), r, spatial, win, gaussian_weights)
    if per_image:
        return s.reshape(s.shape[0], -1).mean(axis=1)
    return float(s.mean())


def _downsample(x, spatial):
    """2x average pooling over the spatial axes (odd trailing rows dropped)."""
    for ax in spatial:
        n = x.shape[ax] // 2 * 2
        x = np.take(x, np.arange(n), axis=ax)
        shape = x.shape[:ax] + (n // 2, 2) + x.shape[ax + 1:]
        x = x.reshape(shape).mean(axis=ax + 1)
    return x


def ms_ssim(image_true, image_test, data_range=None, channel_axis=None, win_size=None,
            gaussian_weights: bool = False, scales: int | None = None, per_image: bool = False):
    """Multi-scale SSIM (Wang, Simoncelli & Bovik 2003) with 2x average-pool down-sampling.

    The number of scales is the largest (up to 5) for which the coarsest image still holds the
    window; the standard weights (0.0448, 0.2856, 0.3001, 0.2363, 0.1333) are truncated to that
    many and renormalised. Negative contrast-structure terms are clipped to 0 before the powers.
    With one scale this equals `ssim`.

    Returns:
        float, or (N,) array when per_image=True (batch of (N, ..., C) arrays).
    """
    a, b = _pair(image_true, image_test, "ms_ssim")
    r = _data_range(a, data_range, "ms_ssim")
    spatial = _axes(a, channel_axis, per_image, "ms_ssim")
    win = _win(gaussian_weights, win_size)
    smallest = min(a.shape[ax] for ax in spatial)
    possible = 0
    while possible < 5 and smallest // (2 ** possible) >= win:
        possible += 1
    if possible == 0:
        raise ValueError(f"ms_ssim: every spatial side must be >= win_size {win}, got shape {a.shape}")
    if scales is None:
        scales = possible
    elif not 1 <= int(scales) <= possible:
        raise ValueError(f"ms_ssim: scales must be in [1, {possible}] for shape {a.shape}, got {scales!r}")
    weights = _MS_WEIGHTS[:scales] / _MS_WEIGHTS[:scales].sum()
    x, y = a.astype(np.float64), b.astype(np.float64)
    out = 1.0
    for j in range(scales):
        s, cs = _ssim_terms(x, y, r, spatial, win, gaussian_weights)
        term = s if j == scales - 1 else cs
        val = term.reshape(term.shape[0], -1).mean(axis=1) if per_image else term.mean()
        out = out * np.maximum(val, 0.0) ** weights[j]
        x, y = _downsample(x, spatial), _downsample(y, spatial)
    return out if per_image else float(out)


def mae_hu(hu_true, hu_test, mask=None, from_unit: bool = False, window=(-1024.0, 1024.0),
           per_image: bool = False):
    """Mean absolute error in Hounsfield units, optionally inside a mask (e.g. the body).

    Args:
        hu_true, hu_test: CT images in HU, or in [-1, 1] with `from_unit=True` (then mapped back
            with `advzoo.data.unit_to_hu(x, window)`).
        mask: boolean/0-1 array broadcastable to the images; only its pixels count.
        per_image: first axis is the batch; returns (N,) values.
    """
    a, b = _pair(hu_true, hu_test, "mae_hu")
    a, b = a.astype(np.float64), b.astype(np.float64)
    if from_unit:
        lo, hi = float(window[0]), float(window[1])
        a, b = (a + 1) * (hi - lo) / 2 + lo, (b + 1) * (hi - lo) / 2 + lo
    err = np.abs(a - b)
    if mask is None:
        return err.reshape(len(err), -1).mean(axis=1) if per_image else float(err.mean())
    m = np.broadcast_to(np.asarray(mask).astype(bool), err.shape)
    if per_image:
        cnt = m.reshape(len(m), -1).sum(axis=1)
        return np.where(cnt > 0, (err * m).reshape(len(m), -1).sum(axis=1) / np.maximum(cnt, 1), np.nan)
    if not m.any():
        raise ValueError("mae_hu: the mask selects no pixel")
    return float(err[m].mean())
