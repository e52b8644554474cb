"""Machinery shared by the phantoms: argument checks, seeded chunked generation with a cache,
coordinate grids, ellipsoids and smooth random fields, all vectorised over the batch.

Seeding: samples are generated in chunks of `CHUNK` samples; chunk `k` of phantom `name` draws
from `numpy.random.default_rng([seed, split_index, crc32(name), k])`. So the same (seed, split,
arguments) gives identical arrays, a different seed or split gives different subjects, and the
first `m` samples do not depend on how many samples were asked for.
"""
from __future__ import annotations

import zlib
from collections import OrderedDict

import numpy as np

from advzoo.data._common import SPLITS, check_split

CHUNK = 32
DEFAULT_N = {"train": 512, "val": 64, "test": 64}
_CACHE: "OrderedDict[tuple, dict]" = OrderedDict()
_CACHE_MAX = 24


def clear_cache() -> None:
    """Forget every cached phantom set (they are rebuilt on the next call)."""
    _CACHE.clear()


def check_int(value, name: str, what: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{what}: {name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def check_float(value, name: str, what: str, lo: float, hi: float, lo_open=False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: {name} must be a number in {'(' if lo_open else '['}{lo}, {hi}], got {value!r}") from None
    if not np.isfinite(v) or v > hi or v < lo or (lo_open and v == lo):
        raise ValueError(f"{what}: {name} must be in {'(' if lo_open else '['}{lo}, {hi}], got {value!r}")
    return v


def check_choice(value, name: str, what: str, choices) -> str:
    if value not in choices:
        raise ValueError(f"{what}: {name} must be one of {list(choices)}, got {value!r}")
    return value


def check_shape(size, ndim: int, what: str, minimum: int = 16) -> tuple:
    """`size` (int or tuple of `ndim` ints, each >= minimum) -> shape tuple."""
    if ndim not in (2, 3):
        raise ValueError(f"{what}: ndim must be 2 or 3, got {ndim!r}")
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        shape = (int(size),) * ndim
    elif isinstance(size, (tuple, list)) and len(size) == ndim and all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in size):
        shape = tuple(int(s) for s in size)
    else:
        raise ValueError(f"{what}: size must be an int or a tuple of {ndim} ints, got {size!r}")
    if min(shape) < minimum:
        raise ValueError(f"{what}: every side must be >= {minimum}, got size {shape}")
    return shape


def check_seed(seed, what: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"{what}: seed must be a non-negative int, got {seed!r}")
    return int(seed)


def resolve_n(n, split: str, what: str) -> int:
    if n is None:
        return DEFAULT_N[split]
    return check_int(n, "n", what)


def generate(name: str, fn, n: int, split: str, seed: int, cache: bool = True, **kwargs) -> dict:
    """Run `fn(rng, m, **kwargs) -> dict of arrays` chunk by chunk and concatenate to n samples.

    Results are cached per (name, n, split, seed, kwargs) and returned as fresh copies.
    """
    check_split(split)
    key = (name, n, split, seed, tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
    if cache and key in _CACHE:
        _CACHE.move_to_end(key)
        return {k: v.copy() for k, v in _CACHE[key].items()}
    code = zlib.crc32(name.encode())
    parts = []
    for k in range((n + CHUNK - 1) // CHUNK):
        rng = np.random.default_rng([seed, SPLITS.index(split), code, k])
        parts.append(fn(rng, CHUNK, **kwargs))
    out = {key_: np.concatenate([p[key_] for p in parts])[:n] for key_ in parts[0]}
    if cache:
        _CACHE[key] = out
        while len(_CACHE) > _CACHE_MAX:
            _CACHE.popitem(last=False)
        return {k: v.copy() for k, v in out.items()}
    return out


def grid(shape) -> list:
    """Pixel-centre coordinates in [-1, 1] for each axis of `shape` (ij order), broadcastable."""
    axes = [(np.arange(s, dtype=np.float32) + 0.5) / s * 2.0 - 1.0 for s in shape]
    return np.meshgrid(*axes, indexing="ij", sparse=True)


def per_sample(rng, n: int, ndim: int, lo, hi):
    """Uniform draws (n,) shaped to broadcast against (n, *spatial) arrays."""
    return rng.uniform(lo, hi, n).astype(np.float32).reshape((n,) + (1,) * ndim)


def ellipsoid(coords, centre, radii, angle=None):
    """Boolean (n, *shape) mask of ellipses/ellipsoids; coords = (x, y[, z]) broadcastable arrays.

    `centre`, `radii` are tuples of broadcastable per-sample arrays; `angle` rotates in the x-y plane.
    """
    x, y = coords[0] - centre[0], coords[1] - centre[1]
    if angle is not None:
        c, s = np.cos(angle), np.sin(angle)
        x, y = c * x + s * y, -s * x + c * y
    q = (x / radii[0]) ** 2 + (y / radii[1]) ** 2
    if len(coords) > 2:
        q = q + ((coords[2] - centre[2]) / radii[2]) ** 2
    return q <= 1.0


def smooth_noise(rng, n: int, shape, sigma_px: float) -> np.ndarray:
    """Gaussian random fields (n, *shape), float32, zero mean and unit std per sample.

    White noise low-passed with a Gaussian of `sigma_px` pixels (FFT, vectorised over the batch).
    """
    white = rng.standard_normal((n,) + tuple(shape)).astype(np.float32)
    axes = tuple(range(1, len(shape) + 1))
    spec = np.fft.rfftn(white, axes=axes)
    freqs = [np.fft.fftfreq(s) for s in shape[:-1]] + [np.fft.rfftfreq(shape[-1])]
    f2 = sum(f.reshape([-1 if i == j else 1 for j in range(len(shape))]) ** 2 for i, f in enumerate(freqs))
    spec *= np.exp(-2.0 * (np.pi * sigma_px) ** 2 * f2)[None]
    field = np.fft.irfftn(spec, s=shape, axes=axes).astype(np.float32)
    field -= field.mean(axis=axes, keepdims=True)
    field /= field.std(axis=axes, keepdims=True) + 1e-8
    return field


def gaussian_blur(images: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian blur over the spatial axes (all but the first) of a batch, via FFT (periodic)."""
    if sigma_px <= 0:
        return images
    shape = images.shape[1:]
    axes = tuple(range(1, images.ndim))
    freqs = [np.fft.fftfreq(s) for s in shape[:-1]] + [np.fft.rfftfreq(shape[-1])]
    f2 = sum(f.reshape([-1 if i == j else 1 for j in range(len(shape))]) ** 2 for i, f in enumerate(freqs))
    spec = np.fft.rfftn(images, axes=axes) * np.exp(-2.0 * (np.pi * sigma_px) ** 2 * f2)[None]
    return np.fft.irfftn(spec, s=shape, axes=axes).astype(np.float32)


def random_pixel(rng, mask: np.ndarray) -> np.ndarray:
    """One uniformly drawn True position per sample of a (n, *shape) mask -> (n, ndim) int index.

    Samples whose mask is empty get -1 in every coordinate.
    """
    n = mask.shape[0]
    scores = rng.random(mask.shape, dtype=np.float32) * mask
    flat = scores.reshape(n, -1).argmax(axis=1)
    idx = np.stack(np.unravel_index(flat, mask.shape[1:]), axis=1)
    idx[~mask.reshape(n, -1).any(axis=1)] = -1
    return idx


def spread(m: int, fraction: float) -> np.ndarray:
    """(m,) bools with `fraction` of them True, evenly spread (every prefix keeps the fraction
    to within one sample), so small sets stay balanced."""
    i = np.arange(m)
    return (np.floor((i + 1) * fraction + 1e-9) - np.floor(i * fraction + 1e-9)) > 0


def to_channels(x: np.ndarray, dtype=np.float32) -> np.ndarray:
    """Add the trailing channel axis of Keras images."""
    return x[..., None].astype(dtype)
