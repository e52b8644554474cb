"""Read a user's scan with its geometry; write a model's output back in the same format and geometry.

This is what `advzoo apply MODEL INPUT --out OUTPUT` runs on: `find_scans` lists the inputs,
`read_scan` gives each as a `Scan` (float32 in physical units, channels-last), and `write_scan`
stores the model's output so that viewers overlay it on the original:

- NIfTI keeps the affine and the whole header (qform/sform and their codes, units, intent), so the
  output lands on the same voxels in world space; only the data type and scaling are reset.
- DICOM becomes a NEW series of the same study (new SeriesInstanceUID and SOPInstanceUIDs, same
  StudyInstanceUID, patient tags, ImagePositionPatient/ImageOrientationPatient/PixelSpacing/
  SliceThickness per slice), so PACS shows it next to the input and never confuses the two.
- PNG/TIFF/JPEG/BMP keep the pixel grid and bit depth; values are in the input's range.
Every write is atomic (a temporary file or folder beside the target, then a rename) and never
replaces an existing output unless `overwrite=True`. Errors are `AdvzooError` naming the path.
"""
from __future__ import annotations

import copy
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from advzoo.data import readers as _r
from advzoo.errors import AdvzooError

IMAGE_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF",
                  ".bmp": "BMP"}
DICOM_SUFFIXES = (".dcm", ".dicom", ".ima")
ACCEPTED = ("NIfTI (.nii, .nii.gz), DICOM (.dcm or extensionless, or a folder of one series), "
            "PNG/JPEG/TIFF/BMP images, NumPy .npy")
#: `format=` values of `write_scan` and what they mean.
FORMATS = {"nifti": "nifti", "nii": "nifti", "nii.gz": "nifti", "dicom": "dicom", "dcm": "dicom",
           "dicom_series": "dicom", "npy": "npy", "image": "image", "png": "png", "jpg": "jpeg",
           "jpeg": "jpeg", "tif": "tiff", "tiff": "tiff", "bmp": "bmp"}
_IMG_EXT = {"png": ".png", "jpeg": ".jpg", "tiff": ".tif", "bmp": ".bmp"}


@dataclass
class Scan:
    """A scan as read: `array` float32 channels-last in physical units (HU for CT), 2D (H, W, C)
    or 3D ((X, Y, Z, C) for NIfTI in nibabel's order, (Z, H, W, C) slice-sorted for a DICOM
    series); `meta` holds what `write_scan` needs to restore the format and geometry."""
    array: np.ndarray
    format: str
    path: Path
    spatial_dims: int
    meta: dict = field(default_factory=dict)
    modality: str | None = None

    @property
    def spatial_shape(self) -> tuple:
        return tuple(self.array.shape[: self.spatial_dims])


def _name(p: Path) -> str:
    """File name without its scan extension (.nii.gz counts as one)."""
    low = p.name.lower()
    for ext in (".nii.gz", ".nii", ".npy", *IMAGE_SUFFIXES, *DICOM_SUFFIXES):
        if low.endswith(ext):
            return p.name[: -len(ext)]
    return p.name


def _is_dicom(p: Path) -> bool:
    if p.suffix.lower() in DICOM_SUFFIXES:
        return True
    try:
        with open(p, "rb") as f:
            return f.read(132)[128:] == b"DICM"
    except OSError:
        return False


def _series_folder(d: Path) -> bool:
    """True when every (non-hidden) file of `d` is DICOM, at least two, all of one series."""
    files = [q for q in d.iterdir() if q.is_file() and not q.name.startswith(".")]
    if len(files) < 2 or not all(_is_dicom(q) for q in files):
        return False
    import pydicom

    try:
        uids = {str(pydicom.dcmread(q, stop_before_pixels=True, specific_tags=["SeriesInstanceUID"])
                    .get("SeriesInstanceUID", "")) for q in files}
    except Exception:
        return False
    return len(uids) == 1


def _existing(path) -> Path:
    p = Path(os.fspath(path))
    if not p.exists():
        raise AdvzooError(f"no such file or folder: '{p}'")
    return p


def find_scans(path) -> list[Path]:
    """The scans under `path`: a file -> [file]; a folder holding one DICOM series -> [folder];
    another folder -> its scan files and single-series DICOM sub-folders, sorted by name (files of
    several DICOM series are listed one by one)."""
    p = _existing(path)
    if p.is_file():
        return [p]
    if _series_folder(p):
        return [p]
    found = sorted((q for q in p.iterdir() if not q.name.startswith(".")
                    and ((q.is_file() and (q.name.lower().endswith((".nii", ".nii.gz", ".npy"))
                                           or q.suffix.lower() in IMAGE_SUFFIXES or _is_dicom(q)))
                         or (q.is_dir() and _series_folder(q)))),
                   key=lambda q: q.name)
    if not found:
        raise AdvzooError(f"folder '{p}' holds no scan files; accepted: {ACCEPTED}")
    return found


# ---------------------------------------------------------------------------------------- read

def _read_nifti(p: Path) -> Scan:
    nib = _r._require("nibabel", "NIfTI files")
    try:
        img = nib.load(str(p))
        data = np.asarray(img.dataobj, dtype=np.float32)
    except Exception as err:
        raise AdvzooError(f"cannot read '{p}' as NIfTI ({err}); accepted: {ACCEPTED}") from err
    if data.ndim not in (2, 3, 4):
        raise AdvzooError(f"'{p}' holds {data.ndim}D data of shape {data.shape}; expected 2D, 3D, "
                          f"or 4D (the 4th axis read as channels)")
    sd = min(data.ndim, 3)
    arr = data[..., None] if data.ndim == sd else data
    meta = {"affine": np.asarray(img.affine), "header": img.header.copy(), "ndim": data.ndim,
            "ext": ".nii.gz" if p.name.lower().endswith(".gz") else ".nii"}
    return Scan(arr, "nifti", p, sd, meta)


def _read_dicom(p: Path) -> Scan:
    try:
        if p.is_dir():
            vol, _, files = _r.read_dicom_series(p)
            import pydicom

            dsets = [pydicom.dcmread(f, stop_before_pixels=True) for f in files]
            arr, fmt, sd = vol[..., None], "dicom_series", 3
        else:
            ds = _r._dcmread(p)
            arr, files, dsets, fmt, sd = _r._pixels(ds, p)[..., None], [p], [ds], "dicom", 2
    except ValueError as err:
        what = f"folder '{p}' is read as one DICOM series: " if p.is_dir() else ""
        raise AdvzooError(f"{what}{err}; accepted: {ACCEPTED}") from err
    for ds in dsets:
        if "PixelData" in ds:
            del ds.PixelData
    mod = dsets[0].get("Modality")
    return Scan(arr.astype(np.float32), fmt, p, sd, {"datasets": dsets, "files": list(files)},
                str(mod) if mod else None)


def _read_image(p: Path) -> Scan:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(p) as im:
            im.load()
            mode = {"1": "L", "LA": "L", "P": "RGB", "RGBA": "RGB", "CMYK": "RGB", "YCbCr": "RGB",
                    "I;16B": "I;16", "I;16L": "I;16"}.get(im.mode, im.mode)
            arr = np.asarray(im if mode == im.mode or mode == "I;16" else im.convert(mode))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise AdvzooError(f"cannot decode '{p}' as an image ({err}); accepted: {ACCEPTED}") from err
    if mode not in ("L", "RGB", "I;16", "I", "F"):
        raise AdvzooError(f"'{p}': unsupported image mode {mode!r}")
    bits = {"L": 8, "RGB": 8, "I;16": 16, "F": 32}.get(mode, 16 if p.suffix.lower() == ".png" else 32)
    arr = arr.astype(np.float32)
    return Scan(arr[..., None] if arr.ndim == 2 else arr, "image", p, 2,
                {"mode": mode, "bits": bits, "suffix": p.suffix.lower(), "ndim": arr.ndim})


def _read_npy(p: Path) -> Scan:
    try:
        data = np.load(p, allow_pickle=False)
    except Exception as err:
        raise AdvzooError(f"cannot read '{p}' as a .npy array ({err}); accepted: {ACCEPTED}") from err
    if not (isinstance(data, np.ndarray) and data.ndim in (2, 3, 4) and np.issubdtype(data.dtype, np.number)):
        raise AdvzooError(f"'{p}': expected a numeric (H, W[, C]) image or (X, Y, Z[, C]) volume, "
                          f"got {getattr(data, 'dtype', type(data))} of shape {getattr(data, 'shape', '?')}")
    # 3D with a small last axis is an image with channels; otherwise 3D is a volume
    sd = 2 if data.ndim == 2 or (data.ndim == 3 and data.shape[-1] <= 4) else 3
    arr = data[..., None] if data.ndim == sd else data
    return Scan(arr.astype(np.float32), "npy", p, sd, {"ndim": data.ndim})


def read_scan(path) -> Scan:
    """Read one scan file, or a folder holding one DICOM series, with its geometry (see `Scan`)."""
    p = _existing(path)
    low = p.name.lower()
    if p.is_dir():
        return _read_dicom(p)
    if low.endswith((".nii", ".nii.gz")):
        return _read_nifti(p)
    if low.endswith(".npy"):
        return _read_npy(p)
    if p.suffix.lower() in IMAGE_SUFFIXES:
        return _read_image(p)
    if _is_dicom(p) or not p.suffix:
        return _read_dicom(p)
    raise AdvzooError(f"'{p}': unsupported file type {p.suffix!r}; accepted: {ACCEPTED}")


# --------------------------------------------------------------------------------------- write

def _resolve_format(reference: Scan, format) -> str:
    if format is None:
        fmt = FORMATS.get(reference.format, reference.format)
    elif str(format).lower().lstrip(".") in FORMATS:
        fmt = FORMATS[str(format).lower().lstrip(".")]
    else:
        raise AdvzooError(f"unknown output format {format!r}; accepted: {', '.join(FORMATS)}")
    if fmt == "image":
        if reference.format != "image":
            raise AdvzooError(f"format 'image' needs an image reference, not {reference.format!r}")
        fmt = IMAGE_SUFFIXES[reference.meta["suffix"]].lower()
    allowed = {"nifti": ("nifti", "dicom", "dicom_series"), "dicom": ("dicom", "dicom_series"),
               "npy": None}.get(fmt, ("image",))
    if allowed is not None and reference.format not in allowed:
        raise AdvzooError(f"cannot write a {reference.format!r} scan ('{reference.path}') as {fmt!r}; "
                          f"that needs a reference of format {' or '.join(allowed)}")
    return fmt


def output_path(reference: Scan, out_dir, format: str | None = None) -> Path:
    """Where the output of `reference` goes inside `out_dir`: same base name, the format's
    extension (a DICOM series gets a folder of the same name)."""
    fmt, base = _resolve_format(reference, format), _name(reference.path)
    if fmt == "nifti":
        ext = reference.meta["ext"] if reference.format == "nifti" else ".nii.gz"
    elif fmt == "dicom":
        ext = "" if reference.format == "dicom_series" else ".dcm"
    elif fmt == "npy":
        ext = ".npy"
    else:
        same = IMAGE_SUFFIXES.get(reference.meta["suffix"], "").lower() == fmt
        ext = reference.meta["suffix"] if same else _IMG_EXT[fmt]
    return Path(os.fspath(out_dir)) / (base + ext)


def _int_dtype(x: np.ndarray):
    lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
    for dt in (np.uint8, np.int16, np.int32):
        if np.iinfo(dt).min <= lo and hi <= np.iinfo(dt).max:
            return dt
    raise AdvzooError(f"label values {lo:g}..{hi:g} do not fit a 32-bit integer")


def _squeeze(reference: Scan, x: np.ndarray, orig_ndim: int) -> np.ndarray:
    """Drop the channel axis of a single-channel output when the input had none."""
    return x[..., 0] if x.shape[-1] == 1 and orig_ndim == reference.spatial_dims else x


def _write_nifti(reference: Scan, x: np.ndarray, tmp: Path, labels: bool):
    nib = _r._require("nibabel", "NIfTI files")
    if reference.format == "nifti":
        hdr, affine = reference.meta["header"].copy(), reference.meta["affine"]
        data = _squeeze(reference, x, reference.meta["ndim"])
        if data.ndim == 3 and reference.spatial_dims == 2:
            data = data[:, :, None, :]  # a 2D image with channels: (X, Y, 1, C)
    else:  # DICOM: (Z, rows, cols, C) -> (cols, rows, Z, C), affine from the DICOM geometry
        hdr, affine = None, _dicom_affine(reference.meta["datasets"])
        data = (x[None] if reference.spatial_dims == 2 else x).transpose(2, 1, 0, 3)
        data = data[..., 0] if data.shape[-1] == 1 else data
    data = data.astype(_int_dtype(data) if labels else np.float32)
    img = nib.Nifti1Image(data, affine, header=hdr)
    img.header.set_data_dtype(data.dtype)
    img.header.set_slope_inter(1.0, 0.0)
    img.header["cal_min"], img.header["cal_max"] = 0, 0
    if hdr is None:
        img.header.set_qform(affine, code=1)
        img.header.set_sform(affine, code=1)
        img.header.set_xyzt_units("mm")
    nib.save(img, str(tmp))


def _dicom_affine(dsets) -> np.ndarray:
    """Voxel (col, row, slice) -> RAS mm, as dcm2niix/nibabel: LPS geometry with x and y negated."""
    first, last = dsets[0], dsets[-1]
    iop = np.asarray(first.get("ImageOrientationPatient", [1, 0, 0, 0, 1, 0]), float)
    dy, dx = (float(v) for v in first.get("PixelSpacing", [1.0, 1.0]))
    ipp0 = np.asarray(first.get("ImagePositionPatient", [0, 0, 0]), float)
    if len(dsets) > 1 and "ImagePositionPatient" in last:
        step = (np.asarray(last.ImagePositionPatient, float) - ipp0) / (len(dsets) - 1)
    else:
        step = np.cross(iop[:3], iop[3:]) * float(first.get("SliceThickness", 1.0) or 1.0)
    lps = np.eye(4)
    lps[:3, 0], lps[:3, 1], lps[:3, 2], lps[:3, 3] = iop[:3] * dx, iop[3:] * dy, step, ipp0
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps


def _ds(v: float) -> str:
    """A DICOM DS string (at most 16 characters) for v."""
    for prec in range(12, 0, -1):
        s = f"{v:.{prec}g}"
        if len(s) <= 16:
            return s
    raise AdvzooError(f"cannot encode {v!r} as a DICOM decimal string")


def _dicom_encoding(x: np.ndarray, ref, labels: bool):
    """(stored ints, slope, intercept, PixelRepresentation): the first candidate whose stored
    values fit. Slope <= 1 keeps values within 0.5 of what was written (HU for CT); only a range
    wider than 65535 needs a larger slope, and then the error is at most slope / 2."""
    lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
    cands = [(1.0, 0.0, np.int16), (1.0, 0.0, np.uint16)]
    if not labels:
        m0, b0 = float(ref.get("RescaleSlope", 1) or 1), float(ref.get("RescaleIntercept", 0) or 0)
        cands = ([(m0, b0, np.int16)] if 0 < m0 <= 1 else []) + cands
        b = float(np.floor(lo))
        cands += [(1.0, b, np.uint16), (max(hi - b, 1.0) / 65000.0, b, np.uint16)]
    for m, b, dt in cands:
        ms, bs = _ds(m), _ds(b)
        q = np.rint((x - float(bs)) / float(ms))
        if q.size == 0 or (np.iinfo(dt).min <= q.min() and q.max() <= np.iinfo(dt).max):
            return q.astype(dt), ms, bs, int(dt == np.int16)
    raise AdvzooError(f"values {lo:g}..{hi:g} do not fit 16-bit DICOM pixel data")


def _write_dicom(reference: Scan, x: np.ndarray, tmp: Path, labels: bool):
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    if x.shape[-1] != 1:
        raise AdvzooError(f"DICOM output must have 1 channel, got {x.shape[-1]}")
    dsets, files = reference.meta["datasets"], reference.meta["files"]
    vol = x[..., 0] if reference.spatial_dims == 3 else x[None, ..., 0]
    stored, slope, inter, pixrep = _dicom_encoding(vol, dsets[0], labels)
    series_uid, lo, hi = generate_uid(), float(vol.min()), float(vol.max())
    if reference.format == "dicom_series":
        tmp.mkdir()
    for k, src in enumerate(dsets):
        ds = copy.deepcopy(src)
        for kw in ("WindowCenter", "WindowWidth", "WindowCenterWidthExplanation", "VOILUTSequence",
                   "ModalityLUTSequence", "SmallestImagePixelValue", "LargestImagePixelValue",
                   "PixelPaddingValue", "NumberOfFrames", "PlanarConfiguration", "PixelData"):
            if kw in ds:
                delattr(ds, kw)
        ds.SOPInstanceUID, ds.SeriesInstanceUID = generate_uid(), series_uid
        ds.SeriesNumber = int(ds.get("SeriesNumber", 0) or 0) + 1000
        desc = str(ds.get("SeriesDescription", "") or "") + (" advzoo labels" if labels else " advzoo")
        ds.SeriesDescription = desc.strip()[-64:]
        ds.ImageType = ["DERIVED", "SECONDARY"]
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, pixrep
        ds.RescaleSlope, ds.RescaleIntercept = slope, inter
        if not labels:
            ds.WindowCenter, ds.WindowWidth = _ds((lo + hi) / 2), _ds(max(hi - lo, 1.0))
        ds.add_new(0x7FE00010, "OW", stored[k].astype(stored.dtype.newbyteorder("<")).tobytes())
        meta = ds.file_meta if getattr(ds, "file_meta", None) is not None else FileMetaDataset()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        meta.MediaStorageSOPClassUID = ds.get("SOPClassUID", meta.get("MediaStorageSOPClassUID", ""))
        ds.file_meta = meta
        target = tmp / Path(files[k]).name if reference.format == "dicom_series" else tmp
        pydicom.dcmwrite(str(target), ds, enforce_file_format=True)


def _write_image(reference: Scan, x: np.ndarray, tmp: Path, fmt: str, labels: bool):
    from PIL import Image

    c = x.shape[-1]
    if c not in (1, 3):
        raise AdvzooError(f"an image output needs 1 or 3 channels, got {c}")
    if labels and fmt == "jpeg":
        raise AdvzooError("labels cannot be written as JPEG (lossy); use png or tiff")
    if labels and (x.min() < 0 or x.max() > (255 if c == 3 else 65535)):
        raise AdvzooError(f"label values {x.min():g}..{x.max():g} do not fit an {fmt} image")
    bits, mode = reference.meta["bits"], reference.meta["mode"]
    if labels:
        dt = np.uint8 if x.max() <= 255 else np.uint16
    elif fmt in ("jpeg", "bmp") or c == 3 or bits == 8:
        dt = np.uint8  # 8-bit formats; values outside 0..255 are clipped
    else:
        dt = (np.float32 if mode == "F" else np.int32) if bits == 32 and fmt == "tiff" else np.uint16
    q = x if dt == np.float32 else np.clip(np.rint(x), np.iinfo(dt).min, np.iinfo(dt).max)
    img = Image.fromarray(q[..., 0].astype(dt) if c == 1 else q.astype(dt))
    img.save(str(tmp), format=fmt.upper())


def write_scan(reference: Scan, array, out_path, format: str | None = None, kind: str = "image",
               overwrite: bool = False) -> Path:
    """Write `array` (the model's output for `reference`, same spatial shape, channels-last) to
    `out_path` in `format` (default: the reference's), keeping the reference's geometry.

    kind="image": physical units (e.g. HU) -> float32 NIfTI, 16-bit DICOM with RescaleSlope/
    Intercept, images clipped and rounded to the reference's bit depth. kind="labels": an
    integer-valued map -> integer NIfTI, DICOM with slope 1/intercept 0, 8-bit PNG. The write is
    atomic; an existing `out_path` is replaced only with overwrite=True, the input never.
    """
    if kind not in ("image", "labels"):
        raise AdvzooError(f"kind must be 'image' or 'labels', got {kind!r}")
    fmt, labels = _resolve_format(reference, format), kind == "labels"
    x = np.asarray(array)
    if x.ndim == reference.spatial_dims:
        x = x[..., None]
    if x.ndim != reference.spatial_dims + 1 or x.shape[:-1] != reference.spatial_shape:
        raise AdvzooError(f"output shape {x.shape} does not match the spatial shape "
                          f"{reference.spatial_shape} of '{reference.path}' (array shape "
                          f"{reference.array.shape}); expected {reference.spatial_shape} + (channels,)")
    if not np.issubdtype(x.dtype, np.number) or not np.all(np.isfinite(x)):
        raise AdvzooError(f"output for '{reference.path}' holds non-finite or non-numeric values")
    if labels and not np.array_equal(x, np.rint(x)):
        raise AdvzooError(f"kind='labels' needs integer values; the output for '{reference.path}' "
                          f"has fractional ones")
    target = Path(os.fspath(out_path))
    if target.exists() and target.resolve() == reference.path.resolve():
        raise AdvzooError(f"refusing to write over the input '{target}'; choose another output path")
    if (target.exists() or target.is_symlink()) and not overwrite:
        raise AdvzooError(f"output '{target}' already exists; pass overwrite=True to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:8]
    tmp = target.parent / f".advzoo-tmp-{tag}-{target.name}"
    try:
        if fmt == "nifti":
            _write_nifti(reference, x, tmp, labels)
        elif fmt == "dicom":
            _write_dicom(reference, x, tmp, labels)
        elif fmt == "npy":
            data = _squeeze(reference, x, reference.meta.get("ndim", reference.array.ndim))
            with open(tmp, "wb") as f:
                np.save(f, data.astype(_int_dtype(data) if labels else np.float32))
        else:
            _write_image(reference, x, tmp, fmt, labels)
        _replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise
    return target


def _remove(p: Path):
    shutil.rmtree(p, ignore_errors=True) if p.is_dir() and not p.is_symlink() else p.unlink(missing_ok=True)


def _replace(tmp: Path, target: Path):
    """Move tmp onto target; a file replaces a file in one atomic rename, anything else goes
    through a backup that is restored if the final rename fails."""
    if not target.exists() or (tmp.is_file() and target.is_file()):
        os.replace(tmp, target)
        return
    backup = target.parent / f".advzoo-old-{uuid.uuid4().hex[:8]}-{target.name}"
    os.replace(target, backup)
    try:
        os.replace(tmp, target)
    except BaseException:
        os.replace(backup, target)
        raise
    _remove(backup)
