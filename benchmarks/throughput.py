"""Training throughput of every family (issue #19): steps/s, images/s and peak memory of `fit`
at each family's natural sizes, in float32 and mixed_float16, with XLA off and on.

    python benchmarks/throughput.py [--quick] [--rows FAMILY ...] [--budget-seconds 120]
                                    [--total-seconds 1320] [--min-seconds 3] [--out PATH]

Each row is one configuration (family, size, batch, dtype policy, XLA) measured in its own
subprocess, so the peak memory belongs to that row alone: the host's peak resident set size
(`resource.getrusage(RUSAGE_SELF).ru_maxrss`, import of TensorFlow included) on CPU, TensorFlow's
peak allocation on the GPU (`tf.config.experimental.get_memory_info("GPU:0")["peak"]`) where there
is one. The networks are each family's preset networks (`advzoo/presets.py`: the widths and
options that ship), built at the row's size with `advzoo.build`-style options (`image_shape`, or
`source_shape`/`target_shape`); adda is measured in its adversarial stage ("target"), progan fully
grown. The data are one batch of the family's built-in phantom data, made at the preset's size
(cheap, and small next to the row's memory), repeated nearest-neighbour up to the row's size, held
in memory and fed again every step: a step does the same arithmetic whatever the pixel values are,
so throughput does not depend on content. Timing: `fit` with `--warmup` steps first (the first traces the step), then
at least `--steps` timed steps lasting at least `--min-seconds`; steps/s = timed steps / their wall
time (each step's losses are read back, so the clock covers finished work), images/s = steps/s *
batch (samples per step; a cyclegan sample is one image of each domain, a srgan one is the
high-resolution output size), CPU s/step = the process's CPU time per timed step (less sensitive
than steps/s to other work on a shared machine).

A row whose subprocess outlives `--budget-seconds` (TensorFlow import, build, data, tracing and the
steps together) is stopped and recorded as skipped; the timed steps are cut short (at least one)
when the budget would be passed. mixed_float16 is measured on CPU only for pix2pix 128x128
(float16 arithmetic is emulated on CPU); rows that need a GPU are recorded as not measured where
there is none, and are measured when `tf.config.list_physical_devices("GPU")` finds one.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULT_PATH = ROOT / "benchmarks" / "results" / "throughput.json"
COLUMNS = ["family", "preset networks", "size", "batch", "dtype policy", "xla", "device",
           "steps/s", "images/s", "CPU s/step", "peak memory MiB", "baseline MiB",
           "first step s", "status"]

# the preset whose networks a family is measured with (its first preset where not named here)
PRESET = {"pix2pix": "pix2pix_lowdose_ct", "cyclegan": "cyclegan_mr_ct", "srgan": "srgan_mr",
          "dan": "dan_retina_5pct"}
PRESET_3D = {"pix2pix": "pix2pix_lowdose_ct_3d", "cyclegan": "cyclegan_mr_ct"}
# fully convolutional image-to-image families: 128x128 and 256x256
SIZE_FREE = ("pix2pix", "cyclegan", "srgan", "simgan", "adversarial_segmentation", "segan",
             "vagan", "dann", "adda", "pixelda", "dan")
# generative families: at their presets' sizes and at 64x64 where they take images
GENERATIVE = ("gan", "cgan", "infogan", "bigan", "anogan", "lapgan", "progan", "ssl_gan",
              "unrolled_gan", "centerline_gan")
NOT_IMAGES = {"unrolled_gan": "2-D points (MLP players)",
              "centerline_gan": "(points, 4) vessel sequences"}
EXTRA_OPTIONS = {"adda": {"stage": "target"}}  # the adversarial stage, not the pre-training

GPU_ROW = "not measured: no GPU lent to this run"
EMULATED = "skipped on CPU (float16 is emulated on CPU)"


# -- the plan -------------------------------------------------------------------------------------

def _row(family, size, batch, policy="float32", xla=False, *, preset=None, ndim=2,
         gpu_only=False, cpu_measured=True, priority=0):
    """One planned configuration. `gpu_only`: measured only where there is a GPU;
    `cpu_measured=False`: recorded as skipped on a CPU-only machine (mixed_float16); rows run in
    order of `priority` (so a run cut short by --total-seconds loses the optional ones)."""
    from advzoo import zoo

    if preset is None:
        preset = (PRESET_3D if ndim == 3 else PRESET).get(family) or zoo.list_presets(family)[0]
    return {"family": family, "preset": preset, "size": size, "ndim": ndim, "batch": batch,
            "policy": policy, "xla": xla, "gpu_only": gpu_only, "cpu_measured": cpu_measured,
            "priority": priority}


def plan(quick: bool = False) -> list[dict]:
    """Every row of the benchmark, in table order; `priority` orders the runs (`run_order`):
    0 every family at 128x128 or its preset size, 1 pix2pix/cyclegan 256x256 and 3D 64^3,
    2 XLA on, mixed precision, 3 the other 256x256 rows and 64x64 of the generative families."""
    from advzoo import zoo

    if quick:  # a smoke run: two tiny rows
        return [_row("gan", 16, 8), _row("pix2pix", 32, 2)]
    rows = [_row(family, 128, 4) for family in SIZE_FREE]
    for family in SIZE_FREE:
        if family == "pix2pix":
            rows += [_row(family, 256, 1, priority=1), _row(family, 256, 8, priority=1)]
        else:
            rows.append(_row(family, 256, 4, priority=1 if family == "cyclegan" else 3))
    rows += [_row("pix2pix", 64, 1, ndim=3, priority=1),
             _row("cyclegan", 64, 1, ndim=3, priority=1)]
    for family in GENERATIVE:
        sizes = {}
        for name in zoo.list_presets(family):
            shape = tuple(zoo.get_preset(name).config["image_shape"])
            sizes.setdefault(shape[0] if family not in NOT_IMAGES else shape, (name, 0))
        if family not in NOT_IMAGES:
            sizes.setdefault(64, (zoo.list_presets(family)[0], 3))
        for size, (name, priority) in sorted(sizes.items(), key=lambda kv: str(kv[0]).zfill(8)):
            rows.append(_row(family, size, 8, preset=name, priority=priority))
    # XLA on, against the same rows with XLA off above
    rows += [_row("pix2pix", 128, 4, xla=True, priority=2),
             _row("gan", 16, 8, xla=True, priority=2)]
    # mixed_float16: every image-to-image family at 128x128; on CPU only pix2pix is measured
    rows += [_row(family, 128, 4, "mixed_float16", cpu_measured=family == "pix2pix",
                  priority=2) for family in SIZE_FREE]
    # GPU rows: pix2pix and cyclegan at 256x256, float32 / mixed_float16, XLA off / on
    for family in ("pix2pix", "cyclegan"):
        for policy in ("float32", "mixed_float16"):
            for xla in (False, True):
                rows.append(_row(family, 256, 4, policy, xla, gpu_only=True, priority=1))
    return rows


# rows compared with each other (XLA on / off, mixed_float16 / float32) run first, one right
# after the other, so that the load of a shared machine changes as little as possible between them
COMPARED = (("pix2pix", 128, 4), ("gan", 16, 8))


def run_order(rows: list[dict]) -> list[int]:
    """Indices of `rows` in the order they run: the compared rows of `COMPARED` first (float32
    XLA off, then XLA on, then mixed_float16), then by priority, then in table order."""
    def key(i):
        r = rows[i]
        if _compared(r):
            rank = [c[0] for c in COMPARED].index(r["family"])
            return (-1, rank, r["policy"] != "float32", r["xla"], i)
        return (r["priority"], 0, False, False, i)

    return sorted(range(len(rows)), key=key)


def _compared(row: dict) -> bool:
    return (not row["gpu_only"] and row["ndim"] == 2
            and (row["family"], row["size"], row["batch"]) in COMPARED)


# -- one row, measured in this process --------------------------------------------------------------

def _shape_options(family: str, config: dict, size, ndim: int) -> dict:
    """The preset's shape options set to the row's size."""
    if family in NOT_IMAGES:
        return {"image_shape": tuple(size)}
    spatial = (int(size),) * ndim
    if family == "srgan":  # the size is the high-resolution output's
        scale = int(config.get("scale", 2))
        return {"source_shape": tuple(s // scale for s in spatial) + (config["source_shape"][-1],)}
    if "source_shape" in config:
        options = {"source_shape": spatial + (config["source_shape"][-1],)}
        if family == "cyclegan":
            options["target_shape"] = spatial + (tuple(config.get("target_shape") or (1,))[-1],)
        return options
    return {"image_shape": spatial + (config["image_shape"][-1],)}


def _phase(path, phase: str, **info) -> None:
    if path:
        pathlib.Path(path).write_text(json.dumps({"phase": phase, **info}))


def _probe_size(row: dict, config: dict):
    """The size the data are made at: the preset's (32 for the image-to-image families), which
    the row's size is a whole multiple of; None where the row's size is used as it is."""
    if row["family"] in NOT_IMAGES:
        return None
    if row["family"] in SIZE_FREE:
        probe = 32
    else:
        probe = int(config["image_shape"][0])
    if int(row["size"]) % probe:
        raise ValueError(f"{row['family']}: size {row['size']} is not a multiple of {probe}")
    return probe


def _first_batch(family, model, batch: int):
    """One batch of the family's built-in data at the model's size, as numpy arrays."""
    import tensorflow as tf

    try:
        # a few batches' worth: some data keep a subset (anogan's normal slices) or split
        # labelled from unlabelled images (ssl_gan), and must still fill one batch
        data = family.dataset(model, batch_size=batch, n=max(4 * batch, 32))
    except TypeError:  # built-in data without an `n` option (digits)
        data = family.dataset(model, batch_size=batch)
    first = tf.nest.map_structure(lambda t: t.numpy(), next(iter(data)))
    sizes = {int(t.shape[0]) for t in tf.nest.flatten(first)}
    if sizes != {batch}:
        raise RuntimeError(f"the built-in data gave a batch of {sizes}, not {batch}")
    return first


def synthetic_batch(row: dict, family, config: dict):
    """One batch of the family's built-in phantom data made at the preset's size and repeated
    nearest-neighbour up to the row's size (label maps stay valid label maps): the right
    structure, shapes and value ranges without generating phantoms at 256x256 (whose simulation
    would dominate the process's peak memory)."""
    import numpy as np
    import tensorflow as tf

    probe = _probe_size(row, config)
    options = dict(config)
    if probe is not None:
        options.update(_shape_options(row["family"], config, probe, row["ndim"]))
    model = family.cls(**options)
    batch = _first_batch(family, model, row["batch"])
    del model
    if probe is None or probe == row["size"]:
        return batch
    factor = int(row["size"]) // probe

    def grow(array):
        if array.ndim != row["ndim"] + 2:  # class ids, condition vectors
            return array
        for axis in range(1, row["ndim"] + 1):
            array = np.repeat(array, factor, axis=axis)
        return array

    return tf.nest.map_structure(grow, batch)


def measure(row: dict, warmup: int = 2, steps: int = 4, budget_seconds: float | None = None,
            phase_file=None, started: float | None = None, min_seconds: float = 0.0,
            max_steps: int = 2000) -> dict:
    """Build, compile and train one row's model on repeated in-memory data; returns the row's
    figures: steps_per_s, images_per_s, cpu_s_per_step, peak_mib, baseline_mib, first_step_s,
    device, memory. Sets and restores the global dtype policy.

    At least `steps` timed steps, and more (up to `max_steps`) until they have taken
    `min_seconds`. With `budget_seconds` (counted from `started`): a single warm-up step when
    the first one took over 40 % of the budget, and the timed steps cut short (at least one)
    where the next would pass the budget."""
    import resource

    import keras
    import tensorflow as tf

    from advzoo import zoo

    started = time.perf_counter() if started is None else started
    gpus = tf.config.list_physical_devices("GPU")
    rss_mib = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    # what the process holds before the row's data and model: imports (host) or nothing (GPU)
    baseline = (tf.config.experimental.get_memory_info("GPU:0")["current"] / 2 ** 20 if gpus
                else rss_mib())
    family = zoo.get_family(row["family"])
    config = {k: v for k, v in zoo.get_preset(row["preset"]).config.items() if k != "contract"}
    config.update(EXTRA_OPTIONS.get(row["family"], {}))
    _phase(phase_file, "data")
    batch = synthetic_batch(row, family, config)
    config.update(_shape_options(row["family"], config, row["size"], row["ndim"]))
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(row["policy"])
    try:
        _phase(phase_file, "build")
        model = family.cls(**config)
        if row["family"] == "progan":  # fully grown: every step at the full resolution
            model.set_growth(model.stages - 1, 1.0)
        model.compile(jit_compile=bool(row["xla"]))
        data = tf.data.Dataset.from_tensors(batch).repeat()
        times, cpu = [], []
        state = {"warmup": max(1, warmup)}

        class Clock(keras.callbacks.Callback):
            def on_train_batch_begin(self, step, logs=None):
                if step == 0:
                    _phase(phase_file, "first step", at=time.perf_counter() - started)
                    times.append(time.perf_counter())
                    cpu.append(time.process_time())

            def on_train_batch_end(self, step, logs=None):
                # reading a loss back waits for the step's work (asynchronous on a GPU)
                float(next(iter(logs.values()))) if logs else None
                now = time.perf_counter()
                times.append(now)
                cpu.append(time.process_time())
                elapsed = now - started
                if step == 0 and budget_seconds and elapsed > 0.4 * budget_seconds:
                    state["warmup"] = 1
                if step <= state["warmup"] or now - state.get("written", 0.0) > 1.0:
                    state["written"] = now  # (not every step of a fast row: a file write)
                    _phase(phase_file, "warm-up" if step + 1 < state["warmup"] else
                           "timed steps", first=times[1] - times[0],
                           last=times[-1] - times[-2], at=elapsed)
                timed = step + 1 - state["warmup"]
                if timed > 0:
                    spent = now - times[state["warmup"]]
                    if timed >= steps and spent >= min_seconds:
                        self.model.stop_training = True
                    if budget_seconds and elapsed + spent / timed > budget_seconds:
                        self.model.stop_training = True

        model.fit(data, epochs=1, steps_per_epoch=state["warmup"] + max(steps, max_steps),
                  verbose=0, callbacks=[Clock()])
    finally:
        keras.mixed_precision.set_global_policy(previous)
    first = state["warmup"]
    timed = len(times) - 1 - first
    if timed < 1:
        raise RuntimeError(f"no timed step ({len(times) - 1} steps ran)")
    steps_per_s = timed / (times[-1] - times[first])
    if gpus:
        peak = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2 ** 20
        memory = "GPU peak allocation"
        device = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
    else:
        peak = rss_mib()
        memory = "host peak RSS"
        device = "CPU"
    return {"steps_per_s": steps_per_s, "images_per_s": steps_per_s * row["batch"],
            "cpu_s_per_step": (cpu[-1] - cpu[first]) / timed, "peak_mib": peak,
            "baseline_mib": baseline, "first_step_s": times[1] - times[0],
            "warmup_steps": first, "timed_steps": timed, "device": device, "memory": memory}


# -- the rows, each in its own process --------------------------------------------------------------

def _label(row: dict) -> str:
    size = row["size"]
    if isinstance(size, (tuple, list)):
        return "x".join(str(s) for s in size)
    text = "x".join([str(size)] * row["ndim"]) if row["ndim"] == 2 else f"{size}^3"
    if row["family"] == "srgan":
        text += f" (from {size // 2}x{size // 2})"
    return text


def table_row(row: dict, figures: dict | None, status: str) -> dict:
    figures = figures or {}

    def rounded(key, digits):  # whole numbers from 100 up: the README shows 3 significant digits
        if key not in figures:
            return "-"
        value = float(figures[key])
        return int(round(value)) if abs(value) >= 100 or digits == 0 else round(value, digits)

    return {"family": row["family"], "preset networks": row["preset"], "size": _label(row),
            "batch": row["batch"], "dtype policy": row["policy"],
            "xla": "on" if row["xla"] else "off", "device": figures.get("device", "-"),
            "steps/s": rounded("steps_per_s", 3), "images/s": rounded("images_per_s", 2),
            "CPU s/step": rounded("cpu_s_per_step", 3),
            "peak memory MiB": rounded("peak_mib", 0), "first step s": rounded("first_step_s", 1),
            "baseline MiB": rounded("baseline_mib", 0), "status": status,
            "timed steps": figures.get("timed_steps", 0)}


def _timeout_status(phase: dict, budget: float) -> tuple[str, dict]:
    """Why a row's process ran out of time, from the last phase it wrote; partial figures."""
    where = phase.get("phase", "start")
    if where == "first step":
        return (f"skipped: one step > {budget - phase.get('at', 0):.0f} s on this CPU (the "
                f"first, tracing included, unfinished when the row's {budget:.0f} s ran out)"), {}
    if where in ("warm-up", "timed steps"):
        return (f"skipped: one step ~{phase['last']:.0f} s on this CPU after a first step of "
                f"{phase['first']:.0f} s (tracing included): no timed step within the row's "
                f"{budget:.0f} s"), {"first_step_s": phase["first"]}
    return f"skipped: {where} did not finish within {budget:.0f} s", {}


def run_row(row: dict, budget_seconds: float, warmup: int, steps: int,
            min_seconds: float = 0.0) -> dict:
    """Measure `row` in a fresh interpreter; a table row (status "measured" or why not)."""
    with tempfile.TemporaryDirectory() as tmp:
        phase_file = pathlib.Path(tmp) / "phase"
        spec = {"row": row, "warmup": warmup, "steps": steps, "budget_seconds": budget_seconds,
                "phase_file": str(phase_file), "min_seconds": min_seconds}
        command = [sys.executable, str(pathlib.Path(__file__).resolve()), "--child",
                   json.dumps(spec)]
        try:
            done = subprocess.run(command, capture_output=True, text=True,
                                  timeout=budget_seconds + 5, cwd=ROOT)
        except subprocess.TimeoutExpired:
            phase = json.loads(phase_file.read_text()) if phase_file.exists() else {}
            status, partial = _timeout_status(phase, budget_seconds)
            return table_row(row, partial, status)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return table_row(row, json.loads(line[len("RESULT "):]), "measured")
    tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return table_row(row, None, f"failed: {tail[:200]}")


def environment() -> dict:
    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    names = [tf.config.experimental.get_device_details(g).get("device_name", "GPU") for g in gpus]
    return {"tensorflow": tf.__version__, "keras": keras.__version__, "gpus": names,
            "cpu_cores": os.cpu_count()}


def _pair_ratio(rows: list[dict], family: str, differs: str, base, other,
                key: str = "steps/s") -> float | None:
    """`key` of `family`'s measured row with `differs` == base over the one with `other`, the
    two alike in every other setting (size, batch, device, and the other of dtype / xla)."""
    same = ("size", "batch", "device", "dtype policy", "xla")
    measured = [r for r in rows if r["family"] == family and r["status"] == "measured"]
    for b in (r for r in measured if r[differs] == base):
        for o in (r for r in measured if r[differs] == other):
            if all(b[k] == o[k] for k in same if k != differs):
                return b[key] / o[key]
    return None


def xla_ratio(rows: list[dict], family: str, key: str = "steps/s") -> float | None:
    """How many times slower XLA on is than off for `family` (steps/s off / on, or with
    key="CPU s/step" the CPU seconds of a step on / off)."""
    if key == "CPU s/step":
        return _pair_ratio(rows, family, "xla", "on", "off", key)
    return _pair_ratio(rows, family, "xla", "off", "on", key)


def _times(ratio: float, slower: str = "slower", faster: str = "faster") -> str:
    """"2.0x slower" for a ratio of 2.0, "1.5x faster" for one of 0.67."""
    return f"{ratio:.1f}x {slower}" if ratio >= 1 else f"{1 / ratio:.1f}x {faster}"


def note_text(rows: list[dict], env: dict, total_s: float, budget: float,
              load: tuple[float, float], warmup: int = 2, steps: int = 4,
              min_seconds: float = 3.0) -> str:
    measured = [r for r in rows if r["status"] == "measured"]
    machine = (f"{len(env['gpus'])} GPU ({', '.join(env['gpus'])})" if env["gpus"] else
               f"CPU only, {env['cpu_cores']} cores shared with other work (load average "
               f"{load[0]:.1f} at the start, {load[1]:.1f} at the end), so steps/s vary between "
               "runs; CPU s/step (the process's CPU time per timed step) varies less")
    parts = [f"Machine: {machine}; TensorFlow {env['tensorflow']}, Keras {env['keras']}. "
             f"{len(measured)} of {len(rows)} rows measured in {total_s / 60:.1f} min, each in "
             f"its own process (at most {budget:.0f} s a row), {warmup} warm-up step(s) (the first "
             f"traces; 1 where it took over 40 % of the budget) then at least {steps} timed ones "
             f"and at least {min_seconds:g} s of them (10 s for the rows compared for XLA and "
             "mixed precision, run one right after the other). "
             "Networks: each "
             "family's preset networks (column 2) built at the row's size (srgan: the output's); "
             "adda in its adversarial stage, progan fully grown. Data: one batch of the "
             "family's built-in phantoms made at the preset's size, repeated nearest-neighbour "
             "to the row's size and fed again every step: throughput does not depend on content."]
    if env["gpus"]:
        parts.append("Peak memory: TensorFlow's peak GPU allocation.")
    elif measured:
        base = [r["baseline MiB"] for r in measured]
        span = (f"{min(base):.0f}" if round(min(base)) == round(max(base)) else
                f"{min(base):.0f}-{max(base):.0f}")
        parts.append(f"Peak memory: the process's peak RSS (ru_maxrss), TensorFlow and advzoo "
                     f"imports included (baseline MiB: {span} MiB before the row's data and "
                     "model).")
    skipped = {}
    for r in rows:
        if r["status"] != "measured":
            skipped.setdefault(r["status"], []).append(
                f"{r['family']} {r['size']} b{r['batch']} {r['dtype policy']}"
                f"{' XLA' if r['xla'] == 'on' else ''}")
    for status, which in skipped.items():
        parts.append(f"{status[0].upper() + status[1:]}: {'; '.join(which)}.")
    findings = []
    for family in ("pix2pix", "gan"):
        ratio, cpu = xla_ratio(rows, family), xla_ratio(rows, family, "CPU s/step")
        first = _pair_ratio(rows, family, "xla", "on", "off", "first step s")
        if ratio is not None:
            findings.append(f"{family} {_times(ratio)} in steps/s ({_times(cpu, 'more', 'less')} "
                            f"CPU time a step, first step {first:.1f}x as long)")
    if findings and not env["gpus"]:
        parts.append("XLA on CPU (jit_compile=True against off, the same rows run one after the "
                     "other): " + "; ".join(findings) + ". XLA's CPU code bypasses TensorFlow's "
                     "oneDNN kernels, a loss for the convolutions of image-sized networks; the "
                     "16x16 DCGAN's small step, dominated by per-op overhead, gains from XLA's "
                     "fusion. jit_compile=\"auto\" (the default) leaves XLA off on CPU, and "
                     "compile(jit_compile=True) warns there.")
    elif findings:
        parts.append("XLA (jit_compile=True against off): " + "; ".join(findings) + ".")
    mixed = _pair_ratio(rows, "pix2pix", "dtype policy", "float32", "mixed_float16")
    if mixed is not None and not env["gpus"]:
        parts.append(f"mixed_float16 on CPU: pix2pix 128x128 {_times(mixed)} than float32 "
                     "(float16 arithmetic is emulated), hence measured for that row only.")
    return " ".join(parts)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a smoke run of two tiny rows")
    ap.add_argument("--rows", nargs="+", metavar="FAMILY", help="only these families' rows")
    ap.add_argument("--budget-seconds", type=float, default=120.0,
                    help="wall-clock limit of one row's process (default 120)")
    ap.add_argument("--total-seconds", type=float, default=None,
                    help="start no row after this many seconds; the rows left (the optional "
                         "ones: rows run in order of priority) are recorded as skipped")
    ap.add_argument("--warmup", type=int, default=2, help="untimed steps first (the first traces)")
    ap.add_argument("--steps", type=int, default=4, help="timed steps, at least")
    ap.add_argument("--min-seconds", type=float, default=3.0,
                    help="time steps for at least this long (default 3; 10 for the rows "
                         "compared for XLA and mixed precision)")
    ap.add_argument("--out", default=None, help=f"result file (default {RESULT_PATH}; "
                                                "--quick and --rows print only unless given)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:  # one row in this fresh process
        started = time.perf_counter()
        spec = json.loads(args.child)
        figures = measure(spec["row"], spec["warmup"], spec["steps"], spec["budget_seconds"],
                          spec["phase_file"], started, spec["min_seconds"])
        print("RESULT " + json.dumps(figures), flush=True)
        return figures

    env = environment()
    rows_plan = plan(args.quick)
    if args.rows:
        unknown = set(args.rows) - {r["family"] for r in plan()}
        if unknown:
            ap.error(f"no rows for {sorted(unknown)}")
        rows_plan = [r for r in rows_plan if r["family"] in args.rows]
    warmup, steps, min_seconds = ((1, 2, 0.0) if args.quick else
                                  (args.warmup, args.steps, args.min_seconds))
    compared = set(run_order(rows_plan)[:sum(_compared(r) for r in rows_plan)])
    load_start = os.getloadavg()[0]
    start = time.perf_counter()
    results = {}
    for i in run_order(rows_plan):
        row = rows_plan[i]
        if row["gpu_only"] and not env["gpus"]:
            result = table_row(row, None, GPU_ROW)
        elif row["policy"] == "mixed_float16" and not env["gpus"] and not row["cpu_measured"]:
            result = table_row(row, None, EMULATED)
        elif args.total_seconds and time.perf_counter() - start > args.total_seconds:
            result = table_row(row, None, f"skipped: the run's total of "
                                          f"{args.total_seconds:.0f} s was spent")
        else:
            result = run_row(row, args.budget_seconds, warmup, steps,
                             max(min_seconds, 10.0) if i in compared and min_seconds else
                             min_seconds)
        results[i] = result
        print(" | ".join(str(result[c]) for c in COLUMNS), flush=True)
    rows = [results[i] for i in range(len(rows_plan))]
    total = time.perf_counter() - start
    load_end = os.getloadavg()[0]
    print(f"total {total:.0f} s")
    command = "python benchmarks/throughput.py"
    if args.quick:
        command += " --quick"
    if args.rows:
        command += " --rows " + " ".join(args.rows)
    if args.total_seconds:
        command += f" --total-seconds {args.total_seconds:g}"
    out = args.out or (None if (args.quick or args.rows) else RESULT_PATH)
    result = {"title": "Training throughput and peak memory", "command": command,
              "columns": COLUMNS, "rows": rows,
              "note": note_text(rows, env, total, args.budget_seconds,
                                (load_start, load_end), warmup, steps,
                                min_seconds),
              "environment": env, "total_seconds": round(total, 1),
              "load_average": [round(load_start, 2), round(load_end, 2)]}
    if out:
        from advzoo.readme import write_result

        write_result(out, result)
    return result


if __name__ == "__main__":
    main()
