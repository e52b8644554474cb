"""Helpers shared by every dataset of `advzoo.data`: split names, seeded splits, tf.data wrapping."""
from __future__ import annotations

import difflib

import numpy as np

SPLITS = ("train", "val", "test")
_FRACTIONS = {"train": (0.0, 0.7), "val": (0.7, 0.85), "test": (0.85, 1.0)}


def check_split(split: str, allow_all: bool = False) -> None:
    """Raise a ValueError naming the valid splits when `split` is not one of them."""
    valid = SPLITS + (("all",) if allow_all else ())
    if split not in valid:
        close = difflib.get_close_matches(str(split), valid, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(f"Unknown split {split!r}; expected one of {list(valid)}.{hint}")


def split_indices(n: int, split: str, seed: int) -> np.ndarray:
    """Indices of `split` in a seeded permutation of range(n) (70/15/15)."""
    order = np.random.default_rng(seed).permutation(n)
    if split == "all":
        return np.sort(order)
    lo, hi = _FRACTIONS[split]
    return np.sort(order[int(round(lo * n)):int(round(hi * n))])


def as_dataset(arrays, batch_size: int | None = None, shuffle: bool = False, seed: int = 0,
               repeat: bool = False):
    """Wrap numpy arrays (or a tuple of them) into a `tf.data.Dataset`.

    Shuffling is seeded and re-drawn every epoch; batches are kept whole only if `batch_size`
    divides the set (the remainder is kept: `fit` handles a smaller last batch).
    """
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices(arrays)
    n = len(arrays[0]) if isinstance(arrays, tuple) else len(arrays)
    if shuffle:
        ds = ds.shuffle(min(n, 10_000), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    if batch_size is not None:
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        ds = ds.batch(int(batch_size))
    return ds.prefetch(tf.data.AUTOTUNE)


def paired_with_unpaired(pairs, images, batch_size: int | None = None, shuffle: bool = True,
                         seed: int = 0, repeat_pairs: bool = False):
    """(x, y, u) triples: labelled (x, y) `pairs` zipped with unlabelled `images` u, each shuffled
    on its own (seeds `seed` and `seed + 1`), so a pair and an image are drawn independently.

    The semi-supervised and domain-adaptation families train on these (labelled source pairs with
    unlabelled images). `repeat_pairs=True` cycles the pairs, so one epoch is one pass over the
    images (few labels, many unlabelled images). Batching as in `as_dataset`.
    """
    import tensorflow as tf

    labelled = tf.data.Dataset.from_tensor_slices(pairs)
    unlabelled = tf.data.Dataset.from_tensor_slices(images)
    if shuffle:
        labelled = labelled.shuffle(len(pairs[0]), seed=seed, reshuffle_each_iteration=True)
        unlabelled = unlabelled.shuffle(len(images), seed=seed + 1, reshuffle_each_iteration=True)
    if repeat_pairs:
        labelled = labelled.repeat()
    data = tf.data.Dataset.zip((labelled, unlabelled)).map(lambda pair, u: (pair[0], pair[1], u))
    if batch_size is not None:
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        data = data.batch(int(batch_size))
    return data.prefetch(tf.data.AUTOTUNE)
