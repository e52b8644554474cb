"""Paired MR / CT phantoms of the same subject that carry the same liver lesions in both
modalities, with their masks: the data of the hallucination check (Cohen et al. 2018).

A translator trained MR -> CT should carry a lesion seen on MR into the CT it synthesises (with the
CT's contrast) and should not draw one where the MR has none. Lesions follow the `lesions`
phantom: 1-3 elliptical lesions inside the liver, hypodense on CT (35-60 HU below the liver, as
in `lesions_arrays`); on MR they are hypointense on T1 (0.45-0.65 of the liver's signal) and
hyperintense on T2 (1.8-2.5 times), the usual look of liver metastases. Lesion-free subjects
(label 0) have empty masks. Slices are taken at heights where the liver is large.
"""
from __future__ import annotations

import numpy as np

from advzoo.data._common import as_dataset, check_split
from advzoo.data._phantom_core import (check_choice, check_float, check_int, check_seed, ellipsoid,
                                       generate, grid, random_pixel, resolve_n, smooth_noise,
                                       spread, to_channels)
from advzoo.data.phantoms import (LIVER, _anatomy, _render_ct, _render_mr, _texture_sigma)
from advzoo.data.scaling import MR_RANGE, hu_to_unit, mr_to_unit

_MR_LESION_RATIO = {"t1": (0.45, 0.65), "t2": (1.8, 2.5)}


def _lesion_pair_chunk(rng, m, size, abnormal_fraction, contrast, radius, noise):
    shape = (size, size)
    labels = _anatomy(rng, m, shape, z_range=(0.05, 0.25))
    ct = _render_ct(rng, labels)
    mr, _ = _render_mr(rng, labels, contrast, noise=noise)
    abnormal = spread(m, abnormal_fraction)
    liver = labels == LIVER
    y, x = grid(shape)
    mask = np.zeros((m,) + shape, bool)
    for k in range(3):
        pos = random_pixel(rng, liver)
        cy, cx = y.ravel()[pos[:, 0]], x.ravel()[pos[:, 1]]
        r = rng.uniform(radius[0], radius[1], m).astype(np.float32)
        blob = ellipsoid((x[None], y[None]), (cx[:, None, None], cy[:, None, None]),
                         (r[:, None, None], (r * rng.uniform(0.7, 1.3, m))[:, None, None]),
                         angle=rng.uniform(0, np.pi, m)[:, None, None])
        use = abnormal & (pos[:, 0] >= 0)
        if k > 0:
            use &= rng.random(m) < 0.5  # 1 to 3 lesions
        mask |= blob & use[:, None, None]
    mask &= liver
    drop = rng.uniform(35.0, 60.0, m).astype(np.float32)[:, None, None]
    tex = smooth_noise(rng, m, shape, _texture_sigma(shape)) * 6.0
    ct = np.where(mask, np.clip(ct - drop + tex, -20.0, 80.0), ct)
    channels = {"t1": ["t1"], "t2": ["t2"], "both": ["t1", "t2"]}[contrast]
    for c, name in enumerate(channels):
        ratio = rng.uniform(*_MR_LESION_RATIO[name], m).astype(np.float32)[:, None, None]
        mr[..., c] = np.where(mask, np.clip(mr[..., c] * ratio, *MR_RANGE), mr[..., c])
    return {"mr": mr.astype(np.float32), "ct": to_channels(ct), "masks": to_channels(mask),
            "labels": abnormal.astype(np.int32), "organ_labels": to_channels(labels, np.int32)}


def lesion_pairs_arrays(split: str = "test", n: int | None = None, size: int = 32,
                        abnormal_fraction: float = 0.5, contrast: str = "t1",
                        radius=(0.1, 0.18), noise: float = 0.02, seed: int = 0) -> dict:
    """Aligned MR and CT of the same subjects, half of them with liver lesions in both.

    Args:
        size: side of the square slices (>= 16).
        abnormal_fraction: fraction of subjects with lesions, evenly interleaved.
        contrast: MR contrast "t1", "t2" or "both" (2 channels), as in `mr_slices_arrays`.
        radius: (lo, hi) lesion radii as fractions of the half field of view (the image spans
            [-1, 1]); the default gives 1.6-2.9 pixel radii at 32x32.
        noise: MR Rician noise sd.

    Returns:
        dict(mr=float32 (n, size, size, C) in [0, 1.5]; ct=float32 (n, size, size, 1) in HU;
        masks=float32 (n, size, size, 1) lesion pixels (inside the liver, the same in both);
        labels=int32 (n,) 1 with lesions / 0 without; organ_labels=int32 (n, size, size, 1)
        (`CT_LABELS`, the liver including its lesions)).
    """
    what = "lesion_pairs"
    check_split(split)
    size = check_int(size, "size", what, minimum=16)
    abnormal_fraction = check_float(abnormal_fraction, "abnormal_fraction", what, 0.0, 1.0)
    check_choice(contrast, "contrast", what, ("t1", "t2", "both"))
    lo, hi = (float(r) for r in radius)
    if not 0.0 < lo <= hi <= 0.5:
        raise ValueError(f"{what}: radius must be (lo, hi) with 0 < lo <= hi <= 0.5, got {radius!r}")
    noise = check_float(noise, "noise", what, 0.0, 1.0)
    return generate(what, _lesion_pair_chunk, resolve_n(n, split, what), split,
                    check_seed(seed, what), size=size, abnormal_fraction=abnormal_fraction,
                    contrast=contrast, radius=(lo, hi), noise=noise)


def lesion_pairs(split: str = "test", n: int | None = None, size: int = 32,
                 abnormal_fraction: float = 0.5, contrast: str = "t1", masks: bool = False,
                 scaled: bool = True, batch_size: int | None = None, shuffle: bool | None = None,
                 seed: int = 0):
    """`lesion_pairs_arrays` as a `tf.data.Dataset` of (mr, ct), or (mr, ct, mask) with
    `masks=True`; MR by `mr_to_unit`, CT by `hu_to_unit` unless `scaled=False`."""
    arr = lesion_pairs_arrays(split, n=n, size=size, abnormal_fraction=abnormal_fraction,
                              contrast=contrast, seed=seed)
    mr, ct = (mr_to_unit(arr["mr"]), hu_to_unit(arr["ct"])) if scaled else (arr["mr"], arr["ct"])
    parts = (mr, ct, arr["masks"]) if masks else (mr, ct)
    return as_dataset(parts, batch_size=batch_size,
                      shuffle=(split == "train") if shuffle is None else bool(shuffle), seed=seed)
