"""The README's python blocks run as written, in order, in a fresh folder, as a newcomer runs them."""
import os
import pathlib
import re
import subprocess
import sys

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_readme_python_blocks_run_in_order(tmp_path):
    blocks = python_blocks(README.read_text())
    assert len(blocks) >= 3
    script = "\n\n".join(f"print('--- block {i}', flush=True)\n{block}"
                         for i, block in enumerate(blocks, 1))
    (tmp_path / "readme_blocks.py").write_text(script)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([sys.executable, "readme_blocks.py"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=900)  # a hang guard only
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert f"--- block {len(blocks)}" in result.stdout
    assert (tmp_path / "exported" / "gan" / "saved_model.pb").is_file()
    assert (tmp_path / "denoised.nii.gz").is_file()
