"""Pilot for presets that carry to real scans: pix2pix trained at clinical resolution on
randomised low-dose CT phantoms, tested on the phantom test split and on real CT slices.

The shipped low-dose presets learnt 32x32 phantoms and do not improve real CT
(`benchmarks/real_ct_lowdose.py`). Here the same networks (the `pix2pix_lowdose_ct` recipe:
U-Net G with 8 filters, residual, PatchGAN D, nsgan + 100 L1) are trained on
`advzoo.data.lowdose_ct_clinical_arrays` at SIZE x SIZE: radon, Poisson counts and FBP at that
resolution, with the incident flux, dose-independent scanner settings (field of view, so pixel
size; reconstruction filter; a little blur) and body size randomised per slice. The target is the
noiseless reconstruction of the same slice (a phantom gives it; the real-CT reference below is
the same kind of image).

Arms, all on the same data, seed and steps:
- quarter-dose input;
- non-local means and TV (scikit-image), each parameter chosen on a VALIDATION split of the same
  phantoms (`benchmarks/_baselines.choose_parameters`), never on test data or real slices;
- the U-Net trained with the voxel loss alone (`lambda_adversarial=0`);
- pix2pix (voxel + adversarial).

Tested on (1) the phantom test split, and (2) the real CT slices of `real_ct_lowdose.py`
(pydicom's test files), with that benchmark's quarter-dose simulation at each slice's native size
and pixel spacing, its body and soft-tissue masks and its measures (PSNR and SSIM in the body,
noise sd in soft tissue, against the noiseless reconstruction). The models run on the real
slices in HU through the preset's input contract (`translate(..., units="physical")`).

    python benchmarks/real_ct_clinical.py [--steps 3000] [--size 128] [--train 512]
"""
import argparse
import pathlib
import sys
import time

import keras
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import _baselines as baselines  # noqa: E402
import real_ct_lowdose as real  # noqa: E402

import advzoo  # noqa: E402
from advzoo import data as zd  # noqa: E402
from advzoo.readme import write_result  # noqa: E402

RESULT = pathlib.Path(__file__).parent / "results" / "real_ct_clinical.json"
PRESET = "pix2pix_lowdose_ct"
FLUX = (1e5, 2e6)  # photons per detector bin at full dose: around the real-CT test's 5e5
COLUMNS = ["test data", "image", "PSNR in body (dB)", "SSIM in body", "noise sd in soft tissue (HU)"]


def train(config: dict, source, target, steps: int, batch_size: int, seed: int):
    keras.utils.set_random_seed(seed)
    model = advzoo.build("pix2pix", **config)
    import tensorflow as tf

    data = (tf.data.Dataset.from_tensor_slices((source, target)).shuffle(len(source), seed=seed)
            .repeat().batch(batch_size, drop_remainder=True).prefetch(2))
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    return model, time.perf_counter() - start


def denoisers(models: dict, params: dict):
    """label -> function(HU slice) -> HU slice, for every arm but the input."""
    k, weight = params["nl_means"]["k"], params["tv"]["weight"]

    def network(model):
        return lambda hu: model.translate(hu[None, ..., None].astype(np.float32),
                                          units="physical")[0, ..., 0].astype(np.float64)

    return {f"non-local means (k = {k:g}, chosen on validation phantoms)":
            lambda hu: baselines.nl_means(hu, k),
            f"TV Chambolle (weight {weight:g}, chosen on validation phantoms)":
            lambda hu: baselines.tv(hu, weight),
            **{label: network(model) for label, model in models.items()}}


def phantom_rows(arms, n: int, size: int, seed: int) -> list:
    arr = zd.lowdose_ct_clinical_arrays("test", n=n, size=size, flux=FLUX, seed=seed)
    per_arm = {}
    for low, reference in zip(arr["low"][..., 0].astype(np.float64),
                              arr["noiseless"][..., 0].astype(np.float64)):
        body = real.body_mask(reference)
        soft = real.soft_tissue_mask(reference, body)
        for label, image in [("quarter-dose input", low)] + [(lb, f(low)) for lb, f in arms.items()]:
            per_arm.setdefault(label, []).append(real.measures(image, reference, body, soft))
    return [{"test data": f"phantom test split ({n} slices, {size}x{size})", "image": label,
             **{c: float(np.nanmean([m[c] for m in ms])) for c in COLUMNS[2:]}}
            for label, ms in per_arm.items()]


def real_rows(arms, files, seed: int) -> tuple[list, list]:
    rows, infos = [], []
    for name in files:
        sl, skipped = real.quarter_dose_slice(name, seed)
        if sl is None:
            infos.append(skipped)
            continue
        low = np.round(sl["sim"]["low"])  # stored as integer HU, as real_ct_lowdose's DICOM
        reference, body, soft = sl["reference"], sl["body"], sl["soft"]
        for label, image in [("quarter-dose input", low)] + [(lb, f(low)) for lb, f in arms.items()]:
            rows.append({"test data": f"real CT {sl['stem']}", "image": label,
                         **real.measures(image, reference, body, soft)})
            print(rows[-1], flush=True)
        infos.append(f"{name} ({sl['hu'].shape[0]}x{sl['hu'].shape[1]}, {sl['spacing']:.3g} mm)")
    if rows:
        labels = list(dict.fromkeys(r["image"] for r in rows))
        rows += [{"test data": "real CT, mean", "image": label,
                  **{c: float(np.mean([r[c] for r in rows if r["image"] == label]))
                     for c in COLUMNS[2:]}} for label in labels]
    return rows, infos


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--train", type=int, default=512, help="training slices")
    parser.add_argument("--test", type=int, default=32, help="phantom test slices")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--files", nargs="+", default=list(real.FILES))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    params = baselines.choose_parameters("val", n=16, size=args.size, flux=FLUX, seed=args.seed)
    print("baselines chosen on validation phantoms:", params["nl_means"]["k"],
          params["tv"]["weight"], flush=True)
    arr = zd.lowdose_ct_clinical_arrays("train", n=args.train, size=args.size, flux=FLUX,
                                        seed=args.seed)
    source = zd.hu_to_unit(arr["low"]).astype(np.float32)
    target = zd.hu_to_unit(arr["noiseless"]).astype(np.float32)
    data_seconds = time.perf_counter() - start
    config = {**advzoo.get_preset(PRESET).config, "source_shape": (args.size, args.size, 1)}
    models, seconds = {}, {}
    for label, extra in (("U-Net, voxel loss alone", {"lambda_adversarial": 0.0}),
                         ("pix2pix (voxel + adversarial)", {})):
        models[label], seconds[label] = train({**config, **extra}, source, target, args.steps,
                                              args.batch_size, args.seed)
        print(f"{label}: trained in {seconds[label]:.0f} s", flush=True)
    arms = denoisers(models, params)
    rows = phantom_rows(arms, args.test, args.size, args.seed + 1)
    more, infos = real_rows(arms, args.files, args.seed)
    rows += more
    for row in rows:
        for column in COLUMNS[2:]:
            row[column] = round(row[column], 4 if column == "SSIM in body" else 2)
        print(row)
    total = time.perf_counter() - start
    mean = {r["image"]: r for r in rows if r["test data"] == "real CT, mean"}
    best_classical = max((r for label, r in mean.items() if "chosen on validation" in label),
                         key=lambda r: r["PSNR in body (dB)"], default=None)
    gan = mean.get("pix2pix (voxel + adversarial)")
    summary = ""
    if gan and best_classical:
        summary = (f" On the real slices (mean): pix2pix {gan['PSNR in body (dB)']} dB PSNR and "
                   f"SSIM {gan['SSIM in body']}, against {mean['quarter-dose input']['PSNR in body (dB)']}"
                   f" dB and {mean['quarter-dose input']['SSIM in body']} for the input and "
                   f"{best_classical['PSNR in body (dB)']} dB and {best_classical['SSIM in body']} for "
                   f"{best_classical['image'].split(' (')[0]}.")
    result = {
        "title": f"Pilot: pix2pix trained on {args.size}x{args.size} randomised low-dose CT "
                 "phantoms, on phantom test slices and on real CT, against classical denoisers "
                 "tuned on validation phantoms and the voxel loss alone",
        "command": f"python benchmarks/real_ct_clinical.py --steps {args.steps} --size {args.size} "
                   f"--train {args.train}",
        "columns": COLUMNS,
        "rows": rows,
        "note": (f"Training: {args.train} slices of advzoo.data.lowdose_ct_clinical_arrays at "
                 f"{args.size}x{args.size} (dose 0.25; flux {FLUX[0]:g}-{FLUX[1]:g} photons per "
                 "bin at full dose, log-uniform; field of view 80-420 mm; body 250-420 mm; blur "
                 "0-1 px; ramp or Shepp-Logan filter), target the noiseless reconstruction, "
                 f"{args.steps} steps of batch {args.batch_size}, seed {args.seed}, the "
                 f"{PRESET} networks and losses (voxel-only arm: lambda_adversarial 0); training "
                 + ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items())
                 + f"; data {data_seconds:.0f} s. Baselines: {params['data']}; non-local means "
                 f"k = {params['nl_means']['k']:g} (h = k x estimated sigma), TV weight "
                 f"{params['tv']['weight']:g}. Phantom test split: {args.test} slices, seed "
                 f"{args.seed + 1}. Real slices: " + "; ".join(infos) + ", each given the "
                 "quarter-dose simulation and measures of benchmarks/real_ct_lowdose.py (5e5 "
                 "photons per bin at full dose). One seed: a pilot, not yet a preset." + summary
                 + f" Run time {total:.0f} s on 2 CPU cores."),
    }
    if not args.no_write:
        write_result(RESULT, result)


if __name__ == "__main__":
    main()
