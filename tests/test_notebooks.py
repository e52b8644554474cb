"""The Colab notebooks run top to bottom (fast settings, a fresh kernel, a temporary folder)."""
import os
import pathlib

import pytest

COLAB = pathlib.Path(__file__).resolve().parents[1] / "colab"
HANG_GUARD = 5  # a cell may take this many times the notebook's usual time before it fails


def run_notebook(name: str, folder: pathlib.Path, limit_seconds: float):
    """Execute colab/NAME with ADVZOO_NOTEBOOK_FAST=1 in `folder`; return (notebook, the text
    its cells printed). Checks the Colab install cell."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(COLAB / name, as_version=4)
    first = notebook.cells[1].source
    assert notebook.cells[1].cell_type == "code"
    # the first code cell installs advzoo from its repository, on Colab only
    assert 'if "google.colab" in sys.modules:' in first
    assert 'os.environ.get("ADVZOO_REPO", "https://' in first and 'f"advzoo @ git+{ADVZOO_REPO}"' in first
    env_before = os.environ.get("ADVZOO_NOTEBOOK_FAST")
    os.environ["ADVZOO_NOTEBOOK_FAST"] = "1"  # the kernel inherits this process's environment
    try:
        # a hang guard only, far above the notebook's usual time: no test asserts a duration
        client = nbclient.NotebookClient(notebook, kernel_name="python3",
                                         timeout=int(HANG_GUARD * limit_seconds),
                                         resources={"metadata": {"path": str(folder)}})
        client.execute()
    finally:
        if env_before is None:
            os.environ.pop("ADVZOO_NOTEBOOK_FAST", None)
        else:
            os.environ["ADVZOO_NOTEBOOK_FAST"] = env_before
    outputs = "\n".join(o.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                        for o in cell.get("outputs", []) if o.get("output_type") == "stream")
    return notebook, outputs


def _images(notebook):
    return [o for cell in notebook.cells for o in cell.get("outputs", [])
            if "image/png" in o.get("data", {})]


def test_generative_notebook(tmp_path):
    notebook, outputs = run_notebook("generative.ipynb", tmp_path, 90)
    assert "SavedModel output (4, 16, 16, 1) float32" in outputs
    assert (tmp_path / "exported_generator" / "saved_model.pb").exists()
    assert len(_images(notebook)) >= 5  # samples, interpolation, inversion, fine-tuned, cgan


def test_translation_notebook(tmp_path):
    notebook, outputs = run_notebook("translation.ipynb", tmp_path, 150)
    for printed in ("MAE", "denoised: PSNR", "after 2 steps on T2 pairs", "lesion_contrast_kept",
                    "sensitivity_ratio", "SavedModel output (4, 32, 32, 1) float32"):
        assert printed in outputs
    assert (tmp_path / "exported_translator" / "saved_model.pb").exists()
    assert len(_images(notebook)) >= 4  # MR->CT (2), low dose, cyclegan


def test_segmentation_notebook(tmp_path):
    notebook, outputs = run_notebook("segmentation.ipynb", tmp_path, 120)
    for printed in ("adversarial_segmentation_retina: Dice", "segan_retina: Dice", "pieces",
                    "Dice on the other camera:", "attribution vs lesion masks: NCC",
                    "SavedModel output (4, 32, 32, 1) float32"):
        assert printed in outputs
    assert "'dice'" in outputs  # evaluate reports Dice beside the losses
    assert (tmp_path / "exported_segmentor" / "saved_model.pb").exists()
    assert len(_images(notebook)) >= 6  # overlays, the comparison, fine-tuned, VA-GAN maps


def test_domain_adaptation_notebook(tmp_path):
    notebook, outputs = run_notebook("domain_adaptation.ipynb", tmp_path, 180)
    for printed in ("source-only: target Dice", "DANN: target Dice", "ADDA: target Dice",
                    "PixelDA: target Dice", "Dice on the user's scanner",
                    "test Dice with 50 % labels", "test accuracy with 5 % labels",
                    "fine-tuned with 1 % labels", "SavedModel output (4, 32, 32, 1) float32",
                    "classifier SavedModel output (4, 10)"):
        assert printed in outputs
    assert (tmp_path / "exported_segmentor" / "saved_model.pb").exists()
    assert (tmp_path / "exported_classifier" / "saved_model.pb").exists()
    # the two scanners, source-only vs DANN, PixelDA, DAN, digits and samples
    assert len(_images(notebook)) >= 5


def test_your_own_data_notebook(tmp_path):
    pytest.importorskip("nibabel")  # the notebook writes NIfTI and reads DICOM ("medical" extra)
    pytest.importorskip("pydicom")
    notebook, outputs = run_notebook("your_own_data.ipynb", tmp_path, 120)
    for printed in ("modality CT", "contract: CT in HU", "final losses:", "affine kept: True",
                    "new series: True", "same patient and study: True", "geometry kept: True",
                    "PSNR input", "PNG slice (128, 128) -> output (128, 128, 1)"):
        assert printed in outputs
    work = tmp_path / "advzoo_your_data"
    assert (work / "denoised" / "case0.nii.gz").exists()
    assert (work / "denoised_dicom" / "CT_small.dcm").exists()
    assert len(_images(notebook)) >= 1  # input, output, reference and the DICOM slice
