"""Execute the Colab notebooks and save them with their outputs, so GitHub shows their figures.

    python scripts/execute_notebooks.py                   # every notebook in colab/, full settings
    python scripts/execute_notebooks.py generative        # one (or several: names, .ipynb optional)
    python scripts/execute_notebooks.py --fast generative # ADVZOO_NOTEBOOK_FAST=1 (a few steps)

Each notebook runs top to bottom in a fresh kernel, in a temporary copy of colab/ (the files it
writes land there, not in the repository), with TF_CPP_MIN_LOG_LEVEL=2 and this checkout first on
PYTHONPATH. The notebook is then saved over colab/NAME.ipynb with its outputs, minus what would
change from run to run or leak this machine: execution timestamps, widget state, the kernel's
Python version, TensorFlow/absl log lines and third-party warnings on stderr, and absolute paths.
A line at the end of the first markdown cell says which settings the saved outputs come from.

tests/test_notebooks.py re-executes each notebook (fast settings) and compares its printed text
with the saved outputs, numbers masked (`text_labels` below): rerun this script when a notebook's
code changes what it prints.
"""
from __future__ import annotations

import argparse
import copy
import os
import pathlib
import re
import shutil
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
COLAB = ROOT / "colab"
SIZE_LIMIT = 1_500_000  # bytes: a notebook bigger than this gets a warning (smaller figures)
NOTE_PREFIX = "*Saved outputs:"  # the first markdown cell's last line, rewritten by each run

# TensorFlow's C++ logging (absl): "I0000 00:00:1796194578.847185    3030 cudart_stub.cc:31] ..."
# (oneDNN, CUDA probing on a machine without a GPU, grappler), its preamble, the CPU-instructions
# notice, and the Python logger's "INFO:tensorflow:Assets written to: ..." of SavedModel exports.
_LOG_LINE = re.compile(
    r"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./-]+:\d+\] .*"
    r"|(?:INFO|WARNING):tensorflow:.*"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|To enable the following instructions: .*"
    r"|This TensorFlow binary is optimized to use available CPU instructions.*)$")
# A Python warning: "FILE:LINE: CategoryWarning: message", then its indented source line(s).
_WARNING = re.compile(r"^(?P<file>\S.*?\.py):\d+: \w*Warning: ")
# a number, not the digits of a name (pix2pix, float32, case0.nii.gz, progan_ct_bone_32)
_NUMBER = re.compile(r"(?<![A-Za-z_\d])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|\b(?:nan|inf)\b")


def strip_noise(text: str) -> str:
    """`text` of a stream output without TensorFlow/absl log lines and without the warnings that
    third-party packages (files under site-packages) raise, with their source lines."""
    kept, skipping = [], False
    for line in text.replace("\r\n", "\n").splitlines(keepends=True):  # `!command` gives \r\n
        bare = line.rstrip("\n")
        if skipping and bare.startswith((" ", "\t")):
            continue  # the source line(s) shown under a dropped warning
        skipping = False
        warning = _WARNING.match(bare)
        if warning and ("site-packages" in warning.group("file")
                        or "dist-packages" in warning.group("file")):
            skipping = True
            continue
        if _LOG_LINE.match(bare):
            continue
        kept.append(line)
    return "".join(kept)


def text_labels(cell) -> set[str]:
    """What a code cell's outputs say, numbers aside: the pieces of each line of its printed text
    (stdout and results, TensorFlow log noise removed) between the numbers, whitespace collapsed,
    those with a letter in them. Runs with other settings (fast vs full) print the same labels,
    however the kernel split the text into outputs."""
    stdout, results = "", []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            stdout += output.get("text", "")
        elif output.get("output_type") == "execute_result":
            results.append(output.get("data", {}).get("text/plain", ""))
    labels = set()
    for line in "\n".join([strip_noise(stdout), *results]).splitlines():
        for piece in _NUMBER.split(line):
            piece = " ".join(piece.split())
            if re.search(r"[A-Za-z]", piece):
                labels.add(piece)
    return labels


def image_count(cell) -> int:
    return sum("image/png" in output.get("data", {}) for output in cell.get("outputs", []))


def _clean_outputs(notebook, replacements: dict[str, str]):
    """Drop run-specific details from an executed notebook (in place)."""
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("widgets", None)
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.outputs:
            if output.output_type == "stream":
                text = strip_noise(output.text)
                for path, shown in replacements.items():
                    text = text.replace(path, shown)
                if not text.strip():
                    continue
                output.text = text
            elif output.output_type == "error":
                raise RuntimeError(f"a cell failed: {output.ename}: {output.evalue}")
            else:
                output.get("metadata", {}).pop("widgets", None)
                for key, value in list(output.get("data", {}).items()):
                    if key.startswith("text/") and isinstance(value, str):
                        for path, shown in replacements.items():
                            value = value.replace(path, shown)
                        output.data[key] = value
                output.get("data", {}).pop("application/vnd.jupyter.widget-view+json", None)
            outputs.append(output)
        cell.outputs = outputs


def _set_note(notebook, fast: bool, name: str):
    """The first markdown cell's last line: which settings the saved outputs come from."""
    cell = notebook.cells[0]
    lines = [line for line in cell.source.rstrip().split("\n") if not line.startswith(NOTE_PREFIX)]
    while lines and not lines[-1].strip():
        lines.pop()
    command = f"`python scripts/execute_notebooks.py {'--fast ' if fast else ''}{name}`"
    if fast:
        note = (f"{NOTE_PREFIX} fast settings* (`ADVZOO_NOTEBOOK_FAST=1`, a few training steps: "
                f"the full run takes too long on a small CPU), written by {command}; the numbers "
                "and fine-tuned pictures below are not those of a full run.")
    else:
        note = f"{NOTE_PREFIX} full settings*, written by {command} on a CPU."
    cell.source = "\n".join(lines + ["", note])


def _leaks(notebook, paths) -> list[str]:
    """Absolute paths of this machine still present in the outputs."""
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "") + "".join(
                v for k, v in output.get("data", {}).items() if k.startswith("text/"))
            found += [p for p in paths if p in text]
    return sorted(set(found))


def execute(name: str, fast: bool = False, timeout: int = 1800) -> tuple[float, int]:
    """Run colab/`name` and save it with its outputs; returns (seconds, bytes written)."""
    import nbclient
    import nbformat

    path = COLAB / name
    original = nbformat.read(path, as_version=4)
    notebook = copy.deepcopy(original)
    env_keys = ("ADVZOO_NOTEBOOK_FAST", "TF_CPP_MIN_LOG_LEVEL", "PYTHONPATH")
    saved_env = {k: os.environ.get(k) for k in env_keys}
    with tempfile.TemporaryDirectory(prefix="advzoo_notebook_") as tmp:
        work = pathlib.Path(tmp) / "colab"
        shutil.copytree(COLAB, work)
        # the kernel inherits this process's environment
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT)] + ([saved_env["PYTHONPATH"]] if saved_env["PYTHONPATH"] else []))
        if fast:
            os.environ["ADVZOO_NOTEBOOK_FAST"] = "1"
        else:
            os.environ.pop("ADVZOO_NOTEBOOK_FAST", None)
        try:
            start = time.perf_counter()
            nbclient.NotebookClient(notebook, kernel_name="python3", timeout=timeout,
                                    record_timing=False,
                                    resources={"metadata": {"path": str(work)}}).execute()
            seconds = time.perf_counter() - start
        finally:
            for key, value in saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        real_tmp = str(pathlib.Path(tmp).resolve())
        replacements = {f"{real_tmp}/colab/": "", f"{real_tmp}/colab": ".", f"{tmp}/colab/": "",
                        f"{tmp}/colab": ".", f"{ROOT}/": "", sys.prefix: "<python>"}
        _clean_outputs(notebook, replacements)
        leaks = _leaks(notebook, [tmp, real_tmp, str(ROOT), sys.prefix, tempfile.gettempdir() + "/"])
    if leaks:
        raise RuntimeError(f"{name}: outputs still name paths of this machine: {leaks}")
    notebook.metadata = original.metadata  # not the kernel's Python version
    _set_note(notebook, fast, path.stem)
    nbformat.write(notebook, path)
    size = path.stat().st_size
    if size > SIZE_LIMIT:
        print(f"warning: {name} is {size / 1e6:.2f} MB (limit {SIZE_LIMIT / 1e6:.1f} MB): "
              "make its figures smaller", file=sys.stderr)
    return seconds, size


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="notebooks in colab/ (default: all)")
    parser.add_argument("--fast", action="store_true",
                        help="ADVZOO_NOTEBOOK_FAST=1: a few training steps (the tests' settings)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell at most")
    args = parser.parse_args(argv)
    names = [n if n.endswith(".ipynb") else f"{n}.ipynb" for n in args.names] or sorted(
        p.name for p in COLAB.glob("*.ipynb"))
    for name in names:
        if not (COLAB / name).exists():
            parser.error(f"no notebook colab/{name}")
    for name in names:
        seconds, size = execute(name, fast=args.fast, timeout=args.timeout)
        print(f"{name}: {seconds:.0f} s ({'fast' if args.fast else 'full'} settings), "
              f"{size / 1e3:.0f} kB", flush=True)


if __name__ == "__main__":
    main()
