"""A preset's input contract: what its inputs are in physical units, and what its outputs are.

Every network of the zoo computes on images scaled to [-1, 1]. A contract says how a user's scan
in physical units maps there and back, so that `model.translate(hu, units="physical")` and
`advzoo apply` never need a window looked up in a README table:

    {"input":  {"modality": "CT", "units": "HU", "window": [-1024, 1024]},
     "output": {"modality": "CT", "units": "HU", "window": [-1024, 1024]}}

Each side has:

- `modality`, `units`: in words, for people (`describe`);
- `window` (lo, hi): the physical range mapped linearly to [-1, 1] (values outside are clipped);
- `normalise` (inputs only): "window" (default: physical values are used as they are),
  "percentile" (each image's 1st..99th percentile is first stretched onto `reference`, the mean
  1st and 99th percentiles of the preset's training images: MR and other modalities without
  absolute units), or "minmax" (each image's range onto `reference`); `reference` defaults to
  the window;
- `kind` (outputs only): "image" (mapped back through the window), "labels" (integer label maps,
  with `classes` naming them), or "difference" (a signed map such as VAGAN's, scaled by
  (hi - lo) / 2 without an offset);
- `outside` (image outputs only): "clip" (default: the output lives in the window) or "input":
  where the input lies outside the window (which the network saw clipped), the output is the
  input unchanged. For a model that works in a narrow window, such as a soft-tissue refiner of
  CT, so that the air and bone of a real scan pass through rather than being clipped; the input
  and output windows must then be the same.
"""
from __future__ import annotations

import numpy as np

from advzoo.errors import AdvzooError, check_choice

NORMALISATIONS = ("window", "percentile", "minmax")
OUTPUT_KINDS = ("image", "labels", "difference")
OUTSIDE = ("clip", "input")
PERCENTILES = (1.0, 99.0)
_SIDE_KEYS = {"input": ("modality", "units", "window", "normalise", "reference"),
              "output": ("modality", "units", "window", "kind", "classes", "outside")}


def check_contract(contract: dict | None) -> dict | None:
    """`contract` validated (None passes: the model states none); raises naming the bad key."""
    if contract is None:
        return None
    if not isinstance(contract, dict) or set(contract) - {"input", "output"} or \
            "input" not in contract:
        raise AdvzooError(f"contract must be a dict with 'input' (and 'output') sides, got "
                          f"{contract!r}")
    checked = {}
    for side, spec in contract.items():
        if not isinstance(spec, dict):
            raise AdvzooError(f"contract[{side!r}] must be a dict, got {spec!r}")
        for key in spec:
            check_choice(f"contract[{side!r}] key", key, _SIDE_KEYS[side])
        spec = dict(spec)
        kind = spec.get("kind", "image")
        check_choice(f"contract[{side!r}]['kind']", kind, OUTPUT_KINDS)
        if kind != "labels":
            window = spec.get("window")
            if not (isinstance(window, (list, tuple)) and len(window) == 2
                    and all(isinstance(v, (int, float)) for v in window)
                    and float(window[0]) < float(window[1])):
                raise AdvzooError(f"contract[{side!r}]['window'] must be [lo, hi] with lo < hi, "
                                  f"got {window!r}")
            spec["window"] = [float(window[0]), float(window[1])]
        check_choice(f"contract[{side!r}]['normalise']", spec.get("normalise", "window"),
                     NORMALISATIONS)
        checked[side] = spec
    output = checked.get("output", {})
    outside = output.get("outside", "clip")
    check_choice("contract['output']['outside']", outside, OUTSIDE)
    if outside == "input" and (output.get("kind", "image") != "image"
                               or output["window"] != checked["input"]["window"]
                               or checked["input"].get("normalise", "window") != "window"):
        raise AdvzooError("contract['output']['outside'] = 'input' passes input values through, "
                          "so it needs an image output with the input's window and an input "
                          f"normalised by that window; got {contract!r}")
    return checked


def to_model_units(images: np.ndarray, spec: dict) -> np.ndarray:
    """Physical values -> the network's [-1, 1] through an input side of a contract. `images` is
    a batch (N, ..., C); "percentile" and "minmax" are taken per image over all its voxels."""
    lo, hi = spec["window"]
    x = np.asarray(images, np.float32)
    normalise = spec.get("normalise", "window")
    if normalise != "window":
        axes = tuple(range(1, x.ndim))
        if normalise == "percentile":
            low, high = (np.percentile(x, q, axis=axes, keepdims=True) for q in PERCENTILES)
        else:
            low, high = x.min(axis=axes, keepdims=True), x.max(axis=axes, keepdims=True)
        ref_lo, ref_hi = spec.get("reference", (lo, hi))
        x = ref_lo + (x - low) / np.maximum(high - low, 1e-12) * (ref_hi - ref_lo)
    return np.clip(2.0 * (x - lo) / (hi - lo) - 1.0, -1.0, 1.0).astype(np.float32)


def from_model_units(outputs: np.ndarray, spec: dict, inputs=None) -> np.ndarray:
    """The network's output -> physical values through an output side of a contract (label maps
    pass unchanged). With `outside: "input"`, `inputs` (the physical values the outputs were
    computed from, same shape) is needed: its values outside the window pass through."""
    kind = spec.get("kind", "image")
    if kind == "labels":
        return outputs
    lo, hi = spec["window"]
    y = np.asarray(outputs, np.float32)
    if kind == "difference":
        return y * (hi - lo) / 2.0
    y = ((y + 1.0) / 2.0 * (hi - lo) + lo).astype(np.float32)
    if spec.get("outside", "clip") == "input":
        if inputs is None or np.shape(inputs) != y.shape:
            raise AdvzooError(f"this contract passes input values outside the window "
                              f"[{lo:g}, {hi:g}] through: give the inputs, of the outputs' shape "
                              f"{y.shape}, got {None if inputs is None else np.shape(inputs)}")
        x = np.asarray(inputs, np.float32)
        y = np.where((x < lo) | (x > hi), x, y).astype(np.float32)
    return y


def describe(contract: dict | None) -> str:
    """One line in words, e.g. "CT in HU, window [-1024, 1024] -> CT in HU"."""
    if not contract:
        return "no input contract: inputs scaled to [-1, 1] by the user"

    def side(spec):
        if spec.get("kind") == "labels":
            return f"label maps ({', '.join(spec.get('classes', [])) or 'integer classes'})"
        text = f"{spec.get('modality', '?')} in {spec.get('units', '?')}"
        if spec.get("normalise", "window") != "window":
            text += f" ({spec['normalise']}-normalised)"
        lo, hi = spec["window"]
        passed = " (values outside it pass through)" if spec.get("outside") == "input" else ""
        return f"{text}, window [{lo:g}, {hi:g}]{passed}"

    out = contract.get("output")
    return side(contract["input"]) + (f" -> {side(out)}" if out else "")
