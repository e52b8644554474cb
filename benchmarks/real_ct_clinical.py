"""The low-dose CT presets for real scans, on real CT slices and on the phantom test split, against
the noisy input, classical denoisers tuned on validation phantoms, and the voxel loss alone.

The shipped 32x32 presets do not improve real CT (`benchmarks/real_ct_lowdose.py`). The presets
measured here learnt `advzoo.data.lowdose_ct_clinical` at 128x128 (radon, Poisson counts and FBP
at that resolution, with the incident flux, field of view (so pixel size), body size, blur and
reconstruction filter drawn per slice; the target is the noiseless reconstruction):
`pix2pix_lowdose_ct_clinical`, `wgan_vgg_lowdose_ct_clinical` and `simgan_lowdose_ct_clinical`
(unaligned training, soft-tissue window; outside it its contract passes the input through),
loaded with their shipped weights.

Rows, all on the same test images:
- the quarter-dose input;
- non-local means and TV (scikit-image), each parameter chosen on a VALIDATION split of the same
  phantoms (`benchmarks/_baselines.choose_parameters`), never on test data or real slices;
- the U-Net of `pix2pix_lowdose_ct_clinical` trained by its recipe with the voxel loss alone
  (`lambda_adversarial=0`; trained here, `--voxel-steps`);
- the three presets.

Test data: (1) the phantom test split (`lowdose_ct_clinical_arrays("test")`, the presets'
`sample_report` data), and (2) the real CT slices that pydicom ships (`real_ct_lowdose.FILES`:
CT_small.dcm, 128x128 body; 693_J2KI.dcm and J2K_pixelrep_mismatch.dcm, 512x512 heads), each
given `real_ct_lowdose`'s quarter-dose simulation at its native size and pixel spacing, with its
body and soft-tissue masks and its measures (PSNR and SSIM in the body, noise sd in soft tissue,
against the noiseless reconstruction). The models run on HU through each preset's input contract
(`translate(..., units="physical")`). The issue's goal is in the result's "goal" entry: does each
adversarial preset improve on the input for every real slice, and does one beat non-local means
on the mean PSNR and SSIM of the real slices?

    python benchmarks/real_ct_clinical.py [--voxel-steps 6000] [--test 32] [--no-write]
"""
import argparse
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _baselines as baselines  # noqa: E402
import real_ct_lowdose as real  # noqa: E402

import advzoo  # noqa: E402
from advzoo import data as zd  # noqa: E402
from advzoo.readme import write_result  # noqa: E402
from advzoo.recipes import train_recipe  # noqa: E402

RESULT = pathlib.Path(__file__).parent / "results" / "real_ct_clinical.json"
PIX2PIX = "pix2pix_lowdose_ct_clinical"
PRESETS = (PIX2PIX, "wgan_vgg_lowdose_ct_clinical", "simgan_lowdose_ct_clinical")
VOXEL_ONLY = f"U-Net, voxel loss alone ({PIX2PIX} recipe, lambda_adversarial 0)"
INPUT = "quarter-dose input"
NLM = "non-local means"
MEASURES = list(real.COLUMNS[2:])  # real_ct_lowdose's measures, which its functions compute
COLUMNS = ["test data", "image", *MEASURES]
REAL_MEAN = "real CT, mean"


def denoisers(models: dict, params: dict) -> dict:
    """label -> function(HU slice) -> HU slice, for every row but the input."""
    k, weight = params["nl_means"]["k"], params["tv"]["weight"]

    def network(model):
        return lambda hu: model.translate(hu[None, ..., None].astype(np.float32),
                                          units="physical")[0, ..., 0].astype(np.float64)

    return {f"{NLM} (k = {k:g}, chosen on validation phantoms)":
            lambda hu: baselines.nl_means(hu, k),
            f"TV Chambolle (weight {weight:g}, chosen on validation phantoms)":
            lambda hu: baselines.tv(hu, weight),
            **{label: network(model) for label, model in models.items()}}


def _rows_of(test_data: str, low, reference, body, soft, arms) -> list:
    return [{"test data": test_data, "image": label, **real.measures(image, reference, body, soft)}
            for label, image in [(INPUT, low)] + [(lb, f(low)) for lb, f in arms.items()]]


def phantom_rows(arms, n: int, size: int) -> list:
    arr = zd.lowdose_ct_clinical_arrays("test", n=n, size=size)
    rows = []
    for low, reference in zip(arr["low"][..., 0].astype(np.float64),
                              arr["noiseless"][..., 0].astype(np.float64)):
        body = real.body_mask(reference)
        rows += _rows_of("phantom", low, reference, body, real.soft_tissue_mask(reference, body),
                         arms)
    return real.mean_rows(rows, "test data", f"phantom test split ({n} slices, {size}x{size}), mean")


def real_rows(arms, files, seed: int) -> tuple[list, list]:
    rows, infos = [], []
    for name in files:
        sl, skipped = real.quarter_dose_slice(name, seed)
        if sl is None:
            infos.append(skipped)
            continue
        low = np.round(sl["sim"]["low"])  # stored as integer HU, as real_ct_lowdose's DICOM
        rows += _rows_of(f"real CT {sl['stem']}", low, sl["reference"], sl["body"], sl["soft"],
                         arms)
        for row in rows[-len(arms) - 1:]:
            print(row, flush=True)
        infos.append(f"{name} ({sl['hu'].shape[0]}x{sl['hu'].shape[1]}, {sl['spacing']:.3g} mm)")
    return rows + (real.mean_rows(rows, "test data", REAL_MEAN) if rows else []), infos


def goal(rows) -> dict:
    """The issue's goal, per adversarial preset: better than the input on every real slice (PSNR
    and SSIM), and better than non-local means on the real slices' mean PSNR and SSIM."""
    slices = [r for r in rows if r["test data"].startswith("real CT ") and r["test data"] != REAL_MEAN]
    by = {(r["test data"], r["image"]): r for r in slices}
    mean = {r["image"]: r for r in rows if r["test data"] == REAL_MEAN}
    nlm = next((r for label, r in mean.items() if label.startswith(NLM)), None)
    out = {}
    for preset in PRESETS:
        if preset not in mean:
            continue
        names = sorted({r["test data"] for r in slices})
        every = all(by[(s, preset)][c] > by[(s, INPUT)][c]
                    for s in names for c in ("PSNR in body (dB)", "SSIM in body"))
        out[preset] = {
            "better than the input on every real slice (PSNR and SSIM)": bool(every),
            "beats non-local means on the real mean PSNR": bool(
                nlm and mean[preset]["PSNR in body (dB)"] > nlm["PSNR in body (dB)"]),
            "beats non-local means on the real mean SSIM": bool(
                nlm and mean[preset]["SSIM in body"] > nlm["SSIM in body"])}
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--voxel-steps", type=int, default=None,
                        help=f"steps of the voxel-loss-only U-Net (default: {PIX2PIX}'s recipe)")
    parser.add_argument("--test", type=int, default=32, help="phantom test slices")
    parser.add_argument("--seed", type=int, default=0, help="seed of the real slices' noise")
    parser.add_argument("--files", nargs="+", default=list(real.FILES))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    size = advzoo.get_preset(PIX2PIX).dataset["size"]
    params = baselines.choose_parameters("val", n=16, size=size)
    print("baselines chosen on validation phantoms:", params["nl_means"]["k"],
          params["tv"]["weight"], flush=True)
    voxel, _, voxel_seconds = train_recipe(PIX2PIX, steps=args.voxel_steps, verbose=0,
                                           lambda_adversarial=0.0)
    print(f"voxel-loss-only U-Net trained in {voxel_seconds:.0f} s", flush=True)
    models = {VOXEL_ONLY: voxel, **{name: advzoo.load(name) for name in PRESETS}}
    arms = denoisers(models, params)
    rows = phantom_rows(arms, args.test, size)
    more, infos = real_rows(arms, args.files, args.seed)
    rows += more
    for row in rows:
        for column in MEASURES:
            row[column] = round(row[column], 4 if column == "SSIM in body" else 2)
    achieved = goal(rows)
    mean = {r["image"]: r for r in rows if r["test data"] == REAL_MEAN}
    summary = " ".join(
        f"{name}: real mean {mean[name]['PSNR in body (dB)']} dB / SSIM {mean[name]['SSIM in body']}"
        f" ({'; '.join(k for k, v in achieved[name].items() if v) or 'none of the goals'})."
        for name in achieved)
    voxel_steps = args.voxel_steps or advzoo.get_preset(PIX2PIX).train_steps
    result = {
        "title": "Low-dose CT presets for real scans (trained at 128x128 on randomised phantoms) "
                 "on real CT slices and the phantom test split, against the input, non-local "
                 "means and TV tuned on validation phantoms, and the voxel loss alone",
        "command": "python benchmarks/real_ct_clinical.py"
                   + (f" --voxel-steps {args.voxel_steps}" if args.voxel_steps else ""),
        "columns": COLUMNS,
        "rows": rows,
        "goal": achieved,
        "note": (f"Presets: {', '.join(PRESETS)}, shipped weights (zoo_weights/; data and recipe "
                 "in each metadata.json). Voxel-loss-only row: the "
                 f"{PIX2PIX} recipe with lambda_adversarial 0, {voxel_steps} steps, seed 0, "
                 f"trained here in {voxel_seconds:.0f} s. Baselines: {params['data']}; non-local "
                 f"means k = {params['nl_means']['k']:g} (h = k x estimated sigma), TV weight "
                 f"{params['tv']['weight']:g}. Phantom test split: {args.test} slices of "
                 f"lowdose_ct_clinical_arrays('test') at {size}x{size}, mean over slices. Real "
                 "slices: " + "; ".join(infos) + ", each given the quarter-dose simulation and "
                 "measures of benchmarks/real_ct_lowdose.py (5e5 photons per bin at full dose, "
                 f"noise seed {args.seed}). One training seed per preset. " + summary
                 + f" Run time {time.perf_counter() - start:.0f} s on 2 CPU cores."),
    }
    print(result["note"])
    if not args.no_write:
        write_result(RESULT, result)


if __name__ == "__main__":
    main()
