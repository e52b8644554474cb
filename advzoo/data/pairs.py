"""(source, target) image pairs of the translation tasks of the review (Sec. 3, 5.2), as one
entry point the translation families share.

`translation_pairs(task, ...)` yields (source, target) in [-1, 1]:

| task | source -> target | phantom |
|---|---|---|
| `mr_to_ct` | T1 MR -> CT (Nie et al.; Wolterink et al. 2017) | `mr_slices` (2D or 3D) |
| `lowdose_ct` | low-dose CT -> routine-dose CT (Wolterink et al. 2017; Yang et al.) | `lowdose_ct` |
| `lowdose_ct_clinical` | low-dose CT -> noiseless reconstruction, at clinical resolution with scanner and patient randomised | `lowdose_ct_clinical` |
| `sketch_xray` | bone outlines -> X-ray (Galbusera et al.) | `sketch_xray` |
| `csmri` | zero-filled under-sampled MR -> full MR (Quan et al.) | `undersampled_mr` |

`ndim=3` is available for `mr_to_ct` (3D `mr_slices` volumes) and `lowdose_ct`
(`lowdose_ct_3d_arrays`: CT phantom volumes with image-domain noise, not a radon/FBP simulation).

`lowdose_ct_clinical` is the phantom of the presets meant for real scans (size 128 and up): its
target is the noiseless reconstruction of the same slice (`target="routine"` gives the routine-dose
scan instead), and options such as `flux` or `fov_mm` go to `lowdose_ct_clinical_arrays`.

The CT images (the target of `mr_to_ct`, both sides of the low-dose tasks) are mapped from HU to [-1, 1]
through `window` (default `CT_WINDOW`, [-1024, 1024]). A soft-tissue window such as (-160, 240)
makes the low-dose noise (about 19 HU) five times larger in the scaled images, at the price of
clipping air and bone.

`paired=False` gives unaligned data for simgan/cyclegan: the target of each pair comes from other
subjects (for `mr_to_ct` the phantom draws other subjects; for the others the targets are
permuted by a seeded permutation, so no target is the source's own).
"""
from __future__ import annotations

import numpy as np

from advzoo.data._common import as_dataset
from advzoo.data.scaling import CT_WINDOW
from advzoo.errors import AdvzooError, check_choice

TASKS = ("mr_to_ct", "lowdose_ct", "lowdose_ct_clinical", "sketch_xray", "csmri")
TASKS_3D = ("mr_to_ct", "lowdose_ct")
#: Tasks with CT images in HU, which `window` maps to [-1, 1] (MAE is also reported in HU).
CT_TASKS = ("mr_to_ct", "lowdose_ct", "lowdose_ct_clinical")
#: What the `lowdose_ct_clinical` pairs can aim at: the noiseless reconstruction or the
#: routine-dose scan of the same slice.
CLINICAL_TARGETS = ("noiseless", "routine")
#: The 2D low-dose tasks and the image each pairs the low-dose scan with by default.
LOWDOSE_TARGETS = {"lowdose_ct": "routine", "lowdose_ct_clinical": CLINICAL_TARGETS[0]}

#: Noise sd (HU) of the 2D `lowdose_ct` phantom at routine dose in soft tissue and liver, as a
#: function of the image side: 9.6 HU at 32 and 13.5 HU at 64 (measured on its val split, low -
#: noiseless), i.e. 13.5 * sqrt(size / 64); the low-dose sd is this / sqrt(dose).
ROUTINE_NOISE_HU_AT_64 = 13.5
#: Gaussian smoothing (voxels) of the 3D noise: gives a neighbour correlation of about 0.35, that
#: of the FBP noise of the 2D phantom (0.34 at size 32, 0.35 at size 64).
NOISE_CORRELATION_SIGMA = 0.55


def _derangement(n: int, seed: int) -> np.ndarray:
    """A seeded permutation with no fixed point (each target comes from another subject)."""
    order = np.random.default_rng(seed + 7919).permutation(n)
    return np.roll(order, 1)[np.argsort(order)]


def _correlated_noise(rng, shape, sigma: float) -> np.ndarray:
    """Unit-sd Gaussian noise smoothed by a separable Gaussian of `sigma` voxels along every
    spatial axis of `shape` (the batch axis is left alone); renormalised to sd 1 exactly by the
    kernel's L2 norm."""
    from scipy.ndimage import gaussian_filter1d

    noise = rng.standard_normal(shape)
    if sigma <= 0:
        return noise.astype(np.float32)
    gain = 1.0
    for axis in range(1, len(shape)):
        noise = gaussian_filter1d(noise, sigma, axis=axis, mode="wrap", truncate=4.0)
        impulse = np.zeros(33)
        impulse[16] = 1.0
        gain *= np.sqrt(np.sum(gaussian_filter1d(impulse, sigma, truncate=4.0) ** 2))
    return (noise / gain).astype(np.float32)


def lowdose_ct_3d_arrays(split: str = "train", n: int | None = None, size: int = 32,
                         dose: float = 0.25, routine_noise_hu: float | None = None,
                         correlation_sigma: float = NOISE_CORRELATION_SIGMA, seed: int = 0) -> dict:
    """Routine-dose vs. low-dose CT *volumes* for 3D denoising (3D counterpart of `lowdose_ct`).

    The volumes are the 3D CT phantoms of `ct_slices_arrays(ndim=3)` (HU, organ labels) with
    additive, spatially correlated Gaussian noise. This is image-domain noise, NOT a radon /
    Poisson / FBP simulation (which the 2D `lowdose_ct` phantom does): its sd matches the 2D
    phantom's at the same side (`ROUTINE_NOISE_HU_AT_64 * sqrt(size / 64)` at routine dose,
    divided by sqrt(dose) at low dose: 9.5 and 19 HU at size 32, dose 0.25) and its neighbour
    correlation matches that of FBP noise (about 0.35), but it has no streaks and no
    dose-dependent bias. The routine and low-dose volumes get independent noise draws of the same
    subject, as two scans would.

    Args:
        size: side of the cubic volumes (>= 16).
        dose: dose fraction of the low-dose volume, in (0, 1].
        routine_noise_hu: noise sd at routine dose in HU (default: the 2D phantom's, see above).
        correlation_sigma: Gaussian smoothing of the noise in voxels (0: white noise).

    Returns:
        dict(low, routine, phantom=float32 (n, size, size, size, 1) in HU (phantom noise-free);
        labels=int32 (n, size, size, size, 1), `CT_LABELS`).
    """
    from advzoo import data as zd

    if not isinstance(size, (int, np.integer)) or size < 16:
        raise AdvzooError(f"lowdose_ct_3d: size must be an int >= 16, got {size!r}")
    if not 0.0 < float(dose) <= 1.0:
        raise AdvzooError(f"lowdose_ct_3d: dose must be in (0, 1], got {dose!r}")
    if not float(correlation_sigma) >= 0.0:
        raise AdvzooError(f"lowdose_ct_3d: correlation_sigma must be >= 0, got {correlation_sigma!r}")
    routine_sd = (ROUTINE_NOISE_HU_AT_64 * np.sqrt(size / 64.0) if routine_noise_hu is None
                  else float(routine_noise_hu))
    if routine_sd < 0:
        raise AdvzooError(f"lowdose_ct_3d: routine_noise_hu must be >= 0, got {routine_noise_hu!r}")
    ct = zd.ct_slices_arrays(split, n=n, size=size, ndim=3, seed=seed)
    phantom = ct["images"].astype(np.float32)
    low = np.empty_like(phantom)
    routine = np.empty_like(phantom)
    split_id = ("train", "val", "test").index(split)
    # one noise stream per sample, so the first m samples do not depend on n (as the phantoms)
    for i in range(len(phantom)):
        rng = np.random.default_rng([seed, split_id, 3303, i])
        shape = (2,) + phantom.shape[1:-1]
        noise = _correlated_noise(rng, shape, float(correlation_sigma))[..., None]
        routine[i] = phantom[i] + routine_sd * noise[0]
        low[i] = phantom[i] + routine_sd / np.sqrt(float(dose)) * noise[1]
    return {"low": low, "routine": routine, "phantom": phantom, "labels": ct["labels"]}


def ct_window(window, task: str) -> tuple[float, float]:
    """`window` checked for `task`: (lo, hi) in HU with lo < hi; None gives `CT_WINDOW`. A window
    other than the default is refused for tasks without CT images (it would be ignored)."""
    check_choice("task", task, TASKS)
    if window is None:
        return tuple(CT_WINDOW)
    try:
        lo, hi = (float(w) for w in window)
    except (TypeError, ValueError):
        raise AdvzooError(f"window must be (lo, hi) in HU, got {window!r}") from None
    if not lo < hi:
        raise AdvzooError(f"window must be (lo, hi) in HU with lo < hi, got {window!r}")
    if task not in CT_TASKS and (lo, hi) != tuple(CT_WINDOW):
        raise AdvzooError(f"window={window!r} sets the HU window of CT images, but task {task!r} "
                          f"has none; the CT tasks are {', '.join(repr(t) for t in CT_TASKS)}")
    return lo, hi


def translation_pairs_arrays(task: str = "mr_to_ct", split: str = "train", n: int | None = None,
                             size: int = 64, ndim: int = 2, paired: bool = True,
                             seed: int = 0, window=None, **options) -> tuple[np.ndarray, np.ndarray]:
    """(source, target) float32 arrays in [-1, 1] of `task` (see the module table).

    `window` (lo, hi) in HU maps the CT images of the CT tasks (`CT_TASKS`) to [-1, 1] (default
    `CT_WINDOW`). `options` go to the phantom (e.g. `dose` for lowdose_ct, `acceleration` for
    csmri, `contrast` for mr_to_ct). `ndim=3` is available for `mr_to_ct` and `lowdose_ct` (the
    latter from `lowdose_ct_3d_arrays`: image-domain noise on CT phantom volumes).
    """
    from advzoo import data as zd

    window = ct_window(window, task)
    if ndim not in (2, 3):
        raise AdvzooError(f"ndim must be 2 or 3, got {ndim!r}")
    if ndim == 3 and task not in TASKS_3D:
        raise AdvzooError(f"task {task!r} has 2D data only; ndim=3 is available for "
                          f"{', '.join(repr(t) for t in TASKS_3D)}")
    if task == "mr_to_ct":
        arr = zd.mr_slices_arrays(split, n=n, size=size, ndim=ndim, paired=paired, seed=seed,
                                  **options)
        return zd.mr_to_unit(arr["mr"]), zd.hu_to_unit(arr["ct"], window)
    if task in LOWDOSE_TARGETS:
        goal = LOWDOSE_TARGETS[task]
        if task == "lowdose_ct":
            make = zd.lowdose_ct_arrays if ndim == 2 else lowdose_ct_3d_arrays
        else:
            make, goal = zd.lowdose_ct_clinical_arrays, options.pop("target", goal)
            check_choice("target", goal, CLINICAL_TARGETS)
        arr = make(split, n=n, size=size, seed=seed, **options)
        source, target = zd.hu_to_unit(arr["low"], window), zd.hu_to_unit(arr[goal], window)
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
                      window=None, **options):
    """`translation_pairs_arrays` as a `tf.data.Dataset` of (source, target)."""
    source, target = translation_pairs_arrays(task, split, n=n, size=size, ndim=ndim,
                                              paired=paired, seed=seed, window=window, **options)
    return as_dataset((source, target), batch_size=batch_size,
                      shuffle=(split == "train") if shuffle is None else shuffle, seed=seed)
