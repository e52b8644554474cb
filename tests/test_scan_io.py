"""advzoo.scan_io on real files shipped by installed packages: pydicom's CT_small/MR_small,
nibabel's anatomical.nii/example4d.nii.gz/standard.nii.gz, scikit-image's camera.png."""
import os
import shutil

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")
skdata = pytest.importorskip("skimage.data")
from nibabel.testing import data_path  # noqa: E402
from pydicom.data import get_testdata_file  # noqa: E402

from advzoo import scan_io as S  # noqa: E402
from advzoo.errors import AdvzooError  # noqa: E402

CT_SMALL = get_testdata_file("CT_small.dcm")
MR_SMALL = get_testdata_file("MR_small.dcm")
CAMERA = os.path.join(os.path.dirname(skdata.__file__), "camera.png")


def _nii(name):
    return os.path.join(data_path, name)


def _series(folder, zs=(5.0, 0.0, 2.5)):
    """Copies of CT_small at the given z (files named in an order unrelated to z), pixels offset by z."""
    folder.mkdir()
    ds0 = pydicom.dcmread(CT_SMALL)
    for k, z in enumerate(zs):
        ds = pydicom.dcmread(CT_SMALL)
        ds.ImagePositionPatient = [0.0, 0.0, float(z)]
        ds.SOPInstanceUID = pydicom.uid.generate_uid()
        ds.PixelData = (ds0.pixel_array + int(z * 10)).astype(ds0.pixel_array.dtype).tobytes()
        ds.save_as(folder / f"s{k}.dcm")
    return folder


# ---------------------------------------------------------------- NIfTI

@pytest.mark.parametrize("name", ["anatomical.nii", "standard.nii.gz"])
def test_nifti_round_trip_keeps_affine_and_codes(tmp_path, name):
    scan = S.read_scan(_nii(name))
    ref = nib.load(_nii(name))
    assert scan.format == "nifti" and scan.spatial_dims == 3 and scan.modality is None
    assert scan.array.shape == ref.shape + (1,) and scan.array.dtype == np.float32
    out = S.write_scan(scan, scan.array + 1, S.output_path(scan, tmp_path))
    assert out.name == name
    back = nib.load(out)
    assert back.shape == ref.shape and back.get_data_dtype().str[1:] == "f4"  # byte order kept
    np.testing.assert_array_equal(back.affine, ref.affine)
    for code in ("qform_code", "sform_code"):
        assert back.header[code] == ref.header[code]
    np.testing.assert_array_equal(np.asarray(back.dataobj), np.asarray(ref.dataobj, np.float32) + 1)


def test_nifti_4d_reads_as_channels_and_labels_are_integers(tmp_path):
    scan = S.read_scan(_nii("example4d.nii.gz"))
    assert scan.array.shape == (128, 96, 24, 2) and scan.spatial_dims == 3
    labels = (scan.array[..., :1] > scan.array.mean()).astype(np.float32) * 3
    out = S.write_scan(scan, labels, tmp_path / "lab.nii.gz", kind="labels")
    back = nib.load(out)
    assert back.get_data_dtype() == np.uint8 and back.shape == (128, 96, 24, 1)
    np.testing.assert_array_equal(np.asarray(back.dataobj), labels)
    with pytest.raises(AdvzooError, match="integer"):
        S.write_scan(scan, labels + 0.5, tmp_path / "bad.nii.gz", kind="labels")
    assert not (tmp_path / "bad.nii.gz").exists()


# ---------------------------------------------------------------- DICOM

@pytest.mark.parametrize("path", [CT_SMALL, MR_SMALL, get_testdata_file("MR_small_bigendian.dcm"),
                                  get_testdata_file("MR_small_RLE.dcm")])
def test_dicom_round_trip_is_new_series_same_geometry(tmp_path, path):
    scan = S.read_scan(path)
    ref = pydicom.dcmread(path)
    assert scan.format == "dicom" and scan.modality == ref.Modality and scan.array.shape[-1] == 1
    written = scan.array * 1.5 - 300.25  # a range that does not fit the input's rescale
    out = S.write_scan(scan, written, S.output_path(scan, tmp_path))
    ds = pydicom.dcmread(out)
    assert ds.SeriesInstanceUID != ref.SeriesInstanceUID and ds.SOPInstanceUID != ref.SOPInstanceUID
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    for kw in ("StudyInstanceUID", "PatientID", "ImagePositionPatient", "PixelSpacing",
               "ImageOrientationPatient"):
        assert ds[kw].value == ref[kw].value
    assert ds.SeriesDescription.endswith("advzoo") and ds.SeriesNumber != ref.get("SeriesNumber")
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit) == (16, 16, 15)
    back = S.read_scan(out)
    assert np.abs(back.array - written).max() <= 1.0


def test_dicom_labels_and_to_nifti(tmp_path):
    scan = S.read_scan(CT_SMALL)
    lab = (scan.array > 0).astype(np.int64) * 2
    out = S.write_scan(scan, lab, tmp_path / "lab.dcm", kind="labels")
    ds = pydicom.dcmread(out)
    assert float(ds.RescaleSlope) == 1 and float(ds.RescaleIntercept) == 0
    np.testing.assert_array_equal(ds.pixel_array, lab[..., 0])
    nii = S.write_scan(scan, scan.array, S.output_path(scan, tmp_path, "nii"), format="nii")
    assert nii.name == "CT_small.nii.gz"
    img = nib.load(nii)
    ref = pydicom.dcmread(CT_SMALL)
    dy, dx = (float(v) for v in ref.PixelSpacing)
    np.testing.assert_allclose(img.header.get_zooms()[:2], (dx, dy), rtol=1e-6)
    assert img.shape == (128, 128, 1)
    # voxel (col 0, row 0) sits at ImagePositionPatient, LPS -> RAS
    np.testing.assert_allclose(img.affine[:3, 3], np.asarray(ref.ImagePositionPatient, float) * [-1, -1, 1])
    np.testing.assert_allclose(np.asarray(img.dataobj)[:, :, 0], scan.array[..., 0].T)


def test_dicom_series_folder_round_trip(tmp_path):
    folder = _series(tmp_path / "series")
    assert S.find_scans(folder) == [folder]
    scan = S.read_scan(folder)
    assert scan.format == "dicom_series" and scan.array.shape == (3, 128, 128, 1)
    zs = [float(ds.ImagePositionPatient[2]) for ds in scan.meta["datasets"]]
    assert zs == [0.0, 2.5, 5.0]
    out = S.write_scan(scan, scan.array + 7, S.output_path(scan, tmp_path / "out"))
    assert out.is_dir() and sorted(p.name for p in out.iterdir()) == ["s0.dcm", "s1.dcm", "s2.dcm"]
    back = S.read_scan(out)
    assert back.format == "dicom_series"
    assert [float(ds.ImagePositionPatient[2]) for ds in back.meta["datasets"]] == zs
    np.testing.assert_allclose(back.array, scan.array + 7, atol=1.0)
    uids = {ds.SeriesInstanceUID for ds in back.meta["datasets"]}
    assert len(uids) == 1 and uids != {ds.SeriesInstanceUID for ds in scan.meta["datasets"]}
    assert len({ds.SOPInstanceUID for ds in back.meta["datasets"]}) == 3
    nii = nib.load(S.write_scan(scan, scan.array, tmp_path / "vol.nii.gz", format="nii"))
    assert nii.shape == (128, 128, 3) and nii.header.get_zooms()[2] == pytest.approx(2.5)


# ---------------------------------------------------------------- images, npy, listing

def test_png_round_trip_exact_and_npy(tmp_path):
    scan = S.read_scan(CAMERA)
    assert scan.format == "image" and scan.array.shape == (512, 512, 1) and scan.meta["bits"] == 8
    out = S.write_scan(scan, scan.array, S.output_path(scan, tmp_path))
    assert out.name == "camera.png"
    np.testing.assert_array_equal(S.read_scan(out).array, scan.array)
    clipped = S.read_scan(S.write_scan(scan, scan.array + 100, tmp_path / "c.png")).array
    assert clipped.max() == 255
    lab = S.write_scan(scan, (scan.array > 128) * 1, tmp_path / "l.png", kind="labels")
    assert set(np.unique(S.read_scan(lab).array)) == {0, 1}
    npy = S.write_scan(scan, scan.array, tmp_path / "cam.npy", format="npy")
    assert np.load(npy).shape == (512, 512)
    assert S.read_scan(npy).array.shape == (512, 512, 1)


def test_find_scans_lists_sorted_files(tmp_path):
    shutil.copy(CAMERA, tmp_path / "b.png")
    shutil.copy(_nii("standard.nii.gz"), tmp_path / "a.nii.gz")
    shutil.copy(CT_SMALL, tmp_path / "c")  # extensionless DICOM
    (tmp_path / "notes.txt").write_text("hello")
    _series(tmp_path / "d_series")
    assert [p.name for p in S.find_scans(tmp_path)] == ["a.nii.gz", "b.png", "c", "d_series"]
    assert S.find_scans(tmp_path / "b.png") == [tmp_path / "b.png"]
    assert S.read_scan(tmp_path / "c").modality == "CT"


# ---------------------------------------------------------------- atomicity

def test_existing_output_is_refused_unless_overwrite(tmp_path):
    scan = S.read_scan(CAMERA)
    target = tmp_path / "camera.png"
    target.write_bytes(b"old output")
    with pytest.raises(AdvzooError, match="camera.png"):
        S.write_scan(scan, scan.array, target)
    assert target.read_bytes() == b"old output"
    S.write_scan(scan, scan.array, target, overwrite=True)
    np.testing.assert_array_equal(S.read_scan(target).array, scan.array)
    with pytest.raises(AdvzooError, match="input"):
        S.write_scan(scan, scan.array, CAMERA, overwrite=True)


def test_failed_nifti_write_leaves_nothing(tmp_path, monkeypatch):
    scan = S.read_scan(_nii("standard.nii.gz"))
    target = tmp_path / "standard.nii.gz"
    target.write_bytes(b"previous")

    def boom(img, filename):
        open(filename, "wb").write(b"half")
        raise OSError("disk full")
    monkeypatch.setattr(nib, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        S.write_scan(scan, scan.array, target, overwrite=True)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["standard.nii.gz"]


def test_failed_dicom_series_write_leaves_nothing(tmp_path, monkeypatch):
    scan = S.read_scan(_series(tmp_path / "in"))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    real, calls = pydicom.dcmwrite, []

    def flaky(filename, ds, **kw):
        calls.append(filename)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(filename, ds, **kw)
    monkeypatch.setattr(pydicom, "dcmwrite", flaky)
    with pytest.raises(OSError, match="disk full"):
        S.write_scan(scan, scan.array, out_dir / "in")
    assert list(out_dir.iterdir()) == []


# ---------------------------------------------------------------- bad input

def test_bad_inputs_are_named(tmp_path):
    txt = tmp_path / "notes.txt"
    txt.write_text("not a scan")
    with pytest.raises(AdvzooError, match=r"notes\.txt.*accepted: NIfTI"):
        S.read_scan(txt)
    fake = tmp_path / "fake.png"
    fake.write_bytes(os.urandom(256))
    with pytest.raises(AdvzooError, match=r"fake\.png.*accepted"):
        S.read_scan(fake)
    with pytest.raises(AdvzooError, match="missing"):
        S.read_scan(tmp_path / "missing.nii")
    with pytest.raises(AdvzooError, match="missing"):
        S.find_scans(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(AdvzooError, match="no scan files"):
        S.find_scans(tmp_path / "empty")
    scan = S.read_scan(CAMERA)
    with pytest.raises(AdvzooError, match=r"\(256, 256, 1\).*\(512, 512\)"):
        S.write_scan(scan, np.zeros((256, 256, 1)), tmp_path / "x.png")
    with pytest.raises(AdvzooError, match="accepted: nifti"):
        S.write_scan(scan, scan.array, tmp_path / "x.gif", format="gif")
    with pytest.raises(AdvzooError, match="cannot write"):
        S.write_scan(scan, scan.array, tmp_path / "x.dcm", format="dicom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "fake.png", "notes.txt"]
