"""Readers of the user's own files: NIfTI volumes, DICOM series, PNG/JPEG folders, MedMNIST .npz.

Each `*_dataset` function returns a `tf.data.Dataset` (images channel-last float32, by default
scaled to [-1, 1]); the `read_*` functions return numpy arrays with their geometry. Files are read
eagerly into memory, so every error names the file that caused it:

- a missing path: FileNotFoundError naming it;
- a file of the wrong type, a corrupt DICOM, undecodable pixel data, an image of unexpected rank,
  slices whose shapes disagree: ValueError naming the file;
- nibabel or pydicom not installed: ImportError naming the pip line that installs it.

Intensity options shared by the datasets:
    window=(lo, hi)     clip to [lo, hi] (e.g. HU) and map to [-1, 1];
    normalize="minmax"  per image/volume min..max -> [-1, 1] (the default when no window);
    normalize="zscore"  zero mean, unit sd per image/volume;  normalize=None keeps raw values.
Geometry options: `spacing` resamples a volume to that voxel size (mm, linear interpolation);
`size` centre-crops or zero-pads to that shape (`resize="crop"`) or interpolates to it
(`resize="interpolate"`).
"""
from __future__ import annotations

import importlib
import os
from pathlib import Path

import numpy as np

from advzoo.data._common import as_dataset

#: DICOM window presets (center, width) in HU.
WINDOWS = {"soft_tissue": (40.0, 400.0), "lung": (-600.0, 1500.0), "bone": (400.0, 1800.0),
           "brain": (40.0, 80.0), "liver": (60.0, 150.0), "full": (0.0, 2048.0)}
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
NIFTI_EXTENSIONS = (".nii", ".nii.gz")


def _require(module: str, what: str):
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(f"reading {what} needs the '{module}' package, which is not installed; "
                          f"install it with `pip install {module}`, or advzoo's 'medical' extra "
                          f"(`pip install -e \".[medical]\"` in a clone of advzoo)") from err


def _existing(path, what: str) -> Path:
    p = Path(os.fspath(path))
    if not p.exists():
        raise FileNotFoundError(f"{what}: no such file or directory: '{p}'")
    return p


# ----------------------------------------------------------------------------------------------
# shared preprocessing

def window_range(window) -> tuple:
    """A window given as a preset name (`WINDOWS`), or (lo, hi) -> (lo, hi)."""
    if isinstance(window, str):
        if window not in WINDOWS:
            raise ValueError(f"unknown window {window!r}; expected one of {sorted(WINDOWS)} or (lo, hi)")
        c, w = WINDOWS[window]
        return c - w / 2.0, c + w / 2.0
    try:
        lo, hi = (float(v) for v in window)
    except (TypeError, ValueError):
        raise ValueError(f"window must be a preset name or (lo, hi), got {window!r}") from None
    if not hi > lo:
        raise ValueError(f"window must have lo < hi, got {window!r}")
    return lo, hi


def _normalize(x: np.ndarray, window, normalize):
    x = x.astype(np.float32)
    if window is not None:
        lo, hi = window_range(window)
        return np.clip((np.clip(x, lo, hi) - lo) * (2.0 / (hi - lo)) - 1.0, -1.0, 1.0)
    if normalize is None:
        return x
    if normalize == "minmax":
        lo, hi = float(x.min()), float(x.max())
        return np.zeros_like(x) if hi <= lo else np.clip((x - lo) * (2.0 / (hi - lo)) - 1.0, -1.0, 1.0)
    if normalize == "zscore":
        return (x - x.mean()) / (x.std() + 1e-6)
    raise ValueError(f"normalize must be 'minmax', 'zscore' or None, got {normalize!r}")


def _resample(x: np.ndarray, spacing, target):
    from scipy.ndimage import zoom

    if target is None:
        return x
    target = (float(target),) * x.ndim if np.isscalar(target) else tuple(float(t) for t in target)
    if len(target) != x.ndim or min(target) <= 0:
        raise ValueError(f"spacing must be a positive number or {x.ndim} numbers, got {target!r}")
    factors = [s / t for s, t in zip(spacing, target)]
    return zoom(x, factors, order=1, mode="nearest") if any(abs(f - 1) > 1e-6 for f in factors) else x


def _fit_size(x: np.ndarray, size, resize: str, spatial: int):
    """Centre-crop / zero-pad (or interpolate) the first `spatial` axes of x to `size`."""
    if size is None:
        return x
    size = (int(size),) * spatial if np.isscalar(size) else tuple(int(s) for s in size)
    if len(size) != spatial or min(size) < 1:
        raise ValueError(f"size must be a positive int or {spatial} ints, got {size!r}")
    if resize == "interpolate":
        from scipy.ndimage import zoom

        factors = [t / s for t, s in zip(size, x.shape[:spatial])] + [1] * (x.ndim - spatial)
        out = zoom(x, factors, order=1, mode="nearest")
        return out[tuple(slice(0, s) for s in size)]
    if resize != "crop":
        raise ValueError(f"resize must be 'crop' or 'interpolate', got {resize!r}")
    out = x
    for ax, target in enumerate(size):
        cur = out.shape[ax]
        if cur > target:
            start = (cur - target) // 2
            out = np.take(out, np.arange(start, start + target), axis=ax)
        elif cur < target:
            pad = [(0, 0)] * out.ndim
            pad[ax] = ((target - cur) // 2, target - cur - (target - cur) // 2)
            out = np.pad(out, pad, mode="constant", constant_values=float(out.min()) if out.size else 0.0)
    return out


def _volumes_to_items(volumes, names, mode: str, axis: int, size, resize, window, normalize):
    """List of (D, H, W) volumes -> stacked (N, H, W, 1) slices or (N, D, H, W, 1) volumes."""
    if mode not in ("slices", "volumes"):
        raise ValueError(f"mode must be 'slices' or 'volumes', got {mode!r}")
    items = []
    for vol, name in zip(volumes, names):
        if mode == "volumes":
            v = _fit_size(vol, size, resize, 3)
            items.append((_normalize(v, window, normalize)[..., None], name))
        else:
            if axis not in (0, 1, 2):
                raise ValueError(f"axis must be 0, 1 or 2, got {axis!r}")
            for sl in np.moveaxis(vol, axis, 0):
                s = _fit_size(sl, size, resize, 2)
                items.append((_normalize(s, window, normalize)[..., None], name))
    shapes = {it[0].shape for it in items}
    if len(shapes) > 1:
        first = items[0]
        other = next(it for it in items if it[0].shape != first[0].shape)
        raise ValueError(f"images differ in shape: {first[0].shape} in '{first[1]}' but {other[0].shape} "
                         f"in '{other[1]}'; pass size=... to crop/pad or interpolate them to one shape")
    return np.stack([it[0] for it in items]).astype(np.float32)


def _as_paths(paths, what, extensions):
    if isinstance(paths, (str, os.PathLike)):
        p = _existing(paths, what)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.is_file() and q.name.lower().endswith(extensions))
            if not found:
                raise ValueError(f"{what}: no {'/'.join(extensions)} files in directory '{p}'")
            return found
        return [p]
    out = [_existing(q, what) for q in paths]
    if not out:
        raise ValueError(f"{what}: got an empty list of paths")
    return out


# ----------------------------------------------------------------------------------------------
# NIfTI

def read_nifti(path):
    """One NIfTI volume -> (volume float32 (X, Y, Z) in file order, voxel spacing (3,) mm, affine).

    4D files with one volume are squeezed; other ranks raise ValueError naming the file.
    """
    nib = _require("nibabel", "NIfTI files")
    p = _existing(path, "read_nifti")
    if p.is_dir() or not p.name.lower().endswith(NIFTI_EXTENSIONS):
        raise ValueError(f"read_nifti: expected a .nii or .nii.gz file, got '{p}'")
    try:
        img = nib.load(str(p))
        data = np.asarray(img.dataobj, dtype=np.float32)
    except Exception as err:  # nibabel raises several types for bad files
        raise ValueError(f"read_nifti: cannot read '{p}' as NIfTI: {err}") from err
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise ValueError(f"read_nifti: expected a 3D volume in '{p}', got {data.ndim}D data of shape {data.shape}")
    spacing = tuple(float(z) for z in img.header.get_zooms()[:3])
    return data, spacing, np.asarray(img.affine)


def nifti_dataset(paths, label_paths=None, mode: str = "slices", axis: int = 2, spacing=None, size=None,
                  resize: str = "crop", window=None, normalize: str | None = "minmax",
                  batch_size: int | None = None, shuffle: bool = False, seed: int = 0):
    """NIfTI volumes (a file, a directory of .nii/.nii.gz, or a list) as a `tf.data.Dataset`.

    Args:
        label_paths: matching label volumes (same order); then yields (image, label) with the
            labels as int32 (no intensity scaling, nearest-neighbour geometry).
        mode: "slices" yields (H, W, 1) slices along `axis`; "volumes" yields (X, Y, Z, 1).
        spacing, size, resize, window, normalize: see the module docstring.
    """
    paths = _as_paths(paths, "nifti_dataset", NIFTI_EXTENSIONS)
    vols, names = [], []
    for p in paths:
        data, sp, _ = read_nifti(p)
        vols.append(_resample(data, sp, spacing))
        names.append(str(p))
    images = _volumes_to_items(vols, names, mode, axis, size, resize, window, normalize)
    if label_paths is None:
        return as_dataset(images, batch_size=batch_size, shuffle=shuffle, seed=seed)
    lpaths = _as_paths(label_paths, "nifti_dataset", NIFTI_EXTENSIONS)
    if len(lpaths) != len(paths):
        raise ValueError(f"nifti_dataset: {len(paths)} images but {len(lpaths)} label files")
    labs = []
    for p, img_vol in zip(lpaths, vols):
        data, sp, _ = read_nifti(p)
        if spacing is not None:
            from scipy.ndimage import zoom

            target = (float(spacing),) * 3 if np.isscalar(spacing) else spacing
            data = zoom(data, [s / t for s, t in zip(sp, target)], order=0, mode="nearest")
        if data.shape != img_vol.shape:
            raise ValueError(f"nifti_dataset: label volume '{p}' has shape {data.shape}, its image {img_vol.shape}")
        labs.append(np.rint(data))
    labels = _volumes_to_items(labs, [str(p) for p in lpaths], mode, axis, size, resize, None, None)
    return as_dataset((images, labels.astype(np.int32)), batch_size=batch_size, shuffle=shuffle, seed=seed)


# ----------------------------------------------------------------------------------------------
# DICOM

def _dcmread(path):
    pydicom = _require("pydicom", "DICOM files")
    from pydicom.errors import InvalidDicomError

    try:
        return pydicom.dcmread(str(path))
    except InvalidDicomError as err:
        raise ValueError(f"'{path}' is not a valid DICOM file: {err}") from err
    except Exception as err:
        raise ValueError(f"'{path}' is a corrupt DICOM file: {err}") from err


def _pixels(ds, path) -> np.ndarray:
    try:
        arr = ds.pixel_array.astype(np.float32)
    except Exception as err:
        raise ValueError(f"'{path}': cannot decode DICOM pixel data: {err}") from err
    if arr.ndim != 2:
        raise ValueError(f"'{path}': expected a 2D DICOM image, got pixel data of shape {arr.shape}")
    slope = float(getattr(ds, "RescaleSlope", 1.0) or 1.0)
    intercept = float(getattr(ds, "RescaleIntercept", 0.0) or 0.0)
    return arr * slope + intercept


def read_dicom(path):
    """One DICOM image -> (image float32 (rows, cols) after RescaleSlope/Intercept (HU for CT),
    pixel spacing (2,) mm)."""
    p = _existing(path, "read_dicom")
    if p.is_dir():
        raise ValueError(f"read_dicom: expected a DICOM file, got the directory '{p}' (use read_dicom_series)")
    ds = _dcmread(p)
    spacing = tuple(float(v) for v in getattr(ds, "PixelSpacing", (1.0, 1.0)))
    return _pixels(ds, p), spacing


def _slice_position(ds):
    ipp, iop = getattr(ds, "ImagePositionPatient", None), getattr(ds, "ImageOrientationPatient", None)
    if ipp is not None and iop is not None:
        normal = np.cross(np.asarray(iop[:3], float), np.asarray(iop[3:], float))
        return float(np.dot(normal, np.asarray(ipp, float)))
    if getattr(ds, "SliceLocation", None) is not None:
        return float(ds.SliceLocation)
    return float(getattr(ds, "InstanceNumber", 0) or 0)


def read_dicom_series(path, series_uid: str | None = None):
    """A DICOM series (a directory or a list of files) -> (volume float32 (D, rows, cols),
    spacing (dz, dy, dx) mm, list of the files in slice order).

    Slices are sorted by their ImagePositionPatient projected on the slice normal (then
    SliceLocation, then InstanceNumber); values are RescaleSlope * stored + RescaleIntercept (HU for
    CT). A directory holding several series needs `series_uid`. Files that are not DICOM, corrupt
    pixel data or slices of another shape raise ValueError naming the file.
    """
    p = _existing(path, "read_dicom_series") if isinstance(path, (str, os.PathLike)) else None
    if p is not None and p.is_dir():
        files = sorted(q for q in p.iterdir() if q.is_file() and not q.name.startswith("."))
        if not files:
            raise ValueError(f"read_dicom_series: directory '{p}' holds no files")
    else:
        files = _as_paths(path, "read_dicom_series", ("",))
    headers = [(f, _dcmread(f)) for f in files]
    uids = sorted({str(getattr(ds, "SeriesInstanceUID", "")) for _, ds in headers})
    if series_uid is not None:
        headers = [(f, ds) for f, ds in headers if str(getattr(ds, "SeriesInstanceUID", "")) == series_uid]
        if not headers:
            raise ValueError(f"read_dicom_series: no file of series {series_uid!r}; found series {uids}")
    elif len(uids) > 1:
        raise ValueError(f"read_dicom_series: '{path}' holds {len(uids)} series {uids}; pick one with series_uid=")
    headers.sort(key=lambda fd: _slice_position(fd[1]))
    slices = []
    for f, ds in headers:
        img = _pixels(ds, f)
        if slices and img.shape != slices[0].shape:
            raise ValueError(f"read_dicom_series: '{f}' has shape {img.shape}, other slices {slices[0].shape}")
        slices.append(img)
    positions = [_slice_position(ds) for _, ds in headers]
    dz = float(np.median(np.diff(positions))) if len(positions) > 1 else \
        float(getattr(headers[0][1], "SliceThickness", 1.0) or 1.0)
    dy, dx = (float(v) for v in getattr(headers[0][1], "PixelSpacing", (1.0, 1.0)))
    return np.stack(slices).astype(np.float32), (abs(dz) or 1.0, dy, dx), [f for f, _ in headers]


def dicom_dataset(path, mode: str = "slices", series_uid: str | None = None, spacing=None, size=None,
                  resize: str = "crop", window="soft_tissue", normalize: str | None = "minmax",
                  batch_size: int | None = None, shuffle: bool = False, seed: int = 0):
    """A DICOM series as a `tf.data.Dataset` of (rows, cols, 1) slices or one (D, rows, cols, 1)
    volume (mode="volumes"), windowed to [-1, 1] (default soft-tissue window, W 400 / L 40 HU; a
    preset name of `WINDOWS`, a (lo, hi) pair, or None for `normalize`)."""
    vol, sp, files = read_dicom_series(path, series_uid=series_uid)
    vol = _resample(vol, sp, spacing)
    images = _volumes_to_items([vol], [str(files[0])], mode, 0, size, resize, window, normalize)
    return as_dataset(images, batch_size=batch_size, shuffle=shuffle, seed=seed)


# ----------------------------------------------------------------------------------------------
# PNG / JPEG folders

def read_image(path, color_mode: str = "grayscale") -> np.ndarray:
    """A PNG/JPEG/TIFF/BMP file -> float32 (H, W, C) in [0, 1] (8- and 16-bit aware)."""
    from PIL import Image, UnidentifiedImageError

    p = _existing(path, "read_image")
    if color_mode not in ("grayscale", "rgb"):
        raise ValueError(f"color_mode must be 'grayscale' or 'rgb', got {color_mode!r}")
    try:
        with Image.open(p) as im:
            im.load()
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                arr = np.asarray(im, dtype=np.float32) / 65535.0
                arr = np.clip(arr, 0, 1)
                arr = arr[..., None] if color_mode == "grayscale" else np.repeat(arr[..., None], 3, -1)
            else:
                arr = np.asarray(im.convert("L" if color_mode == "grayscale" else "RGB"), np.float32) / 255.0
                arr = arr[..., None] if arr.ndim == 2 else arr
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise ValueError(f"read_image: cannot decode '{p}' as an image: {err}") from err
    return arr


def image_folder_dataset(directory, size=None, color_mode: str = "grayscale", labels: str | None = "inferred",
                         resize: str = "interpolate", batch_size: int | None = None,
                         shuffle: bool = False, seed: int = 0):
    """PNG/JPEG images of a folder as a `tf.data.Dataset`, scaled to [-1, 1].

    With labels="inferred" and one sub-folder per class, yields (image, label) with int32 labels
    indexing the sorted sub-folder names, which the returned dataset carries as `.class_names`;
    labels=None (or a flat folder) yields images only (`.class_names` is None). Images are
    interpolated to `size` (or centre-cropped/padded with resize="crop"); all must agree in shape.
    """
    d = _existing(directory, "image_folder_dataset")
    if not d.is_dir():
        raise ValueError(f"image_folder_dataset: expected a directory, got the file '{d}'")
    if labels not in ("inferred", None):
        raise ValueError(f"labels must be 'inferred' or None, got {labels!r}")
    subdirs = sorted(q for q in d.iterdir() if q.is_dir())
    if labels == "inferred" and subdirs:
        class_names = [s.name for s in subdirs]
        files = [(f, i) for i, s in enumerate(subdirs) for f in sorted(s.iterdir())
                 if f.is_file() and f.name.lower().endswith(IMAGE_EXTENSIONS)]
    else:
        class_names = None
        files = [(f, -1) for f in sorted(d.iterdir()) if f.is_file() and f.name.lower().endswith(IMAGE_EXTENSIONS)]
    if not files:
        raise ValueError(f"image_folder_dataset: no {'/'.join(IMAGE_EXTENSIONS)} images in '{d}'")
    images = []
    for f, _ in files:
        im = _fit_size(read_image(f, color_mode), size, resize, 2)
        if images and im.shape != images[0].shape:
            raise ValueError(f"image_folder_dataset: '{f}' has shape {im.shape}, the first image "
                             f"{images[0].shape}; pass size=(H, W)")
        images.append(im)
    x = np.stack(images).astype(np.float32) * 2.0 - 1.0
    data = x if class_names is None else (x, np.array([i for _, i in files], np.int32))
    ds = as_dataset(data, batch_size=batch_size, shuffle=shuffle, seed=seed)
    ds.class_names = class_names
    return ds


# ----------------------------------------------------------------------------------------------
# MedMNIST .npz

def medmnist_arrays(path, split: str = "train"):
    """A MedMNIST-style .npz (keys `{split}_images`, `{split}_labels`) -> (images float32 in
    [-1, 1] channel-last, (N, H, W, C) or (N, D, H, W, 1) for 3D sets; labels int32 (N,) or
    (N, K) for multi-label sets)."""
    p = _existing(path, "medmnist")
    if split not in ("train", "val", "test"):
        raise ValueError(f"medmnist: split must be 'train', 'val' or 'test', got {split!r}")
    if p.is_dir() or not p.name.lower().endswith(".npz"):
        raise ValueError(f"medmnist: expected a .npz file, got '{p}'")
    try:
        z = np.load(p, allow_pickle=False)
    except Exception as err:
        raise ValueError(f"medmnist: cannot read '{p}' as a .npz archive: {err}") from err
    if not hasattr(z, "files"):
        raise ValueError(f"medmnist: '{p}' holds a single array, not a .npz archive of named arrays")
    with z:
        keys = list(z.files)
        if f"{split}_images" not in keys or f"{split}_labels" not in keys:
            raise ValueError(f"medmnist: '{p}' has no '{split}_images'/'{split}_labels' arrays; it holds {keys}")
        try:
            images, labels = z[f"{split}_images"], z[f"{split}_labels"]
        except Exception as err:
            raise ValueError(f"medmnist: cannot read the arrays of '{p}': {err}") from err
    if images.ndim not in (3, 4) or len(images) != len(labels):
        raise ValueError(f"medmnist: '{p}' {split}_images has shape {images.shape} and labels {labels.shape}; "
                         f"expected (N, H, W[, C]) or (N, D, H, W) with N labels")
    scale = 255.0 if images.dtype == np.uint8 else max(float(images.max()), 1e-6)
    x = images.astype(np.float32) / scale * 2.0 - 1.0
    if images.ndim == 3 or (images.ndim == 4 and images.shape[-1] not in (1, 3)):
        x = x[..., None]  # grayscale 2D (N, H, W) or 3D volumes (N, D, H, W)
    labels = np.asarray(labels).astype(np.int32)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    return x, labels


def medmnist_dataset(path, split: str = "train", batch_size: int | None = None,
                     shuffle: bool | None = None, seed: int = 0):
    """A MedMNIST-style .npz as a `tf.data.Dataset` of (image, label) (see `medmnist_arrays`)."""
    x, y = medmnist_arrays(path, split)
    return as_dataset((x, y), batch_size=batch_size,
                      shuffle=(split == "train") if shuffle is None else shuffle, seed=seed)
