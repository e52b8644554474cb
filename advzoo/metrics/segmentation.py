"""Segmentation measures on numpy arrays: Dice, Hausdorff distance (95th percentile), and the
number of connected components (holes and fragments that adversarial training should remove,
Luc et al. 2016)."""
from __future__ import annotations

import numpy as np


def _binary(x, threshold):
    x = np.asarray(x)
    if x.dtype == bool:
        return x
    if np.issubdtype(x.dtype, np.floating):
        return x > threshold
    return x != 0


def dice(y_true, y_pred, labels=None, threshold: float = 0.5, empty: float = 1.0, per_image: bool = False):
    """Dice coefficient 2|A n B| / (|A| + |B|).

    Args:
        y_true, y_pred: binary masks (bool, 0/1 ints, or floats thresholded at `threshold`), or
            integer label maps when `labels` is given.
        labels: label values to score separately on label maps; returns one Dice per label.
        empty: value when both masks are empty (default 1.0: nothing to find, nothing found).
        per_image: the first axis is the batch; returns (N,) (or (N, len(labels))) values.

    Returns:
        float, or an array (see above). Equals scikit-learn's f1_score of the flattened masks.
    """
    a, b = np.asarray(y_true), np.asarray(y_pred)
    if a.shape != b.shape:
        raise ValueError(f"dice: the masks differ in shape: {a.shape} vs {b.shape}")
    if labels is None:
        pairs = [(_binary(a, threshold), _binary(b, threshold))]
    else:
        pairs = [(a == lab, b == lab) for lab in labels]
    out = []
    for ta, pb in pairs:
        axes = tuple(range(1, ta.ndim)) if per_image else None
        inter = np.logical_and(ta, pb).sum(axis=axes)
        total = ta.sum(axis=axes) + pb.sum(axis=axes)
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append(np.where(total > 0, 2.0 * inter / np.maximum(total, 1), empty))
    res = np.stack(out, axis=-1).astype(np.float64)
    if labels is None:
        res = res[..., 0]
    return float(res) if res.ndim == 0 else res


def _surface(mask):
    from scipy.ndimage import binary_erosion, generate_binary_structure

    struct = generate_binary_structure(mask.ndim, 1)
    return mask & ~binary_erosion(mask, structure=struct, border_value=0)


def surface_distances(a, b, spacing=None):
    """Distances from each surface point of mask `a` to the surface of mask `b` (units of
    `spacing`, default pixels). Surfaces are the mask pixels with a 4-/6-connected outside
    neighbour."""
    from scipy.ndimage import distance_transform_edt

    sa, sb = _surface(a), _surface(b)
    dist_to_b = distance_transform_edt(~sb, sampling=spacing)
    return dist_to_b[sa]


def hausdorff95(y_true, y_pred, spacing=None, percentile: float = 95.0, threshold: float = 0.5):
    """Robust Hausdorff distance between the surfaces of two masks (2D or 3D).

    max(P95 of distances from true-surface to predicted-surface, P95 of the reverse); with
    percentile=100 it is the classical Hausdorff distance between the two surfaces
    (= `skimage.metrics.hausdorff_distance` of the surface images).

    Args:
        spacing: pixel/voxel size per axis (e.g. mm); default 1.
    Returns:
        float: 0.0 when both masks are empty, inf when exactly one is.
    """
    a, b = _binary(y_true, threshold), _binary(y_pred, threshold)
    if a.shape != b.shape:
        raise ValueError(f"hausdorff95: the masks differ in shape: {a.shape} vs {b.shape}")
    if a.ndim not in (2, 3):
        raise ValueError(f"hausdorff95: expected 2D or 3D masks, got shape {a.shape}")
    if not 0 <= percentile <= 100:
        raise ValueError(f"hausdorff95: percentile must be in [0, 100], got {percentile}")
    if not a.any() and not b.any():
        return 0.0
    if not a.any() or not b.any():
        return float("inf")
    d_ab, d_ba = surface_distances(a, b, spacing), surface_distances(b, a, spacing)
    return float(max(np.percentile(d_ab, percentile), np.percentile(d_ba, percentile)))


def connected_components(mask, connectivity: int | None = None, threshold: float = 0.5,
                         per_image: bool = False):
    """Number of connected foreground components of a 2D/3D mask.

    Args:
        connectivity: 1 (4-/6-neighbours) up to mask.ndim (8-/26-neighbours, the default, as
            `skimage.measure.label`).
        per_image: the first axis is the batch (a trailing channel axis of size 1 is dropped);
            returns an (N,) int array.
    """
    from scipy.ndimage import generate_binary_structure, label

    m = _binary(mask, threshold)
    if per_image:
        if m.ndim >= 4 and m.shape[-1] == 1:
            m = m[..., 0]
        return np.array([connected_components(x, connectivity) for x in m], dtype=np.int64)
    if m.ndim == 3 and m.shape[-1] == 1:
        m = m[..., 0]
    if m.ndim not in (2, 3):
        raise ValueError(f"connected_components: expected a 2D or 3D mask, got shape {m.shape}")
    conn = m.ndim if connectivity is None else int(connectivity)
    if not 1 <= conn <= m.ndim:
        raise ValueError(f"connected_components: connectivity must be in [1, {m.ndim}], got {connectivity!r}")
    return int(label(m, structure=generate_binary_structure(m.ndim, conn))[1])
