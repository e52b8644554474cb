"""advzoo.data.folders: tf.data sets from folders of NIfTI / DICOM / PNG / .npy files, written by
the tests (plus real files shipped by nibabel and pydicom); errors name the file."""
import os
import shutil

import numpy as np
import pytest

from advzoo.data import folder_arrays, labelled_folders, paired_folders, unpaired_folders
from advzoo.errors import AdvzooError

nib = pytest.importorskip("nibabel")
Image = pytest.importorskip("PIL.Image")


def _nifti(path, vol):
    nib.save(nib.Nifti1Image(np.asarray(vol, np.float32), np.eye(4)), str(path))


def _png(path, arr):
    Image.fromarray(np.asarray(arr, np.uint8)).save(path)


def _pairs(ds):
    return [(np.asarray(a), np.asarray(b)) for a, b in ds]


def _paired_npy(tmp_path, n=4, shape=(12, 10)):
    """dir a: random HU-like images; dir b: the negated copy, so b == -a after a symmetric window."""
    rng = np.random.default_rng(0)
    da, db = tmp_path / "a", tmp_path / "b"
    da.mkdir(), db.mkdir()
    for i in range(n):
        x = rng.uniform(-1000, 1000, shape).astype(np.float32)
        np.save(da / f"case{i:02d}.npy", x)
        np.save(db / f"case{i:02d}.npy", -x)
    return da, db


@pytest.mark.parametrize("kw", [dict(), dict(patch=6), dict(jitter=True, image_size=8),
                                dict(image_size=(9, 7), patch=(5, 5), jitter=True)])
def test_paired_npy_stay_aligned(tmp_path, kw):
    da, db = _paired_npy(tmp_path)
    ds = paired_folders(da, db, window_a=(-1000, 1000), window_b=(-1000, 1000), seed=3, **kw)
    pairs = _pairs(ds)
    assert len(pairs) == 4
    for a, b in pairs:
        assert a.dtype == np.float32 and b.dtype == np.float32
        assert a.min() >= -1 and a.max() <= 1
        np.testing.assert_allclose(a, -b, atol=1e-5)
    if "patch" in kw:
        patch = kw["patch"] if isinstance(kw["patch"], tuple) else (6, 6)
        assert pairs[0][0].shape == patch + (1,)
    elif "image_size" in kw:
        assert pairs[0][0].shape == (8, 8, 1)
    else:
        assert pairs[0][0].shape == (12, 10, 1)
    # same seed, same stream
    again = _pairs(paired_folders(da, db, window_a=(-1000, 1000), window_b=(-1000, 1000), seed=3, **kw))
    for (a, _), (a2, _) in zip(pairs, again):
        np.testing.assert_array_equal(a, a2)


def test_paired_nifti_slices_batches_and_minmax(tmp_path):
    da, db = tmp_path / "ct", tmp_path / "mr"
    da.mkdir(), db.mkdir()
    rng = np.random.default_rng(1)
    for name in ("p1", "p2"):
        v = rng.normal(0, 100, (16, 16, 5))
        _nifti(da / f"{name}.nii.gz", v)
        _nifti(db / f"{name}.nii", 2 * v + 5)  # affine copy: per-file min-max gives the same image
    ds = paired_folders(da, db, batch_size=4, shuffle=True, seed=0)
    batches = [(np.asarray(a), np.asarray(b)) for a, b in ds]
    assert [a.shape for a, _ in batches] == [(4, 16, 16, 1)] * 2 + [(2, 16, 16, 1)]
    for a, b in batches:
        np.testing.assert_allclose(a, b, atol=1e-5)
        assert a.min() >= -1 and a.max() <= 1
    vols = _pairs(paired_folders(da, db, mode="volumes", patch=(8, 8, 4), shuffle=False))
    assert len(vols) == 2 and vols[0][0].shape == (8, 8, 4, 1)
    np.testing.assert_allclose(vols[0][0], vols[0][1], atol=1e-5)
    x, names = folder_arrays(da, axis=0)
    assert x.shape == (32, 16, 5, 1) and names[0] == "p1.nii.gz[0]" and names[-1] == "p2.nii.gz[15]"


def test_paired_png_with_nifti_names_and_mixed_sizes_with_patch(tmp_path):
    da, db = tmp_path / "a", tmp_path / "b"
    da.mkdir(), db.mkdir()
    rng = np.random.default_rng(2)
    for i, shape in enumerate([(10, 12), (14, 9)]):
        x = rng.integers(0, 256, shape)
        _png(da / f"s{i}.png", x)
        np.save(db / f"s{i}.npy", 255 - x)
    ds = paired_folders(da, db, patch=8, window_b=(0, 255))
    for a, b in _pairs(ds):
        assert a.shape == b.shape == (8, 8, 1)
        np.testing.assert_allclose(a, -b, atol=1e-5)  # PNG 0..255 -> [-1, 1]
    with pytest.raises(AdvzooError, match=r"s0\.png.*\(10, 12\).*s1\.png.*\(14, 9\)"):
        paired_folders(da, db)


def test_unpaired_independent_and_cycles_shorter(tmp_path):
    da, db = tmp_path / "a", tmp_path / "b"
    da.mkdir(), db.mkdir()
    for i in range(6):
        np.save(da / f"a{i}.npy", np.full((8, 8), float(i)))
    for i in range(3):
        _png(db / f"b{i}.png", np.full((8, 8, 3), 50 * i))
    ds = unpaired_folders(da, db, window_a=(0, 5), patch=4, batch_size=2, seed=1)
    batches = [(np.asarray(a), np.asarray(b)) for a, b in ds]
    assert len(batches) == 3
    assert batches[0][0].shape == (2, 4, 4, 1) and batches[0][1].shape == (2, 4, 4, 3)
    a_vals = sorted(float(a[j, 0, 0, 0]) for a, _ in batches for j in range(2))
    np.testing.assert_allclose(a_vals, np.linspace(-1, 1, 6), atol=1e-6)
    b_vals = sorted(float(b[j, 0, 0, 0]) for _, b in batches for j in range(2))
    assert len(set(np.round(b_vals, 4))) == 3  # all of b, cycled twice


def test_labelled_png_masks_and_nifti(tmp_path):
    di, dl = tmp_path / "img", tmp_path / "lab"
    di.mkdir(), dl.mkdir()
    rng = np.random.default_rng(3)
    for i in range(3):
        img = rng.integers(0, 256, (16, 16))
        _png(di / f"c{i}.png", img)
        _png(dl / f"c{i}.png", np.where(img > 127, 255, 0))  # binary mask saved 0/255
    ds = labelled_folders(di, dl, num_classes=2, jitter=True, image_size=12, seed=0)
    for x, y in ds:
        x, y = np.asarray(x), np.asarray(y)
        assert x.dtype == np.float32 and y.dtype == np.int32 and y.shape == (12, 12, 1)
        assert set(np.unique(y)) <= {0, 1}
    ds = labelled_folders(di, dl, patch=6, shuffle=True, seed=4)
    for x, y in ds:  # mask == (image > 127) survives shuffling and cropping
        np.testing.assert_array_equal(np.asarray(y)[..., 0], (np.asarray(x)[..., 0] > 0).astype(np.int32))
    dv, dm = tmp_path / "vol", tmp_path / "seg"
    dv.mkdir(), dm.mkdir()
    _nifti(dv / "p.nii.gz", rng.normal(size=(8, 8, 3)))
    _nifti(dm / "p.nii.gz", rng.integers(0, 4, (8, 8, 3)))
    got = list(labelled_folders(dv, dm, num_classes=4, mode="volumes", image_size=6))
    assert got[0][0].shape == (6, 6, 6, 1) and got[0][1].dtype.name == "int32"
    assert int(np.max(got[0][1])) <= 3


def test_real_nibabel_anatomical_paired_slices(tmp_path):
    from nibabel.testing import data_path

    src = os.path.join(data_path, "anatomical.nii")
    da, db = tmp_path / "a", tmp_path / "b"
    da.mkdir(), db.mkdir()
    shutil.copy(src, da / "anatomical.nii")
    img = nib.load(src)
    vol = np.asarray(img.dataobj, np.float32)
    lo, hi = float(vol.min()), float(vol.max())
    _nifti(db / "anatomical.nii.gz", lo + hi - vol)  # intensity-inverted copy: b == -a after min-max
    ds = paired_folders(da, db, mode="slices", patch=32, batch_size=8, seed=0)
    n = 0
    for a, b in ds:
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape[1:] == (32, 32, 1) and a.min() >= -1 and a.max() <= 1
        np.testing.assert_allclose(a, -b, atol=1e-4)
        n += len(a)
    assert n == vol.shape[2]


def test_real_pydicom_ct_small_windowed(tmp_path):
    pydicom = pytest.importorskip("pydicom")
    from pydicom.data import get_testdata_file

    src = get_testdata_file("CT_small.dcm")
    d = tmp_path / "ct"
    d.mkdir()
    shutil.copy(src, d / "CT_small.dcm")
    x, names = folder_arrays(d, window=(-1024, 1024))
    hu = pydicom.dcmread(src).pixel_array * 1.0 - 1024.0  # RescaleSlope 1, Intercept -1024
    assert x.shape == (1, 128, 128, 1) and names == ["CT_small.dcm"]
    np.testing.assert_allclose(x[0, ..., 0], np.clip(hu / 1024.0, -1, 1), atol=1e-5)
    series = tmp_path / "series"
    (series / "patient1").mkdir(parents=True)
    shutil.copy(src, series / "patient1" / "slice0.dcm")
    (v,) = list(paired_folders(series, series, mode="volumes", window_a=(-1024, 1024), window_b="soft_tissue"))
    assert v[0].shape == (128, 128, 1, 1)


def test_errors_name_the_files(tmp_path):
    da, db = tmp_path / "a", tmp_path / "b"
    da.mkdir(), db.mkdir()
    for n in ("x1", "x2"):
        np.save(da / f"{n}.npy", np.zeros((8, 8)))
    np.save(db / "x1.npy", np.zeros((8, 8)))
    np.save(db / "y9.npy", np.zeros((8, 8)))
    with pytest.raises(AdvzooError, match=r"'x2'.*'y9'"):
        paired_folders(da, db)
    np.save(db / "x2.npy", np.zeros((8, 9)))
    (db / "y9.npy").unlink()
    with pytest.raises(AdvzooError, match=r"x2\.npy.*\(8, 8\).*x2\.npy.*\(8, 9\)"):
        paired_folders(da, db)
    np.save(da / "x3.npy", np.zeros((6, 6)))
    with pytest.raises(AdvzooError, match=r"x1\.npy.*x3\.npy"):
        folder_arrays(da)
    np.save(da / "x3.npy", np.zeros((8, 8, 3)))
    with pytest.raises(AdvzooError, match=r"channel.*x3\.npy"):
        folder_arrays(da)
    (da / "x3.npy").unlink()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(AdvzooError, match=r"empty.*\.nii\.gz"):
        folder_arrays(empty)
    (empty / "notes.txt").write_text("hi")
    with pytest.raises(AdvzooError, match=r"notes\.txt.*\.png"):
        folder_arrays(empty)
    np.save(empty / "ok.npy", np.zeros((4, 4)))
    with pytest.raises(AdvzooError, match=r"notes\.txt.*not an image"):
        folder_arrays(empty)
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "scan.png").write_text("not a png")
    with pytest.raises(AdvzooError, match=r"scan\.png"):
        folder_arrays(fake)


@pytest.mark.parametrize("values, match", [
    (np.full((8, 8), 0.5), r"lab\.npy.*non-integer"),
    (np.full((8, 8), 5.0), r"lab\.npy.*\[5, 5\].*num_classes=3"),
    (np.full((8, 8), -1.0), r"lab\.npy.*negative"),
])
def test_bad_labels(tmp_path, values, match):
    di, dl = tmp_path / "i", tmp_path / "l"
    di.mkdir(), dl.mkdir()
    np.save(di / "lab.npy", np.zeros((8, 8)))
    np.save(dl / "lab.npy", values)
    with pytest.raises(AdvzooError, match=match):
        labelled_folders(di, dl, num_classes=3)
