"""The Colab notebooks run top to bottom (fast settings, a fresh kernel, a temporary folder), and
their saved outputs (scripts/execute_notebooks.py) are current: same printed labels, figures, badge."""
import copy
import json
import os
import pathlib
import re
import sys

import pytest
from conftest import load_script

ROOT = pathlib.Path(__file__).resolve().parents[1]
COLAB = ROOT / "colab"
NOTEBOOKS = ("domain_adaptation.ipynb", "generative.ipynb", "segmentation.ipynb",
             "translation.ipynb", "your_own_data.ipynb")
HANG_GUARD = 5  # a cell may take this many times the notebook's usual time before it fails
REPOSITORY_URL = re.search(r'REPOSITORY_URL = "([^"]+)"',
                           (ROOT / "advzoo" / "version.py").read_text()).group(1)
REGENERATE = "rerun `python scripts/execute_notebooks.py {}` and commit the notebook"


def _executor():
    """scripts/execute_notebooks.py as a module (its output cleaning and `text_labels`)."""
    return load_script("scripts/execute_notebooks.py")


def _badge(name: str) -> str:
    repository = REPOSITORY_URL.removeprefix("https://github.com/")
    return ("[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"(https://colab.research.google.com/github/{repository}/blob/main/colab/{name})")


def _read_json(name: str) -> dict:
    return json.loads((COLAB / name).read_text(encoding="utf-8"))


def assert_matches_committed(name: str, committed, executed):
    """The saved outputs of colab/`name` say what a fresh (fast) run says, numbers aside: each code
    cell prints the same labels (`text_labels`: the text between the numbers) and shows as many
    figures. A cell that prints something new, or no longer does, fails here."""
    executor = _executor()
    code = [(c, e) for c, e in zip(committed.cells, executed.cells) if c.cell_type == "code"]
    for index, (saved, fresh) in enumerate(code):
        where = f"{name}, code cell {index} ({saved.source.splitlines()[0][:40]!r}...)"
        saved_labels, fresh_labels = executor.text_labels(saved), executor.text_labels(fresh)
        assert saved_labels == fresh_labels, (
            f"{where}: printed labels differ from the saved outputs; only in the "
            f"saved: {sorted(saved_labels - fresh_labels)}, only in this run: "
            f"{sorted(fresh_labels - saved_labels)}; " + REGENERATE.format(name))
        assert executor.image_count(saved) == executor.image_count(fresh), (
            f"{where}: {executor.image_count(saved)} saved figures, "
            f"{executor.image_count(fresh)} now; " + REGENERATE.format(name))


def run_notebook(name: str, folder: pathlib.Path, limit_seconds: float):
    """Execute colab/NAME with ADVZOO_NOTEBOOK_FAST=1 in `folder`; return (notebook, the text
    its cells printed). Checks the Colab install cell."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(COLAB / name, as_version=4)
    committed = copy.deepcopy(notebook)  # with its saved outputs, compared after the run
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
    assert_matches_committed(name, committed, notebook)
    return notebook, outputs


def _images(notebook):
    return [o for cell in notebook.cells for o in cell.get("outputs", [])
            if "image/png" in o.get("data", {})]


def test_generative_notebook(tmp_path):
    notebook, outputs = run_notebook("generative.ipynb", tmp_path, 90)
    assert "SavedModel output (4, 16, 16, 1) float32" in outputs
    assert (tmp_path / "exported_generator" / "saved_model.pb").exists()
    # the teaching sections: the game's value at D* is -log 4 + 2 JSD; gradients of both G losses
    value, jsd_form = map(float, re.search(r"V\(D\*, G\) = (-?[\d.]+); -log 4 \+ 2 JSD = (-?[\d.]+)",
                                           outputs).groups())
    assert value == pytest.approx(jsd_form, abs=1e-3)
    assert "non-saturating: -log D(G(z)): |gradient|" in outputs
    # mode collapse: the shipped unrolled GAN reaches most of the ring's 8 modes
    assert int(re.search(r"unrolled_gan_ring, 2000 steps: (\d) of 8 modes covered", outputs)[1]) >= 6
    assert "recognisable" in outputs and "class_entropy" in outputs
    # D*, gradients, mode collapse, samples, interpolation, inversion, fine-tuned, cgan
    assert len(_images(notebook)) >= 8


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


# -- the saved notebooks, without running them ------------------------------------------------


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_saved_notebook_has_badge_install_cell_and_figures(name):
    """One repository URL (advzoo/version.py) in the badge and the install cell; figures saved."""
    notebook = _read_json(name)
    assert sorted(p.name for p in COLAB.glob("*.ipynb")) == sorted(NOTEBOOKS)
    first, install = ("".join(c["source"]) for c in notebook["cells"][:2])
    assert _badge(name) in first, f"{name}: its first cell lacks the badge {_badge(name)}"
    assert f'os.environ.get("ADVZOO_REPO", "{REPOSITORY_URL}")' in install
    needed = re.search(r'"tensorflow>=(\d+)\.(\d+)"', (ROOT / "setup.py").read_text()).groups()
    assert f"TENSORFLOW_MIN = ({needed[0]}, {needed[1]})" in install, "install cell vs setup.py"
    outputs = [o for c in notebook["cells"] for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs), (
        f"{name} is saved without figures; " + REGENERATE.format(name))
    assert "*Saved outputs:" in first
    text = json.dumps(outputs)
    for machine_path in ("/tmp/", "/work/", "/home/", sys.prefix, str(ROOT)):
        assert machine_path not in text, f"{name}: a saved output names {machine_path}"
    for noise in ("absl::InitializeLog", "cudart_stub", "cuInit", "INFO:tensorflow"):
        assert noise not in text, f"{name}: a saved output has TensorFlow log noise ({noise})"
    assert not any("execution" in c.get("metadata", {}) for c in notebook["cells"])
    assert (COLAB / name).stat().st_size < 1_600_000


def test_badge_helper_and_setup_url():
    from advzoo.readme import colab_badge
    from advzoo.version import REPOSITORY_URL as url

    assert url == REPOSITORY_URL
    assert colab_badge("generative") == colab_badge("generative.ipynb") == _badge("generative.ipynb")
    assert "url=REPOSITORY_URL" in (ROOT / "setup.py").read_text()


@pytest.mark.parametrize("tf_version, upgrades", [("2.21.0", False), ("2.22.1", False),
                                                  ("2.19.0", True), (None, True)])
def test_install_cell_on_colab(monkeypatch, capsys, tf_version, upgrades):
    """On Colab the install cell keeps a TensorFlow that satisfies setup.py, and says to restart
    the runtime when pip has to upgrade it (pip itself is not run here)."""
    from importlib import metadata
    import subprocess
    import types

    def version(package):
        if package != "tensorflow" or tf_version is None:
            raise metadata.PackageNotFoundError(package)
        return tf_version

    calls = []
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(metadata, "version", version)
    monkeypatch.setattr(subprocess, "check_call", lambda args: calls.append(args))
    monkeypatch.delenv("ADVZOO_REPO", raising=False)
    for name in NOTEBOOKS:
        calls.clear()
        source = "".join(_read_json(name)["cells"][1]["source"])
        exec(compile(source, name, "exec"), {})
        printed = capsys.readouterr().out
        assert len(calls) == 1 and f"advzoo @ git+{REPOSITORY_URL}" in calls[0]
        assert ("pip will upgrade TensorFlow" in printed) == upgrades
        assert ("Runtime > Restart session" in printed) == upgrades
        assert "--upgrade" not in calls[0] and "-U" not in calls[0]
