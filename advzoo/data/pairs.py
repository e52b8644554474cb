"""(source, target) image pairs of the translation tasks of the review (Sec. 3, 5.2), as one
entry point the translation families share.

`translation_pairs(task, ...)` yields (source, target) in [-1, 1]:

| task | source -> target | phantom |
|---|---|---|
| `mr_to_ct` | T1 MR -> CT (Nie et al.; Wolterink et al. 2017) | `mr_slices` (2D or 3D) |
| `lowdose_ct` | low-dose CT -> routine-dose CT (Wolterink et al. 2017; Yang et al.) | `lowdose_ct` |
| `sketch_xray` | bone outlines -> X-ray (Galbusera et al.) | `sketch_xray` |
| `csmri` | zero-filled under-sampled MR -> full MR (Quan et al.) | `undersampled_mr` |

`paired=False` gives unaligned data for simgan/cyclegan: the target of each pair comes from other
subjects (for `mr_to_ct` the phantom draws other subjects; for the others the targets are
permuted by a seeded permutation, so no target is the source's own).
"""
from __future__ import annotations

import numpy as np

from advzoo.data._common import as_dataset
from advzoo.errors import AdvzooError, check_choice

TASKS = ("mr_to_ct", "lowdose_ct", "sketch_xray", "csmri")


def _derangement(n: int, seed: int) -> np.ndarray:
    """A seeded permutation with no fixed point (each target comes from another subject)."""
    order = np.random.default_rng(seed + 7919).permutation(n)
    return np.roll(order, 1)[np.argsort(order)]


def translation_pairs_arrays(task: str = "mr_to_ct", split: str = "train", n: int | None = None,
                             size: int = 64, ndim: int = 2, paired: bool = True,
                             seed: int = 0, **options) -> tuple[np.ndarray, np.ndarray]:
    """(source, target) float32 arrays in [-1, 1] of `task` (see the module table).

    `options` go to the phantom (e.g. `dose` for lowdose_ct, `acceleration` for csmri, `contrast`
    for mr_to_ct). `ndim=3` is available for `mr_to_ct`.
    """
    from advzoo import data as zd

    check_choice("task", task, TASKS)
    if ndim not in (2, 3):
        raise AdvzooError(f"ndim must be 2 or 3, got {ndim!r}")
    if ndim == 3 and task != "mr_to_ct":
        raise AdvzooError(f"task {task!r} has 2D data only; ndim=3 is available for 'mr_to_ct'")
    if task == "mr_to_ct":
        arr = zd.mr_slices_arrays(split, n=n, size=size, ndim=ndim, paired=paired, seed=seed,
                                  **options)
        return zd.mr_to_unit(arr["mr"]), zd.hu_to_unit(arr["ct"])
    if task == "lowdose_ct":
        arr = zd.lowdose_ct_arrays(split, n=n, size=size, seed=seed, **options)
        source, target = zd.hu_to_unit(arr["low"]), zd.hu_to_unit(arr["routine"])
    elif task == "sketch_xray":
        arr = zd.sketch_xray_arrays(split, n=n, size=size, seed=seed, **options)
        source, target = zd.to_unit(arr["sketches"], 0.0, 1.0), zd.to_unit(arr["xrays"], 0.0, 1.0)
    else:
        arr = zd.undersampled_mr_arrays(split, n=n, size=size, seed=seed, **options)
        source, target = zd.mr_to_unit(arr["zero_filled"]), zd.mr_to_unit(arr["full"])
    if not paired:
        target = target[_derangement(len(target), seed)]
    return source.astype(np.float32), target.astype(np.float32)


def translation_pairs(task: str = "mr_to_ct", split: str = "train", n: int | None = None,
                      size: int = 64, ndim: int = 2, paired: bool = True,
                      batch_size: int | None = None, shuffle: bool | None = None, seed: int = 0,
                      **options):
    """`translation_pairs_arrays` as a `tf.data.Dataset` of (source, target)."""
    source, target = translation_pairs_arrays(task, split, n=n, size=size, ndim=ndim,
                                              paired=paired, seed=seed, **options)
    return as_dataset((source, target), batch_size=batch_size,
                      shuffle=(split == "train") if shuffle is None else shuffle, seed=seed)
