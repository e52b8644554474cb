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

    python benchmarks/pix2pix_vs_voxel_loss.py
    python benchmarks/pix2pix_vs_voxel_loss.py --tasks mr_to_ct --steps 300 --no-write   # quick
"""
import argparse
import pathlib

import numpy as np

import advzoo
from advzoo.data import translation_pairs_arrays
from advzoo.metrics import feature_distances, mae_hu, psnr, ssim
from advzoo.readme import write_result
from advzoo.recipes import train_recipe

RESULTS = pathlib.Path(__file__).parent / "results"
PRESETS = {"mr_to_ct": "pix2pix_mr_to_ct", "lowdose_ct": "pix2pix_lowdose_ct",
           "sketch_xray": "pix2pix_sketch_xray", "csmri": "pix2pix_csmri",
           "wgan_vgg": "wgan_vgg_lowdose_ct"}  # Yang's WGAN-VGG, a pix2pix preset (low-dose CT)


def gradient_magnitude(images) -> float:
    """Mean |grad| of (N, H, W, 1) images by forward differences (sharpness measure)."""
    x = np.asarray(images, np.float64)[..., 0]
    gy, gx = np.diff(x, axis=1)[:, :, :-1], np.diff(x, axis=2)[:, :-1, :]
    return float(np.sqrt(gx ** 2 + gy ** 2).mean())


def train(preset, steps, seed, **overrides):
    model, _, seconds = train_recipe(preset.name, seed=seed, steps=steps, verbose=0, **overrides)
    return model, seconds


def measure(task, output, target, seconds) -> dict:
    row = {"sharpness (grad. ratio to target)": gradient_magnitude(output) / gradient_magnitude(target),
           "PSNR dB": psnr(target, output, 2.0),
           "SSIM": float(np.mean(ssim(target, output, 2.0, per_image=True))),
           "MAE": (f"{mae_hu(target, output, from_unit=True):.1f} HU" if task in ("mr_to_ct", "lowdose_ct", "wgan_vgg")
                   else round(float(np.abs(target - output).mean()), 4)),
           "distortion (MSE)": float(np.mean((target - output) ** 2)),
           "realism (Fréchet, phantom features)": feature_distances(target, np.clip(output, -1, 1))["frechet"],
           "train s": round(seconds, 1) if seconds is not None else "-"}
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
    parser.add_argument("--name", default="pix2pix_vs_voxel_loss",
                        help="results file benchmarks/results/NAME.json")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows, notes = [], []
    for task in args.tasks:
        preset = advzoo.get_preset(PRESETS[task])
        steps = args.steps or preset.train_steps
        size, data_task = preset.dataset["size"], preset.dataset["task"]
        source, target = translation_pairs_arrays(data_task, "test", n=args.test_images, size=size)
        # the voxel-loss-alone baseline drops every other term of G's loss (WGAN-VGG's perceptual)
        voxel_only = {"lambda_adversarial": 0.0,
                      **({"lambda_perceptual": 0.0} if preset.config.get("lambda_perceptual") else {})}
        method = ("wgan_vgg ({:g} adversarial + perceptual + L1)" if task == "wgan_vgg"
                  else "pix2pix ({:g} adversarial + 100 L1)")
        arms = [("input (identity)", None, None, None)]
        for seed in args.seeds or [preset.seed]:
            arms.append(("voxel loss alone (" + ", ".join(f"{k}=0" for k in voxel_only) + ")",
                         seed, *train(preset, steps, seed, **voxel_only)))
            for weight in args.adversarial_weights:
                arms.append((method.format(weight), seed,
                             *train(preset, steps, seed, lambda_adversarial=weight)))
        for name, seed, model, seconds in arms:
            output = source if model is None else model.translate(np.clip(source, -1, 1))
            row = {"task": task, "model": name, "seed": "-" if seed is None else seed,
                   **measure(task, output, target, seconds)}
            rows.append(row)
            print(row, flush=True)
        notes.append(f"{task}: {steps} steps of batch {preset.batch_size}, {size}x{size}")
    names = sorted({"WGAN-VGG" if task == "wgan_vgg" else "pix2pix" for task in args.tasks})
    if "wgan_vgg" in args.tasks:
        notes.append("wgan_vgg: the wgan_vgg_lowdose_ct recipe (U-Net G, residual; whole-image "
                     "WGAN-GP critic, 2 critic steps; perceptual weight 100 on the phantom "
                     "feature network, L1 20); its baseline drops the adversarial and the "
                     "perceptual terms (L1 alone)")
    result = {
        "title": f"{' and '.join(names)} vs. the same generator trained with the voxel loss "
                 "alone (sharpness, voxel error, perception-distortion)",
        "command": "python benchmarks/pix2pix_vs_voxel_loss.py --tasks " + " ".join(args.tasks)
                   + (f" --steps {args.steps}" if args.steps else "")
                   + (" --seeds " + " ".join(map(str, args.seeds)) if args.seeds else "")
                   + (f" --name {args.name}" if args.name != "pix2pix_vs_voxel_loss" else "")
                   + f" --test-images {args.test_images}"
                   + " --adversarial-weights " + " ".join(f"{w:g}" for w in args.adversarial_weights),
        "columns": list(rows[0]),
        "rows": rows,
        "note": "Both arms use the recipe of the task's preset (U-Net G, 8 filters; PatchGAN D, "
                "16 filters, 2 layers; nsgan + lambda_l1 100 with lambda_adversarial as listed vs 0; Adam(2e-4, "
                "0.5); the same seed for every arm): " + "; ".join(notes) + f". Test split, {args.test_images} "
                "images. Sharpness: mean gradient magnitude of the outputs over that of the "
                "targets (1 = as sharp as the target). Distortion: MSE in [-1, 1]; realism: "
                "Fréchet distance to the targets in the phantom feature network's space (lower "
                "is more realistic), as in Blau & Michaeli's perception-distortion plane.",
    }
    if not args.no_write:
        write_result(RESULTS / f"{args.name}.json", result)


if __name__ == "__main__":
    main()
