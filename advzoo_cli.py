"""The `advzoo` command: list, demo, train, apply, sample, export.

    advzoo list
    advzoo demo --out advzoo_demo
    advzoo train gan --steps 200 --batch-size 64 --out runs/gan
    advzoo train pix2pix_lowdose_ct --data low/ --data-b full/ --image-size 128 --out runs/ct
    advzoo apply pix2pix_lowdose_ct scan.nii.gz --axis 2 --out denoised.nii.gz
    advzoo sample gan_digits_dcgan --n 64 --out samples.png
    advzoo export gan_digits_dcgan --out exported/gan

This module is the command's entry point, and it sits outside the `advzoo` package on purpose:
importing `advzoo` imports TensorFlow (it registers every family with Keras), which takes seconds.
Here the arguments are parsed, names are checked against `advzoo/catalog.json` and `advzoo list`
is answered without TensorFlow; the commands that need a model run from `advzoo.cli`.
"""
from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib.util
import json
import os
import pathlib
import re
import sys
import warnings

# TensorFlow's and Keras' messages that say nothing to a user of the command (on a CPU machine:
# "failed call to cuInit", the oneDNN notice, absl's pre-init line); `--verbose` keeps them.
QUIET_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3", "ABSL_MIN_LOG_LEVEL": "3"}
QUIET_LOGGERS = ("tensorflow", "absl", "h5py")


def _package_dir() -> pathlib.Path:
    """advzoo's folder, found without importing it (that would import TensorFlow)."""
    spec = importlib.util.find_spec("advzoo")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("advzoo: error: the advzoo package is not installed next to advzoo_cli")
    return pathlib.Path(list(spec.submodule_search_locations)[0])


def version() -> str:
    text = (_package_dir() / "version.py").read_text()
    return re.search(r'__version__ = "([^"]+)"', text).group(1)


def catalog() -> dict:
    """Families and presets with their summaries, from `advzoo/catalog.json` (written from the
    registry by `python scripts/update_readme.py`; a test keeps it current)."""
    return json.loads((_package_dir() / "catalog.json").read_text())


def closest_names_hint(name, known) -> str:
    """" Did you mean 'a', 'b'?" with the up to 3 known names closest to `name`, or "" (the
    hint of every unknown-name error: here and `advzoo.errors.unknown_name`)."""
    close = difflib.get_close_matches(str(name), sorted(known), n=3, cutoff=0.5)
    return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def _did_you_mean(kind: str, name: str, known) -> str:
    return f"unknown {kind} {name!r}.{closest_names_hint(name, known)} `advzoo list` shows them all."


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


class _Parser(argparse.ArgumentParser):
    """Every argument error, of the command or of a sub-command, as `advzoo: error: ...` after
    the usage line, exit status 2 (argparse would name the sub-command: `advzoo train: error`)."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(2, f"advzoo: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    # --verbose is accepted before or after the sub-command (SUPPRESS: a sub-command's default
    # does not overwrite a value given before it)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="show TensorFlow's and Keras' log messages and warnings")
    parser = _Parser(prog="advzoo", description=__doc__.split("\n\nThis module")[0],
                     formatter_class=argparse.RawDescriptionHelpFormatter, parents=[common])
    parser.add_argument("--version", action="version", version=f"advzoo {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                parser_class=_Parser)

    def command(name, **kwargs):
        return sub.add_parser(name, parents=[common], **kwargs)

    p = command("list", help="list families and presets")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = command("demo", help="load pretrained presets: GAN samples, and a low-dose CT preset on "
                             "a real CT slice (no training, no downloads)")
    p.add_argument("--preset", default="gan_digits_dcgan", help="generative preset to sample "
                                                                "(default: %(default)s)")
    p.add_argument("--out", default="advzoo_demo", help="output folder (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--overwrite", action="store_true", help="replace files in a non-empty --out")

    p = command("train", help="train a family (from scratch) or a preset (fine-tune) on its "
                              "built-in data or on your own folders")
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
    p.add_argument("--strategy", choices=("default", "mirrored", "multiworker"), default="default",
                   help="tf.distribute strategy: mirrored = every GPU of this machine; "
                        "multiworker = one process per machine, each started with its TF_CONFIG "
                        "(the chief writes the outputs); --batch-size is the global batch")
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

    p = command("apply", help="run a translation, segmentation or attribution model on your "
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

    p = command("sample", help="write samples of a generator (preset, preset folder or .keras)")
    p.add_argument("model", help="preset name, preset folder, or .keras file")
    p.add_argument("--n", type=positive_int, default=64, help="number of samples (default: %(default)s)")
    p.add_argument("--out", required=True, help=".png grid or .npy array")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scale", type=positive_int, default=4, help="PNG enlargement (default: %(default)s)")
    p.add_argument("--overwrite", action="store_true")

    p = command("export", help="export the inference network as a SavedModel")
    p.add_argument("model", help="preset name, preset folder, or .keras file")
    p.add_argument("--out", required=True, help="SavedModel folder to create")
    p.add_argument("--overwrite", action="store_true")
    return parser


def cmd_list(args, names: dict) -> None:
    if args.json:
        print(json.dumps({"families": sorted(names["families"]),
                          "presets": sorted(names["presets"])}, indent=2))
        return
    print("families:")
    for name, summary in sorted(names["families"].items()):
        print(f"  {name:24s} {summary}")
    print("presets:")
    for name, preset in sorted(names["presets"].items()):
        print(f"  {name:24s} [{preset['family']}] {preset['summary']}")


def check_names(parser, args, names: dict) -> None:
    """Refuse unknown family and preset names before TensorFlow is imported."""
    presets, families = names["presets"], names["families"]
    if args.command == "train" and args.name not in presets and args.name not in families:
        parser.error(_did_you_mean("family or preset", args.name, [*families, *presets]))
    if args.command == "demo" and args.preset not in presets:
        parser.error(_did_you_mean("preset", args.preset, presets))
    model = getattr(args, "model", None)
    # a bare name must be a preset (or a folder here); paths are checked when they are read
    bare = model is not None and not any(c in model for c in "/\\") and not model.endswith(".keras")
    if bare and model not in presets and not pathlib.Path(model).exists():
        parser.error(_did_you_mean("preset", model, presets)[:-1] + ", and no preset folder "
                     f"{model!r} is here.")


def _check_out_dir(parser, out: str, overwrite: bool) -> None:
    path = pathlib.Path(out)
    if path.exists() and (not path.is_dir() or any(path.iterdir())) and not overwrite:
        parser.error(f"{path} exists and is not empty; choose another --out or pass --overwrite")


def check_arguments(parser, args, names: dict) -> None:
    """Refuse options that do not go together, and an output that would be overwritten, before
    TensorFlow is imported and before anything is built or written."""
    if args.command == "demo":
        _check_out_dir(parser, args.out, args.overwrite)
    if args.command != "train":
        return
    if args.name in names["presets"] and (args.set or args.objective):
        parser.error("--set/--objective change a family's architecture; they cannot be applied "
                     "to a pretrained preset")
    if (args.data_b or args.labels) and not args.data:
        parser.error("--data-b and --labels come with --data (the first folder)")
    every = args.checkpoint_every
    if every and args.steps % every:
        parser.error(f"--steps ({args.steps}) must be a multiple of --checkpoint-every ({every}): "
                     "each checkpoint closes an epoch of that many steps")
    if every and args.epochs != 1:
        parser.error("--checkpoint-every sets the epochs itself (one per checkpoint); leave out "
                     "--epochs")
    if args.resume and not every:
        parser.error("--resume continues a run started with --checkpoint-every N: give the same "
                     "command with --resume")
    if not args.resume:
        _check_out_dir(parser, args.out, args.overwrite)


def quiet() -> None:
    """Silence TensorFlow's C++ and Python log noise before it is imported (see QUIET_*)."""
    import logging

    for key, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    for category in (DeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category)


@contextlib.contextmanager
def stderr_silenced():
    """Send the process's file descriptor 2 to /dev/null for the block: the lines TensorFlow's
    C++ libraries write while they load come before absl's logging is set up, so no environment
    variable reaches them. Python errors raised in the block still show: they are printed after
    it, when the descriptor is back."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    names = catalog()
    check_names(parser, args, names)
    check_arguments(parser, args, names)
    if args.command == "list":
        cmd_list(args, names)
        return 0
    if getattr(args, "verbose", False):
        from advzoo import cli  # imports TensorFlow
    else:
        quiet()
        with stderr_silenced():
            from advzoo import cli

    try:
        getattr(cli, f"cmd_{args.command}")(args)
    except Exception as e:  # advzoo's own errors (wrong input) end as one line, exit status 2
        errors = sys.modules.get("advzoo.errors")
        if errors is None or not isinstance(e, errors.AdvzooError):
            raise
        print(f"advzoo: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
