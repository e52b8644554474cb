"""Apply a model to a user's scan files and write the results back as files: `advzoo apply`.

    advzoo apply pix2pix_lowdose_ct scan.nii.gz --out denoised.nii.gz --axis 2
    advzoo apply adversarial_segmentation_retina fundus/ --out vessels/

`apply_files(model, input, out)` does what the command does:

1. every input is read first (`advzoo.scan_io`: NIfTI, DICOM file or series folder, PNG/JPEG/
   TIFF, .npy, or a folder of them) and checked against the model (channels, rank, a slicing
   axis for 3D scans and 2D models, tiles no larger than a slice), so bad input fails before any
   work;
2. each scan goes through the model's input contract (`advzoo.contract`: e.g. HU through the
   preset's window, MR stretched by percentiles) as a whole volume, then slice by slice along
   `axis` for 2D models, whole or in tiles;
3. outputs are mapped back to physical units (HU for CT outputs) or kept as label maps, and
   written in the input's format with its geometry (NIfTI affine and header, a new DICOM series
   with the patient and geometry tags, PNG bit depth), or in `format`;
4. every output is written to a staging folder beside `out` and moved into place at the end:
   a failure leaves nothing half-written in `out`.
"""
from __future__ import annotations

import pathlib
import shutil
import tempfile

import numpy as np

from advzoo import scan_io
from advzoo.contract import from_model_units, to_model_units
from advzoo.errors import AdvzooError

FLOAT_FORMATS = ("nifti", "nii", "nii.gz", "npy")


def operation(model) -> str:
    """"segment", "attribute" or "translate": what `apply` asks of `model`."""
    if not getattr(model, "size_free", False):
        raise AdvzooError(
            f"{type(model).__name__} is not an image-to-image model: apply runs the translation, "
            "segmentation, adaptation and attribution families (e.g. pix2pix_lowdose_ct, "
            "adversarial_segmentation_retina); use `advzoo sample` for generators")
    if getattr(model, "reference_channels", 0):
        raise AdvzooError(f"{type(model).__name__} needs a high-resolution reference image beside "
                          "each input; call model.translate(images, reference=...) in Python")
    if model.family_name == "vagan":
        return "attribute"
    if hasattr(model, "segment") and model.family_name != "cyclegan":
        return "segment"
    return "translate"


def _input_layout(model, scan, axis):
    """Check one scan against the model; return the axis it is sliced along (None: whole)."""
    model_dims = len(model.image_shape) - 1
    channels = model.image_shape[-1]
    if scan.array.shape[-1] != channels:
        raise AdvzooError(f"'{scan.path}' has {scan.array.shape[-1]} channel(s) (array shape "
                          f"{scan.array.shape}); {type(model).__name__} takes {channels}")
    if scan.spatial_dims == model_dims:
        return None
    if model_dims == 3:
        raise AdvzooError(f"'{scan.path}' is a 2D image {scan.array.shape}; {type(model).__name__} is a 3D "
                          "model and takes volumes")
    if axis is None:
        raise AdvzooError(f"'{scan.path}' is a 3D volume {scan.array.shape} and {type(model).__name__} a "
                          "2D model: choose the axis to run it slice by slice along (--axis; "
                          "NIfTI (X, Y, Z): 2 for axial slices, a DICOM series (Z, H, W): 0)")
    if not -3 <= axis <= 2:
        raise AdvzooError(f"axis must be 0, 1 or 2 (or -1..-3), got {axis}")
    return axis % 3


def _check_tile(scan, axis, tile):
    if tile is None:
        return
    spatial = list(scan.spatial_shape)
    if axis is not None:
        del spatial[axis]
    tiles = (tile,) * len(spatial) if isinstance(tile, int) else tuple(tile)
    if any(s < t for s, t in zip(spatial, tiles)):
        raise AdvzooError(f"'{scan.path}': its {'slices are' if axis is not None else 'size is'} "
                          f"{tuple(spatial)}, smaller than one tile {tiles}; use a smaller "
                          "--tile or none")


def _run(model, op, volume, axis, batch_size, tile, overlap, probabilities):
    """The model on one scan in [-1, 1]: whole, or slice by slice along `axis`."""
    batch = volume[None] if axis is None else np.moveaxis(volume, axis, 0)
    options = {"batch_size": batch_size, "tile": tile, "overlap": overlap}
    if op == "segment":
        out = model.segment(batch, probabilities=probabilities, **options)
    else:
        out = getattr(model, op)(batch, **options)
    return out[0] if axis is None else np.moveaxis(out, 0, axis)


def apply_files(model, input_path, out, *, axis: int | None = None, tile=None,
                overlap: float = 0.25, batch_size: int = 8, format: str | None = None,
                probabilities: bool = False, overwrite: bool = False,
                progress: bool = True) -> list[pathlib.Path]:
    """Run `model` on the scans at `input_path` and write the outputs to `out` (see the module
    docstring). `out` is a folder, or a file path when `input_path` is one scan. Returns the
    written paths."""
    op = operation(model)
    input_spec, output_spec = model.io_contract()
    if probabilities and op != "segment":
        raise AdvzooError("--probabilities is for segmentation models")
    if probabilities and (format or "").lower().lstrip(".") not in FLOAT_FORMATS:
        raise AdvzooError("probability maps are floats: write them with --format nii or npy")
    paths = scan_io.find_scans(input_path)
    scans = [scan_io.read_scan(p) for p in paths]
    layouts = [_input_layout(model, scan, axis) for scan in scans]
    for scan, layout in zip(scans, layouts):
        _check_tile(scan, layout, tile)
    out = pathlib.Path(out)
    single_file = len(scans) == 1 and pathlib.Path(input_path).is_file() and bool(out.suffix)
    targets = [out if single_file else scan_io.output_path(scan, out, format) for scan in scans]
    if len(set(targets)) != len(targets):
        raise AdvzooError(f"two inputs would write the same output name in {out}: "
                          f"{sorted(str(t.name) for t in targets)}")
    for target in targets:
        if target.exists() and not overwrite:
            raise AdvzooError(f"'{target}' exists; pass --overwrite (overwrite=True) to replace it")
    kind = "labels" if op == "segment" and not probabilities else "image"

    import keras

    # one step per slice (a 2D scan or a volume run whole counts one), over every file
    counts = [1 if layout is None else scan.spatial_shape[layout]
              for scan, layout in zip(scans, layouts)]
    bar = (keras.utils.Progbar(sum(counts), unit_name="slice", stateful_metrics=["files"])
           if progress else None)
    out.parent.mkdir(parents=True, exist_ok=True)  # staging beside out: the moves are renames
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{out.name}.advzoo-apply.", dir=out.parent))
    try:
        staged = []
        for i, (scan, layout, target) in enumerate(zip(scans, layouts, targets)):
            volume = to_model_units(scan.array[None], input_spec)[0]
            result = _run(model, op, volume, layout, batch_size, tile, overlap, probabilities)
            if kind == "image" and not probabilities and output_spec is not None:
                result = from_model_units(result, output_spec, inputs=scan.array)
            staged.append(scan_io.write_scan(scan, result, staging / f"{i}-{target.name}",
                                             format=format, kind=kind))
            if bar is not None:
                bar.update(sum(counts[:i + 1]), values=[("files", i + 1)])
        if not single_file:
            out.mkdir(parents=True, exist_ok=True)
        for source, target in zip(staged, targets):
            if target.exists():
                shutil.rmtree(target) if target.is_dir() else target.unlink()
            source.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return targets
