"""Measures of generated sample sets and of anomaly scores, on numpy arrays.

- `frechet_distance(features_a, features_b)`: Fréchet distance between Gaussians fitted to two
  feature sets (Heusel et al. 2017, FID). Use features of a network trained on the same domain
  (`advzoo.metrics.features`), never Inception weights.
- `kernel_distance`: unbiased MMD^2 with the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3,
  averaged over random subsets (Bińkowski et al. 2018, KID).
- `precision_recall`: k-NN manifold precision and recall (Kynkäänniemi et al. 2019).
- `ms_ssim_diversity`: mean MS-SSIM between random pairs of samples (Odena et al. 2017); higher
  than on real data means less diversity (mode collapse).
- `auc`: area under the ROC curve of anomaly scores (Mann-Whitney U, ties count half).
"""
from __future__ import annotations

import numpy as np


def _features(x, what, name):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{what}: {name} must be a 2D array (samples, features), got shape {x.shape}")
    if len(x) < 2:
        raise ValueError(f"{what}: {name} needs at least 2 samples, got {len(x)}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{what}: {name} contains NaN or inf")
    return x


def _two(a, b, what):
    a, b = _features(a, what, "features_a"), _features(b, what, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{what}: feature sizes differ: {a.shape[1]} vs {b.shape[1]}")
    return a, b


def _sqrt_psd(s):
    w, v = np.linalg.eigh((s + s.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(features_a, features_b) -> float:
    """||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)) of two (N, D) feature sets.

    The trace of the matrix square root is computed from the eigenvalues of
    S_a^(1/2) S_b S_a^(1/2) (symmetric, so it stays real and stable for singular covariances).
    0 for a set against itself; grows with a shift of the mean or a change of spread.
    """
    a, b = _two(features_a, features_b, "frechet_distance")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    r = _sqrt_psd(s_a)
    eig = np.linalg.eigvalsh((r @ s_b @ r + (r @ s_b @ r).T) / 2)
    tr_covmean = np.sqrt(np.clip(eig, 0, None)).sum()
    fd = float(np.sum((mu_a - mu_b) ** 2) + np.trace(s_a) + np.trace(s_b) - 2.0 * tr_covmean)
    return max(fd, 0.0)


def _poly(x, y, degree, gamma, coef0):
    return (x @ y.T * gamma + coef0) ** degree


def kernel_distance(features_a, features_b, degree: int = 3, gamma: float | None = None,
                    coef0: float = 1.0, n_subsets: int = 100, subset_size: int = 1000,
                    seed: int = 0, return_std: bool = False):
    """Kernel (MMD) distance with the KID polynomial kernel, unbiased, averaged over subsets.

    Args:
        degree, gamma, coef0: kernel (gamma * x.y + coef0) ** degree; gamma defaults to 1 / D.
        n_subsets, subset_size: random subsets (without replacement) of both sets, as in KID;
            subset_size is capped at the smaller set.
        return_std: also return the sd over subsets.

    Returns:
        float mean MMD^2 (can be slightly negative for identical distributions), or (mean, std).
    """
    a, b = _two(features_a, features_b, "kernel_distance")
    if int(n_subsets) < 1 or int(subset_size) < 2:
        raise ValueError(f"kernel_distance: need n_subsets >= 1 and subset_size >= 2, got {n_subsets}, {subset_size}")
    gamma = 1.0 / a.shape[1] if gamma is None else float(gamma)
    m = min(int(subset_size), len(a), len(b))
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(int(n_subsets)):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        kxx, kyy, kxy = _poly(x, x, degree, gamma, coef0), _poly(y, y, degree, gamma, coef0), _poly(x, y, degree, gamma, coef0)
        mmd = ((kxx.sum() - np.trace(kxx)) + (kyy.sum() - np.trace(kyy))) / (m * (m - 1)) - 2 * kxy.mean()
        vals.append(mmd)
    vals = np.asarray(vals)
    return (float(vals.mean()), float(vals.std())) if return_std else float(vals.mean())


def _pairwise(x, y, block=1024):
    out = np.empty((len(x), len(y)))
    yy = (y * y).sum(1)
    for i in range(0, len(x), block):
        xb = x[i:i + block]
        out[i:i + block] = np.sqrt(np.maximum((xb * xb).sum(1)[:, None] + yy[None] - 2 * xb @ y.T, 0))
    return out


def precision_recall(real_features, fake_features, k: int = 3) -> dict:
    """k-NN manifold precision and recall (Kynkäänniemi et al. 2019).

    Each real sample gets a ball of radius = distance to its k-th nearest real neighbour;
    precision = fraction of fake samples inside some real ball (fidelity). Recall swaps the roles
    (coverage of the real distribution).

    Returns:
        dict(precision=float, recall=float), both in [0, 1].
    """
    r, f = _two(real_features, fake_features, "precision_recall")
    if not isinstance(k, (int, np.integer)) or k < 1 or k >= min(len(r), len(f)):
        raise ValueError(f"precision_recall: k must be an int in [1, {min(len(r), len(f)) - 1}], got {k!r}")

    def radii(x):
        d = _pairwise(x, x)
        return np.sort(d, axis=1)[:, k]  # index 0 is the point itself

    def coverage(ref, rad, query):
        return float((_pairwise(query, ref) <= rad[None]).any(axis=1).mean())

    return {"precision": coverage(r, radii(r), f), "recall": coverage(f, radii(f), r)}


def ms_ssim_diversity(images, data_range=2.0, n_pairs: int = 256, seed: int = 0, **ms_ssim_kwargs) -> float:
    """Mean MS-SSIM over random pairs of distinct samples of a batch (N, H, W, C) or
    (N, D, H, W, C). 1 means all samples identical (collapse); real-data sets score lower.
    Compare a generator's value with the same measure on real data."""
    from advzoo.metrics.image import ms_ssim

    x = np.asarray(images)
    if x.ndim not in (4, 5) or len(x) < 2:
        raise ValueError(f"ms_ssim_diversity: expected at least 2 images (N, H, W, C) or (N, D, H, W, C), got shape {x.shape}")
    rng = np.random.default_rng(seed)
    i = rng.integers(0, len(x), int(n_pairs))
    j = (i + rng.integers(1, len(x), int(n_pairs))) % len(x)  # j != i
    return float(np.mean(ms_ssim(x[i], x[j], data_range=data_range, per_image=True, **ms_ssim_kwargs)))


def auc(labels, scores) -> float:
    """Area under the ROC curve: probability that an abnormal (label 1) sample scores higher than
    a normal (label 0) one, ties counting one half. Equals sklearn.metrics.roc_auc_score."""
    from scipy.stats import rankdata

    y = np.asarray(labels).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != s.shape:
        raise ValueError(f"auc: labels and scores differ in length: {y.shape} vs {s.shape}")
    if not np.all(np.isin(y, (0, 1))):
        raise ValueError(f"auc: labels must be 0 (normal) or 1 (abnormal), got values {np.unique(y)[:5]}")
    if not np.all(np.isfinite(s)):
        raise ValueError("auc: scores contain NaN or inf")
    pos = y == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"auc: needs both classes, got {n_pos} abnormal and {n_neg} normal samples")
    ranks = rankdata(s)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
