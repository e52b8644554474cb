"""Does the adversarial term of pix2pix (Isola Eq. 6) make outputs sharper than the voxel loss
alone, at a small cost in voxel error? The perception-distortion view of Blau & Michaeli (2018).

For each task, two models with the same U-Net generator, data, steps, batch size and seed (the
recipe of the task's shipped preset): pix2pix (nsgan + 100 * L1, conditional PatchGAN) and the
same G trained with the L1 voxel loss alone (`lambda_adversarial=0`, no D). On the test split:

- sharpness: mean gradient magnitude of the output divided by that of the target (1 = as sharp
  as the target; a blurry regression to the mean gives < 1);
- voxel error: PSNR, SSIM, MAE (in HU for CT), and the distortion of Blau: MSE in [-1, 1];
- realism: Fréchet distance between outputs and targets in the phantom feature space
  (`advzoo.metrics.feature_distances`), lower = closer to the target distribution.

On the low-dose tasks the targets are noisy too (routine dose), and noise left in an output
raises its gradient magnitude like sharp edges do. Two more columns separate the two: the noise
sd in homogeneous organs (HU, as in `pix2pix_lowdose.py`) and the edge sharpness, the mean
gradient magnitude on the organ boundaries of the label map over that of the noise-free
reconstruction (1 = edges as sharp as the noise-free image; noise still adds a little).
`--window LO HI` trains and measures through another HU window (e.g. the soft tissue's
-160 240); `--perceptual-weight` sets the wgan_vgg arm's lambda_perceptual.

    python benchmarks/pix2pix_vs_voxel_loss.py
    python benchmarks/pix2pix_vs_voxel_loss.py --tasks mr_to_ct --steps 300 --no-write   # quick
"""
import argparse
import pathlib

import numpy as np

import advzoo
from advzoo.data import CT_WINDOW, lowdose_ct_arrays, pairs, translation_pairs_arrays, unit_to_hu
from advzoo.metrics import feature_distances, mae_hu, psnr, ssim
from advzoo.readme import write_result
from advzoo.recipes import train_recipe
from pix2pix_lowdose import homogeneous_masks, noise_sd

RESULTS = pathlib.Path(__file__).parent / "results"
PRESETS = {"mr_to_ct": "pix2pix_mr_to_ct", "lowdose_ct": "pix2pix_lowdose_ct",
           "sketch_xray": "pix2pix_sketch_xray", "csmri": "pix2pix_csmri",
           "wgan_vgg": "wgan_vgg_lowdose_ct"}  # Yang's WGAN-VGG, a pix2pix preset (low-dose CT)
# the benchmark's tasks whose presets train on CT data (`advzoo.data.pairs.CT_TASKS`), and those
# of them on low-dose CT
DATA_TASK = {task: advzoo.get_preset(name).dataset["task"] for task, name in PRESETS.items()}
CT_TASKS = tuple(task for task, data in DATA_TASK.items() if data in pairs.CT_TASKS)
LOWDOSE_TASKS = tuple(task for task, data in DATA_TASK.items() if data == "lowdose_ct")


def gradient_magnitude(images) -> float:
    """Mean |grad| of (N, H, W, 1) images by forward differences (sharpness measure)."""
    x = np.asarray(images, np.float64)[..., 0]
    gy, gx = np.diff(x, axis=1)[:, :, :-1], np.diff(x, axis=2)[:, :-1, :]
    return float(np.sqrt(gx ** 2 + gy ** 2).mean())


def edge_sharpness(images, reference, labels) -> float:
    """Mean |grad| (forward differences) of (N, H, W, 1) `images` on the boundaries of the label
    maps, over that of `reference` there: pixels whose right or lower neighbour has another
    label."""
    labels = np.asarray(labels)[..., 0]
    edges = np.zeros(labels.shape, bool)
    edges[:, :-1, :] |= labels[:, :-1, :] != labels[:, 1:, :]
    edges[:, :, :-1] |= labels[:, :, :-1] != labels[:, :, 1:]

    def magnitude(x):
        x = np.asarray(x, np.float64)[..., 0]
        gy, gx = np.zeros_like(x), np.zeros_like(x)
        gy[:, :-1], gx[:, :, :-1] = np.diff(x, axis=1), np.diff(x, axis=2)
        return np.sqrt(gx ** 2 + gy ** 2)[edges].mean()

    return float(magnitude(images) / magnitude(reference))


def lowdose_measures(output, window, n, size) -> dict:
    """Noise sd in homogeneous organs (HU) and edge sharpness against the noise-free image, in
    HU clipped to `window` (what the models see)."""
    arr = lowdose_ct_arrays("test", n=n, size=size)
    hu = unit_to_hu(np.clip(output, -1, 1), window)
    return {"noise sd (HU)": noise_sd(hu, arr["noiseless"], homogeneous_masks(arr["labels"])),
            "edge sharpness (vs noise-free)": edge_sharpness(
                hu, np.clip(arr["noiseless"], *window), arr["labels"])}


SHARPNESS = {"sharpness (grad. ratio to target)": "gradient ratio",
             "edge sharpness (vs noise-free)": "edge sharpness"}
MAX_PSNR_LOSS_DB = 1.0  # "keeps voxel error close"
LOWDOSE_NOTE = (" Low-dose tasks: noise sd is the sd of output minus the noise-free reconstruction "
                "inside soft tissue and liver (eroded by one pixel), in HU, averaged over images "
                "and organs; edge sharpness is the "
                "mean gradient magnitude on organ boundaries over that of the noise-free "
                "reconstruction, both in the HU window the model saw (noise left in an image "
                "raises both sharpness measures).")


def verdicts(rows) -> list[str]:
    """Per task and adversarial arm: on how many seeds its sharpness is closer to 1 than that of
    the voxel-loss-alone model of the same seed, by each sharpness measure the task has, and its
    mean PSNR change. SHOWN needs every seed and every measure, and a PSNR loss below 1 dB."""
    out = []
    for task in dict.fromkeys(r["task"] for r in rows):
        trained = [r for r in rows if r["task"] == task and r["seed"] != "-"]
        baseline = {r["seed"]: r for r in trained if r["model"].startswith("voxel loss alone")}
        for arm in dict.fromkeys(r["model"] for r in trained if r["seed"] in baseline
                                 and not r["model"].startswith("voxel loss alone")):
            runs = [(r, baseline[r["seed"]]) for r in trained if r["model"] == arm]
            closer = {m: sum(abs(r[m] - 1) < abs(b[m] - 1) for r, b in runs)
                      for m in SHARPNESS if m in runs[0][0]}
            # the README rounds to 3 digits, which can hide a margin of a few 1e-4: say the means
            means = {m: (np.mean([r[m] for r, _ in runs]), np.mean([b[m] for _, b in runs]))
                     for m in closer}
            psnr_change = float(np.mean([r["PSNR dB"] - b["PSNR dB"] for r, b in runs]))
            shown = (all(c == len(runs) for c in closer.values())
                     and psnr_change > -MAX_PSNR_LOSS_DB)
            out.append(f"{'SHOWN' if shown else 'NOT SHOWN'}: {task}, {arm}: sharpness closer to "
                       "the target's than the voxel loss alone on " + ", ".join(
                           f"{c} of {len(runs)} seeds by {SHARPNESS[m]} (mean "
                           f"{means[m][0]:.4f} vs {means[m][1]:.4f})"
                           for m, c in closer.items())
                       + f"; PSNR {psnr_change:+.2f} dB (mean over seeds; SHOWN needs every seed "
                       f"and measure, and a loss below {MAX_PSNR_LOSS_DB:g} dB).")
    return out


def train(preset, steps, seed, **overrides):
    model, _, seconds = train_recipe(preset.name, seed=seed, steps=steps, verbose=0, **overrides)
    return model, seconds


def measure(task, output, target, seconds, window) -> dict:
    row = {"sharpness (grad. ratio to target)": gradient_magnitude(output) / gradient_magnitude(target),
           "PSNR dB": psnr(target, output, 2.0),
           "SSIM": float(np.mean(ssim(target, output, 2.0, per_image=True))),
           "MAE": (f"{mae_hu(target, output, from_unit=True, window=window):.1f} HU"
                   if task in CT_TASKS else round(float(np.abs(target - output).mean()), 4)),
           "distortion (MSE)": float(np.mean((target - output) ** 2)),
           "realism (Fréchet, phantom features)": feature_distances(target, np.clip(output, -1, 1))["frechet"]}
    if task in LOWDOSE_TASKS:
        row.update(lowdose_measures(output, window, len(output), output.shape[1]))
    row["train s"] = round(seconds, 1) if seconds is not None else "-"
    return {k: (float(f"{v:.4g}") if isinstance(v, float) else v) for k, v in row.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", nargs="+", default=["mr_to_ct", "lowdose_ct"],
                        choices=sorted(PRESETS))
    parser.add_argument("--steps", type=int, help="training steps (default: the preset's)")
    parser.add_argument("--test-images", type=int, default=256)
    parser.add_argument("--adversarial-weights", nargs="+", type=float, default=[1.0],
                        help="lambda_adversarial of the pix2pix arms (1 = Isola's weighting "
                             "against lambda_l1 100); several trace the perception-distortion "
                             "trade-off")
    parser.add_argument("--seeds", nargs="+", type=int,
                        help="training seeds (default: the preset's); one row per seed and arm")
    parser.add_argument("--window", nargs=2, type=float, metavar=("LO", "HI"),
                        help="HU window of the CT tasks' data (default: the preset's, "
                             "-1024 1024)")
    parser.add_argument("--perceptual-weight", type=float,
                        help="lambda_perceptual of the wgan_vgg arm (default: the preset's)")
    parser.add_argument("--name", default="pix2pix_vs_voxel_loss",
                        help="results file benchmarks/results/NAME.json")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if args.window and not set(args.tasks) <= set(CT_TASKS):
        parser.error(f"--window applies to the CT tasks {', '.join(CT_TASKS)}, got --tasks "
                     f"{' '.join(args.tasks)}")
    if args.perceptual_weight is not None and args.tasks != ["wgan_vgg"]:
        parser.error("--perceptual-weight applies to --tasks wgan_vgg alone")
    rows, notes = [], []
    for task in args.tasks:
        preset = advzoo.get_preset(PRESETS[task])
        steps = args.steps or preset.train_steps
        size, data_task = preset.dataset["size"], preset.dataset["task"]
        window = tuple(args.window) if args.window else preset.config.get("window") or CT_WINDOW
        common = {"window": window} if args.window else {}
        if args.perceptual_weight is not None:
            common["lambda_perceptual"] = args.perceptual_weight
        source, target = translation_pairs_arrays(data_task, "test", n=args.test_images, size=size,
                                                  window=window if task in CT_TASKS else None)
        # the voxel-loss-alone baseline drops every other term of G's loss (WGAN-VGG's perceptual)
        voxel_only = {"lambda_adversarial": 0.0,
                      **({"lambda_perceptual": 0.0} if preset.config.get("lambda_perceptual") else {})}
        method = ("wgan_vgg ({:g} adversarial + perceptual + L1)" if task == "wgan_vgg"
                  else "pix2pix ({:g} adversarial + 100 L1)")
        arms = [("input (identity)", None, None, None)]
        for seed in args.seeds or [preset.seed]:
            arms.append(("voxel loss alone (" + ", ".join(f"{k}=0" for k in voxel_only) + ")",
                         seed, *train(preset, steps, seed, **{**common, **voxel_only})))
            for weight in args.adversarial_weights:
                arms.append((method.format(weight), seed,
                             *train(preset, steps, seed, **common, lambda_adversarial=weight)))
        for name, seed, model, seconds in arms:
            output = source if model is None else model.translate(np.clip(source, -1, 1))
            row = {"task": task, "model": name, "seed": "-" if seed is None else seed,
                   **measure(task, output, target, seconds, window)}
            rows.append(row)
            print(row, flush=True)
        notes.append(f"{task}: {steps} steps of batch {preset.batch_size}, {size}x{size}"
                     + (f", HU window {window[0]:g} {window[1]:g}" if task in CT_TASKS else "")
                     + (f", lambda_perceptual {args.perceptual_weight:g}"
                        if args.perceptual_weight is not None else ""))
    columns = list(dict.fromkeys(c for row in rows for c in row))
    columns.append(columns.pop(columns.index("train s")))
    names = sorted({"WGAN-VGG" if task == "wgan_vgg" else "pix2pix" for task in args.tasks})
    if "wgan_vgg" in args.tasks:
        notes.append("wgan_vgg: the wgan_vgg_lowdose_ct recipe (U-Net G, residual; whole-image "
                     "WGAN-GP critic, 2 critic steps; perceptual weight 100, unless set above, on the phantom "
                     "feature network, L1 20); its baseline drops the adversarial and the "
                     "perceptual terms (L1 alone)")
    result = {
        "title": f"{' and '.join(names)} vs. the same generator trained with the voxel loss "
                 "alone (sharpness, voxel error, perception-distortion)",
        "command": "python benchmarks/pix2pix_vs_voxel_loss.py --tasks " + " ".join(args.tasks)
                   + (f" --steps {args.steps}" if args.steps else "")
                   + (" --seeds " + " ".join(map(str, args.seeds)) if args.seeds else "")
                   + (f" --window {args.window[0]:g} {args.window[1]:g}" if args.window else "")
                   + (f" --perceptual-weight {args.perceptual_weight:g}"
                      if args.perceptual_weight is not None else "")
                   + (f" --name {args.name}" if args.name != "pix2pix_vs_voxel_loss" else "")
                   + f" --test-images {args.test_images}"
                   + " --adversarial-weights " + " ".join(f"{w:g}" for w in args.adversarial_weights),
        "columns": columns,
        "rows": [{c: row.get(c, "-") for c in columns} for row in rows],
        "note": " ".join(verdicts(rows)) + " Both arms use the recipe of the task's preset (U-Net G, 8 filters; PatchGAN D, "
                "16 filters, 2 layers; nsgan + lambda_l1 100 with lambda_adversarial as listed vs 0; Adam(2e-4, "
                "0.5); the same seed for every arm): " + "; ".join(notes) + f". Test split, {args.test_images} "
                "images. Sharpness: mean gradient magnitude of the outputs over that of the "
                "targets (1 = as sharp as the target). Distortion: MSE in [-1, 1]; realism: "
                "Fréchet distance to the targets in the phantom feature network's space (lower "
                "is more realistic), as in Blau & Michaeli's perception-distortion plane."
                + (LOWDOSE_NOTE if set(args.tasks) & set(LOWDOSE_TASKS) else ""),
    }
    if not args.no_write:
        write_result(RESULTS / f"{args.name}.json", result)


if __name__ == "__main__":
    main()
