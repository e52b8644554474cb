"""Latent-space utilities (review Sec. 2.2): codes, interpolation, sample grids.

Plain numpy so they serve any generator, exported or not.
"""
from __future__ import annotations

import numpy as np

from advzoo.errors import check_choice


def sample_latent(n: int, latent_dim: int, seed: int | None = None) -> np.ndarray:
    """n standard-normal latent codes (float32, shape (n, latent_dim))."""
    if int(n) < 1 or int(latent_dim) < 1:
        raise ValueError(f"need n >= 1 and latent_dim >= 1, got n={n}, latent_dim={latent_dim}")
    return np.random.default_rng(seed).standard_normal((int(n), int(latent_dim))).astype(np.float32)


def lerp(z0, z1, steps: int) -> np.ndarray:
    """`steps` codes on the straight line from z0 to z1 (both ends included)."""
    z0, z1 = np.asarray(z0, np.float32), np.asarray(z1, np.float32)
    t = np.linspace(0.0, 1.0, int(steps), dtype=np.float32)[:, None]
    return (1.0 - t) * z0[None] + t * z1[None]


def slerp(z0, z1, steps: int) -> np.ndarray:
    """`steps` codes on the great circle from z0 to z1 (White 2016, "Sampling generative networks").

    Spherical interpolation keeps the norm typical of Gaussian codes, where the straight line
    passes through the low-probability region near the origin. Falls back to `lerp` for
    (anti-)parallel codes, where the great circle is undefined.
    """
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    cos = np.dot(z0, z1) / (np.linalg.norm(z0) * np.linalg.norm(z1) + 1e-12)
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if np.sin(omega) < 1e-6:
        return lerp(z0, z1, steps)
    t = np.linspace(0.0, 1.0, int(steps))[:, None]
    out = (np.sin((1.0 - t) * omega) * z0[None] + np.sin(t * omega) * z1[None]) / np.sin(omega)
    return out.astype(np.float32)


def interpolate(z0, z1, steps: int = 8, method: str = "slerp") -> np.ndarray:
    """Codes between z0 and z1 by `method` ("linear" or "slerp")."""
    check_choice("method", method, ("linear", "slerp"))
    if int(steps) < 2:
        raise ValueError(f"interpolation needs steps >= 2, got {steps}")
    return lerp(z0, z1, steps) if method == "linear" else slerp(z0, z1, steps)


def to_uint8(images, value_range=(-1.0, 1.0)) -> np.ndarray:
    """Images in `value_range` to uint8 (clipped)."""
    lo, hi = value_range
    x = (np.asarray(images, np.float32) - lo) / (hi - lo)
    return (np.clip(x, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def image_grid(images, columns: int | None = None, padding: int = 1,
               value_range=(-1.0, 1.0)) -> np.ndarray:
    """Tile (N, H, W, C) images into one uint8 picture (rows of `columns`, 1-pixel gaps).

    One- and three-channel images are kept; other channel counts show the first channel.
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"image_grid expects (N, H, W, C) images, got shape {images.shape}")
    if images.shape[-1] not in (1, 3):
        images = images[..., :1]
    n, h, w, c = images.shape
    columns = columns or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / columns))
    grid = np.zeros((rows * (h + padding) + padding, columns * (w + padding) + padding, c), np.uint8)
    tiles = to_uint8(images, value_range)
    for i in range(n):
        r, col = divmod(i, columns)
        y, x = padding + r * (h + padding), padding + col * (w + padding)
        grid[y:y + h, x:x + w] = tiles[i]
    return grid


def save_png(picture: np.ndarray, path, scale: int = 1) -> None:
    """Write a uint8 (H, W, 1|3) picture as PNG, enlarged `scale` times (nearest neighbour)."""
    from PIL import Image

    picture = np.asarray(picture, np.uint8)
    if scale > 1:
        picture = picture.repeat(scale, axis=0).repeat(scale, axis=1)
    if picture.ndim == 3 and picture.shape[-1] == 1:
        picture = picture[..., 0]
    Image.fromarray(picture).save(str(path), format="PNG")
