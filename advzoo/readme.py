"""The README's generated tables: families and presets from the registry, benchmark results from
`benchmarks/results/*.json`. `python scripts/update_readme.py` rewrites them between markers, and
a test fails when the README is stale."""
from __future__ import annotations

import json
import pathlib

from advzoo import weights, zoo

BEGIN = "<!-- BEGIN GENERATED TABLES (python scripts/update_readme.py) -->"
END = "<!-- END GENERATED TABLES -->"
RESULTS_DIR = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "results"


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


def preset_table() -> str:
    rows = ["| preset | family | trained on | steps (batch) | training time | measured |",
            "|---|---|---|---|---|---|"]
    for name in zoo.list_presets():
        preset = zoo.get_preset(name)
        try:
            meta = weights.read_metadata(weights.resolve_preset(name))
        except Exception:  # a preset whose weights are not shipped yet
            rows.append(f"| `{name}` | `{preset.family}` | - | - | - | weights not shipped |")
            continue
        measured = _measured(meta.get("metrics", {}))
        rows.append(
            f"| `{name}` | `{preset.family}` | {preset.data_description} | "
            f"{meta.get('train_steps')} ({meta.get('batch_size')}) | "
            f"{meta.get('train_seconds')} s | {measured} |")
    return "\n".join(rows)


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


def results_tables(results_dir=RESULTS_DIR) -> str:
    """One table per benchmark result file: its title, its command, its rows."""
    parts = []
    results_dir = pathlib.Path(results_dir)
    for path in sorted(results_dir.glob("*.json")) if results_dir.is_dir() else []:
        result = json.loads(path.read_text())
        columns = result["columns"]
        lines = [f"**{result['title']}** (`{result['command']}`, {result['machine']})", "",
                 "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(_fmt(row[c]) for c in columns) + " |" for row in result["rows"]]
        if result.get("note"):
            lines += ["", result["note"]]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def render_tables() -> str:
    sections = ["### Families", family_table(), "### Pretrained presets", preset_table()]
    results = results_tables()
    if results:
        sections += ["### Benchmark results", results]
    return "\n".join([BEGIN, "\n\n".join(sections), END])


def update_readme(path) -> bool:
    """Rewrite the generated block of README at `path`; True if it changed."""
    path = pathlib.Path(path)
    text = path.read_text()
    if BEGIN not in text or END not in text:
        raise ValueError(f"{path} has no generated-tables markers ({BEGIN!r} ... {END!r})")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = head + render_tables() + tail
    if new != text:
        path.write_text(new)
    return new != text
