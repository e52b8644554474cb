"""Body phantoms with ground truth: CT in Hounsfield units, MR of the same anatomy, low-dose CT,
under-sampled MR, multi-contrast super-resolution, lesions, lung nodules and scanner shift.

All of them start from one procedural abdominal anatomy (a cross-section or a small volume of a
body with subcutaneous fat, muscle, liver, spleen, two kidneys, aorta and vena cava with contrast,
and a vertebra with its canal), drawn per subject with random size, pose, organ shape and tissue
values. The organ label map is exact ground truth for every image made from it.

Every phantom has a numpy form `NAME_arrays(split, n, ..., seed)` that returns a dict of arrays in
physical units, and a `tf.data` form `NAME(split, n, ..., batch_size, shuffle, seed)` that yields
what the families train on, scaled to [-1, 1] with the documented helper of `advzoo.data.scaling`
unless `scaled=False`. Splits are independent subject draws: `train` (default 512 samples),
`val` and `test` (64 each); `n` overrides the count. Arrays are channel-last float32 images;
label maps and masks are int32 / float32 with a trailing channel axis. Results are cached per
(arguments, seed, split); see `advzoo.data._phantom_core` for the seeding scheme.

Applications (after the review of Kazeminia et al. / Wolterink et al. that the zoo follows):
MR->CT synthesis (Nie et al. 2017, Wolterink et al. 2017), low-dose CT denoising (Wolterink et al.
2017, Yang et al. 2018), compressed-sensing MR (Quan et al. 2018), multi-contrast MR
super-resolution, anomaly detection (Schlegl et al. 2017, AnoGAN), visual attribution
(Baumgartner et al. 2018, VA-GAN), lung nodule synthesis/segmentation, and unsupervised domain
adaptation across scanners (Kamnitsas et al. 2017).
"""
from __future__ import annotations

import numpy as np

from advzoo.data import ct as _ct
from advzoo.data._common import as_dataset, check_split
from advzoo.data._phantom_core import (check_choice, check_float, check_int, check_seed, check_shape,
                                       ellipsoid, gaussian_blur, generate, grid, per_sample,
                                       random_pixel, resolve_n, smooth_noise, spread,
                                       to_channels)
from advzoo.data.randomisation import randomise_appearance, resolve_randomise
from advzoo.data.scaling import CT_WINDOW, MR_RANGE, hu_to_unit, mr_to_unit, to_unit

# ----------------------------------------------------------------------------------------------
# Anatomy

#: Names of the organ labels of `ct_slices` / `mr_slices`; the index is the label value.
CT_LABELS = ("background", "fat", "soft_tissue", "liver", "kidney", "spleen", "bone", "vessel")
BACKGROUND, FAT, SOFT, LIVER, KIDNEY, SPLEEN, BONE, VESSEL = range(8)

# label: (mean HU, between-subject sd, texture sd, lowest HU, highest HU)
_CT_TISSUE = np.array([
    (-1000.0, 0.0, 0.0, -1000.0, -1000.0),  # air outside the body
    (-100.0, 8.0, 8.0, -150.0, -50.0),      # subcutaneous fat
    (45.0, 5.0, 8.0, 10.0, 80.0),           # muscle / soft tissue (and the spinal canal)
    (65.0, 8.0, 6.0, 30.0, 110.0),          # contrast-enhanced liver
    (160.0, 20.0, 12.0, 90.0, 230.0),       # kidney (cortical enhancement)
    (55.0, 5.0, 6.0, 25.0, 90.0),           # spleen
    (600.0, 80.0, 60.0, 300.0, 1000.0),     # bone (vertebra)
    (300.0, 30.0, 10.0, 200.0, 400.0),      # contrast-filled vessels (aorta, vena cava)
], dtype=np.float32)
#: Documented HU range of each label in a clean CT phantom (`noise_hu=0`): {name: (lo, hi)}.
CT_HU_RANGES = {name: (float(_CT_TISSUE[i, 3]), float(_CT_TISSUE[i, 4])) for i, name in enumerate(CT_LABELS)}

# label: (T1 mean, T2 mean); arbitrary units, fat bright on T1, fluid-rich organs bright on T2
_MR_TISSUE = np.array([
    (0.00, 0.00), (0.95, 0.75), (0.35, 0.20), (0.55, 0.18),
    (0.40, 0.60), (0.35, 0.55), (0.60, 0.35), (0.12, 0.10),
], dtype=np.float32)


def _anatomy(rng, n, shape, z_range=(-0.35, 0.35), zoom=None, centre=None):
    """Label maps (n, *shape) uint8 of abdominal subjects; 2D shapes are axial slices at a random
    height z, 3D shapes are volumes spanning z in about [-0.6, 0.6] (body axis first).

    2D only: `zoom` (n,) and `centre` ((n,) x, (n,) y) give each sample its own field of view:
    the image spans centre +- zoom in anatomy units (the body is about 1.7 x 1.3 of them), so
    zoom < 1 crops into the body and zoom > 1 shows it smaller. None (default): the image spans
    [-1, 1]^2 (no random draws are added either way)."""
    nd = len(shape)
    g = grid(shape)
    if nd == 2:
        y, x = g[0][None], g[1][None]
        if zoom is not None:
            zf = np.asarray(zoom, np.float32).reshape(n, 1, 1)
            cx, cy = (np.asarray(v, np.float32).reshape(n, 1, 1) for v in centre)
            y, x = y * zf + cy, x * zf + cx
        z = per_sample(rng, n, 2, *z_range)
    else:
        z = g[0][None] * 0.6 + per_sample(rng, n, 3, -0.1, 0.1)
        y, x = g[1][None], g[2][None]

    def p(lo, hi):
        return per_sample(rng, n, nd, lo, hi)

    theta, tx, ty = p(-0.12, 0.12), p(-0.04, 0.04), p(-0.04, 0.04)
    c, s = np.cos(theta), np.sin(theta)
    xr, yr = c * (x - tx) + s * (y - ty), -s * (x - tx) + c * (y - ty)
    co = (xr, yr, z)
    full = (n,) + tuple(shape)
    bx, by, fat = p(0.78, 0.9), p(0.6, 0.7), p(0.05, 0.12)
    body = np.broadcast_to(ellipsoid(co[:2], (0.0, 0.0), (bx, by)), full)
    inner = np.broadcast_to(ellipsoid(co[:2], (0.0, 0.0), (bx - fat, by - 0.8 * fat)), full)
    org = p(0.85, 1.15)  # organ scale of this subject
    liver = ellipsoid(co, (-0.33 + p(-0.04, 0.04), -0.1 + p(-0.04, 0.04), 0.15),
                      (0.32 * org, 0.29 * org, 0.45), angle=p(-0.35, 0.1))
    spleen = ellipsoid(co, (0.45 + p(-0.03, 0.03), 0.12 + p(-0.03, 0.03), 0.2),
                       (0.11 * org, 0.17 * org, 0.3), angle=p(0.3, 0.7))
    kid_c = p(-0.03, 0.03)
    kidneys = (ellipsoid(co, (0.27, 0.22 + kid_c, -0.1), (0.09 * org, 0.13 * org, 0.28), angle=p(-0.5, -0.2))
               | ellipsoid(co, (-0.27, 0.24 + kid_c, -0.15), (0.09 * org, 0.13 * org, 0.28), angle=p(0.2, 0.5)))
    vessels = (ellipsoid(co[:2], (0.04, 0.1), (0.045, 0.045)) | ellipsoid(co[:2], (-0.11, 0.08), (0.05, 0.04)))
    vert = ellipsoid(co[:2], (0.0, 0.25), (0.09, 0.085))
    if nd == 3:  # intervertebral discs every ~0.22 along the body axis
        vert = vert & (np.cos(2 * np.pi * (z / 0.22 + p(0, 1))) < 0.8)
    arch = ellipsoid(co[:2], (0.0, 0.38), (0.08, 0.065)) | ellipsoid(co[:2], (0.0, 0.46), (0.022, 0.05))
    canal = ellipsoid(co[:2], (0.0, 0.37), (0.035, 0.035))
    labels = np.zeros(full, np.uint8)
    labels[body] = FAT
    labels[inner] = SOFT
    for mask, lab in ((liver, LIVER), (spleen, SPLEEN), (kidneys, KIDNEY), (vessels, VESSEL),
                      (vert | arch, BONE), (canal, SOFT)):
        labels[np.broadcast_to(mask, full) & inner] = lab
    return labels


def _texture_sigma(shape):
    return max(0.8, min(shape) / 40.0)


def _render_ct(rng, labels, noise_hu=0.0):
    """HU images (n, *shape) float32 of label maps: per-subject tissue values + texture, clipped
    to each tissue's documented range; then optional white noise of `noise_hu` sd."""
    n, shape = labels.shape[0], labels.shape[1:]
    t = _CT_TISSUE
    base = t[:, 0][None] + t[:, 1][None] * rng.standard_normal((n, len(t))).astype(np.float32)
    tex = smooth_noise(rng, n, shape, _texture_sigma(shape))
    idx = np.arange(n).reshape((n,) + (1,) * len(shape))
    img = base[idx, labels] + tex * t[labels, 2]
    img = np.clip(img, t[labels, 3], t[labels, 4])
    if noise_hu > 0:
        img = img + noise_hu * rng.standard_normal(img.shape).astype(np.float32)
    return img.astype(np.float32)


def _bias_field(rng, n, shape, strength=0.3):
    """Smooth multiplicative fields in [1 - strength, 1 + strength] (low-order polynomial)."""
    nd = len(shape)
    g = grid(shape)
    out = np.zeros((n,) + tuple(shape), np.float32)
    for a in range(nd):
        out += per_sample(rng, n, nd, -1, 1) * g[a][None] * strength * 0.6
        out += per_sample(rng, n, nd, -1, 1) * (g[a][None] ** 2 - 1 / 3) * strength * 0.4
    return np.clip(np.exp(out), 1 - strength, 1 + strength).astype(np.float32)


def _render_mr(rng, labels, contrast, bias=True, noise=0.02):
    """MR magnitude images (n, *shape, C) of label maps: T1/T2 tissue values + texture, times a
    smooth bias field, plus Rician noise of sd `noise`; clipped to MR_RANGE."""
    n, shape = labels.shape[0], labels.shape[1:]
    cols = {"t1": [0], "t2": [1], "both": [0, 1]}[contrast]
    idx = np.arange(n).reshape((n,) + (1,) * len(shape))
    field = _bias_field(rng, n, shape) if bias else np.ones((n,) + tuple(shape), np.float32)
    tex = smooth_noise(rng, n, shape, _texture_sigma(shape))
    chans = []
    for col in cols:
        means = _MR_TISSUE[:, col][None] * (1 + 0.06 * rng.standard_normal((n, len(_MR_TISSUE)))).astype(np.float32)
        sig = np.clip(means[idx, labels] * (1 + 0.05 * tex), 0, None) * field
        if noise > 0:
            re = sig + noise * rng.standard_normal(sig.shape).astype(np.float32)
            im = noise * rng.standard_normal(sig.shape).astype(np.float32)
            sig = np.sqrt(re * re + im * im)
        chans.append(np.clip(sig, *MR_RANGE))
    return np.stack(chans, axis=-1).astype(np.float32), field


def _default_size(size, ndim):
    return (64 if ndim == 2 else 32) if size is None else size


def _shuffle(shuffle, split):
    return (split == "train") if shuffle is None else bool(shuffle)


# ----------------------------------------------------------------------------------------------
# CT slices

#: Range of the images of `ct_slices_arrays(randomise=...)`: the [0, 1] output of
#: `randomise_appearance` mapped linearly onto it (synthetic contrast, not HU).
CT_RANDOMISED_RANGE = (-1000.0, 1000.0)


def _ct_chunk(rng, m, shape, noise_hu, randomise=None):
    labels = _anatomy(rng, m, shape)
    images = _render_ct(rng, labels, noise_hu)
    if randomise is not None:  # drawn after the labels: they stay those of randomise=False
        unit = randomise_appearance(rng, labels, randomise, num_labels=len(CT_LABELS))[..., 0]
        lo, hi = CT_RANDOMISED_RANGE
        images = (lo + (hi - lo) * unit).astype(np.float32)
    return {"images": to_channels(images), "labels": to_channels(labels, np.int32)}


def ct_slices_arrays(split: str = "train", n: int | None = None, size=None, ndim: int = 2,
                     noise_hu: float = 0.0, seed: int = 0, randomise=False) -> dict:
    """Abdominal CT phantoms in Hounsfield units with organ label maps.

    Args:
        split: "train", "val" or "test" (independent subjects).
        n: number of samples (default 512 train, 64 val/test).
        size: side (int) or shape tuple; default 64 (2D) or 32 (3D).
        ndim: 2 for axial slices at a random height, 3 for volumes (D, H, W) along the body axis.
        noise_hu: sd of added white noise in HU (0 keeps the clean phantom, whose values lie in
            `CT_HU_RANGES` per label).
        seed: seed of the subject draws.
        randomise: domain randomisation of the appearance (SynthSeg-style, see
            `advzoo.data.randomisation`): False (default: the HU phantom, unchanged), True (the
            default `DomainRandomisation()` ranges) or a `DomainRandomisation`. Each sample gets
            random per-label intensities, bias field, blur, resolution, noise and gamma; the
            images are then synthetic contrast in `CT_RANDOMISED_RANGE` = [-1000, 1000] (not HU,
            so `hu_to_unit` still maps them into [-1, 1]), and the labels are exactly those of
            randomise=False. Cannot be combined with noise_hu > 0 (the noise is randomised).

    Returns:
        dict(images=float32 (n, *shape, 1) in HU, within [-1000, 1000] when noise_hu=0;
             labels=int32 (n, *shape, 1) with values indexing `CT_LABELS`:
             0 background -1000, 1 fat [-150, -50], 2 soft_tissue [10, 80], 3 liver [30, 110],
             4 kidney [90, 230], 5 spleen [25, 90], 6 bone [300, 1000], 7 vessel [200, 400]).
    """
    what = "ct_slices"
    check_split(split)
    shape = check_shape(_default_size(size, ndim), ndim, what, minimum=16)
    noise_hu = check_float(noise_hu, "noise_hu", what, 0.0, 500.0)
    options = resolve_randomise(randomise, what)
    if options is not None and noise_hu > 0:
        raise ValueError(f"{what}: noise_hu applies to the HU phantom; with randomise the noise "
                         f"level is drawn from DomainRandomisation.noise, got noise_hu={noise_hu!r}")
    extra = {} if options is None else {"randomise": options}
    return generate(what, _ct_chunk, resolve_n(n, split, what), split, check_seed(seed, what),
                    shape=shape, noise_hu=noise_hu, **extra)


def ct_slices(split: str = "train", n: int | None = None, size=None, ndim: int = 2,
              noise_hu: float = 0.0, labels: bool = False, scaled: bool = True,
              window=CT_WINDOW, batch_size: int | None = None, shuffle: bool | None = None,
              seed: int = 0, randomise=False):
    """CT phantoms as a `tf.data.Dataset` (see `ct_slices_arrays`, also for `randomise`).

    Yields images (*shape, 1), or (image, label_map) when `labels=True`. Images are mapped from
    HU to [-1, 1] by `hu_to_unit(hu, window)` (default window [-1024, 1024]) unless
    `scaled=False`. Used by: gan / progan / lapgan (unconditional synthesis), segmentation families.
    """
    arr = ct_slices_arrays(split, n=n, size=size, ndim=ndim, noise_hu=noise_hu, seed=seed,
                           randomise=randomise)
    img = hu_to_unit(arr["images"], window) if scaled else arr["images"]
    return as_dataset((img, arr["labels"]) if labels else img, batch_size=batch_size,
                      shuffle=_shuffle(shuffle, split), seed=seed)


# ----------------------------------------------------------------------------------------------
# MR slices (paired and unpaired with CT)

def _mr_chunk(rng, m, shape, contrast, paired, bias, noise):
    labels_mr = _anatomy(rng, m, shape)
    labels_ct = labels_mr if paired else _anatomy(rng, m, shape)
    mr, field = _render_mr(rng, labels_mr, contrast, bias=bias, noise=noise)
    return {"mr": mr, "ct": to_channels(_render_ct(rng, labels_ct)),
            "mr_labels": to_channels(labels_mr, np.int32), "ct_labels": to_channels(labels_ct, np.int32),
            "bias_field": to_channels(field)}


def mr_slices_arrays(split: str = "train", n: int | None = None, size=None, ndim: int = 2,
                     contrast: str = "t1", paired: bool = True, bias: bool = True,
                     noise: float = 0.02, seed: int = 0) -> dict:
    """T1- and T2-like MR phantoms of the CT anatomy, with CT of the same or of other subjects.

    MR signal per tissue (T1: fat bright, vessels dark; T2: kidney and spleen bright), texture,
    a smooth multiplicative bias field in [0.7, 1.3], and Rician noise (magnitude of complex
    Gaussian noise of sd `noise`); values clipped to MR_RANGE = [0, 1.5] (arbitrary units).

    Args:
        contrast: "t1", "t2" or "both" (2 channels, T1 then T2, same subject and bias field).
        paired: True gives aligned MR/CT of the same subject (mr_labels == ct_labels, Nie et al.);
            False gives MR and CT of different subjects (unpaired, CycleGAN-style, Wolterink 2017).
        bias: apply the bias field (else a field of ones).
        noise: Rician noise sd in signal units (>= 0).
        Other arguments as in `ct_slices_arrays`.

    Returns:
        dict(mr=float32 (n, *shape, C) in [0, 1.5]; ct=float32 (n, *shape, 1) in HU;
             mr_labels, ct_labels=int32 (n, *shape, 1) (`CT_LABELS`); bias_field=float32 (n, *shape, 1)).
    """
    what = "mr_slices"
    check_split(split)
    shape = check_shape(_default_size(size, ndim), ndim, what, minimum=16)
    check_choice(contrast, "contrast", what, ("t1", "t2", "both"))
    if not isinstance(paired, bool) or not isinstance(bias, bool):
        raise ValueError(f"{what}: paired and bias must be bools, got paired={paired!r}, bias={bias!r}")
    noise = check_float(noise, "noise", what, 0.0, 1.0)
    return generate(what, _mr_chunk, resolve_n(n, split, what), split, check_seed(seed, what),
                    shape=shape, contrast=contrast, paired=paired, bias=bias, noise=noise)


def mr_slices(split: str = "train", n: int | None = None, size=None, ndim: int = 2,
              contrast: str = "t1", paired: bool = True, bias: bool = True, noise: float = 0.02,
              scaled: bool = True, batch_size: int | None = None, shuffle: bool | None = None,
              seed: int = 0):
    """(mr, ct) pairs as a `tf.data.Dataset` (see `mr_slices_arrays`).

    MR scaled by `mr_to_unit` ([0, 1.5] -> [-1, 1]) and CT by `hu_to_unit` ([-1024, 1024] HU ->
    [-1, 1]) unless `scaled=False`. Used by: pix2pix (paired MR->CT), cyclegan (paired=False).
    """
    arr = mr_slices_arrays(split, n=n, size=size, ndim=ndim, contrast=contrast, paired=paired,
                           bias=bias, noise=noise, seed=seed)
    mr, ctimg = arr["mr"], arr["ct"]
    if scaled:
        mr, ctimg = mr_to_unit(mr), hu_to_unit(ctimg)
    return as_dataset((mr, ctimg), batch_size=batch_size, shuffle=_shuffle(shuffle, split), seed=seed)


# ----------------------------------------------------------------------------------------------
# Low-dose CT

MU_WATER_PER_CM = 0.2   # linear attenuation of water at ~70 keV
FOV_CM = 40.0           # field of view across the image


def hu_to_mu(hu):
    """HU -> linear attenuation (1/cm): mu = mu_water * (1 + HU / 1000), >= 0."""
    return np.clip(MU_WATER_PER_CM * (1.0 + np.asarray(hu, np.float64) / 1000.0), 0.0, None)


def _reconstruct(line, pixel_cm, theta, filter_name):
    mu = _ct.fbp(line, theta, filter_name) / pixel_cm
    return (1000.0 * (mu / MU_WATER_PER_CM - 1.0)).astype(np.float32)


def _noisy_line(rng, line, dose, photons):
    """Poisson photon counts behind the object, back to line integrals (counts floored at 1)."""
    counts = np.maximum(rng.poisson(photons * dose * np.exp(-line)), 1.0)
    return -np.log(counts / (photons * dose))


def _lowdose_chunk(rng, m, size, dose, photons, n_angles, filter_name):
    labels = _anatomy(rng, m, (size, size))
    phantom = _render_ct(rng, labels)
    theta = np.linspace(0.0, 180.0, n_angles, endpoint=False)
    pixel_cm = FOV_CM / size
    line = _ct.radon(hu_to_mu(phantom), theta) * pixel_cm
    routine = _reconstruct(_noisy_line(rng, line, 1.0, photons), pixel_cm, theta, filter_name)
    low = _reconstruct(_noisy_line(rng, line, dose, photons), pixel_cm, theta, filter_name)
    noiseless = _reconstruct(line, pixel_cm, theta, filter_name)
    return {"low": to_channels(low), "routine": to_channels(routine), "noiseless": to_channels(noiseless),
            "phantom": to_channels(phantom), "labels": to_channels(labels, np.int32)}


def lowdose_ct_arrays(split: str = "train", n: int | None = None, size: int = 64, dose: float = 0.25,
                      photons: float = 5e5, n_angles: int | None = None, filter_name: str = "ramp",
                      seed: int = 0) -> dict:
    """Routine-dose vs. low-dose CT pairs of one phantom (Wolterink et al. 2017; Yang et al. 2018).

    The clean CT phantom (HU) is converted to attenuation (mu_water = 0.2/cm, field of view 40 cm),
    projected by a parallel-beam radon transform (`advzoo.data.ct.radon`, identical to
    scikit-image's), Poisson photon noise is drawn with `photons * dose` incident photons per
    detector bin, and the image is reconstructed by filtered back-projection (`ct.fbp`, identical to
    `skimage.transform.iradon`). The routine image is the same scan at dose 1; `noiseless` is the
    reconstruction without photon noise, so `low - noiseless` is pure noise, whose sd grows as
    1/sqrt(dose) (about 13 HU in soft tissue at dose 1 and 26 HU at dose 0.25 with the default
    photons, size 64). Outside the scan circle the images are -1000 HU.

    Args:
        size: side of the square slices (>= 32).
        dose: dose fraction of the low-dose scan, in (0, 1].
        photons: incident photons per detector bin at routine dose (> 0).
        n_angles: number of views over [0, 180) degrees (default 1.5 x size).
        filter_name: FBP filter: "ramp", "shepp-logan", "cosine", "hamming", "hann".

    Returns:
        dict(low, routine, noiseless, phantom=float32 (n, size, size, 1) in HU (phantom is the
        clean CT phantom; reconstructions are unclipped, typically within [-1100, 1100]);
        labels=int32 (n, size, size, 1)).
    """
    what = "lowdose_ct"
    check_split(split)
    size = check_int(size, "size", what, minimum=32)
    dose = check_float(dose, "dose", what, 0.0, 1.0, lo_open=True)
    photons = check_float(photons, "photons", what, 0.0, 1e12, lo_open=True)
    n_angles = (3 * size) // 2 if n_angles is None else check_int(n_angles, "n_angles", what, minimum=4)
    check_choice(filter_name, "filter_name", what, _ct.FILTERS)
    return generate(what, _lowdose_chunk, resolve_n(n, split, what), split, check_seed(seed, what),
                    size=size, dose=dose, photons=photons, n_angles=n_angles, filter_name=filter_name)


def lowdose_ct(split: str = "train", n: int | None = None, size: int = 64, dose: float = 0.25,
               photons: float = 5e5, n_angles: int | None = None, filter_name: str = "ramp",
               scaled: bool = True, window=CT_WINDOW, batch_size: int | None = None,
               shuffle: bool | None = None, seed: int = 0):
    """(low_dose, routine_dose) pairs as a `tf.data.Dataset` (see `lowdose_ct_arrays`).

    Both mapped from HU to [-1, 1] by `hu_to_unit(hu, window)` unless `scaled=False`.
    Used by: pix2pix / wgan_vgg (aligned), simgan / cyclegan (unaligned low-dose CT).
    """
    arr = lowdose_ct_arrays(split, n=n, size=size, dose=dose, photons=photons, n_angles=n_angles,
                            filter_name=filter_name, seed=seed)
    low, routine = arr["low"], arr["routine"]
    if scaled:
        low, routine = hu_to_unit(low, window), hu_to_unit(routine, window)
    return as_dataset((low, routine), batch_size=batch_size, shuffle=_shuffle(shuffle, split), seed=seed)


# ----------------------------------------------------------------------------------------------
# Under-sampled MR

def cartesian_mask(rng, n: int, size: int, acceleration: float, center_fraction: float) -> np.ndarray:
    """Random Cartesian phase-encode masks (n, size) of 0/1 in centred k-space order.

    The central `center_fraction` of lines is always kept; the rest are taken in a random order
    per sample until size / acceleration lines are kept. For one rng state, masks of a higher
    acceleration are subsets of those of a lower one.
    """
    n_center = max(2, int(round(size * center_fraction)))
    n_keep = max(n_center, int(round(size / acceleration)))
    lo = size // 2 - n_center // 2
    center = np.zeros(size, bool)
    center[lo:lo + n_center] = True
    rest = np.flatnonzero(~center)
    order = np.argsort(rng.random((n, rest.size)), axis=1)
    mask = np.zeros((n, size), np.float32)
    mask[:, center] = 1.0
    take = rest[order[:, :n_keep - n_center]]
    np.put_along_axis(mask, take, 1.0, axis=1)
    return mask


def _undersampled_chunk(rng, m, size, acceleration, center_fraction, contrast, noise):
    labels = _anatomy(rng, m, (size, size))
    full = _render_mr(rng, labels, contrast, noise=noise)[0][..., 0]
    mask = cartesian_mask(rng, m, size, acceleration, center_fraction)
    kmask = np.fft.ifftshift(mask, axes=1)[:, :, None]  # phase encoding along rows (axis 1)
    k = np.fft.fft2(full) * kmask
    zf = np.abs(np.fft.ifft2(k)).astype(np.float32)
    return {"zero_filled": to_channels(zf), "full": to_channels(full),
            "mask": np.broadcast_to(mask[:, :, None, None], (m, size, size, 1)).astype(np.float32),
            "kspace": k.astype(np.complex64), "labels": to_channels(labels, np.int32)}


def undersampled_mr_arrays(split: str = "train", n: int | None = None, size: int = 64,
                           acceleration: float = 4.0, center_fraction: float = 0.08,
                           contrast: str = "t1", noise: float = 0.01, seed: int = 0) -> dict:
    """Fully sampled MR vs. zero-filled reconstruction of Cartesian under-sampled k-space
    (compressed-sensing MR, Quan et al. 2018).

    k-space = 2D FFT of the (real) magnitude image; phase-encode lines (rows) are kept by
    `cartesian_mask` (centre lines + random lines up to size / acceleration); the zero-filled
    image is the magnitude of the inverse FFT. Error against `full` grows with `acceleration`.

    Returns:
        dict(zero_filled, full=float32 (n, size, size, 1) MR units (full in [0, 1.5], zero-filled
        unclipped); mask=float32 (n, size, size, 1) sampled rows in centred k-space order;
        kspace=complex64 (n, size, size) under-sampled, FFT order; labels=int32 (n, size, size, 1)).
    """
    what = "undersampled_mr"
    check_split(split)
    size = check_int(size, "size", what, minimum=16)
    acceleration = check_float(acceleration, "acceleration", what, 1.0, float(size))
    center_fraction = check_float(center_fraction, "center_fraction", what, 0.0, 1.0)
    check_choice(contrast, "contrast", what, ("t1", "t2"))
    noise = check_float(noise, "noise", what, 0.0, 1.0)
    return generate(what, _undersampled_chunk, resolve_n(n, split, what), split, check_seed(seed, what),
                    size=size, acceleration=acceleration, center_fraction=center_fraction,
                    contrast=contrast, noise=noise)


def undersampled_mr(split: str = "train", n: int | None = None, size: int = 64,
                    acceleration: float = 4.0, center_fraction: float = 0.08, contrast: str = "t1",
                    noise: float = 0.01, scaled: bool = True, batch_size: int | None = None,
                    shuffle: bool | None = None, seed: int = 0):
    """(zero_filled, full) pairs as a `tf.data.Dataset`; both scaled by `mr_to_unit` unless
    `scaled=False`. Used by: pix2pix (CS-MRI reconstruction)."""
    arr = undersampled_mr_arrays(split, n=n, size=size, acceleration=acceleration,
                                 center_fraction=center_fraction, contrast=contrast, noise=noise, seed=seed)
    zf, full = arr["zero_filled"], arr["full"]
    if scaled:
        zf, full = mr_to_unit(zf), mr_to_unit(full)
    return as_dataset((zf, full), batch_size=batch_size, shuffle=_shuffle(shuffle, split), seed=seed)


# ----------------------------------------------------------------------------------------------
# Multi-contrast super-resolution

def _sr_chunk(rng, m, size, factor, noise):
    from scipy.ndimage import zoom

    labels = _anatomy(rng, m, (size, size))
    both = _render_mr(rng, labels, "both", noise=noise)[0]
    t1, t2 = both[..., :1], both[..., 1:]
    low = t2[..., 0].reshape(m, size // factor, factor, size // factor, factor).mean(axis=(2, 4))
    up = np.clip(zoom(low, (1, factor, factor), order=3, mode="nearest"), *MR_RANGE)
    return {"t2_low": to_channels(low), "t1": t1, "t2": t2, "t2_upsampled": to_channels(up),
            "labels": to_channels(labels, np.int32)}


def multi_contrast_sr_arrays(split: str = "train", n: int | None = None, size: int = 64,
                             factor: int = 2, noise: float = 0.01, seed: int = 0) -> dict:
    """Low-resolution T2 with high-resolution T1 of the same subject; target: high-resolution T2.

    The low-resolution T2 is the high-resolution T2 averaged over factor x factor blocks.

    Returns:
        dict(t2_low=float32 (n, size/f, size/f, 1); t1, t2=float32 (n, size, size, 1);
        t2_upsampled=float32 (n, size, size, 1) cubic-spline up-sampling of t2_low (the baseline);
        labels=int32 (n, size, size, 1)); all MR units in [0, 1.5].
    """
    what = "multi_contrast_sr"
    check_split(split)
    size = check_int(size, "size", what, minimum=16)
    factor = check_int(factor, "factor", what, minimum=2)
    if size % factor:
        raise ValueError(f"{what}: size must be a multiple of factor, got size={size}, factor={factor}")
    noise = check_float(noise, "noise", what, 0.0, 1.0)
    return generate(what, _sr_chunk, resolve_n(n, split, what), split, check_seed(seed, what),
                    size=size, factor=factor, noise=noise)


def multi_contrast_sr(split: str = "train", n: int | None = None, size: int = 64, factor: int = 2,
                      noise: float = 0.01, reference: bool = True, scaled: bool = True,
                      batch_size: int | None = None, shuffle: bool | None = None, seed: int = 0):
    """Super-resolution pairs as a `tf.data.Dataset`: ((t2_low, t1), t2) when `reference=True`
    (the high-resolution T1 as an extra input), else (t2_low, t2). Scaled by `mr_to_unit` unless
    `scaled=False`. Used by: srgan (multi-contrast option)."""
    arr = multi_contrast_sr_arrays(split, n=n, size=size, factor=factor, noise=noise, seed=seed)
    f = mr_to_unit if scaled else (lambda a: a)
    low, t1, t2 = f(arr["t2_low"]), f(arr["t1"]), f(arr["t2"])
    data = ((low, t1), t2) if reference else (low, t2)
    return as_dataset(data, batch_size=batch_size, shuffle=_shuffle(shuffle, split), seed=seed)


# ----------------------------------------------------------------------------------------------
# Lesions (anomaly detection, visual attribution)

def _lesion_chunk(rng, m, size, abnormal_fraction):
    shape = (size, size)
    labels = _anatomy(rng, m, shape, z_range=(0.05, 0.25))  # heights where the liver is large
    img = _render_ct(rng, labels)
    abnormal = spread(m, abnormal_fraction)
    liver = labels == LIVER
    y, x = grid(shape)
    mask = np.zeros((m,) + shape, bool)
    for _ in range(3):
        pos = random_pixel(rng, liver)
        cy, cx = y.ravel()[pos[:, 0]], x.ravel()[pos[:, 1]]
        r = rng.uniform(0.05, 0.11, m).astype(np.float32)
        blob = ellipsoid((x[None], y[None]), (cx[:, None, None], cy[:, None, None]),
                         (r[:, None, None], (r * rng.uniform(0.7, 1.3, m))[:, None, None]),
                         angle=rng.uniform(0, np.pi, m)[:, None, None])
        use = abnormal & (pos[:, 0] >= 0)
        if _ > 0:
            use &= rng.random(m) < 0.5  # 1 to 3 lesions
        mask |= blob & use[:, None, None]
    mask &= liver
    drop = rng.uniform(35.0, 60.0, m).astype(np.float32)[:, None, None]  # hypodense lesions
    tex = smooth_noise(rng, m, shape, _texture_sigma(shape)) * 6.0
    img = np.where(mask, np.clip(img - drop + tex, -20.0, 80.0), img)
    return {"images": to_channels(img), "masks": to_channels(mask), "labels": abnormal.astype(np.int32),
            "organ_labels": to_channels(labels, np.int32)}


def lesions_arrays(split: str = "train", n: int | None = None, size: int = 64,
                   abnormal_fraction: float = 0.5, seed: int = 0) -> dict:
    """Normal vs. abnormal CT slices: abnormal ones carry 1-3 hypodense liver lesions (35-60 HU
    below the liver), normal ones none (their masks are all zero). The slices are taken at heights
    where the liver is large. For AnoGAN (train on normal only) and VA-GAN (attribution vs mask).

    Args:
        abnormal_fraction: fraction of abnormal samples, in [0, 1], evenly interleaved.

    Returns:
        dict(images=float32 (n, size, size, 1) HU in [-1000, 1000]; masks=float32 (n, size, size, 1)
        in {0, 1}, lesion pixels (always inside the liver); labels=int32 (n,) 1 abnormal, 0 normal;
        organ_labels=int32 (n, size, size, 1) (`CT_LABELS`)).
    """
    what = "lesions"
    check_split(split)
    size = check_int(size, "size", what, minimum=16)
    abnormal_fraction = check_float(abnormal_fraction, "abnormal_fraction", what, 0.0, 1.0)
    return generate(what, _lesion_chunk, resolve_n(n, split, what), split, check_seed(seed, what),
                    size=size, abnormal_fraction=abnormal_fraction)


def lesions(split: str = "train", n: int | None = None, size: int = 64, abnormal_fraction: float = 0.5,
            subset: str = "both", target: str | None = "label", scaled: bool = True, window=CT_WINDOW,
            batch_size: int | None = None, shuffle: bool | None = None, seed: int = 0):
    """Lesion phantoms as a `tf.data.Dataset` (see `lesions_arrays`).

    Args:
        subset: "normal", "abnormal" or "both" (filters the samples).
        target: None yields images only; "label" yields (image, label); "mask" yields (image, mask).
        Images mapped by `hu_to_unit(hu, window)` unless `scaled=False`.
    Used by: anogan (subset="normal", target=None), vagan (target="label"), segmentation.
    """
    check_choice(subset, "subset", "lesions", ("normal", "abnormal", "both"))
    check_choice(target, "target", "lesions", (None, "label", "mask"))
    arr = lesions_arrays(split, n=n, size=size, abnormal_fraction=abnormal_fraction, seed=seed)
    keep = {"both": slice(None), "normal": arr["labels"] == 0, "abnormal": arr["labels"] == 1}[subset]
    img = arr["images"][keep]
    img = hu_to_unit(img, window) if scaled else img
    data = img if target is None else (img, arr["labels"][keep] if target == "label" else arr["masks"][keep])
    return as_dataset(data, batch_size=batch_size, shuffle=_shuffle(shuffle, split), seed=seed)


# ----------------------------------------------------------------------------------------------
# Lung nodules

def _lines(rng, m, coords, n_lines):
    """Distance (m, n_lines, *shape) of every pixel to random straight lines through the patch."""
    nd = len(coords)
    p = rng.uniform(-0.8, 0.8, (m, n_lines, nd)).astype(np.float32)
    u = rng.standard_normal((m, n_lines, nd)).astype(np.float32)
    u /= np.linalg.norm(u, axis=-1, keepdims=True)
    exp = (slice(None), slice(None)) + (None,) * nd
    diff = [coords[a][None, None] - p[..., a][exp] for a in range(nd)]
    along = sum(diff[a] * u[..., a][exp] for a in range(nd))
    d2 = sum(d * d for d in diff) - along * along
    return np.sqrt(np.maximum(d2, 0.0))


def _nodule_chunk(rng, m, shape, nodule_fraction):
    nd = len(shape)
    coords = grid(shape)
    px = 2.0 / min(shape)  # one pixel in grid units
    tex = smooth_noise(rng, m, shape, _texture_sigma(shape))
    img = -850.0 + 25.0 * tex
    n_vessels = 4
    d = _lines(rng, m, coords, n_vessels)
    sel = (...,) + (None,) * nd
    radius = rng.uniform(0.4, 0.9, (m, n_vessels)).astype(np.float32)[sel] * px
    peak = rng.uniform(250.0, 750.0, (m, n_vessels)).astype(np.float32)[sel]  # partial volume
    img = img + (peak * np.exp(-0.5 * (d / radius) ** 2)).max(axis=1)
    has = spread(m, nodule_fraction)
    centre = rng.uniform(-0.45, 0.45, (m, nd)).astype(np.float32)
    diam_px = rng.uniform(4.0, 12.0, m).astype(np.float32) * min(shape) / (64 if nd == 2 else 32)
    r = diam_px / 2 * px
    lobulated = rng.random(m) < 0.5
    exp = (slice(None),) + (None,) * nd
    axes_order = coords[::-1]  # (x, y[, z]) for ellipsoid
    mask = ellipsoid(axes_order, tuple(centre[:, a][exp] for a in range(nd)), (r[exp],) * nd)
    for _ in range(4):  # lobulated: extra overlapping spheres on the surface
        off = rng.standard_normal((m, nd)).astype(np.float32)
        off *= (0.7 * r / np.linalg.norm(off, axis=1))[:, None]
        rr = (r * rng.uniform(0.45, 0.7, m).astype(np.float32))
        lobe = ellipsoid(axes_order, tuple((centre[:, a] + off[:, a])[exp] for a in range(nd)), (rr[exp],) * nd)
        mask |= lobe & lobulated[exp]
    mask &= has[exp]
    nod_hu = rng.uniform(0.0, 60.0, m).astype(np.float32)[exp]
    alpha = np.clip(gaussian_blur(mask.astype(np.float32), 0.6) * 1.6, 0, 1)
    alpha = np.where(mask, np.maximum(alpha, 0.8), alpha)
    img = img * (1 - alpha) + (nod_hu + 15.0 * tex) * alpha
    img = np.clip(img, -1000.0, 400.0)
    diam = np.where(has, diam_px, 0.0).astype(np.float32)
    return {"images": to_channels(img), "masks": to_channels(mask), "labels": has.astype(np.int32),
            "lobulated": (lobulated & has).astype(np.int32), "diameters_px": diam}


def nodules_arrays(split: str = "train", n: int | None = None, size=None, ndim: int = 2,
                   nodule_fraction: float = 0.5, seed: int = 0) -> dict:
    """Lung-like CT patches with and without nodules, and the nodule masks.

    Parenchyma about -850 HU with texture, crossed by 4 thin vessels (Gaussian profile, peak 250-750 HU above the parenchyma);
    nodules are solid (0-60 HU) spheres or lobulated unions of spheres, 4-12 px across at 64^2
    (2D) or 32^3 (3D), scaled with the size, with a soft partial-volume edge.

    Returns:
        dict(images=float32 (n, *shape, 1) HU in [-1000, 400]; masks=float32 (n, *shape, 1) {0, 1};
        labels=int32 (n,) 1 = nodule present (its mask is non-empty), 0 = no nodule (mask empty);
        lobulated=int32 (n,); diameters_px=float32 (n,) (0 when absent)).
    """
    what = "nodules"
    check_split(split)
    shape = check_shape(_default_size(size, ndim), ndim, what, minimum=16)
    nodule_fraction = check_float(nodule_fraction, "nodule_fraction", what, 0.0, 1.0)
    return generate(what, _nodule_chunk, resolve_n(n, split, what), split, check_seed(seed, what),
                    shape=shape, nodule_fraction=nodule_fraction)


def nodules(split: str = "train", n: int | None = None, size=None, ndim: int = 2,
            nodule_fraction: float = 0.5, target: str | None = "mask", scaled: bool = True,
            window=CT_WINDOW, batch_size: int | None = None, shuffle: bool | None = None, seed: int = 0):
    """Nodule patches as a `tf.data.Dataset`: image, (image, mask) or (image, label) for
    target None / "mask" / "label". Images mapped by `hu_to_unit(hu, window)` unless
    `scaled=False`. Used by: progan (joint image+mask), segmentation families, gan."""
    check_choice(target, "target", "nodules", (None, "label", "mask"))
    arr = nodules_arrays(split, n=n, size=size, ndim=ndim, nodule_fraction=nodule_fraction, seed=seed)
    img = hu_to_unit(arr["images"], window) if scaled else arr["images"]
    data = img if target is None else (img, arr["labels"] if target == "label" else arr["masks"])
    return as_dataset(data, batch_size=batch_size, shuffle=_shuffle(shuffle, split), seed=seed)


# ----------------------------------------------------------------------------------------------
# Domain shift (two scanners)

#: Organ names accepted by `domain_shift` and their label values.
DOMAIN_ORGANS = {"liver": LIVER, "kidney": KIDNEY, "spleen": SPLEEN, "bone": BONE, "vessel": VESSEL}


def _scanner(rng, hu, domain):
    """Scanner appearance of HU images -> intensities in [0, 1]."""
    m, size = hu.shape[0], hu.shape[-1]
    if domain == "source":  # linear soft-tissue window, mild noise, sharp
        x = (hu + 160.0) / 400.0
        x = x + 0.02 * rng.standard_normal(x.shape)
    else:  # sigmoid contrast curve on a wider window, blur, half resolution, more noise
        x = 1.0 / (1.0 + np.exp(-(hu - 80.0) / 60.0))
        x = gaussian_blur(x.astype(np.float32), 1.0)
        x = x.reshape(m, size // 2, 2, size // 2, 2).mean(axis=(2, 4)).repeat(2, axis=1).repeat(2, axis=2)
        x = 0.85 * x + 0.05 + 0.06 * rng.standard_normal(x.shape)
    return np.clip(x, 0.0, 1.0).astype(np.float32)


def _domain_chunk(rng, m, size, organ):
    out = {}
    for dom in ("source", "target"):
        labels = _anatomy(rng, m, (size, size))
        img = _scanner(rng, _render_ct(rng, labels), dom)
        out[f"{dom}_images"] = to_channels(img)
        out[f"{dom}_masks"] = to_channels(labels == DOMAIN_ORGANS[organ]) if organ != "all" \
            else to_channels(labels, np.int32)
    return out


def domain_shift_arrays(split: str = "train", n: int | None = None, size: int = 64,
                        organ: str = "liver", seed: int = 0) -> dict:
    """One segmentation task seen through two scanners (unsupervised domain adaptation).

    Source and target are different subjects from the same anatomy distribution. Source scanner:
    linear soft-tissue window ((HU + 160) / 400), noise sd 0.02, full resolution. Target scanner:
    sigmoid contrast curve centred at 80 HU (width 60 HU), Gaussian blur (1 px), half resolution, lower contrast
    and noise sd 0.06. Intensities are clipped to [0, 1].

    Args:
        size: even side >= 16.
        organ: segmentation target: one of "liver", "kidney", "spleen", "bone", "vessel" (binary
            masks) or "all" (int32 label maps over `CT_LABELS`).

    Returns:
        dict(source_images, target_images=float32 (n, size, size, 1) in [0, 1];
        source_masks, target_masks=float32 (n, size, size, 1) binary (int32 label maps for "all")).
    """
    what = "domain_shift"
    check_split(split)
    size = check_int(size, "size", what, minimum=16)
    if size % 2:
        raise ValueError(f"{what}: size must be even, got {size}")
    check_choice(organ, "organ", what, tuple(DOMAIN_ORGANS) + ("all",))
    return generate(what, _domain_chunk, resolve_n(n, split, what), split, check_seed(seed, what),
                    size=size, organ=organ)


def domain_shift(split: str = "train", n: int | None = None, size: int = 64, organ: str = "liver",
                 domain: str = "source", scaled: bool = True, batch_size: int | None = None,
                 shuffle: bool | None = None, seed: int = 0):
    """(image, mask) pairs of one domain ("source" or "target") as a `tf.data.Dataset`; images
    mapped from [0, 1] to [-1, 1] unless `scaled=False`. Used by: dann, adda, pixelda, cyclegan
    with a segmentation head. Target masks are for evaluation only."""
    check_choice(domain, "domain", "domain_shift", ("source", "target"))
    arr = domain_shift_arrays(split, n=n, size=size, organ=organ, seed=seed)
    img = arr[f"{domain}_images"]
    img = to_unit(img, 0.0, 1.0) if scaled else img
    return as_dataset((img, arr[f"{domain}_masks"]), batch_size=batch_size,
                      shuffle=_shuffle(shuffle, split), seed=seed)
