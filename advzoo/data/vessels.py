"""Vessel phantoms: fundus-like retinal images with vessel masks, and 3D coronary-like centrelines.

Retina: vessel segmentation (adversarial segmentation, Son et al. 2017; SeGAN-style training).
Centrelines: sequences of (x, y, z, r) points of left- and right-tree coronary arteries, for
1D-convolutional WGAN-GP synthesis (Wolterink et al. 2018).
"""
from __future__ import annotations

import numpy as np

from advzoo.data._common import as_dataset, check_split
from advzoo.data._phantom_core import (check_choice, check_int, check_seed, generate, grid, resolve_n,
                                       smooth_noise, to_channels)
from advzoo.data.randomisation import randomise_appearance, resolve_randomise
from advzoo.data.scaling import centerlines_to_unit, to_unit

# ----------------------------------------------------------------------------------------------
# Retina


def _vessel_tree(rng, disc_x, side, max_segments=160):
    """Segments (S, 5) = (x0, y0, x1, y1, radius in units of 1/64 of the image) of one tree."""
    segs = []
    # four arcades: temporal ones arc around the macula (towards -side), nasal ones go away
    stack = []
    for up in (-1, 1):
        stack.append((disc_x, 0.0, np.arctan2(up * 0.8, -side * 1.0) + rng.normal(0, 0.1), 1.7, up * side * 1.0, 0))
        stack.append((disc_x, 0.0, np.arctan2(up * 1.0, side * 0.6) + rng.normal(0, 0.1), 1.3, -up * side * 0.3, 0))
    while stack and len(segs) < max_segments:
        x, y, ang, r, turn, depth = stack.pop()
        for _ in range(40):
            step = rng.uniform(0.05, 0.08)
            ang += turn * 0.06 + rng.normal(0.0, 0.12)
            nx, ny = x + step * np.cos(ang), y + step * np.sin(ang)
            segs.append((x, y, nx, ny, r))
            x, y = nx, ny
            r *= rng.uniform(0.95, 0.99)
            if x * x + y * y > 0.95 ** 2 or r < 0.45 or len(segs) >= max_segments:
                break
            if depth < 3 and rng.random() < 0.18:
                child = r * rng.uniform(0.6, 0.8)
                stack.append((x, y, ang + rng.choice([-1, 1]) * rng.uniform(0.5, 1.0), child, 0.0, depth + 1))
                r *= 0.9
    return np.array(segs, np.float32).reshape(-1, 5)


#: Soft labels of `retina_arrays(randomise=...)`: each gets its own random colour.
RETINA_RANDOMISED_LABELS = ("outside_fov", "fundus", "optic_disc", "vessel")


def _retina_chunk(rng, m, size, channels, randomise=None):
    y, x = grid((size, size))
    px = 2.0 / size
    side = np.where(rng.random(m) < 0.5, -1.0, 1.0)  # which eye: optic disc left or right
    disc_x = side * rng.uniform(0.35, 0.5, m)
    scale = size / 64.0
    trees = [_vessel_tree(rng, disc_x[i], side[i]) for i in range(m)]
    owner = np.concatenate([np.full(len(t), i) for i, t in enumerate(trees)])
    s = np.concatenate(trees)
    # each segment only reaches pixels near its midpoint: rasterise a small window per segment
    h = int(np.ceil(0.04 / px + 1.7 * scale + 1.5))
    off = np.arange(-h, h + 1)
    mid_r = np.floor(((s[:, 1] + s[:, 3]) / 2 + 1) / px).astype(int)
    mid_c = np.floor(((s[:, 0] + s[:, 2]) / 2 + 1) / px).astype(int)
    rows = np.clip(mid_r[:, None, None] + off[None, :, None], 0, size - 1)
    cols = np.clip(mid_c[:, None, None] + off[None, None, :], 0, size - 1)
    ys, xs = (rows + 0.5) * px - 1.0, (cols + 0.5) * px - 1.0
    e = (slice(None), None, None)
    ax, ay, bx, by = s[:, 0][e], s[:, 1][e], s[:, 2][e], s[:, 3][e]
    r = s[:, 4][e] * scale * px  # radius in grid units (about r px at size 64)
    dx, dy = bx - ax, by - ay
    t = np.clip(((xs - ax) * dx + (ys - ay) * dy) / (dx * dx + dy * dy + 1e-12), 0.0, 1.0)
    d = np.hypot(xs - ax - t * dx, ys - ay - t * dy)
    flat = (owner[e] * size + rows) * size + cols
    cover = np.zeros(m * size * size, np.float32)
    np.maximum.at(cover, flat.ravel(), np.clip((r - d) / px + 0.5, 0.0, 1.0).ravel().astype(np.float32))
    mask = np.zeros(m * size * size, bool)
    mask[flat[d <= r]] = True
    cover, mask = cover.reshape(m, size, size), mask.reshape(m, size, size)
    rr = x * x + y * y
    fov = rr <= 0.95 ** 2
    e = (slice(None), None, None)
    tex = smooth_noise(rng, m, (size, size), max(1.0, size / 16))
    illum = (1.0 - 0.35 * rr / 0.9)[None] * (1.0 + 0.04 * tex)
    base = np.array([0.78, 0.36, 0.16], np.float32) * rng.uniform(0.85, 1.1, (m, 1)).astype(np.float32)
    img = illum[..., None] * base[:, None, None, :]
    disc = np.exp(-(((x - disc_x[e]) ** 2 + y ** 2) / (2 * 0.06 ** 2)))
    img = img + disc[..., None] * np.array([0.25, 0.45, 0.35], np.float32)
    macula_x = disc_x - side * 0.45
    macula = np.exp(-(((x - macula_x[e]) ** 2 + (y - 0.03) ** 2) / (2 * 0.12 ** 2)))
    img = img * (1.0 - 0.3 * macula[..., None])
    contrast = np.array([0.25, 0.5, 0.45], np.float32) * rng.uniform(0.8, 1.2, (m, 1)).astype(np.float32)
    img = img * (1.0 - cover[..., None] * contrast[:, None, None, :])
    img = img + 0.012 * rng.standard_normal(img.shape).astype(np.float32)
    img = np.clip(img, 0.0, 1.0) * fov[None, ..., None]
    if channels == 1:
        img = img[..., 1:2]  # the green channel, where vessels contrast most
    mask &= fov[None]
    if randomise is not None:  # drawn last: the masks stay those of randomise=False
        inside = np.broadcast_to(fov, (m, size, size)).astype(np.float64)
        d = np.clip(disc, 0.0, 1.0).astype(np.float64)
        tissue = inside * (1.0 - cover)
        members = np.stack([1.0 - inside, tissue * (1.0 - d), tissue * d, inside * cover], axis=-1)
        img = randomise_appearance(rng, members, randomise, channels=channels)
    return {"images": img.astype(np.float32), "masks": to_channels(mask),
            "fov": to_channels(np.broadcast_to(fov, (m, size, size)))}


def retina_arrays(split: str = "train", n: int | None = None, size: int = 64, channels: int = 3,
                  seed: int = 0, randomise=False) -> dict:
    """Fundus-like images with vessel masks (retinal vessel segmentation).

    A circular field of view with radial illumination fall-off, an optic disc (left or right eye),
    a darker macula, and a branching vessel tree grown from the disc (four arcades with
    tapering branches, radius about 0.45-1.7 px at size 64, scaled with size). Vessels darken the
    image most in the green channel. Outside the field of view the image is 0.

    Args:
        channels: 3 for RGB, 1 for the green channel only.
        randomise: domain randomisation of the appearance (SynthSeg-style, see
            `advzoo.data.randomisation`): False (default: the fundus rendering, unchanged), True
            (the default `DomainRandomisation()` ranges) or a `DomainRandomisation`. The image is
            redrawn from soft labels `RETINA_RANDOMISED_LABELS` (outside the field of view,
            fundus, optic disc, vessel; vessel partial volume mixes the colours), each with a
            random colour per sample and channel, then bias field, blur, resolution, noise and
            gamma; still in [0, 1]. Masks and fov are exactly those of randomise=False.

    Returns:
        dict(images=float32 (n, size, size, channels) in [0, 1];
        masks=float32 (n, size, size, 1) {0, 1} pixels whose centre lies inside a vessel;
        fov=float32 (n, size, size, 1) {0, 1} field of view).
    """
    what = "retina"
    check_split(split)
    size = check_int(size, "size", what, minimum=32)
    check_choice(channels, "channels", what, (1, 3))
    options = resolve_randomise(randomise, what)
    extra = {} if options is None else {"randomise": options}
    return generate(what, _retina_chunk, resolve_n(n, split, what), split, check_seed(seed, what),
                    size=size, channels=channels, **extra)


def retina(split: str = "train", n: int | None = None, size: int = 64, channels: int = 3,
           scaled: bool = True, batch_size: int | None = None, shuffle: bool | None = None, seed: int = 0,
           randomise=False):
    """(image, vessel_mask) pairs as a `tf.data.Dataset`; images mapped [0, 1] -> [-1, 1] unless
    `scaled=False`; `randomise` as in `retina_arrays`. Used by: adversarial_segmentation, segan, dan."""
    arr = retina_arrays(split, n=n, size=size, channels=channels, seed=seed, randomise=randomise)
    img = to_unit(arr["images"], 0.0, 1.0) if scaled else arr["images"]
    return as_dataset((img, arr["masks"]), batch_size=batch_size,
                      shuffle=(split == "train") if shuffle is None else shuffle, seed=seed)


# ----------------------------------------------------------------------------------------------
# Coronary centrelines

#: Arc-length ranges (mm) of the two length classes.
CENTERLINE_LENGTHS_MM = {"short": (40.0, 70.0), "long": (100.0, 150.0)}


def _centerline_chunk(rng, m, points):
    side = (np.arange(m) % 2).astype(np.int32)          # 0 left tree, 1 right tree
    long = ((np.arange(m) // 2) % 2).astype(np.int32)   # 0 short, 1 long: every 4 hold each pair
    lo = np.where(long == 1, CENTERLINE_LENGTHS_MM["long"][0], CENTERLINE_LENGTHS_MM["short"][0])
    hi = np.where(long == 1, CENTERLINE_LENGTHS_MM["long"][1], CENTERLINE_LENGTHS_MM["short"][1])
    length = rng.uniform(lo, hi).astype(np.float64)
    ds = length / (points - 1)
    sgn = np.where(side == 0, 1.0, -1.0)
    pos = np.stack([12.0 * sgn, np.zeros(m), np.zeros(m)], 1) + rng.normal(0, 1.5, (m, 3))
    # left: anterior-inferior towards the apex; right: along the right atrioventricular groove
    t = np.where(side[:, None] == 0, [[0.55, 0.55, -0.62]], [[-0.75, 0.25, -0.6]]) + rng.normal(0, 0.08, (m, 3))
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    axis = np.where(side[:, None] == 0, [[0.2, -0.3, 1.0]], [[0.3, 0.2, -1.0]]) + rng.normal(0, 0.1, (m, 3))
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    kappa = rng.uniform(0.008, 0.018, m)  # curvature 1/mm
    r0 = np.where(side == 0, rng.uniform(1.9, 2.5, m), rng.uniform(1.6, 2.1, m))
    r1 = r0 * rng.uniform(0.35, 0.55, m)
    out = np.zeros((m, points, 4))
    for k in range(points):
        out[:, k, :3] = pos
        out[:, k, 3] = r0 + (r1 - r0) * k / (points - 1)
        bend = np.cross(axis, t) * (kappa * ds)[:, None]
        t = t + bend + rng.normal(0, 0.02, (m, 3)) * np.sqrt(ds)[:, None]
        t /= np.linalg.norm(t, axis=1, keepdims=True)
        pos = pos + t * ds[:, None]
    out[..., 3] += rng.normal(0, 0.05, (m, points))
    out[..., 3] = np.clip(out[..., 3], 0.4, None)
    return {"points": out.astype(np.float32), "side": side, "long": long,
            "length_mm": length.astype(np.float32)}


def centerlines_arrays(split: str = "train", n: int | None = None, points: int = 64, seed: int = 0) -> dict:
    """3D coronary-like centrelines as fixed-length sequences of (x, y, z, r) in millimetres.

    Each vessel starts at its ostium (x = +12 mm left, -12 mm right) and follows a smooth curve
    of constant mean curvature (0.008-0.018 / mm) with small random wiggles, sampled at `points`
    equally spaced arc-length positions; r tapers from the ostium (left 1.9-2.5 mm, right
    1.6-2.1 mm) to 35-55 % of that. Classes are balanced: every 4 consecutive samples hold each (side, length) pair once.

    Returns:
        dict(points=float32 (n, points, 4) mm; side=int32 (n,) 0 left tree, 1 right tree;
        long=int32 (n,) 0 short (40-70 mm), 1 long (100-150 mm); length_mm=float32 (n,)).
    """
    what = "centerlines"
    check_split(split)
    points = check_int(points, "points", what, minimum=8)
    return generate(what, _centerline_chunk, resolve_n(n, split, what), split, check_seed(seed, what),
                    points=points)


def centerlines(split: str = "train", n: int | None = None, points: int = 64, labels: bool = False,
                scaled: bool = True, batch_size: int | None = None, shuffle: bool | None = None,
                seed: int = 0):
    """Centreline sequences (points, 4) as a `tf.data.Dataset`, or (sequence, [side, long]) when
    `labels=True`. Scaled by `centerlines_to_unit` (xyz / 150 mm, r / 5 mm) unless `scaled=False`.
    Used by: centerline_gan."""
    arr = centerlines_arrays(split, n=n, points=points, seed=seed)
    seq = centerlines_to_unit(arr["points"]) if scaled else arr["points"]
    data = (seq, np.stack([arr["side"], arr["long"]], axis=1)) if labels else seq
    return as_dataset(data, batch_size=batch_size,
                      shuffle=(split == "train") if shuffle is None else shuffle, seed=seed)


__all__ = ["retina", "retina_arrays", "RETINA_RANDOMISED_LABELS", "centerlines", "centerlines_arrays", "CENTERLINE_LENGTHS_MM"]
