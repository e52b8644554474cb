"""`advzoo apply` (presets on the user's scan files, written back with their geometry) and
`advzoo train --data` (fine-tuning on the user's folders), on real files that installed packages
ship: pydicom's CT_small.dcm (a 128x128 CT slice), nibabel's anatomical.nii (an MR volume) and
scikit-image's retina.jpg (a fundus photograph)."""
import os
import shutil

import keras
import nibabel as nib
import numpy as np
import pydicom
import pytest
import skimage.data
from nibabel.testing import data_path
from PIL import Image
from pydicom.data import get_testdata_file

import advzoo
from advzoo.apply import apply_files
from advzoo.recipes import folder_training_data
from advzoo.cli import main
from advzoo.errors import AdvzooError

CT_SMALL = get_testdata_file("CT_small.dcm")
ANATOMICAL = os.path.join(data_path, "anatomical.nii")
RETINA = os.path.join(os.path.dirname(skimage.data.__file__), "retina.jpg")


@pytest.fixture
def fundus_png(tmp_path):
    """A 160x160 crop of scikit-image's real fundus photograph, as an 8-bit RGB PNG."""
    image = np.asarray(Image.open(RETINA).convert("RGB").resize((320, 320)))[80:240, 80:240]
    path = tmp_path / "fundus.png"
    Image.fromarray(image).save(path)
    return path


def test_apply_keeps_dicom_geometry_and_writes_hu(tmp_path):
    out = tmp_path / "out"
    assert main(["apply", "pix2pix_lowdose_ct", CT_SMALL, "--out", str(out), "--quiet"]) == 0
    written = pydicom.dcmread(out / "CT_small.dcm")
    original = pydicom.dcmread(CT_SMALL)
    assert written.SeriesInstanceUID != original.SeriesInstanceUID
    assert written.StudyInstanceUID == original.StudyInstanceUID
    assert written.PatientID == original.PatientID
    assert list(written.ImagePositionPatient) == list(original.ImagePositionPatient)
    assert list(written.PixelSpacing) == list(original.PixelSpacing)
    hu = written.pixel_array * float(written.RescaleSlope) + float(written.RescaleIntercept)
    source = original.pixel_array * float(original.RescaleSlope) + float(original.RescaleIntercept)
    assert hu.shape == source.shape == (128, 128)
    # a denoiser changes noise, not anatomy: the output stays close to the input in HU
    inside = (source > -900) & (source < 1000)
    assert np.median(np.abs(hu - source)[inside]) < 60


def test_apply_2d_model_on_a_nifti_volume_slice_by_slice(tmp_path):
    out = tmp_path / "ct.nii.gz"
    written = apply_files(advzoo.load("pix2pix_mr_to_ct"), ANATOMICAL, out, axis=2,
                          progress=False)
    assert written == [out]
    source, result = nib.load(ANATOMICAL), nib.load(out)
    np.testing.assert_allclose(result.affine, source.affine)
    assert result.shape == source.shape
    data = result.get_fdata()
    assert np.isfinite(data).all() and -1100 < data.min() and data.max() < 1100  # HU window
    # the 3D preset runs on the whole volume, padded to its stride and cropped back
    volume = apply_files(advzoo.load("pix2pix_lowdose_ct_3d"), ANATOMICAL, tmp_path / "v",
                         progress=False)
    assert nib.load(volume[0]).shape == source.shape


def test_apply_segments_a_real_fundus_photograph_to_a_png_label_map(tmp_path, fundus_png):
    out = tmp_path / "vessels"
    assert main(["apply", "adversarial_segmentation_retina", str(fundus_png), "--out", str(out),
                 "--tile", "64", "--quiet"]) == 0
    labels = np.asarray(Image.open(out / "fundus.png"))
    assert labels.shape == (160, 160) and set(np.unique(labels)) <= {0, 1}
    probabilities = apply_files(advzoo.load("adversarial_segmentation_retina"), fundus_png,
                                tmp_path / "p", format="npy", probabilities=True,
                                progress=False)
    p = np.load(probabilities[0])
    assert p.shape[:2] == (160, 160) and 0 <= p.min() and p.max() <= 1


@pytest.mark.parametrize("args, match", [
    (["pix2pix_lowdose_ct", CT_SMALL, "--tile", "256"], "smaller than one tile"),
    (["pix2pix_lowdose_ct", ANATOMICAL], "choose the axis"),
    (["adversarial_segmentation_retina", CT_SMALL], "has 1 channel"),
    (["gan_digits_dcgan", CT_SMALL], "not an image-to-image model"),
    (["srgan_multicontrast", CT_SMALL], "reference"),
])
def test_apply_refuses_bad_input_before_writing(tmp_path, capsys, args, match):
    out = tmp_path / "out"
    assert main(["apply", *args, "--out", str(out), "--quiet"]) == 2
    assert match in capsys.readouterr().err
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == []


def test_apply_refuses_a_file_that_is_not_an_image_and_keeps_existing_outputs(tmp_path, capsys):
    bogus = tmp_path / "scan.png"
    bogus.write_bytes(b"not an image at all")
    assert main(["apply", "pix2pix_lowdose_ct", str(bogus), "--out", str(tmp_path / "o")]) == 2
    assert "scan.png" in capsys.readouterr().err
    out = tmp_path / "out"
    out.mkdir()
    (out / "CT_small.dcm").write_bytes(b"previous result")
    assert main(["apply", "pix2pix_lowdose_ct", CT_SMALL, "--out", str(out), "--quiet"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "CT_small.dcm").read_bytes() == b"previous result"


def test_apply_leaves_nothing_half_written_when_a_scan_fails(tmp_path, monkeypatch):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(CT_SMALL, folder / "a.dcm")
    np.save(folder / "b.npy", np.full((64, 64), -1000.0, np.float32))  # a slice of air, in HU
    calls = []
    original = advzoo.scan_io.write_scan

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return original(*args, **kwargs)

    monkeypatch.setattr(advzoo.scan_io, "write_scan", failing)
    with pytest.raises(OSError, match="disk full"):
        apply_files(advzoo.load("pix2pix_lowdose_ct"), folder, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def _nifti_pairs(tmp_path):
    """Paired folders of real MR volumes (nibabel's anatomical.nii) and a transformed copy."""
    image = nib.load(ANATOMICAL)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    data = image.get_fdata().astype(np.float32)
    for i in range(2):
        nib.save(nib.Nifti1Image(np.roll(data, 3 * i, axis=0), image.affine), a / f"s{i}.nii.gz")
        nib.save(nib.Nifti1Image(-np.roll(data, 3 * i, axis=0), image.affine), b / f"s{i}.nii.gz")
    return a, b


@pytest.mark.parametrize("size", [64, 128, 256])
def test_train_from_paired_nifti_folders_fine_tunes_a_32_pixel_preset(tmp_path, size):
    a, b = _nifti_pairs(tmp_path)
    out = tmp_path / "run"
    assert main(["train", "pix2pix_mr_to_ct", "--data", str(a), "--data-b", str(b),
                 "--image-size", str(size), "--steps", "2", "--batch-size", "2", "--out",
                 str(out)]) == 0
    model = keras.saving.load_model(out / "model.keras")
    assert model.translate(np.zeros((1, size, size, 1))).shape == (1, size, size, 1)
    assert model.contract == advzoo.load("pix2pix_mr_to_ct").contract  # kept in the .keras


def test_train_from_unpaired_folders_reloads_pool_families_at_the_data_size(tmp_path):
    a, b = _nifti_pairs(tmp_path)
    model, data = folder_training_data(
        advzoo.load("cyclegan_mr_ct"), a, data_b=b, image_size=64, batch_size=2,
        preset="cyclegan_mr_ct")
    assert tuple(model.source_shape) == (64, 64, 1)
    assert np.isfinite(model.fit(data.take(1), verbose=0).history["g_loss"][0])


def test_train_from_labelled_png_folders(tmp_path, fundus_png):
    images, labels = tmp_path / "images", tmp_path / "labels"
    images.mkdir(), labels.mkdir()
    photo = np.asarray(Image.open(fundus_png))
    for i in range(3):
        crop = photo[8 * i:8 * i + 96, 8 * i:8 * i + 96]
        Image.fromarray(crop).save(images / f"f{i}.png")
        mask = (crop[..., 1] < np.percentile(crop[..., 1], 15)).astype(np.uint8) * 255
        Image.fromarray(mask).save(labels / f"f{i}.png")
    out = tmp_path / "run"
    assert main(["train", "adversarial_segmentation_retina", "--data", str(images), "--labels",
                 str(labels), "--patch", "64", "--steps", "2", "--batch-size", "2", "--out",
                 str(out)]) == 0
    history = (out / "history.json").read_text()
    assert "dice" in history
    model, data = folder_training_data(
        advzoo.load("dan_retina_5pct"), images, labels=labels, data_b=images, patch=64,
        batch_size=2)
    assert len(data.element_spec) == 3  # (image, label, unlabelled image) triples
    assert np.isfinite(model.fit(data.take(1), verbose=0).history["dice"][0])
    with pytest.raises(AdvzooError, match=r"have 3 channel\(s\); pix2pix takes 1"):
        folder_training_data(advzoo.load("pix2pix_mr_to_ct"), images,
                                            data_b=images, image_size=64)


def test_train_from_folders_refuses_bad_folders(tmp_path, capsys):
    a, b = _nifti_pairs(tmp_path)
    (b / "s1.nii.gz").rename(b / "other.nii.gz")
    assert main(["train", "pix2pix_mr_to_ct", "--data", str(a), "--data-b", str(b),
                 "--image-size", "64", "--steps", "1", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "s1" in err and "other" in err
    assert not (tmp_path / "run").exists()
    with pytest.raises(AdvzooError, match="s0.nii.gz' has negative values"):
        folder_training_data(advzoo.load("adversarial_segmentation_retina"), a,
                                            labels=a, image_size=64)
