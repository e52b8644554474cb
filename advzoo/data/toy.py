"""Small built-in datasets for the classic demos: scikit-learn's digits and the 8-Gaussians ring.

Both are offline: the digits ship inside scikit-learn, the ring is drawn from a seeded generator.
"""
from __future__ import annotations

import numpy as np

from advzoo.data._common import SPLITS, as_dataset, check_split, split_indices


def digits_arrays(split: str = "train", image_size: int = 16, seed: int = 0):
    """scikit-learn's 1,797 handwritten digits as float32 images in [-1, 1].

    Args:
        split: "train" (70 %), "val" (15 %), "test" (15 %) or "all"; a seeded, stratified-free
            random split that is identical across calls with the same seed.
        image_size: side of the square output; the 8x8 originals are resized bilinearly
            (8 keeps them as they are).
        seed: seed of the split.

    Returns:
        (images, labels): float32 array (N, image_size, image_size, 1) in [-1, 1] and int32 labels.
    """
    from sklearn.datasets import load_digits

    check_split(split, allow_all=True)
    if not isinstance(image_size, (int, np.integer)) or image_size < 8:
        raise ValueError(f"digits: image_size must be an int >= 8, got {image_size!r}")
    bunch = load_digits()
    images = bunch.images.astype(np.float32) / 16.0  # scikit-learn stores 0..16 grey levels
    labels = bunch.target.astype(np.int32)
    if image_size != 8:
        from skimage.transform import resize

        images = np.stack(
            [resize(im, (image_size, image_size), order=1, mode="edge", anti_aliasing=False)
             for im in images]
        ).astype(np.float32)
    images = np.clip(images, 0.0, 1.0) * 2.0 - 1.0
    idx = split_indices(len(images), split, seed)
    return images[idx, :, :, None], labels[idx]


def digits(split: str = "train", image_size: int = 16, batch_size: int | None = None,
           labels: bool = False, shuffle: bool | None = None, seed: int = 0):
    """The digits as a `tf.data.Dataset` ready for `fit` (see `digits_arrays` for the split).

    Yields images (N, S, S, 1) in [-1, 1], or (image, label) pairs when `labels=True`.
    Batched when `batch_size` is given; shuffled by default for the training split.
    """
    images, targets = digits_arrays(split, image_size=image_size, seed=seed)
    return as_dataset((images, targets) if labels else images, batch_size=batch_size,
                      shuffle=(split == "train") if shuffle is None else shuffle, seed=seed)


def ring_arrays(split: str = "train", n: int = 2048, modes: int = 8, radius: float = 2.0,
                std: float = 0.02, seed: int = 0):
    """Points of the many-mode toy set: `modes` Gaussians evenly spaced on a circle.

    Returns (points, mode_ids): float32 (n, 2) and int32 (n,). The split only changes the seed,
    so train/val/test are independent draws of the same distribution.
    """
    check_split(split)
    if modes < 1 or n < 1 or std <= 0:
        raise ValueError(f"ring: need modes >= 1, n >= 1, std > 0; got modes={modes}, n={n}, std={std}")
    rng = np.random.default_rng([seed, SPLITS.index(split)])
    mode_ids = rng.integers(0, modes, size=n).astype(np.int32)
    angles = 2.0 * np.pi * mode_ids / modes
    centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    points = centres + std * rng.standard_normal((n, 2))
    return points.astype(np.float32), mode_ids


def ring_centres(modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """The (modes, 2) centres of the ring's Gaussians."""
    angles = 2.0 * np.pi * np.arange(modes) / modes
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def ring(split: str = "train", n: int = 2048, modes: int = 8, radius: float = 2.0,
         std: float = 0.02, batch_size: int | None = None, shuffle: bool | None = None,
         seed: int = 0):
    """The 8-Gaussians ring as a `tf.data.Dataset` of (2,) float32 points."""
    points, _ = ring_arrays(split, n=n, modes=modes, radius=radius, std=std, seed=seed)
    return as_dataset(points, batch_size=batch_size,
                      shuffle=(split == "train") if shuffle is None else shuffle, seed=seed)


def modes_covered(points, modes: int = 8, radius: float = 2.0, std: float = 0.02,
                  max_sigmas: float = 3.0, min_count: int = 1):
    """How many ring modes the points reach, and the fraction of high-quality points.

    A point counts for the nearest mode when it lies within `max_sigmas` standard deviations of
    it (the criterion of Metz et al., unrolled GANs, Sec. 3.1). A mode is covered when at least
    `min_count` points count for it.

    Returns:
        dict(modes_covered=int, high_quality=float fraction of points near some mode).
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    centres = ring_centres(modes, radius).astype(np.float64)
    dist = np.linalg.norm(points[:, None, :] - centres[None], axis=-1)
    nearest = dist.argmin(axis=1)
    good = dist[np.arange(len(points)), nearest] <= max_sigmas * std
    counts = np.bincount(nearest[good], minlength=modes)
    return {"modes_covered": int((counts >= min_count).sum()),
            "high_quality": float(good.mean()) if len(points) else 0.0}
