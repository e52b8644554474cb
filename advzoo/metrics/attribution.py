"""How well a visual attribution map points at the true abnormality, and the gradient saliency map
every attribution method is compared with.

- `attribution_ncc(maps, masks)`: normalised cross-correlation of |map| with the lesion mask, per
  image (the measure of Baumgartner et al. 2018, Sec. 4.1, there against the known effect map).
- `attribution_auc(maps, masks)`: per image, the area under the ROC curve of |map| as a score of
  "this pixel is lesion" (0.5: chance, 1: every lesion pixel ranks above every other one).
- `attribution_report(maps, masks)`: both, mean and standard deviation over the images that have a
  lesion (an empty mask has no correlation and no ROC curve).
- `gradient_saliency(network, images)`: |d logit / d x| of a classifier (Simonyan et al. 2014,
  "Deep inside convolutional networks", Sec. 3.1: the maximum over channels of the absolute
  gradient of the class score).

Plain numpy on (N, *spatial, C) arrays; maps and masks of the same spatial shape, channels of the
map reduced by the maximum of |map| (masks take their first channel).
"""
from __future__ import annotations

import numpy as np


def _prepare(maps, masks, what: str):
    maps = np.asarray(maps, dtype=np.float64)
    masks = np.asarray(masks)
    if maps.ndim < 3 or masks.ndim != maps.ndim or maps.shape[:-1] != masks.shape[:-1]:
        raise ValueError(f"{what}: maps and masks must be (N, *spatial, C) of the same N and "
                         f"spatial size, got {maps.shape} and {masks.shape}")
    if not np.all(np.isfinite(maps)):
        raise ValueError(f"{what}: maps contain NaN or inf")
    scores = np.abs(maps).max(axis=-1).reshape(len(maps), -1)
    truth = (masks[..., 0] > 0.5).reshape(len(masks), -1)
    keep = truth.any(axis=1) & ~truth.all(axis=1)
    if not keep.any():
        raise ValueError(f"{what}: no image has a non-empty, non-full lesion mask")
    return scores[keep], truth[keep]


def attribution_ncc(maps, masks, per_image: bool = False):
    """Normalised cross-correlation of |map| with the mask, mean over images with a lesion.

    NCC(a, b) = mean((a - mean a)(b - mean b)) / (std a * std b), in [-1, 1]; a constant map
    scores 0. Images whose mask is empty (or full) are left out.
    """
    scores, truth = _prepare(maps, masks, "attribution_ncc")
    a = scores - scores.mean(axis=1, keepdims=True)
    b = truth - truth.mean(axis=1, keepdims=True)
    denominator = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    ncc = np.where(denominator > 0, (a * b).sum(axis=1) / np.maximum(denominator, 1e-30), 0.0)
    return ncc if per_image else float(ncc.mean())


def attribution_auc(maps, masks, per_image: bool = False):
    """Per image, the probability that a lesion pixel has a larger |map| than a pixel outside
    the lesion (ties count one half); mean over images with a lesion."""
    from scipy.stats import rankdata

    scores, truth = _prepare(maps, masks, "attribution_auc")
    ranks = rankdata(scores, axis=1)
    positives = truth.sum(axis=1)
    negatives = truth.shape[1] - positives
    auc = ((ranks * truth).sum(axis=1) - positives * (positives + 1) / 2) / (positives * negatives)
    return auc if per_image else float(auc.mean())


def attribution_report(maps, masks) -> dict:
    """NCC and pixel AUC of |map| against the lesion masks: mean and std over the lesion images."""
    ncc = attribution_ncc(maps, masks, per_image=True)
    auc = attribution_auc(maps, masks, per_image=True)
    return {"ncc": float(ncc.mean()), "ncc_std": float(ncc.std()),
            "pixel_auc": float(auc.mean()), "pixel_auc_std": float(auc.std()),
            "images": int(len(ncc))}


def gradient_saliency(network, images, batch_size: int = 64, output: int = 0) -> np.ndarray:
    """|d logit / d x| of `network` (a classifier giving one logit per image, or logits (N, K)
    of which `output` is taken), the maximum over channels (Simonyan et al. 2014, Sec. 3.1).

    The network runs in inference mode, so each image's map depends on that image only.
    Returns float32 (N, *spatial, 1).
    """
    import tensorflow as tf

    images = np.asarray(images, dtype=np.float32)
    out = []
    for i in range(0, len(images), int(batch_size)):
        x = tf.constant(images[i:i + batch_size])
        with tf.GradientTape() as tape:
            tape.watch(x)
            logits = tf.cast(network(x, training=False), tf.float32)
            logits = tf.reshape(logits, (tf.shape(x)[0], -1))
            score = tf.reduce_sum(logits[:, output] if logits.shape[-1] and logits.shape[-1] > 1
                                  else logits[:, 0])  # per-image logits: one gradient each
        grads = tape.gradient(score, x)
        out.append(tf.reduce_max(tf.abs(grads), axis=-1, keepdims=True).numpy())
    return np.concatenate(out).astype(np.float32)
