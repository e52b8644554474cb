"""The `advzoo` command: list, demo, train, apply, sample, export.

    advzoo list
    advzoo demo --out advzoo_demo
    advzoo train gan --steps 200 --batch-size 64 --out runs/gan
    advzoo train pix2pix_lowdose_ct --data low/ --data-b full/ --image-size 128 --out runs/ct
    advzoo apply pix2pix_lowdose_ct scan.nii.gz --axis 2 --out denoised.nii.gz
    advzoo sample gan_digits_dcgan --n 64 --out samples.png
    advzoo export gan_digits_dcgan --out exported/gan
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import sys
import tempfile
import time

from advzoo.errors import AdvzooError

# Fewer TensorFlow C++ notices in the CLI's output (the few it prints before its logging starts
# cannot be silenced by environment variables).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


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


def _checked(cast, valid, expected: str):
    """An argparse type: `cast(text)`, refused with "expected ..., got ..." unless `valid`."""
    def parse(text: str):
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not valid(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
        return value
    return parse


positive_int = _checked(int, lambda v: v >= 1, "a positive int")
fraction = _checked(float, lambda v: 0.0 <= v < 1.0, "a number in [0, 1)")


def _check_out_dir(path: pathlib.Path, overwrite: bool) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())) and not overwrite:
        raise AdvzooError(f"{path} exists and is not empty; choose another --out or pass "
                         "--overwrite.")


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


def cmd_list(args) -> None:
    import advzoo

    if args.json:
        print(json.dumps({"families": advzoo.list_models(), "presets": advzoo.list_presets()}, indent=2))
        return
    print("families:")
    for name in advzoo.list_models():
        print(f"  {name:24s} {advzoo.get_family(name).summary}")
    print("presets:")
    for name in advzoo.list_presets():
        preset = advzoo.get_preset(name)
        print(f"  {name:24s} [{preset.family}] {preset.summary}")


def cmd_demo(args) -> None:
    out = pathlib.Path(args.out)
    _check_out_dir(out, args.overwrite)
    import advzoo
    from advzoo import latent

    start = time.perf_counter()
    model = advzoo.load(args.preset)

    def write(tmp):
        latent.save_png(model.sample_grid(64, seed=args.seed, columns=8), tmp / "samples.png", scale=4)
        rows = [model.interpolate(10, "slerp", seed=args.seed + i) for i in range(4)]
        strip = latent.image_grid(__import__("numpy").concatenate(rows), columns=10)
        latent.save_png(strip, tmp / "interpolation.png", scale=4)

    _write_dir_atomically(out, write, args.overwrite)
    meta = advzoo.weights.read_metadata(advzoo.weights.resolve_preset(args.preset))
    print(f"Loaded preset {args.preset!r} ({meta.get('summary', '')}).")
    print(f"Wrote {out / 'samples.png'} (64 samples) and {out / 'interpolation.png'} "
          f"(4 spherical interpolations) in {time.perf_counter() - start:.1f} s.")
    metrics = meta.get("metrics", {})
    if metrics:
        shown = {k: v for k, v in metrics.items() if not isinstance(v, dict)}
        print("Preset metrics (metadata.json):", json.dumps(shown))


CHECKPOINT_DIR = ".advzoo-checkpoint"


def cmd_train(args) -> None:
    out = pathlib.Path(args.out)
    if (args.data_b or args.labels) and not args.data:
        raise AdvzooError("--data-b and --labels come with --data (the first folder)")
    every = args.checkpoint_every
    if every and args.steps % every:
        raise AdvzooError(f"--steps ({args.steps}) must be a multiple of --checkpoint-every "
                          f"({every}): each checkpoint closes an epoch of that many steps")
    if every and args.epochs != 1:
        raise AdvzooError("--checkpoint-every sets the epochs itself (one per checkpoint); "
                          "leave out --epochs")
    checkpoints = out / CHECKPOINT_DIR
    if args.resume:
        if not every:
            raise AdvzooError("--resume continues a run started with --checkpoint-every N: give "
                              "the same command with --resume")
    else:
        _check_out_dir(out, args.overwrite)
    # what must be the same when a run is resumed
    run = {k: v for k, v in sorted(vars(args).items())
           if k not in ("func", "resume", "overwrite", "tensorboard", "command")}
    import keras

    import advzoo
    from advzoo import latent
    from advzoo.recipes import fit_on_default_data

    overrides = _parse_set(args.set)
    if args.objective:
        overrides["objective"] = args.objective
    # Resolve names first: a typo fails here, before any model is built or file written.
    is_preset = args.name in advzoo.list_presets()
    if not is_preset:
        advzoo.get_family(args.name)
    keras.utils.set_random_seed(args.seed)
    if is_preset:
        if overrides:
            raise AdvzooError("--set/--objective change a family's architecture; they "
                             "cannot be applied to a pretrained preset.")
        model = advzoo.load(args.name)
    else:
        model = advzoo.build(args.name, **overrides)
    callbacks = [keras.callbacks.TerminateOnNaN()]
    if args.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(args.tensorboard))
    data = None
    if args.data:  # (may rebuild a pool family at the data's size: before any restore)
        from advzoo.recipes import folder_training_data

        model, data = folder_training_data(
            model, args.data, data_b=args.data_b, labels=args.labels, image_size=args.image_size,
            patch=args.patch, mode=args.mode, axis=args.axis, batch_size=args.batch_size,
            jitter=args.jitter, seed=args.seed, preset=args.name if is_preset else None)
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


class _Parser(argparse.ArgumentParser):
    """Every argument error, of the command or of a sub-command, as `advzoo: error: ...` after
    the usage line, exit status 2 (argparse would name the sub-command: `advzoo train: error`)."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"advzoo: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from advzoo.version import __version__

    parser = _Parser(prog="advzoo", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"advzoo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_Parser)

    p = sub.add_parser("list", help="list families and presets")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("demo", help="load a pretrained preset and write samples (no training)")
    p.add_argument("--preset", default="gan_digits_dcgan", help="preset to show (default: %(default)s)")
    p.add_argument("--out", default="advzoo_demo", help="output folder (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--overwrite", action="store_true", help="replace files in a non-empty --out")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("train", help="train a family (from scratch) or a preset (fine-tune) on its "
                                     "built-in data")
    p.add_argument("name", help="family or preset name (see `advzoo list`)")
    p.add_argument("--steps", type=positive_int, default=200, help="training steps (default: %(default)s)")
    p.add_argument("--batch-size", type=positive_int, default=64, help="default: %(default)s")
    p.add_argument("--epochs", type=positive_int, default=1, help="split the steps into epochs (default: 1)")
    p.add_argument("--objective", help="adversarial objective (gan, nsgan, lsgan, wgan, wgan_gp, hinge)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="family option, e.g. --set generator=mlp --set image_shape=[8,8,1]")
    p.add_argument("--out", required=True, help="output folder for model.keras, history.json, samples.png")
    p.add_argument("--tensorboard", metavar="DIR", help="also write TensorBoard logs here")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--overwrite", action="store_true", help="replace files in a non-empty --out")
    p.add_argument("--checkpoint-every", type=positive_int, metavar="N",
                   help="write a checkpoint to OUT/.advzoo-checkpoint every N steps (an epoch "
                        "each; --steps a multiple of N) so a killed run can be resumed")
    p.add_argument("--resume", action="store_true",
                   help="continue the killed run in --out from its last checkpoint (the same "
                        "command otherwise); it ends with the weights of an uninterrupted run")
    own = p.add_argument_group(
        "your own data (instead of the built-in phantoms): folders of NIfTI, DICOM, PNG/TIFF or "
        ".npy files; a preset's input contract sets the intensity window")
    own.add_argument("--data", metavar="DIR", help="images (the source domain for translation)")
    own.add_argument("--data-b", metavar="DIR",
                     help="targets, matched to --data by file name for paired families (pix2pix), "
                          "unmatched for unpaired ones (cyclegan, simgan, vagan's normal images); "
                          "with --labels: unlabelled target-domain images (dann, adda, pixelda, dan)")
    own.add_argument("--labels", metavar="DIR", help="label maps matched to --data by file name")
    own.add_argument("--image-size", type=positive_int, metavar="N", help="resize every slice to N x N")
    own.add_argument("--patch", type=positive_int, metavar="N", help="random N x N (x N) crops per epoch")
    own.add_argument("--mode", choices=("slices", "volumes"), default="slices",
                     help="2D slices of volumes (default) or whole volumes for 3D models")
    own.add_argument("--axis", type=int, default=-1, help="slicing axis of volumes (default: last)")
    own.add_argument("--jitter", action="store_true", help="pix2pix's random resize-crop-flip")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("apply", help="run a translation, segmentation or attribution model on your "
                                     "scan files and write the results as files")
    p.add_argument("model", help="preset name, preset folder, or .keras file")
    p.add_argument("input", help="a .nii/.nii.gz, DICOM file or series folder, .png/.jpg/.tif, "
                                 ".npy, or a folder of them")
    p.add_argument("--out", required=True, help="output folder (or a file path for one input)")
    p.add_argument("--axis", type=int, help="slice 3D inputs along this axis for 2D models "
                                            "(NIfTI: 2 = axial; DICOM series: 0)")
    p.add_argument("--tile", type=positive_int, metavar="N", help="sliding-window inference in N-pixel tiles")
    p.add_argument("--overlap", type=fraction, default=0.25, help="tile overlap (default: %(default)s)")
    p.add_argument("--batch-size", type=positive_int, default=8, help="slices or tiles per batch "
                                                            "(default: %(default)s)")
    p.add_argument("--format", help="output format instead of the input's: nii, npy, png, dicom")
    p.add_argument("--probabilities", action="store_true",
                   help="segmentors: write class probabilities (needs --format nii or npy)")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_apply)

    p = sub.add_parser("sample", help="write samples of a generator (preset, preset folder or .keras)")
    p.add_argument("model", help="preset name, preset folder, or .keras file")
    p.add_argument("--n", type=positive_int, default=64, help="number of samples (default: %(default)s)")
    p.add_argument("--out", required=True, help=".png grid or .npy array")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scale", type=positive_int, default=4, help="PNG enlargement (default: %(default)s)")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("export", help="export the inference network as a SavedModel")
    p.add_argument("model", help="preset name, preset folder, or .keras file")
    p.add_argument("--out", required=True, help="SavedModel folder to create")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_export)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except AdvzooError as e:
        print(f"advzoo: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
