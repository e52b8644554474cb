"""What the README and docs/benchmarks.md show that is generated, from the registry and the
benchmark results (`benchmarks/results/*.json`, `benchmarks/verdicts.json`):

- README.md, between markers: one row per family (paper, presets, headline result against its
  baseline, verdict, link) and the notebooks with their Colab badges; the speed table; the
  low-dose CT presets on real CT;
- docs/benchmarks.md, whole: the family and preset tables and every benchmark's full table.

`python scripts/update_readme.py` rewrites both, and a test fails when either is stale."""
from __future__ import annotations

import json
import pathlib

from advzoo import weights, zoo

BEGIN = "<!-- BEGIN GENERATED TABLES (python scripts/update_readme.py) -->"
END = "<!-- END GENERATED TABLES -->"
SPEED_BEGIN = "<!-- BEGIN GENERATED SPEED TABLE (python scripts/update_readme.py) -->"
SPEED_END = "<!-- END GENERATED SPEED TABLE -->"
REAL_CT_BEGIN = "<!-- BEGIN GENERATED REAL CT TABLE (python scripts/update_readme.py) -->"
REAL_CT_END = "<!-- END GENERATED REAL CT TABLE -->"
REAL_CT_RESULT = "real_ct_clinical.json"
# the README's rows of benchmarks/results/throughput.json (docs/benchmarks.md has them all)
SPEED_FAMILIES = ("pix2pix", "cyclegan")
SPEED_COLUMNS = ("family", "size", "batch", "dtype policy", "xla", "device", "steps/s",
                 "images/s", "peak memory MiB", "status")
ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "benchmarks" / "results"
VERDICTS_PATH = ROOT / "benchmarks" / "verdicts.json"
DOCS_PATH = ROOT / "docs" / "benchmarks.md"
NOTEBOOKS = {"generative": "GANs from the min-max game to a preset: DCGAN, conditional GAN, "
                           "inversion, mode collapse",
             "translation": "pix2pix, CycleGAN, SRGAN, low-dose CT; hallucination checks",
             "segmentation": "adversarial segmentation, SegAN, semi-supervised DAN and GAN",
             "domain_adaptation": "DANN, ADDA and PixelDA across two scanners",
             "your_own_data": "your NIfTI/DICOM/PNG files: fine-tune at 128x128, apply, write back"}


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def family_table() -> str:
    rows = ["| family | review section | what it is | default data | presets |",
            "|---|---|---|---|---|"]
    for name in zoo.list_models():
        family = zoo.get_family(name)
        presets = ", ".join(f"`{p}`" for p in zoo.list_presets(name)) or "-"
        rows.append(f"| `{name}` | {family.section} | {family.summary} | "
                    f"`{family.default_dataset.__name__}` | {presets} |")
    return "\n".join(rows)


def _measured(metrics: dict) -> str:
    parts = []
    for key, value in metrics.items():
        if isinstance(value, dict):
            parts.append(f"{key}: ({_measured(value)})")
        elif key not in ("samples", "classifier_test_accuracy"):
            parts.append(f"{key} {_fmt(value)}")
    return ", ".join(parts)


def _real_data_text(preset) -> str:
    real = preset.real_data
    if real is None:
        return "no (phantom or toy data only)"
    return f"yes: {real['data']} (`{real['benchmark']}`): {real['result']}"


def _preset_cell(name: str) -> str:
    """A preset in the README's family table, with what real data showed where it was checked."""
    real = zoo.get_preset(name).real_data
    return f"`{name}`" + (f" (real CT: {real['result'].split(':')[0]})" if real else "")


def preset_table() -> str:
    rows = ["| preset | family | trained on | steps (batch) | training time | measured | "
            "validated on real data |", "|---|---|---|---|---|---|---|"]
    for name in zoo.list_presets():
        preset = zoo.get_preset(name)
        try:
            meta = weights.read_metadata(weights.resolve_preset(name))
        except Exception:  # a preset whose weights are not shipped yet
            rows.append(f"| `{name}` | `{preset.family}` | - | - | - | weights not shipped | - |")
            continue
        measured = _measured(meta.get("metrics", {}))
        rows.append(
            f"| `{name}` | `{preset.family}` | {preset.data_description} | "
            f"{meta.get('train_steps')} ({meta.get('batch_size')}) | "
            f"{meta.get('train_seconds')} s | {measured} | {_real_data_text(preset)} |")
    return "\n".join(rows)


def mean_sd_text(values) -> str:
    """"0.667 ± 0.031": the mean and (population) sd of per-seed values for a benchmark table;
    the value alone for one seed."""
    import numpy as np

    values = np.asarray(values, float)
    return f"{values.mean():.3f} ± {values.std():.3f}" if len(values) > 1 else f"{values[0]:.3f}"


def standard_error_text(values) -> str:
    """" ± x.xxx s.e.": the standard error of the mean of `values` (sample sd / sqrt(n)), for a
    benchmark's note on per-seed gains; "" for fewer than 2 values."""
    import numpy as np

    values = np.asarray(values, np.float64)
    if values.size < 2:
        return ""
    return f" ± {values.std(ddof=1) / np.sqrt(values.size):.3f} s.e."


def gain_by_fraction_text(gains: dict) -> str:
    """"0.05: +0.014 ± 0.010 s.e. mean (7/10 seeds up); 0.1: ...": the mean of each labelled
    fraction's per-seed gains over a baseline (paired by seed), its standard error and the number
    of seeds with a gain, for the notes of the few-label benchmarks."""
    import numpy as np

    parts = []
    for fraction, values in gains.items():
        values = np.asarray(values, np.float64)
        parts.append(f"{fraction:g}: {values.mean():+.3f}{standard_error_text(values)} mean "
                     f"({int((values > 0).sum())}/{values.size} seeds up)")
    return "; ".join(parts)


def write_result(path, result: dict) -> pathlib.Path:
    """Write one benchmark's result file in the form `results_tables` reads.

    `result` holds title, command, columns, rows and optionally note; the machine is added here.
    """
    import platform

    missing = {"title", "command", "columns", "rows"} - set(result)
    if missing:
        raise ValueError(f"a benchmark result needs {sorted(missing)} too; got keys {sorted(result)}")
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    result = {**result, "machine": f"{platform.machine()} CPU, 2 cores"}
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")
    return path


def record_comparison(preset: str, steps, what: str, command: str,
                      values: dict) -> pathlib.Path | None:
    """Add a benchmark's per-seed figures ({arm: [value per seed]}) to the shipped preset's
    metadata.json under "comparison" (the weights and their sha256 are untouched), when the
    benchmark ran the preset's own recipe (`steps` equal to its train_steps); else do nothing.
    The file is replaced whole, never left half-written."""
    from advzoo import weights, zoo

    meta_path = weights.zoo_weights_dir() / preset / "metadata.json"
    if steps != zoo.get_preset(preset).train_steps or not meta_path.exists():
        return None
    meta = json.loads(meta_path.read_text())
    meta["comparison"] = {"what": what, "command": command,
                          **{arm: [round(float(v), 4) for v in per_seed]
                             for arm, per_seed in values.items()}}
    partial = meta_path.with_suffix(".json.partial")
    partial.write_text(json.dumps(meta, indent=2) + "\n")
    partial.replace(meta_path)
    print(f"wrote the comparison into {meta_path}")
    return meta_path


def write_domain_shift_result(path, result: dict, preset: str, steps, seeds, script: str,
                              target_dice: dict) -> None:
    """The tail of the domain-adaptation benchmarks (dann, adda, pixelda): write the result file,
    and the per-seed test-split target Dice ({arm: [Dice per seed]}) into the preset's metadata
    when the run used the preset's own recipe (`record_comparison`)."""
    write_result(path, result)
    record_comparison(preset, steps,
                      what=f"test-split target-scanner Dice, same recipe and steps, per seed "
                           f"{list(seeds)}",
                      command=f"python benchmarks/{script}", values=target_dice)


def _markdown_table(columns, rows) -> list[str]:
    """The lines of a markdown table of `rows` (dicts), one column per key in `columns`."""
    return (["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
            + ["| " + " | ".join(_fmt(row[c]) for c in columns) + " |" for row in rows])


def result_anchor(result_file: str) -> str:
    """The anchor of a result's table in docs/benchmarks.md (`result-NAME`)."""
    return "result-" + pathlib.Path(result_file).stem


def results_tables(results_dir=RESULTS_DIR) -> str:
    """One table per benchmark result file: its title, its command, its rows."""
    parts = []
    results_dir = pathlib.Path(results_dir)
    for path in sorted(results_dir.glob("*.json")) if results_dir.is_dir() else []:
        result = json.loads(path.read_text())
        columns = result["columns"]
        lines = [f'<a id="{result_anchor(path.name)}"></a>',
                 f"**{result['title']}** (`{result['command']}`, {result['machine']})", "",
                 *_markdown_table(columns, result["rows"])]
        if result.get("note"):
            lines += ["", result["note"]]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def verdicts(path=VERDICTS_PATH) -> dict:
    """{family: {paper, result, headline, verdict}}: each family's headline benchmark result
    against its baseline, as `benchmarks/verdicts.json` states it (tests/test_verdicts.py checks
    its figures against the result files)."""
    return json.loads(pathlib.Path(path).read_text())


def zoo_table() -> str:
    """README: one row per family: paper, presets, headline result, verdict, link to its table."""
    rows = ["| family | paper | pretrained presets | headline result (vs. its baseline) | verdict |",
            "|---|---|---|---|---|"]
    headlines = verdicts()
    for name in zoo.list_models():
        entry = headlines[name]
        presets = ", ".join(_preset_cell(p) for p in zoo.list_presets(name)) or "-"
        headline = entry["headline"]
        if entry.get("result"):
            headline += f" ([table](docs/benchmarks.md#{result_anchor(entry['result'])}))"
        rows.append(f"| `{name}` | {entry['paper']} | {presets} | {headline} | "
                    f"{entry['verdict']} |")
    return "\n".join(rows)


def notebook_list() -> str:
    return "\n".join(f"- {colab_badge(name)} `colab/{name}.ipynb`: {what}"
                      for name, what in NOTEBOOKS.items())


def render_tables() -> str:
    """The README's generated block."""
    return "\n".join([BEGIN, zoo_table(), "", "Notebooks (each runs on Colab and in the tests):",
                      "", notebook_list(), END])


def speed_table(result: dict) -> str:
    """README: the measured throughput rows of pix2pix and cyclegan (every size, precision, XLA
    setting and device) and the XLA rows of the others, from throughput.json's `result`; rows
    not measured are counted by `_not_measured` (docs/benchmarks.md lists them)."""
    rows = [r for r in result["rows"]
            if (r["family"] in SPEED_FAMILIES or r.get("xla") == "on")
            and not r["status"].startswith("not measured")]
    return "\n".join(_markdown_table(SPEED_COLUMNS, rows))


def _not_measured(result: dict) -> str:
    """A sentence on the README's rows left out because they were not measured, and why."""
    left = [r["status"] for r in result["rows"] if r["status"].startswith("not measured")]
    return (f" Left out here: {len(left)} rows {'; '.join(sorted(set(left)))}." if left else "")


def render_speed(results_dir=RESULTS_DIR) -> str:
    """The README's generated speed block."""
    result = json.loads((pathlib.Path(results_dir) / "throughput.json").read_text())
    return "\n".join([SPEED_BEGIN, speed_table(result), "", "Every family, with the machine and "
                      "what was skipped and why: [docs/benchmarks.md](docs/benchmarks.md#"
                      f"{result_anchor('throughput.json')}).{_not_measured(result)}", SPEED_END])


def real_ct_table(results_dir=RESULTS_DIR) -> str:
    """README: each row of the real-CT benchmark (real_ct_clinical.json), the mean over the real
    slices beside the mean over the phantom test split."""
    result = json.loads((pathlib.Path(results_dir) / REAL_CT_RESULT).read_text())
    means = {}
    for row in result["rows"]:
        where = ("real CT" if row["test data"] == "real CT, mean" else
                 "phantoms" if row["test data"].startswith("phantom test split") else None)
        if where:
            # fixed decimals, so that the rows compare digit for digit
            means.setdefault(row["image"], {"image": row["image"]}).update(
                {f"{where}: PSNR (dB)": f"{row['PSNR in body (dB)']:.2f}",
                 f"{where}: SSIM": f"{row['SSIM in body']:.3f}",
                 f"{where}: noise sd (HU)": f"{row['noise sd in soft tissue (HU)']:.1f}"})
    columns = ["image"] + [f"{w}: {m}" for w in ("real CT", "phantoms")
                           for m in ("PSNR (dB)", "SSIM", "noise sd (HU)")]
    return "\n".join(_markdown_table(columns, means.values()))


def render_real_ct() -> str:
    """The README's generated real-CT block."""
    return "\n".join([REAL_CT_BEGIN, real_ct_table(), "", "Every slice, and how each row was "
                      "made: [docs/benchmarks.md](docs/benchmarks.md#"
                      f"{result_anchor(REAL_CT_RESULT)}).", REAL_CT_END])


def _replace_block(text: str, begin: str, end: str, block: str, path) -> str:
    if begin not in text or end not in text:
        raise ValueError(f"{path} has no generated-block markers ({begin!r} ... {end!r})")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return head + block + tail


def render_docs() -> str:
    """docs/benchmarks.md, whole."""
    sections = ["# advzoo: families, presets and benchmark results",
                "Generated by `python scripts/update_readme.py` from the registry and "
                "`benchmarks/results/*.json`; a test fails when it is stale. Each table names "
                "the command that measured it and the machine.",
                "## Families", family_table(), "## Pretrained presets", preset_table()]
    results = results_tables()
    if results:
        sections += ["## Benchmark results", results]
    return "\n\n".join(sections) + "\n"


def update_readme(path, docs_path=DOCS_PATH) -> bool:
    """Rewrite the generated blocks of the README at `path` and the whole of `docs_path`; True if
    either changed."""
    path, docs_path = pathlib.Path(path), pathlib.Path(docs_path)
    text = path.read_text()
    new = _replace_block(text, BEGIN, END, render_tables(), path)
    new = _replace_block(new, SPEED_BEGIN, SPEED_END, render_speed(), path)
    new = _replace_block(new, REAL_CT_BEGIN, REAL_CT_END, render_real_ct(), path)
    changed = new != text
    if changed:
        path.write_text(new)
    docs = render_docs()
    if not docs_path.exists() or docs_path.read_text() != docs:
        docs_path.parent.mkdir(parents=True, exist_ok=True)
        docs_path.write_text(docs)
        changed = True
    return changed


COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


def colab_badge(name: str, branch: str = "main") -> str:
    """The markdown "Open in Colab" badge of the notebook colab/`name` (".ipynb" optional), on
    `branch` of the repository at `advzoo.version.REPOSITORY_URL` (a github.com address: Colab
    opens notebooks from GitHub by owner/name/blob/branch/path)."""
    from advzoo.version import REPOSITORY_URL

    prefix = "https://github.com/"
    if not REPOSITORY_URL.startswith(prefix):
        raise ValueError(f"Colab opens notebooks from github.com; REPOSITORY_URL is {REPOSITORY_URL!r}")
    name = name if name.endswith(".ipynb") else f"{name}.ipynb"
    repository = REPOSITORY_URL[len(prefix):].rstrip("/").removesuffix(".git")
    target = f"https://colab.research.google.com/github/{repository}/blob/{branch}/colab/{name}"
    return f"[![Open In Colab]({COLAB_BADGE_IMAGE})]({target})"
