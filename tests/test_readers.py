"""Readers of real files: DICOM (pydicom's bundled test files), NIfTI (nibabel's bundled test
data), PNG folders and MedMNIST-style .npz files written by the tests; errors name the file."""
import sys

import numpy as np
import pytest

from advzoo.data import readers as R

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")
from pydicom.data import get_testdata_file  # noqa: E402

CT_SMALL = get_testdata_file("CT_small.dcm")
MR_SMALL = get_testdata_file("MR_small.dcm")


def _nib_data(name):
    from nibabel.testing import data_path

    import os

    return os.path.join(data_path, name)


# ---------------------------------------------------------------- DICOM

def test_read_dicom_applies_rescale_to_hu():
    img, spacing = R.read_dicom(CT_SMALL)
    ds = pydicom.dcmread(CT_SMALL)
    assert img.shape == (128, 128) and img.dtype == np.float32
    expected = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    np.testing.assert_allclose(img, expected)
    assert float(ds.RescaleIntercept) != 0  # so the test really checks the rescale
    assert spacing == tuple(float(v) for v in ds.PixelSpacing)
    mr, _ = R.read_dicom(MR_SMALL)
    assert mr.shape == (64, 64) and mr.max() > 0


def _write_series(tmp_path, positions):
    """Copies of CT_small at the given z positions, pixel values offset by their z, files named
    in an order unrelated to position."""
    ds0 = pydicom.dcmread(CT_SMALL)
    base = ds0.pixel_array.astype(np.int32)
    for k, z in enumerate(positions):
        ds = pydicom.dcmread(CT_SMALL)
        ds.ImagePositionPatient = [0.0, 0.0, float(z)]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.InstanceNumber = 10 - k
        ds.PixelData = np.clip(base + int(z) * 10, 0, 4000).astype(ds0.pixel_array.dtype).tobytes()
        ds.save_as(tmp_path / f"slice_{k}.dcm")
    return base


def test_dicom_series_sorted_by_position(tmp_path):
    positions = [7.5, 0.0, 5.0, 2.5]
    _write_series(tmp_path, positions)
    vol, spacing, files = R.read_dicom_series(tmp_path)
    assert vol.shape == (4, 128, 128)
    assert spacing[0] == pytest.approx(2.5)
    means = vol.mean(axis=(1, 2))
    assert np.all(np.diff(means) > 0)  # z increases along the volume
    assert [f.name for f in files] == ["slice_1.dcm", "slice_3.dcm", "slice_2.dcm", "slice_0.dcm"]
    ds = R.dicom_dataset(tmp_path, window="soft_tissue")
    slices = np.stack([s.numpy() for s in ds])
    assert slices.shape == (4, 128, 128, 1) and slices.min() >= -1 and slices.max() <= 1
    (vol_t,) = list(R.dicom_dataset(tmp_path, mode="volumes", window=(-1000, 1000)))
    assert tuple(vol_t.shape) == (4, 128, 128, 1)


def test_corrupt_and_foreign_dicom_files_are_named(tmp_path):
    bad = tmp_path / "garbage.dcm"
    bad.write_bytes(b"this is not a dicom file" * 10)
    with pytest.raises(ValueError, match="garbage.dcm"):
        R.read_dicom(bad)
    raw = open(CT_SMALL, "rb").read()
    trunc = tmp_path / "truncated.dcm"
    trunc.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="truncated.dcm"):
        R.read_dicom(trunc)
    series = tmp_path / "series"
    series.mkdir()
    _write_series(series, [0.0, 1.0])
    (series / "notes.txt").write_text("not an image")
    with pytest.raises(ValueError, match="notes.txt"):
        R.read_dicom_series(series)
    with pytest.raises(FileNotFoundError, match="no_such_dir"):
        R.read_dicom_series(tmp_path / "no_such_dir")


def test_dicom_series_with_mismatched_shape_names_file(tmp_path):
    _write_series(tmp_path, [0.0, 1.0])
    import shutil

    shutil.copy(MR_SMALL, tmp_path / "mr_intruder.dcm")
    ds = pydicom.dcmread(tmp_path / "mr_intruder.dcm")
    ds.SeriesInstanceUID = pydicom.dcmread(tmp_path / "slice_0.dcm").SeriesInstanceUID
    ds.save_as(tmp_path / "mr_intruder.dcm")
    with pytest.raises(ValueError, match="mr_intruder.dcm"):
        R.read_dicom_series(tmp_path)


# ---------------------------------------------------------------- NIfTI

def test_read_bundled_nifti_and_reject_4d():
    vol, spacing, affine = R.read_nifti(_nib_data("anatomical.nii"))
    assert vol.ndim == 3 and vol.dtype == np.float32 and affine.shape == (4, 4)
    assert len(spacing) == 3 and min(spacing) > 0
    with pytest.raises(ValueError, match=r"3D volume in .*example4d\.nii\.gz.*got 4D"):
        R.read_nifti(_nib_data("example4d.nii.gz"))
    ds = R.nifti_dataset(_nib_data("anatomical.nii"), axis=2)
    n = sum(1 for _ in ds)
    assert n == vol.shape[2]


def test_nifti_dataset_with_labels_spacing_and_size(tmp_path):
    rng = np.random.default_rng(0)
    img = rng.normal(size=(20, 24, 6)).astype(np.float32)
    lab = (img > 1).astype(np.int16)
    affine = np.diag([2.0, 2.0, 4.0, 1.0])
    nib.save(nib.Nifti1Image(img, affine), tmp_path / "img.nii.gz")
    nib.save(nib.Nifti1Image(lab, affine), tmp_path / "lab.nii.gz")
    ds = R.nifti_dataset([tmp_path / "img.nii.gz"], label_paths=[tmp_path / "lab.nii.gz"], size=16)
    pairs = list(ds)
    assert len(pairs) == 6
    x, y = pairs[0]
    assert tuple(x.shape) == (16, 16, 1) and y.dtype.name == "int32"
    assert float(x.numpy().min()) >= -1 and float(x.numpy().max()) <= 1
    ds = R.nifti_dataset(tmp_path / "img.nii.gz", mode="volumes", spacing=(2.0, 2.0, 2.0), normalize=None)
    (v,) = list(ds)
    assert tuple(v.shape) == (20, 24, 12, 1)  # z resampled from 4 mm to 2 mm
    (tmp_path / "not_nifti.txt").write_text("x")
    with pytest.raises(ValueError, match="not_nifti.txt"):
        R.read_nifti(tmp_path / "not_nifti.txt")
    (tmp_path / "broken.nii").write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match="broken.nii"):
        R.read_nifti(tmp_path / "broken.nii")


def test_missing_optional_dependency_names_the_extra(monkeypatch):
    nifti = _nib_data("anatomical.nii")  # (found with nibabel, before it goes missing)
    monkeypatch.setitem(sys.modules, "nibabel", None)
    with pytest.raises(ImportError, match=r"pip install nibabel`.*\[medical\]"):
        R.read_nifti(nifti)
    monkeypatch.setitem(sys.modules, "pydicom", None)
    with pytest.raises(ImportError, match=r"pydicom.*pip install pydicom`.*\.\[medical\]"):
        R.read_dicom(CT_SMALL)


# ---------------------------------------------------------------- PNG / JPEG folders

def test_image_folder_with_classes_8_and_16_bit(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for cls in ("abnormal", "normal"):
        (tmp_path / cls).mkdir()
        for i in range(3):
            Image.fromarray(rng.integers(0, 256, (20, 20), dtype=np.uint8)).save(tmp_path / cls / f"{i}.png")
    Image.fromarray(np.full((20, 20), 65535, np.uint16)).save(tmp_path / "normal" / "bright16.png")
    (tmp_path / "normal" / "readme.txt").write_text("ignored: not an image")
    ds = R.image_folder_dataset(tmp_path, size=(16, 16), batch_size=16)
    assert ds.class_names == ["abnormal", "normal"]
    x, y = next(iter(ds))
    assert tuple(x.shape) == (7, 16, 16, 1) and list(y.numpy()) == [0, 0, 0, 1, 1, 1, 1]
    x = x.numpy()
    assert x.min() >= -1 and x.max() <= 1
    np.testing.assert_allclose(x[6], 1.0, atol=1e-5)  # the 16-bit white image (sorted last)
    rgb = R.image_folder_dataset(tmp_path / "abnormal", color_mode="rgb", labels=None)
    assert tuple(next(iter(rgb)).shape) == (20, 20, 3)


def test_image_folder_errors_name_files(tmp_path):
    from PIL import Image

    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(np.zeros((9, 8), np.uint8)).save(tmp_path / "b.png")
    with pytest.raises(ValueError, match="b.png"):
        R.image_folder_dataset(tmp_path, resize="crop")
    (tmp_path / "c.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="c.png"):
        R.image_folder_dataset(tmp_path, size=8)
    with pytest.raises(ValueError, match="expected a directory"):
        R.image_folder_dataset(tmp_path / "a.png")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no .*images"):
        R.image_folder_dataset(empty)


# ---------------------------------------------------------------- MedMNIST .npz

def test_medmnist_npz_2d_and_3d(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "pneumonia.npz",
             train_images=rng.integers(0, 256, (10, 28, 28), dtype=np.uint8),
             train_labels=rng.integers(0, 2, (10, 1)),
             test_images=rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
             test_labels=rng.integers(0, 2, (4, 1)))
    x, y = R.medmnist_arrays(tmp_path / "pneumonia.npz", "train")
    assert x.shape == (10, 28, 28, 1) and y.shape == (10,) and x.min() >= -1 and x.max() <= 1
    ds = R.medmnist_dataset(tmp_path / "pneumonia.npz", "test", batch_size=4)
    xb, yb = next(iter(ds))
    assert tuple(xb.shape) == (4, 28, 28, 1)
    with pytest.raises(ValueError, match=r"pneumonia.npz.*val_images"):
        R.medmnist_arrays(tmp_path / "pneumonia.npz", "val")
    np.savez(tmp_path / "organ3d.npz", train_images=rng.integers(0, 256, (3, 28, 28, 28), dtype=np.uint8),
             train_labels=rng.integers(0, 11, (3, 1)))
    x3, _ = R.medmnist_arrays(tmp_path / "organ3d.npz")
    assert x3.shape == (3, 28, 28, 28, 1)
    (tmp_path / "fake.npz").write_bytes(b"zip? no")
    with pytest.raises(ValueError, match="fake.npz"):
        R.medmnist_arrays(tmp_path / "fake.npz")
    with pytest.raises(ValueError, match="expected a .npz file"):
        R.medmnist_arrays(CT_SMALL)
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        R.medmnist_arrays(tmp_path / "missing.npz")
