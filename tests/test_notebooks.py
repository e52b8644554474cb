"""The Colab notebooks run top to bottom (fast settings, a fresh kernel, a temporary folder)."""
import os
import pathlib
import time

import pytest

COLAB = pathlib.Path(__file__).resolve().parents[1] / "colab"


def test_generative_notebook(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(COLAB / "generative.ipynb", as_version=4)
    first = notebook.cells[1].source
    assert notebook.cells[1].cell_type == "code"
    # the first code cell installs advzoo from its repository, on Colab only
    assert 'if "google.colab" in sys.modules:' in first
    assert 'os.environ.get("ADVZOO_REPO", "https://' in first and 'f"advzoo @ git+{ADVZOO_REPO}"' in first
    env_before = os.environ.get("ADVZOO_NOTEBOOK_FAST")
    os.environ["ADVZOO_NOTEBOOK_FAST"] = "1"  # the kernel inherits this process's environment
    try:
        start = time.perf_counter()
        client = nbclient.NotebookClient(notebook, kernel_name="python3", timeout=90,
                                         resources={"metadata": {"path": str(tmp_path)}})
        client.execute()
        seconds = time.perf_counter() - start
    finally:
        if env_before is None:
            os.environ.pop("ADVZOO_NOTEBOOK_FAST", None)
        else:
            os.environ["ADVZOO_NOTEBOOK_FAST"] = env_before
    assert seconds < 90, f"the notebook took {seconds:.0f} s"
    outputs = "\n".join(o.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                        for o in cell.get("outputs", []) if o.get("output_type") == "stream")
    assert "SavedModel output (4, 16, 16, 1) float32" in outputs
    assert (tmp_path / "exported_generator" / "saved_model.pb").exists()
    images = [o for cell in notebook.cells for o in cell.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert len(images) >= 5  # samples, interpolation, inversion, fine-tuned, cgan
