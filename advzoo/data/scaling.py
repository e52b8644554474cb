"""Maps between the physical units of the phantoms and the [-1, 1] range that generators emit.

Every phantom of `advzoo.data` returns physical units in its numpy form (Hounsfield units for CT,
arbitrary MR signal units, reflectance in [0, 1] for RGB and X-ray phantoms, millimetres for
centrelines). Families whose generators end in `tanh` need [-1, 1]; these helpers do that mapping
and its inverse, so a generated image can be read back in HU (e.g. for `advzoo.metrics.mae_hu`).

    unit = hu_to_unit(hu)            # HU window [-1024, 1024] -> [-1, 1], values outside clipped
    hu = unit_to_hu(unit)            # exact inverse inside the window
"""
from __future__ import annotations

import numpy as np

#: Default CT window (HU) mapped onto [-1, 1]; every clean CT phantom lies inside it.
CT_WINDOW = (-1024.0, 1024.0)
#: Range of the MR phantoms (arbitrary units; tissue means <= 1, bias field and noise on top).
MR_RANGE = (0.0, 1.5)
#: Range of RGB / X-ray / sketch phantoms.
UNIT_INTERVAL = (0.0, 1.0)
#: Centreline scale: (x, y, z) in mm divided by this, radius in mm divided by CENTERLINE_R_MM.
CENTERLINE_XYZ_MM = 150.0
CENTERLINE_R_MM = 5.0


def _check_range(lo, hi, what):
    lo, hi = float(lo), float(hi)
    if not np.isfinite(lo) or not np.isfinite(hi) or hi <= lo:
        raise ValueError(f"{what}: expected a range (lo, hi) with lo < hi, got ({lo}, {hi})")
    return lo, hi


def to_unit(x, lo: float, hi: float, clip: bool = True):
    """Linear map of [lo, hi] onto [-1, 1] (float32); values outside are clipped unless clip=False.

    Works on numpy arrays and on tensors (anything supporting arithmetic; clipping uses numpy or
    `tf.clip_by_value` when given a tensor).
    """
    lo, hi = _check_range(lo, hi, "to_unit")
    y = (x - lo) * (2.0 / (hi - lo)) - 1.0
    if clip:
        if isinstance(y, np.ndarray) or np.isscalar(y):
            y = np.clip(y, -1.0, 1.0)
        else:  # a tf.Tensor
            import tensorflow as tf

            y = tf.clip_by_value(y, -1.0, 1.0)
    return y.astype(np.float32) if isinstance(y, np.ndarray) else y


def from_unit(y, lo: float, hi: float):
    """Inverse of `to_unit`: [-1, 1] back onto [lo, hi] (no clipping)."""
    lo, hi = _check_range(lo, hi, "from_unit")
    x = (y + 1.0) * ((hi - lo) / 2.0) + lo
    return x.astype(np.float32) if isinstance(x, np.ndarray) else x


def hu_to_unit(hu, window=CT_WINDOW, clip: bool = True):
    """Hounsfield units -> [-1, 1] through a window (lo, hi) in HU (default [-1024, 1024]).

    A narrower window (e.g. soft tissue (-160, 240)) raises contrast but clips air and bone, so the
    map is then not invertible outside it.
    """
    return to_unit(hu, *window, clip=clip)


def unit_to_hu(unit, window=CT_WINDOW):
    """[-1, 1] -> Hounsfield units; inverse of `hu_to_unit` with the same window."""
    return from_unit(unit, *window)


def mr_to_unit(signal, value_range=MR_RANGE, clip: bool = True):
    """MR phantom signal (arbitrary units, [0, 1.5]) -> [-1, 1]."""
    return to_unit(signal, *value_range, clip=clip)


def unit_to_mr(unit, value_range=MR_RANGE):
    """[-1, 1] -> MR phantom signal units; inverse of `mr_to_unit`."""
    return from_unit(unit, *value_range)


def centerlines_to_unit(points):
    """(..., 4) sequences of (x, y, z, r) in mm -> scaled: xyz / 150 mm, r / 5 mm (within about [-1.1, 1.1])."""
    points = np.asarray(points, dtype=np.float32)
    if points.shape[-1] != 4:
        raise ValueError(f"centerlines_to_unit: expected last axis 4 (x, y, z, r), got shape {points.shape}")
    scale = np.array([CENTERLINE_XYZ_MM] * 3 + [CENTERLINE_R_MM], np.float32)
    return points / scale


def unit_to_centerlines(points):
    """Inverse of `centerlines_to_unit`: back to millimetres."""
    points = np.asarray(points, dtype=np.float32)
    if points.shape[-1] != 4:
        raise ValueError(f"unit_to_centerlines: expected last axis 4 (x, y, z, r), got shape {points.shape}")
    scale = np.array([CENTERLINE_XYZ_MM] * 3 + [CENTERLINE_R_MM], np.float32)
    return points * scale
