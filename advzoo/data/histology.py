"""Histology-like and X-ray-like phantoms: H&E tiles under two stain appearances, and spine
radiographs paired with the line sketches they were drawn from.

stain_shift: stain variation between labs/scanners as a domain shift for nuclei segmentation
(Lafarge et al. 2017, domain-adversarial training in histopathology; stain normalisation).
sketch_xray: sketch-to-radiograph translation (Galbusera et al. 2018, spine X-rays from sketches).
"""
from __future__ import annotations

import numpy as np

from advzoo.data._common import as_dataset, check_split
from advzoo.data._phantom_core import (check_choice, check_int, check_seed, gaussian_blur, generate,
                                       grid, resolve_n, smooth_noise, to_channels)
from advzoo.data.scaling import to_unit


def _unit(v):
    v = np.asarray(v, np.float32)
    return v / np.linalg.norm(v)


#: Stain optical-density vectors (hematoxylin, eosin) and the overall OD scale of each appearance.
#: "a": Ruifrok & Johnston's standard H&E; "b": a bluer hematoxylin, a more purple eosin and a
#: darker, more saturated scan.
STAINS = {
    "a": {"h": _unit([0.65, 0.70, 0.29]), "e": _unit([0.07, 0.99, 0.11]), "scale": 1.0},
    "b": {"h": _unit([0.80, 0.58, 0.16]), "e": _unit([0.35, 0.90, 0.25]), "scale": 1.35},
}


def _tissue(rng, m, size):
    """Stain concentrations (m, size, size) for hematoxylin and eosin, and nuclei masks."""
    y, x = grid((size, size))
    px = 2.0 / size
    stroma = smooth_noise(rng, m, (size, size), size / 10)
    lumen = smooth_noise(rng, m, (size, size), size / 8) > rng.uniform(1.0, 1.8, (m, 1, 1))
    eosin = np.clip(0.55 + 0.18 * stroma, 0.15, 1.0) * ~lumen
    k_max = 28
    count = rng.integers(8, k_max + 1, m)
    active = np.arange(k_max)[None] < count[:, None]
    cx, cy = rng.uniform(-1, 1, (2, m, k_max))
    ra = rng.uniform(2.0, 4.5, (m, k_max)) * size / 64 * px
    rb = ra * rng.uniform(0.6, 1.0, (m, k_max))
    ang = rng.uniform(0, np.pi, (m, k_max))
    e = (slice(None), slice(None), None, None)
    dx, dy = x[None, None] - cx[e], y[None, None] - cy[e]
    c, s = np.cos(ang)[e], np.sin(ang)[e]
    q = ((c * dx + s * dy) / ra[e]) ** 2 + ((-s * dx + c * dy) / rb[e]) ** 2
    nuclei = ((q <= 1.0) & active[e] & ~lumen[:, None]).any(axis=1)
    chrom = smooth_noise(rng, m, (size, size), 0.8)
    hema = 0.08 + nuclei * np.clip(1.0 + 0.15 * chrom, 0.6, 1.4) * rng.uniform(0.8, 1.2, (m, 1, 1))
    hema = hema * ~lumen
    return hema.astype(np.float32), eosin.astype(np.float32), nuclei


def _render(rng, hema, eosin, stain):
    """Beer-Lambert: RGB = exp(-(c_H h + c_E e) * scale), with small per-tile stain jitter."""
    m = hema.shape[0]
    st = STAINS[stain]
    h = st["h"][None] * rng.uniform(0.93, 1.07, (m, 3))
    ev = st["e"][None] * rng.uniform(0.93, 1.07, (m, 3))
    od = (hema[..., None] * h[:, None, None] + eosin[..., None] * ev[:, None, None]) * st["scale"]
    rgb = np.exp(-od) * rng.uniform(0.94, 1.0, (m, 1, 1, 1))
    rgb = rgb + 0.01 * rng.standard_normal(rgb.shape)
    return np.clip(gaussian_blur(rgb.transpose(0, 3, 1, 2).reshape(-1, *rgb.shape[1:3]), 0.5)
                   .reshape(m, 3, *rgb.shape[1:3]).transpose(0, 2, 3, 1), 0.0, 1.0).astype(np.float32)


def _stain_chunk(rng, m, size, stain):
    hema, eosin, nuclei = _tissue(rng, m, size)
    out = {"masks": to_channels(nuclei)}
    for st in (("a", "b") if stain == "both" else (stain,)):
        out["images_" + st if stain == "both" else "images"] = _render(rng, hema, eosin, st)
    return out


def stain_shift_arrays(split: str = "train", n: int | None = None, size: int = 64, stain: str = "a",
                       seed: int = 0) -> dict:
    """H&E-like RGB tiles with nuclei masks, under stain appearance "a" or "b" (or both).

    Tissue = eosin-stained stroma with white lumina and 8-28 elliptical nuclei (hematoxylin,
    2-4.5 px radius at size 64); colour by the Beer-Lambert law with the stain vectors of
    `STAINS` (and a 7 % per-tile jitter). With stain="both" the same tissue is rendered under both
    appearances (ground truth for stain normalisation); the seeds of "a" and "b" alone differ, so
    those are different tissues (unpaired domains).

    Returns:
        dict(images=float32 (n, size, size, 3) in [0, 1] (or images_a and images_b for "both");
        masks=float32 (n, size, size, 1) {0, 1} nuclei).
    """
    what = "stain_shift"
    check_split(split)
    size = check_int(size, "size", what, minimum=16)
    check_choice(stain, "stain", what, ("a", "b", "both"))
    return generate(what + "_" + stain, _stain_chunk, resolve_n(n, split, what), split,
                    check_seed(seed, what), size=size, stain=stain)


def stain_shift(split: str = "train", n: int | None = None, size: int = 64, stain: str = "a",
                scaled: bool = True, batch_size: int | None = None, shuffle: bool | None = None,
                seed: int = 0):
    """(tile, nuclei_mask) pairs of one stain appearance ("a" source, "b" target) as a
    `tf.data.Dataset`; tiles mapped [0, 1] -> [-1, 1] unless `scaled=False`.
    Used by: dann, adda, pixelda (stain domain adaptation), cyclegan (stain transfer)."""
    check_choice(stain, "stain", "stain_shift", ("a", "b"))
    arr = stain_shift_arrays(split, n=n, size=size, stain=stain, seed=seed)
    img = to_unit(arr["images"], 0.0, 1.0) if scaled else arr["images"]
    return as_dataset((img, arr["masks"]), batch_size=batch_size,
                      shuffle=(split == "train") if shuffle is None else shuffle, seed=seed)


# ----------------------------------------------------------------------------------------------
# Spine X-ray and sketch

def _sketch_chunk(rng, m, size, vertebrae):
    from scipy.ndimage import binary_erosion

    y, x = grid((size, size))
    e = (slice(None), None, None)
    amp = rng.uniform(0.05, 0.18, m)
    phase = rng.uniform(-0.5, 0.5, m)
    x0 = rng.uniform(-0.15, 0.05, m)
    spacing = 1.7 / vertebrae
    body_all = np.zeros((m, size, size), np.float32)
    post_all = np.zeros((m, size, size), bool)
    outline = np.zeros((m, size, size), bool)
    struct = np.zeros((1, 3, 3), bool)
    struct[0] = [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
    for v in range(vertebrae):
        t = -0.85 + spacing * (v + 0.5) + rng.uniform(-0.02, 0.02, m)
        cx = x0 + amp * np.sin(np.pi * t + phase)
        slope = amp * np.pi * np.cos(np.pi * t + phase)  # dx/dy of the spine curve
        ang = -np.arctan(slope)
        a = rng.uniform(0.2, 0.26, m)            # half-width (antero-posterior)
        b = spacing * rng.uniform(0.34, 0.4, m)  # half-height, leaves a disc space
        c, s = np.cos(ang)[e], np.sin(ang)[e]
        dx, dy = x[None] - cx[e], y[None] - t[e]
        u, w = c * dx - s * dy, s * dx + c * dy
        q = np.abs(u / a[e]) ** 4 + np.abs(w / b[e]) ** 4
        body = q <= 1.0
        # posterior elements: pedicle and spinous process behind the body (towards +x)
        pu, pw = u - (a + 0.16)[e], w - 0.2 * b[e]
        post = ((pu / 0.17) ** 2 + (pw / (0.45 * b[e])) ** 2) <= 1.0
        post |= (((u - (a + 0.36)[e]) / 0.1) ** 2 + ((w - 0.45 * b[e]) / (0.3 * b[e])) ** 2) <= 1.0
        body_all = np.maximum(body_all, body * (0.55 + 0.3 * np.clip(q, 0, 1) ** 3))  # cortical rim
        post_all |= post & ~body
        outline |= body & ~binary_erosion(body, struct)
        outline |= post & ~body & ~binary_erosion(post, struct)
    soft = 0.18 + 0.08 * np.exp(-((x - x0[e] - 0.1) ** 2) / 0.3) + 0.04 * smooth_noise(rng, m, (size, size), size / 12)
    img = soft + body_all + post_all * 0.45
    img = gaussian_blur(img.astype(np.float32), 0.7) + 0.015 * rng.standard_normal((m, size, size))
    return {"sketches": to_channels(outline), "xrays": to_channels(np.clip(img, 0.0, 1.0)),
            "masks": to_channels((body_all > 0) | post_all)}


def sketch_xray_arrays(split: str = "train", n: int | None = None, size: int = 64, vertebrae: int = 5,
                       seed: int = 0) -> dict:
    """Lateral spine radiograph phantoms and the line sketches they were drawn from.

    A column of `vertebrae` vertebral bodies (rounded rectangles with a brighter cortical rim)
    and posterior elements along a smoothly curved (lordotic) spine, over soft tissue; blurred and
    noisy. The sketch is the 1-px outline of every bone shape (what a person would draw).

    Returns:
        dict(sketches=float32 (n, size, size, 1) {0, 1} lines; xrays=float32 (n, size, size, 1) in
        [0, 1] (bone bright); masks=float32 (n, size, size, 1) {0, 1} bone).
    """
    what = "sketch_xray"
    check_split(split)
    size = check_int(size, "size", what, minimum=32)
    vertebrae = check_int(vertebrae, "vertebrae", what, minimum=2)
    if vertebrae > 12:
        raise ValueError(f"{what}: vertebrae must be <= 12, got {vertebrae}")
    return generate(what, _sketch_chunk, resolve_n(n, split, what), split, check_seed(seed, what),
                    size=size, vertebrae=vertebrae)


def sketch_xray(split: str = "train", n: int | None = None, size: int = 64, vertebrae: int = 5,
                scaled: bool = True, batch_size: int | None = None, shuffle: bool | None = None,
                seed: int = 0):
    """(sketch, xray) pairs as a `tf.data.Dataset`; both mapped [0, 1] -> [-1, 1] unless
    `scaled=False`. Used by: pix2pix (sketch -> X-ray, Galbusera et al.)."""
    arr = sketch_xray_arrays(split, n=n, size=size, vertebrae=vertebrae, seed=seed)
    sk, xr = arr["sketches"], arr["xrays"]
    if scaled:
        sk, xr = to_unit(sk, 0.0, 1.0), to_unit(xr, 0.0, 1.0)
    return as_dataset((sk, xr), batch_size=batch_size,
                      shuffle=(split == "train") if shuffle is None else shuffle, seed=seed)
