"""Domain randomisation of phantom appearance, SynthSeg-style: the option `randomise=` of the
segmentation phantoms (`ct_slices_arrays`, `retina_arrays`).

A segmentor trained on one rendering of a phantom learns that rendering's contrast. SynthSeg
(Billot et al., "SynthSeg: Segmentation of brain MRI scans of any contrast and resolution without
retraining", Medical Image Analysis 86, 2023, Sec. 3.1-3.2) and SynthStrip (Hoopes et al.,
NeuroImage 260, 2022) instead draw every training image's appearance at random from its label
map, so that only shape carries over, and their networks work on real scans of any contrast and
resolution (domain randomisation: Tobin et al., IROS 2017). `randomise_appearance` follows their
generative model, each step drawn independently per sample:

1. per-label intensities: a Gaussian mixture, one mean per label and channel uniform in
   `intensity`, and a within-label sd uniform in `texture` that scales a smooth unit-sd random
   field (correlation ~1 px), so labels have texture rather than flat values. Soft label
   memberships (partial volume, e.g. thin vessels) mix the label means linearly;
2. a multiplicative bias field exp(b * P(x)), P a random polynomial of degree 2 with max |P| = 1
   over the image and b uniform in [0, `bias`] (so the field lies in [exp(-b), exp(b)]);
3. blur: a Gaussian of sd uniform in `blur` pixels (the scanner's point-spread function);
4. resolution: down-sampling by a factor uniform in `resolution` along each axis independently
   (with scikit-image's anti-aliasing), then linear up-sampling back (thick slices / low-field
   or low-resolution acquisitions);
5. noise: white Gaussian noise of sd uniform in `noise`;
6. min-max normalisation of the sample to [0, 1], then an intensity gamma x ** g with g
   log-uniform in `gamma`.

The output lies in [0, 1]; each phantom maps it to its own documented range (CT: [-1000, 1000],
retina: [0, 1]) so that the downstream scaling is unchanged. The random draws come from the
phantom's own generator after its label maps are drawn, so the labels (and masks) of a
randomised set are those of the same set without randomisation, bit for bit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from advzoo.data._phantom_core import grid, smooth_noise


def _check_range(value, name, lo, hi):
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"DomainRandomisation: {name} must be a (low, high) pair of numbers in "
                         f"[{lo}, {hi}], got {value!r}") from None
    if not (math.isfinite(a) and math.isfinite(b) and lo <= a <= b <= hi):
        raise ValueError(f"DomainRandomisation: {name} must be a (low, high) pair with "
                         f"{lo} <= low <= high <= {hi}, got {value!r}")
    return (a, b)


@dataclass(frozen=True)
class DomainRandomisation:
    """Ranges of the per-sample appearance draws of `randomise_appearance` (module docstring).

    Attributes:
        intensity: (low, high) range of the per-label, per-channel mean intensity, within [0, 1].
        texture: (low, high) range of the within-label sd (same units), within [0, 1].
        bias: largest |log| of the multiplicative bias field, in [0, 2] (0: no bias field).
        blur: (low, high) Gaussian blur sd in pixels, within [0, 10].
        resolution: (low, high) down-sampling factor per axis, within [1, 8] (1: full resolution).
        noise: (low, high) sd of white Gaussian noise before normalisation, within [0, 1].
        gamma: (low, high) exponent range of the final intensity gamma (log-uniform), within
            [0.1, 10].

    `True` in a phantom's `randomise=` means `DomainRandomisation()` (these defaults).
    """

    intensity: tuple = (0.0, 1.0)
    texture: tuple = (0.0, 0.08)
    bias: float = 0.4
    blur: tuple = (0.0, 1.0)
    resolution: tuple = (1.0, 3.0)
    noise: tuple = (0.0, 0.06)
    gamma: tuple = (0.6, 1.6)

    _LIMITS = {"intensity": (0.0, 1.0), "texture": (0.0, 1.0), "blur": (0.0, 10.0),
               "resolution": (1.0, 8.0), "noise": (0.0, 1.0), "gamma": (0.1, 10.0)}

    def __post_init__(self):
        for name, (lo, hi) in self._LIMITS.items():
            object.__setattr__(self, name, _check_range(getattr(self, name), name, lo, hi))
        try:
            bias = float(self.bias)
        except (TypeError, ValueError):
            bias = float("nan")
        if not 0.0 <= bias <= 2.0:
            raise ValueError(f"DomainRandomisation: bias must be a number in [0, 2], got {self.bias!r}")
        object.__setattr__(self, "bias", bias)


#: The fields of `DomainRandomisation`: the keys a `randomise=` dict may set.
RANDOMISE_OPTIONS = tuple(f.name for f in fields(DomainRandomisation))


def resolve_randomise(randomise, what: str):
    """`randomise=` of a phantom -> a `DomainRandomisation` or None (off).

    False / None: off (the phantom's own rendering, bit for bit); True: the default ranges; a
    dict of `DomainRandomisation` fields, the rest at their defaults (JSON-friendly, as a
    preset's dataset options are stored in metadata.json); or a `DomainRandomisation`. Unknown
    keys name the closest fields; bad ranges say which limit. Raises `AdvzooError` (a
    ValueError), before any phantom is drawn."""
    from advzoo.errors import AdvzooError, unknown_name

    if randomise is None or randomise is False:
        return None
    if randomise is True:
        return DomainRandomisation()
    if isinstance(randomise, DomainRandomisation):
        return randomise
    if isinstance(randomise, dict):
        for key in randomise:
            if key not in RANDOMISE_OPTIONS:
                raise unknown_name("randomise option", key, RANDOMISE_OPTIONS)
        try:
            return DomainRandomisation(**randomise)
        except ValueError as error:
            raise AdvzooError(f"{what}: randomise: {error}") from None
    raise AdvzooError(f"{what}: randomise must be False, True, a dict of DomainRandomisation "
                      f"fields ({', '.join(RANDOMISE_OPTIONS)}) or an "
                      f"advzoo.data.DomainRandomisation, got {randomise!r}")


def _uniform(rng, n, pair):
    return rng.uniform(pair[0], pair[1], n)


def _bias_log_field(rng, n, shape):
    """Random degree-2 polynomials (n, *shape) over the [-1, 1] grid, max |P| = 1 per sample."""
    nd = len(shape)
    axes = [a.astype(np.float64) for a in grid(shape)]
    terms = [*axes] + [a * a - 1.0 / 3.0 for a in axes]
    terms += [axes[i] * axes[j] for i in range(nd) for j in range(i + 1, nd)]
    coef = rng.uniform(-1.0, 1.0, (n, len(terms)))
    poly = np.zeros((n,) + tuple(shape))
    for k, term in enumerate(terms):
        poly += coef[:, k].reshape((n,) + (1,) * nd) * term[None]
    peak = np.abs(poly).reshape(n, -1).max(axis=1).reshape((n,) + (1,) * nd)
    return poly / np.maximum(peak, 1e-12)


def randomise_appearance(rng, labels, options: DomainRandomisation, num_labels: int | None = None,
                         channels: int = 1) -> np.ndarray:
    """Random appearance of label maps (module docstring), float32 (n, *shape, channels) in [0, 1].

    Args:
        rng: a `numpy.random.Generator` (the phantom's chunk generator).
        labels: int label maps (n, *shape) with values in [0, num_labels), or float soft
            memberships (n, *shape, K) summing to 1 over the last axis (partial volume).
        options: the `DomainRandomisation` ranges.
        num_labels: number of labels of an int label map (default: its maximum + 1).
        channels: number of image channels (each gets its own label means).
    """
    labels = np.asarray(labels)
    soft = np.issubdtype(labels.dtype, np.floating)
    shape = labels.shape[1:-1] if soft else labels.shape[1:]
    n, nd = labels.shape[0], len(shape)
    k = labels.shape[-1] if soft else int(num_labels if num_labels is not None else labels.max() + 1)
    c = int(channels)
    # 1. Gaussian mixture: per-label means and within-label sd, times a smooth random field
    means = rng.uniform(*options.intensity, (n, k, c))
    sds = rng.uniform(*options.texture, (n, k, c))
    field = np.stack([smooth_noise(rng, n, shape, 1.0) for _ in range(c)], axis=-1).astype(np.float64)
    if soft:
        w = labels.astype(np.float64)
        img = np.einsum("n...k,nkc->n...c", w, means) + np.einsum("n...k,nkc->n...c", w, sds) * field
    else:
        idx = np.arange(n).reshape((n,) + (1,) * nd)
        img = means[idx, labels] + sds[idx, labels] * field
    # 2. bias field
    strength = _uniform(rng, n, (0.0, options.bias)).reshape((n,) + (1,) * (nd + 1))
    img = img * np.exp(strength * _bias_log_field(rng, n, shape)[..., None])
    # 3. blur and 4. resolution (per sample: the sd and the factors differ)
    from scipy.ndimage import gaussian_filter
    from skimage.transform import resize

    blur = _uniform(rng, n, options.blur)
    factors = rng.uniform(options.resolution[0], options.resolution[1], (n, nd))
    for i in range(n):
        if blur[i] > 0.0:
            img[i] = gaussian_filter(img[i], sigma=(blur[i],) * nd + (0.0,), mode="nearest")
        low_shape = tuple(max(2, int(round(s / f))) for s, f in zip(shape, factors[i]))
        if low_shape != tuple(shape):
            low = resize(img[i], low_shape + (c,), order=1, mode="edge", anti_aliasing=True)
            img[i] = resize(low, tuple(shape) + (c,), order=1, mode="edge", anti_aliasing=False)
    # 5. noise
    noise_sd = _uniform(rng, n, options.noise).reshape((n,) + (1,) * (nd + 1))
    img = img + noise_sd * rng.standard_normal(img.shape)
    # 6. min-max normalisation and gamma
    flat = img.reshape(n, -1)
    lo = flat.min(axis=1).reshape((n,) + (1,) * (nd + 1))
    hi = flat.max(axis=1).reshape((n,) + (1,) * (nd + 1))
    img = (img - lo) / np.maximum(hi - lo, 1e-12)
    gamma = np.exp(rng.uniform(np.log(options.gamma[0]), np.log(options.gamma[1]), n))
    img = np.clip(img, 0.0, 1.0) ** gamma.reshape((n,) + (1,) * (nd + 1))
    return np.clip(img, 0.0, 1.0).astype(np.float32)


__all__ = ["DomainRandomisation", "randomise_appearance", "resolve_randomise"]
