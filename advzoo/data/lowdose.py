"""Low-dose CT at clinical resolution: one physics simulation for phantoms and real slices, and a
phantom with the scanner and patient variation randomised (domain randomisation).

`simulate_low_dose(hu, dose, *, pixel_mm, flux, filter_name, seed)` simulates a reduced-dose
parallel-beam scan of CT slices in Hounsfield units, as in the low-dose CT GAN literature
(Wolterink et al., IEEE TMI 36(12) 2017; Yang et al., IEEE TMI 37(6) 2018 simulate their
low-dose inputs the same way: Poisson noise on the projections of a routine scan):

1. HU -> linear attenuation mu = mu_water * (1 + HU / 1000), mu_water = 0.2 / cm, clipped at 0
   (anything below -1000 HU, such as a scanner's -2000 / -3000 HU padding, becomes air);
2. `pad=True`: the slice is padded with air (mu = 0), centred, to a square of side
   P = ceil(sqrt(2) S) + 4 so that the whole S x S square lies inside the scan circle (the
   object simulated is exactly what the image shows, surrounded by air; `pad=False` keeps side S
   and treats everything outside the inscribed circle as air, the `lowdose_ct` phantoms' setting);
3. line integrals p = radon(mu) x pixel size in cm over `n_angles` views in [0, 180) degrees
   (default ceil(pi / 2 x P): the angular sampling that matches P detector bins);
4. transmitted counts I = Poisson(I0 exp(-p)) with I0 = flux x dose incident photons per detector
   bin, and p_noisy = -log(max(I, 1) / I0) (counts floored at 1: photon starvation gives the
   streaks of a real scan instead of infinities);
5. filtered back-projection (ramp, Shepp-Logan, or the other filters of `advzoo.data.ct.FILTERS`;
   Kak & Slaney, "Principles of computerized tomographic imaging", 1988, ch. 3), divided by the
   pixel size, cropped back to S x S, and HU = 1000 (mu / mu_water - 1).

It returns (low_dose, reference); the reference is the same reconstruction of the noiseless p, so
it has the FBP blur and sampling of the low-dose image and `low_dose - reference` is photon noise
only, whose sd scales as 1 / sqrt(flux x dose). A detector bin is one pixel wide; `flux` follows
the phantoms' convention (5e5 photons per bin at routine dose), not a calibrated clinical dose.

Operators: `backend="auto"` uses `advzoo.data.ct`'s cached sparse matrices (equal to
scikit-image's radon/iradon to ~1e-9, batched) while the padded side is at most
`SPARSE_MAX_SIDE` = 200 (S <= 138 with padding), and scikit-image's `radon` / `iradon` image by
image above it: the sparse operators of S = 128 padded (P = 186, 293 views) hold ~430 MB and take
~10 s to build once per process (peak ~1.8 GB), those of S = 256 (P = 367, 577 views) would hold
~3.4 GB. `"skimage"` always uses scikit-image (`benchmarks/real_ct_lowdose.py` does, so its
figures are those of its original scikit-image code, bit for bit), `"sparse"` always the sparse
operators.

`lowdose_ct_clinical_arrays` draws abdominal phantom slices (`advzoo.data.phantoms`' anatomy) at
clinical resolution (128 x 128 by default) and scans each through this simulation, with what
varies between scanners and patients drawn per sample (domain randomisation, Tobin et al. 2017):
incident flux (log-uniform, 1e5 to 2e6 photons per bin), field of view and hence pixel size
(log-uniform 80 to 420 mm across the image: from a targeted crop to the whole abdomen), body
width (250 to 420 mm), a little blur (a Gaussian point-spread function of 0 to 1 pixel sd), the
reconstruction filter (ramp or Shepp-Logan), and optionally the dose.
"""
from __future__ import annotations

import math

import numpy as np

from advzoo.data import ct as _ct
from advzoo.data._common import as_dataset, check_split
from advzoo.data._phantom_core import (check_choice, check_float, check_int, check_seed, generate,
                                       resolve_n, to_channels)
from advzoo.data.phantoms import (MU_WATER_PER_CM, _anatomy, _noisy_line, _render_ct, _shuffle,
                                   hu_to_mu)
from advzoo.data.scaling import CT_WINDOW, hu_to_unit

BACKENDS = ("auto", "sparse", "skimage")
#: Largest (padded) side for which backend="auto" uses the sparse operators of advzoo.data.ct.
SPARSE_MAX_SIDE = 200
#: Incident photons per detector bin at routine dose (the phantoms' convention).
DEFAULT_FLUX = 5e5
#: Range of the routine-dose flux drawn per slice by `lowdose_ct_clinical_arrays`: log-uniform
#: around DEFAULT_FLUX, the flux of the real-CT benchmarks' simulation; at a quarter dose it gives
#: 2.5e4..5e5 photons per bin. The presets for real scans are trained on it.
CLINICAL_FLUX = (1e5, 2e6)
#: Half-width and half-height of the phantom body in anatomy units (its mean; see `_anatomy`).
_BODY_HALF = (0.84, 0.65)


def padded_side(size: int) -> int:
    """Side of the air-padded square whose inscribed circle holds a whole size x size slice."""
    return int(math.ceil(math.sqrt(2.0) * int(size))) + 4


def default_n_angles(size: int, pad: bool = True) -> int:
    """ceil(pi / 2 x P) views for a slice of side `size`, P its padded side (or `size`)."""
    return int(math.ceil(math.pi / 2.0 * (padded_side(size) if pad else int(size))))


# ----------------------------------------------------------------------------------------------
# Checks


def _slices(hu, what):
    """hu as float64 (N, S, S) and a function giving results back in the caller's layout."""
    try:
        arr = np.asarray(hu, np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: hu must be a numeric array of CT slices in HU, got "
                         f"{type(hu).__name__}") from None
    shape = arr.shape
    if arr.ndim == 4 and shape[-1] == 1:
        arr = arr[..., 0]
    elif arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1] != arr.shape[2] or arr.shape[1] < 8 or arr.shape[0] < 1:
        raise ValueError(f"{what}: hu must be a square slice (S, S) or a batch (N, S, S) or "
                         f"(N, S, S, 1) with S >= 8, got shape {shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what}: hu must be finite, got {int(np.sum(~np.isfinite(arr)))} "
                         "NaN or infinite values")

    def back(x):
        return x[0] if len(shape) == 2 else (x[..., None] if len(shape) == 4 else x)

    return arr, back


def _per_image(value, name, n, what, lo, hi, lo_open=True):
    """A number or one number per image -> float64 (n,), each in (lo, hi] (or [lo, hi])."""
    interval = f"{'(' if lo_open else '['}{lo:g}, {hi:g}]"
    if np.ndim(value) == 0:
        return np.full(n, check_float(value, name, what, lo, hi, lo_open=lo_open))
    try:
        arr = np.asarray(value, np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: {name} must be a number or {n} numbers (one per image) in "
                         f"{interval}, got {value!r}") from None
    if arr.shape != (n,):
        raise ValueError(f"{what}: {name} must be a number or {n} numbers (one per image), got "
                         f"shape {arr.shape}")
    bad = ~np.isfinite(arr) | (arr > hi) | (arr < lo) | ((arr == lo) if lo_open else False)
    if bad.any():
        raise ValueError(f"{what}: {name} must be in {interval} for every image, got "
                         f"{arr[bad][0]!r} (image {int(np.flatnonzero(bad)[0])})")
    return arr


def _rng(seed, what):
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_seed(seed, what))


def _backend(backend, side, what):
    check_choice(backend, "backend", what, BACKENDS)
    if backend == "auto":
        return "sparse" if side <= SPARSE_MAX_SIDE else "skimage"
    return backend


# ----------------------------------------------------------------------------------------------
# The scan


def _line_integrals(mu, pixel_cm, theta, backend):
    """p = radon(mu) x pixel size (cm), float64 (N, P, n_angles); mu (N, P, P) zero outside
    the inscribed circle."""
    if backend == "sparse":
        sino = _ct.radon(mu, theta)
        return sino * pixel_cm[:, None, None]
    from skimage.transform import radon

    return np.stack([radon(mu[i], theta=theta, circle=True) * pixel_cm[i] for i in range(len(mu))])


def _counts(rng, line, i0):
    """Poisson transmitted counts behind the object at i0 (N,) incident photons per bin, back to
    line integrals (floored at 1): the phantoms' `_noisy_line` with one photon count per image."""
    return _noisy_line(rng, line, 1.0, i0[:, None, None])


def _reconstruct(sino, theta, filter_name, pixel_cm, lo, size, backend):
    """FBP of (N, P, n_angles) line integrals -> HU (N, size, size) float64, cropped at lo."""
    if backend == "sparse":
        rec = _ct.fbp(sino, theta, filter_name) / pixel_cm[:, None, None]
        return 1000.0 * (rec[:, lo:lo + size, lo:lo + size] / MU_WATER_PER_CM - 1.0)
    from skimage.transform import iradon

    out = []
    for i in range(len(sino)):
        rec = iradon(sino[i], theta=theta, filter_name=filter_name, circle=True) / pixel_cm[i]
        out.append(1000.0 * (rec[lo:lo + size, lo:lo + size] / MU_WATER_PER_CM - 1.0))
    return np.stack(out)


def _attenuation(hu, pad):
    """mu (N, P, P) of HU slices (N, S, S), padded with air or masked to the inscribed circle;
    and the offset of the slice inside the padded square."""
    n, size = hu.shape[:2]
    mu = hu_to_mu(hu)
    if pad:
        side = padded_side(size)
        lo = (side - size) // 2
        out = np.zeros((n, side, side), np.float64)
        out[:, lo:lo + size, lo:lo + size] = mu
        return out, lo
    radius = size // 2  # scikit-image's scan circle (circle=True)
    rr, cc = np.mgrid[:size, :size] - radius
    return np.where((rr ** 2 + cc ** 2 <= radius ** 2)[None], mu, 0.0), 0


def _theta(n_angles):
    return np.linspace(0.0, 180.0, n_angles, endpoint=False)


def simulate_low_dose(hu, dose, *, pixel_mm, flux=DEFAULT_FLUX, filter_name: str = "ramp",
                      n_angles: int | None = None, pad: bool = True, backend: str = "auto",
                      seed=0) -> tuple[np.ndarray, np.ndarray]:
    """Simulate a reduced-dose CT scan of slices in HU (module docstring: HU -> attenuation ->
    air padding -> radon -> Poisson counts at flux x dose photons per bin -> -log -> FBP -> HU).

    Args:
        hu: one square slice (S, S), or a batch (N, S, S) or (N, S, S, 1), in HU (S >= 8).
        dose: dose fraction in (0, 1] (e.g. 0.25 for a quarter-dose scan), or one per slice.
        pixel_mm: pixel size in mm (> 0; square pixels), or one per slice.
        flux: incident photons per detector bin at dose 1 (> 0), or one per slice.
        filter_name: FBP filter, "ramp" (default), "shepp-logan", "cosine", "hamming" or "hann".
        n_angles: views over [0, 180) degrees (default `default_n_angles(S, pad)`).
        pad: pad with air so the whole square is scanned (default); False: air outside the
            inscribed circle, side S.
        backend: "auto", "sparse" (advzoo.data.ct) or "skimage" (module docstring).
        seed: int seed of numpy's `default_rng` for the Poisson noise, or a `numpy.random.Generator`.
            The noise of a batch is drawn in one call, so slice 0 of a batch of N gets the noise
            that a single slice with the same seed gets.

    Returns:
        (low_dose, reference): float64 arrays shaped like `hu`, in HU. The reference is the FBP of
        the noiseless line integrals, so it does not depend on `seed`, `dose` or `flux`; outside
        the scan circle (pad=False only) both are -1000 HU.
    """
    what = "simulate_low_dose"
    images, back = _slices(hu, what)
    n, size = images.shape[:2]
    dose = _per_image(dose, "dose", n, what, 0.0, 1.0)
    pixel_mm = _per_image(pixel_mm, "pixel_mm", n, what, 0.0, 1e4)
    flux = _per_image(flux, "flux", n, what, 0.0, 1e12)
    check_choice(filter_name, "filter_name", what, _ct.FILTERS)
    if not isinstance(pad, bool):
        raise ValueError(f"{what}: pad must be True or False, got {pad!r}")
    n_angles = default_n_angles(size, pad) if n_angles is None else check_int(n_angles, "n_angles", what, minimum=4)
    side = padded_side(size) if pad else size
    backend = _backend(backend, side, what)
    rng = _rng(seed, what)
    theta = _theta(n_angles)
    pixel_cm = pixel_mm / 10.0
    mu, lo = _attenuation(images, pad)
    line = _line_integrals(mu, pixel_cm, theta, backend)
    noisy = _counts(rng, line, flux * dose)
    low = _reconstruct(noisy, theta, filter_name, pixel_cm, lo, size, backend)
    reference = _reconstruct(line, theta, filter_name, pixel_cm, lo, size, backend)
    return back(low), back(reference)  # FBP is 0 (-1000 HU) outside the scan circle


# ----------------------------------------------------------------------------------------------
# Clinical-resolution phantom with domain randomisation


def _check_spec(value, name, what, lo, hi, lo_open=True):
    """A number, or a (low, high) range, each within (lo, hi] -> (low, high)."""
    if np.ndim(value) == 0:
        v = check_float(value, name, what, lo, hi, lo_open=lo_open)
        return (v, v)
    interval = f"{'(' if lo_open else '['}{lo:g}, {hi:g}]"
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: {name} must be a number or a (low, high) range in {interval}, "
                         f"got {value!r}") from None
    ok = all(math.isfinite(v) and lo <= v <= hi and not (lo_open and v == lo) for v in (a, b))
    if not ok or a > b:
        raise ValueError(f"{what}: {name} must be a number or a (low, high) range with low <= high "
                         f"in {interval}, got {value!r}")
    return (a, b)


def _draw(rng, m, spec, log=False):
    """m values from a (low, high) spec: uniform (log-uniform with `log`); always m draws, so the
    other draws do not depend on whether a parameter is fixed."""
    u = rng.random(m)
    lo, hi = spec
    if log:
        return np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo)))
    return lo + u * (hi - lo)


def _clinical_chunk(rng, m, size, dose, flux, fov_mm, body_mm, blur_px, filters, n_angles, backend):
    from scipy.ndimage import gaussian_filter

    flux_i = _draw(rng, m, flux, log=True)
    dose_i = _draw(rng, m, dose, log=True)
    fov_i = _draw(rng, m, fov_mm, log=True)
    body_i = _draw(rng, m, body_mm)
    blur_i = _draw(rng, m, blur_px)
    filt_i = rng.integers(len(filters), size=m)
    # anatomy units: the body's mean half-width _BODY_HALF[0] is body_mm / 2
    unit_mm = body_i / (2.0 * _BODY_HALF[0])
    zoom = (fov_i / 2.0) / unit_mm
    cx = rng.uniform(-1.0, 1.0, m) * np.maximum(0.0, _BODY_HALF[0] - 0.5 * zoom)
    cy = rng.uniform(-1.0, 1.0, m) * np.maximum(0.0, _BODY_HALF[1] - 0.5 * zoom)
    labels = _anatomy(rng, m, (size, size), zoom=zoom, centre=(cx, cy))
    phantom = _render_ct(rng, labels)
    scanned = np.stack([gaussian_filter(phantom[i].astype(np.float64), blur_i[i], mode="nearest")
                        if blur_i[i] > 0 else phantom[i].astype(np.float64) for i in range(m)])
    pixel_cm = fov_i / size / 10.0
    theta = _theta(n_angles)
    mu, lo = _attenuation(scanned, True)
    line = _line_integrals(mu, pixel_cm, theta, backend)
    routine_line = _counts(rng, line, flux_i)
    low_line = _counts(rng, line, flux_i * dose_i)
    out = {k: np.empty((m, size, size), np.float32) for k in ("low", "routine", "noiseless")}
    for f, name in enumerate(filters):
        idx = np.flatnonzero(filt_i == f)
        if idx.size == 0:
            continue
        sinos = np.concatenate([low_line[idx], routine_line[idx], line[idx]])
        pc = np.concatenate([pixel_cm[idx]] * 3)
        rec = _reconstruct(sinos, theta, name, pc, lo, size, backend).astype(np.float32)
        k = idx.size
        out["low"][idx], out["routine"][idx], out["noiseless"][idx] = rec[:k], rec[k:2 * k], rec[2 * k:]
    result = {k: to_channels(v) for k, v in out.items()}
    result.update(phantom=to_channels(phantom), labels=to_channels(labels, np.int32),
                  flux=flux_i.astype(np.float32), dose=dose_i.astype(np.float32),
                  pixel_mm=(fov_i / size).astype(np.float32), body_mm=body_i.astype(np.float32),
                  blur_px=blur_i.astype(np.float32),
                  filter=np.array([_ct.FILTERS.index(filters[f]) for f in filt_i], np.int32))
    return result


def lowdose_ct_clinical_arrays(split: str = "train", n: int | None = None, size: int = 128,
                               dose=0.25, flux=CLINICAL_FLUX, fov_mm=(80.0, 420.0),
                               body_mm=(250.0, 420.0), blur_px=(0.0, 1.0),
                               filter_name=("ramp", "shepp-logan"), n_angles: int | None = None,
                               backend: str = "auto", seed: int = 0) -> dict:
    """Routine- vs. low-dose CT pairs at clinical resolution, with scanner and patient variation
    randomised per sample (module docstring; the 2D `lowdose_ct` phantom is the fixed 40 cm,
    5e5-photon, ramp-filter, unpadded version of this).

    Each sample: an abdominal phantom slice (`advzoo.data.phantoms` anatomy, HU) seen through a
    field of view `fov_mm` wide (pixel size fov / size; a field of view smaller than the body
    crops into it at a random position), of a body `body_mm` wide, blurred by a Gaussian of
    `blur_px` pixels (the scanner's point-spread function), then scanned by `simulate_low_dose`
    (air padding, ceil(pi/2 x padded side) views) at routine dose (flux photons per bin) and at
    `dose` (flux x dose), with independent Poisson noise, and reconstructed with the sample's
    filter. Every range argument takes a number (fixed) or a (low, high) range drawn per sample
    (flux, dose and fov_mm log-uniformly; body_mm and blur_px uniformly). As for real slices, only
    what the image shows is scanned (air around it): a cropped field of view attenuates less than
    the whole body would.

    Args:
        size: side of the square slices (>= 32; default 128). Sides above 138 use scikit-image's
            operators with backend="auto" (slower: about 3 s per sample at 256).
        dose: dose fraction of the low-dose scan in (0, 1], or a range (default 0.25: quarter dose).
        flux: incident photons per detector bin at routine dose, in (0, 1e12] (default `CLINICAL_FLUX`, 1e5..2e6).
        fov_mm: width of the field of view in mm, in (0, 2000] (default 80..420).
        body_mm: lateral width of the body in mm, in (0, 1000] (default 250..420; the anatomy's
            own variation adds about +-7 %).
        blur_px: sd of the Gaussian blur in pixels, in [0, 10] (default 0..1).
        filter_name: an FBP filter of `advzoo.data.ct.FILTERS`, or a tuple of them drawn uniformly
            per sample (default ("ramp", "shepp-logan")).
        n_angles: views over [0, 180) (default ceil(pi/2 x padded side): 293 at size 128).
        backend: "auto", "sparse" or "skimage" (see `simulate_low_dose`).
        seed: seed of the subject, scanner and noise draws.

    Returns:
        dict(low, routine, noiseless, phantom=float32 (n, size, size, 1) in HU (as
        `lowdose_ct_arrays`: low and routine are the reconstructions of the noisy scans, noiseless
        that of the noiseless one (blurred like them), phantom the clean unblurred slice;
        reconstructions are unclipped, typically within [-1100, 1100]);
        labels=int32 (n, size, size, 1) (`CT_LABELS`); and per sample, (n,): flux, dose,
        pixel_mm, body_mm, blur_px (float32) and filter (int32, index into
        `advzoo.data.ct.FILTERS`)).
    """
    what = "lowdose_ct_clinical"
    check_split(split)
    size = check_int(size, "size", what, minimum=32)
    dose = _check_spec(dose, "dose", what, 0.0, 1.0)
    flux = _check_spec(flux, "flux", what, 0.0, 1e12)
    fov_mm = _check_spec(fov_mm, "fov_mm", what, 0.0, 2000.0)
    body_mm = _check_spec(body_mm, "body_mm", what, 0.0, 1000.0)
    blur_px = _check_spec(blur_px, "blur_px", what, 0.0, 10.0, lo_open=False)
    filters = (filter_name,) if isinstance(filter_name, str) else tuple(filter_name)
    if not filters:
        raise ValueError(f"{what}: filter_name must be a filter name or a non-empty tuple of them, "
                         f"got {filter_name!r}")
    for f in filters:
        check_choice(f, "filter_name", what, _ct.FILTERS)
    n_angles = default_n_angles(size) if n_angles is None else check_int(n_angles, "n_angles", what, minimum=4)
    backend = _backend(backend, padded_side(size), what)
    return generate(what, _clinical_chunk, resolve_n(n, split, what), split, check_seed(seed, what),
                    size=size, dose=dose, flux=flux, fov_mm=fov_mm, body_mm=body_mm,
                    blur_px=blur_px, filters=filters, n_angles=n_angles, backend=backend)


def lowdose_ct_clinical(split: str = "train", n: int | None = None, size: int = 128, dose=0.25,
                        flux=CLINICAL_FLUX, fov_mm=(80.0, 420.0), body_mm=(250.0, 420.0),
                        blur_px=(0.0, 1.0), filter_name=("ramp", "shepp-logan"),
                        n_angles: int | None = None, target: str = "routine", scaled: bool = True,
                        window=CT_WINDOW, batch_size: int | None = None,
                        shuffle: bool | None = None, seed: int = 0):
    """(low_dose, target) pairs as a `tf.data.Dataset` (see `lowdose_ct_clinical_arrays`).

    `target` is "routine" (the routine-dose scan, as `lowdose_ct`) or "noiseless" (the noiseless
    reconstruction). Both mapped from HU to [-1, 1] by `hu_to_unit(hu, window)` unless
    `scaled=False`. For: pix2pix / wgan_vgg (aligned), simgan / cyclegan (unaligned) at clinical
    resolution.
    """
    check_choice(target, "target", "lowdose_ct_clinical", ("routine", "noiseless"))
    arr = lowdose_ct_clinical_arrays(split, n=n, size=size, dose=dose, flux=flux, fov_mm=fov_mm,
                                     body_mm=body_mm, blur_px=blur_px, filter_name=filter_name,
                                     n_angles=n_angles, seed=seed)
    low, tgt = arr["low"], arr[target]
    if scaled:
        low, tgt = hu_to_unit(low, window), hu_to_unit(tgt, window)
    return as_dataset((low, tgt), batch_size=batch_size, shuffle=_shuffle(shuffle, split), seed=seed)


__all__ = ["simulate_low_dose", "lowdose_ct_clinical_arrays", "lowdose_ct_clinical", "padded_side",
           "default_n_angles", "BACKENDS", "SPARSE_MAX_SIDE", "DEFAULT_FLUX", "CLINICAL_FLUX"]
