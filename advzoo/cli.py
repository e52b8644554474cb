"""The commands of `advzoo` that need a model (demo, train, apply, sample, export).

The command line itself (arguments, `advzoo list`, name checks) is `advzoo_cli`, which answers
without importing TensorFlow; it calls the `cmd_*` functions here with its parsed arguments.
`advzoo.cli.main` is the same entry point, for `python -m advzoo` and for scripts.
"""
from __future__ import annotations

import json
import pathlib
import shutil
import tempfile
import time

from advzoo.errors import AdvzooError
from advzoo_cli import build_parser, main  # noqa: F401  (the entry point, re-exported)


def _parse_set(items) -> dict:
    """`key=value` pairs; values parse as JSON when they can (numbers, lists, true/false), and
    stay strings otherwise (generator=mlp); a value that starts like JSON but is not is refused."""
    config = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise AdvzooError(f"--set expects key=value, got {item!r}; e.g. --set generator=mlp "
                              "or --set image_shape=[32,32,1]")
        try:
            config[key] = json.loads(value)
        except json.JSONDecodeError:
            if value and value[:1] in "[{\"-0123456789.":
                raise AdvzooError(f"--set {key}: {value!r} is not valid JSON; write lists as "
                                  "[32,32,1], numbers as 0.5, strings plainly (generator=mlp)") from None
            config[key] = value
    return config


def _load_any(spec: str):
    """A preset name, a preset folder, or a `.keras` file."""
    import keras

    import advzoo

    if spec.endswith(".keras"):
        if not pathlib.Path(spec).is_file():
            raise AdvzooError(f"no such model file {spec!r}")
        return keras.saving.load_model(spec)
    return advzoo.load(spec)


def _write_dir_atomically(out: pathlib.Path, write, overwrite: bool) -> None:
    """Run write(tmp_dir), then move its files into `out`; nothing lands if `write` fails."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        write(tmp)
        out.mkdir(exist_ok=True)
        for item in tmp.iterdir():
            target = out / item.name
            if target.exists() and overwrite:
                shutil.rmtree(target) if target.is_dir() else target.unlink()
            item.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


REAL_CT_FILE = "CT_small.dcm"  # pydicom's test data: a real 128x128 CT slice, 0.66 mm pixels
DEMO_DOSE = 0.25
DEMO_CT_PRESET = "pix2pix_lowdose_ct_clinical"  # the low-dose preset trained for real scans
DISPLAY_WINDOW = (-160.0, 240.0)  # soft tissue, where low-dose noise shows


def _titled_panels(panels, titles, scale: int = 3):
    """Grey HU panels side by side, each shown in DISPLAY_WINDOW, enlarged, with a title above."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    lo, hi = DISPLAY_WINDOW
    pictures = [np.uint8(np.clip((p - lo) / (hi - lo), 0, 1) * 255).repeat(scale, 0).repeat(scale, 1)
                for p in panels]
    h, w = pictures[0].shape
    title_h, gap = 26, 6
    canvas = Image.new("L", (len(pictures) * (w + gap) - gap, h + title_h), color=255)
    draw = ImageDraw.Draw(canvas)
    try:
        font = ImageFont.load_default(size=15)
    except TypeError:  # Pillow < 10.1: the fixed bitmap font
        font = ImageFont.load_default()
    for i, (picture, title) in enumerate(zip(pictures, titles)):
        canvas.paste(Image.fromarray(picture), (i * (w + gap), title_h))
        draw.text((i * (w + gap) + 4, 5), title, fill=0, font=font)
    return canvas


def _real_ct_demo(folder: pathlib.Path, seed: int) -> str | None:
    """`DEMO_CT_PRESET` on a real CT slice given a simulated quarter dose: writes
    lowdose_ct.png (quarter dose, denoised, full dose) and returns a line with the PSNRs, or
    None (with the reason printed) when pydicom, which ships the slice, is not installed."""
    import numpy as np

    import advzoo
    from advzoo import scan_io
    from advzoo.data.lowdose import simulate_low_dose
    from advzoo.metrics import psnr

    try:
        from pydicom.data import get_testdata_file
    except ImportError:
        print("Skipped the real-CT part: it reads pydicom's test slice; "
              'pip install -e ".[medical]" installs pydicom.')
        return None
    scan = scan_io.read_scan(get_testdata_file(REAL_CT_FILE))
    spacing = float(scan.meta["datasets"][0].PixelSpacing[0])
    hu = np.clip(scan.array[..., 0], -1024.0, None)
    low, full = simulate_low_dose(hu, DEMO_DOSE, pixel_mm=spacing, seed=seed)
    model = advzoo.load(DEMO_CT_PRESET)
    denoised = model.translate(low[None, ..., None].astype(np.float32), units="physical")[0, ..., 0]
    # PSNR over the body, in the preset's [-1024, 1024] HU window (range 2048)
    body = full > -500.0
    reference = np.clip(full, -1024, 1024)[body]
    low_db, denoised_db = (psnr(reference, np.clip(x, -1024, 1024)[body], data_range=2048.0)
                           for x in (low, denoised))
    titles = [f"quarter dose: PSNR {low_db:.1f} dB", f"{DEMO_CT_PRESET}: {denoised_db:.1f} dB",
              "full dose (reference)"]
    _titled_panels([low, denoised, full], titles).save(folder / "lowdose_ct.png")
    line = (f"pydicom's {REAL_CT_FILE} ({hu.shape[0]}x{hu.shape[1]}, {spacing:.2f} mm pixels) at a "
            f"simulated quarter dose: PSNR {low_db:.2f} dB; {DEMO_CT_PRESET} (trained on 128x128 "
            f"randomised phantoms): {denoised_db:.2f} dB (body pixels, [-1024, 1024] HU window)")
    if denoised_db <= low_db:
        line += (". The preset does not improve this real slice; docs/benchmarks.md "
                 "(real_ct_clinical) measures how far it carries to real scans")
    return line


def cmd_demo(args) -> None:
    out = pathlib.Path(args.out)
    import numpy as np

    import advzoo
    from advzoo import latent

    start = time.perf_counter()
    model = advzoo.load(args.preset)
    real_ct = []

    def write(tmp):
        latent.save_png(model.sample_grid(64, seed=args.seed, columns=8), tmp / "samples.png", scale=4)
        rows = [model.interpolate(10, "slerp", seed=args.seed + i) for i in range(4)]
        latent.save_png(latent.image_grid(np.concatenate(rows), columns=10),
                        tmp / "interpolation.png", scale=4)
        real_ct.append(_real_ct_demo(tmp, args.seed))

    _write_dir_atomically(out, write, args.overwrite)
    meta = advzoo.weights.read_metadata(advzoo.weights.resolve_preset(args.preset))
    print(f"Loaded preset {args.preset!r} ({meta.get('summary', '')}).")
    print(f"Wrote {out / 'samples.png'} (64 samples) and {out / 'interpolation.png'} "
          "(4 spherical interpolations).")
    metrics = meta.get("metrics", {})
    if metrics:
        shown = {k: v for k, v in metrics.items() if not isinstance(v, dict)}
        print("Preset metrics (metadata.json):", json.dumps(shown))
    if real_ct[0]:
        print(f"Wrote {out / 'lowdose_ct.png'}: {real_ct[0]}.")
    print(f"Done in {time.perf_counter() - start:.1f} s.")


CHECKPOINT_DIR = ".advzoo-checkpoint"


def cmd_train(args) -> None:
    # the options were checked together by advzoo_cli.check_arguments, before TensorFlow loaded
    out = pathlib.Path(args.out)
    every = args.checkpoint_every
    checkpoints = out / CHECKPOINT_DIR
    # what must be the same when a run is resumed
    run = {k: v for k, v in sorted(vars(args).items())
           if k not in ("resume", "overwrite", "tensorboard", "command", "verbose")}
    import keras

    import advzoo
    from advzoo import latent
    from advzoo.recipes import fit_on_default_data
    from advzoo.training.distribute import is_chief, strategy_from_name

    # first, before other TensorFlow work: a multi-worker strategy connects to its cluster here
    strategy = strategy_from_name(args.strategy)

    overrides = _parse_set(args.set)
    if args.objective:
        overrides["objective"] = args.objective
    is_preset = args.name in advzoo.list_presets()  # else a family: advzoo_cli checked the name
    keras.utils.set_random_seed(args.seed)
    with strategy.scope():  # variables and optimizers are created mirrored
        model = advzoo.load(args.name) if is_preset else advzoo.build(args.name, **overrides)
    callbacks = [keras.callbacks.TerminateOnNaN()]
    if args.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(args.tensorboard))
    data = None
    if args.data:  # (may rebuild a pool family at the data's size: before any restore)
        from advzoo.recipes import folder_training_data

        with strategy.scope():
            model, data = folder_training_data(
                model, args.data, data_b=args.data_b, labels=args.labels,
                image_size=args.image_size, patch=args.patch, mode=args.mode, axis=args.axis,
                batch_size=args.batch_size, jitter=args.jitter, seed=args.seed,
                preset=args.name if is_preset else None)
    initial_epoch, epochs = 0, args.epochs
    if every:
        from advzoo.training.callbacks import TrainingCheckpoint

        epochs = args.steps // every
        if args.resume:
            initial_epoch = TrainingCheckpoint.restore(model, checkpoints, run)
            print(f"Resuming {out} after step {initial_epoch * every} of {args.steps}.")
        callbacks.append(TrainingCheckpoint(checkpoints, run))
    if data is not None:
        steps_per_epoch = -(-args.steps // epochs)
        history = model.fit(data.repeat().skip(initial_epoch * steps_per_epoch),
                            steps_per_epoch=steps_per_epoch, epochs=epochs,
                            initial_epoch=initial_epoch, callbacks=callbacks, verbose=1,
                            shuffle=False)
    else:
        history = fit_on_default_data(model, args.steps, args.batch_size, epochs=epochs,
                                      seed=args.seed, callbacks=callbacks, verbose=1,
                                      initial_epoch=initial_epoch, validation=not every)

    if not is_chief():  # a worker of a multi-worker run: the chief writes the outputs
        print(f"Trained {args.steps} steps as a worker; the chief writes {out}.")
        return

    def write(tmp):
        model.save(tmp / "model.keras")
        (tmp / "history.json").write_text(json.dumps(
            {k: [float(v) for v in vals] for k, vals in history.history.items()}, indent=2))
        if hasattr(model, "sample_grid") and len(getattr(model, "image_shape", ())) == 3:
            latent.save_png(model.sample_grid(64, seed=args.seed, columns=8), tmp / "samples.png", scale=4)

    _write_dir_atomically(out, write, args.overwrite or args.resume)
    shutil.rmtree(checkpoints, ignore_errors=True)  # the run is complete and written
    print(f"Wrote {out / 'model.keras'}, {out / 'history.json'}"
          + (f", {out / 'samples.png'}" if (out / "samples.png").exists() else ""))


def cmd_apply(args) -> None:
    from advzoo.apply import apply_files

    model = _load_any(args.model)
    written = apply_files(model, args.input, args.out, axis=args.axis, tile=args.tile,
                          overlap=args.overlap, batch_size=args.batch_size, format=args.format,
                          probabilities=args.probabilities, overwrite=args.overwrite,
                          progress=not args.quiet)
    for path in written:
        print(f"Wrote {path}")


def cmd_sample(args) -> None:
    import numpy as np

    from advzoo import latent

    model = _load_any(args.model)
    if not hasattr(model, "sample"):
        raise AdvzooError(f"{args.model} ({type(model).__name__}) has no latent sampler")
    out = pathlib.Path(args.out)
    if out.exists() and not args.overwrite:
        raise AdvzooError(f"{out} exists; pass --overwrite to replace it.")
    if out.suffix not in (".png", ".npy"):
        raise AdvzooError(f"--out must end in .png or .npy, got {out.name!r}")
    samples = model.sample(args.n, seed=args.seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npy":
        np.save(out, samples)
    else:
        latent.save_png(latent.image_grid(samples), out, scale=args.scale)
    print(f"Wrote {args.n} samples to {out}")


def cmd_export(args) -> None:
    model = _load_any(args.model)
    path = model.export(args.out, overwrite=args.overwrite)
    print(f"Exported {type(model).__name__}.{model.inference_player} to {path} "
          "(SavedModel; endpoint `serve`, float32 inputs).")
