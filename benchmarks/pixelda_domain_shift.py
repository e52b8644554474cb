"""Does pixel-level adaptation help on an unlabelled target scanner? `pixelda` (Bousmalis et al.
2017) against source-only training of the same task network.

Both models train with the recipe of the `pixelda_domain_shift` preset (32x32 U-Net liver
segmentor T, 8 filters, batch 16, same steps, optimizer and seeds) on the `domain_shift` phantom:
labelled source-scanner slices and unlabelled target-scanner slices (`dann_dataset`; the target
masks are never read in training). Source only is `pixelda` with lambda_adv=0: T learns from the
source images alone and never reads the target images. Optional variants: T on the translations
only (no source term in Eq. 3), and G with the PMSE content loss (Eq. 5). Measured: mean
per-image Dice of T on the test split's target images (and source images), mean and standard
deviation over seeds, and how far the images T learns from are from the target scanner's
intensity distribution (1-D Wasserstein distance of the pixel values, test split: G(x_s, z) for
pixelda, x_s for source only).

    python benchmarks/pixelda_domain_shift.py
    python benchmarks/pixelda_domain_shift.py --steps 200 --seeds 0 --no-write
"""
import argparse
import pathlib

import numpy as np

from advzoo import data as zoo_data
from advzoo import zoo
from advzoo.readme import write_domain_shift_result
from advzoo.recipes import train_recipe

RESULT = pathlib.Path(__file__).parent / "results" / "pixelda_domain_shift.json"
PRESET = "pixelda_domain_shift"
VARIANTS = {
    "source only (lambda_adv 0)": {"lambda_adv": 0.0},
    "pixelda": {},
    "pixelda, T on translations only": {"train_on_source": False},
    "pixelda + PMSE content loss": {"lambda_content": 1.0, "content_loss": "pmse"},
}
DEFAULT_VARIANTS = ["source only (lambda_adv 0)", "pixelda"]


def intensity_gap(model) -> float:
    """1-D Wasserstein distance between the pixel values of the test split's target images and
    of the images T learns from (G(x_s, z), or x_s without adaptation), in [-1, 1] units."""
    arrays = zoo_data.domain_shift_arrays("test", size=model.image_shape[0])
    source = zoo_data.to_unit(arrays["source_images"], 0.0, 1.0)
    target = zoo_data.to_unit(arrays["target_images"], 0.0, 1.0)
    seen = model.translate(source) if model.lambda_adv else source
    return float(np.mean(np.abs(np.sort(seen.ravel()) - np.sort(target.ravel()))))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=None, help="default: the preset's")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=DEFAULT_VARIANTS, choices=list(VARIANTS))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    preset = zoo.get_preset(PRESET)
    steps = args.steps or preset.train_steps
    results = {}
    for name in args.variants:
        runs = []
        for seed in args.seeds:
            model, _, seconds = train_recipe(PRESET, seed=seed, steps=steps, verbose=0,
                                             **VARIANTS[name])
            report = model.domain_report()
            gap = intensity_gap(model)
            runs.append((report["target_dice"], report["source_dice"], gap, seconds))
            print(name, seed, report, round(gap, 4), round(seconds, 1), flush=True)
        results[name] = runs
    base = np.array([r[0] for r in results.get("source only (lambda_adv 0)", [])])
    rows = []
    for name, runs in results.items():
        target, source, gap, seconds = (np.array(column) for column in zip(*runs))
        rows.append({
            "model": name,
            "target Dice (mean ± std)": f"{target.mean():.3f} ± {target.std():.3f}",
            "per-seed target Dice": ", ".join(f"{d:.3f}" for d in target),
            "gain over source only (per seed)": "-" if name.startswith("source") or not len(base)
            else ", ".join(f"{d:+.3f}" for d in target - base),
            "source Dice (mean)": f"{source.mean():.3f}",
            "intensity gap to target (mean)": f"{gap.mean():.3f}",
            "train s (mean)": round(float(seconds.mean()), 1)})
        print(rows[-1], flush=True)
    seeds = " ".join(str(s) for s in args.seeds)
    config = preset.config
    result = {
        "title": "PixelDA (Bousmalis): target-scanner Dice without target labels vs. source-only "
                 "training (domain_shift liver, 32x32)",
        "command": f"python benchmarks/pixelda_domain_shift.py --steps {steps} --seeds {seeds} "
                   f"--variants {' '.join(repr(v) for v in args.variants)}",
        "columns": list(rows[0]),
        "rows": rows,
        "note": f"{steps} steps of batch {preset.batch_size} per model and seed with the "
                f"`{PRESET}` recipe: the same U-Net task network T ("
                f"{config['segmentation_filters']} filters, 5 levels, batch norm), Adam(1e-3, "
                f"0.5) for G, D and T. G: residual ResNet at full resolution "
                f"({config['generator_filters']} filters, {config['n_blocks']} blocks), noise "
                f"z ~ U(-1, 1)^{config['noise_dim']} as an extra image channel; D: PatchGAN "
                f"({config['discriminator_filters']} filters, {config['n_layers']} layers), "
                f"non-saturating GAN loss; G's loss = L_gen + {config['lambda_task']:g} x T's "
                "cross-entropy on G(x_s, z) (Bousmalis' alpha 0.13 : beta 0.011 is a ratio of "
                "about 12 : 1; here 10 : 1), no content loss unless named; T learns from "
                "G(x_s, z) and x_s (Eq. 3). Source only: lambda_adv=0, T on x_s alone, the "
                "target images unseen. Dice: mean per image over the 64 test images of each "
                "scanner (target masks used for scoring only). Intensity gap: 1-D Wasserstein "
                "distance of pixel values to the target test images. Seeds "
                f"{seeds}. For comparison, `dann` (benchmarks/results/dann_domain_shift.json) "
                "trains the same segmentor for 1500 steps.",
    }
    if not args.no_write:
        write_domain_shift_result(RESULT, result, PRESET, steps, args.seeds,
                                  "pixelda_domain_shift.py",
                                  {name: [r[0] for r in runs] for name, runs in results.items()})


if __name__ == "__main__":
    main()
