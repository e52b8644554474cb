"""Does domain-adversarial training help on an unlabelled target scanner? `dann` (Ganin; Kamnitsas
multi-connected) against source-only training of the same segmentor.

Both models train with the recipe of the `dann_domain_shift` preset (32x32 U-Net liver segmentor,
8 filters, batch 16, same steps, optimizer and seeds) on the `domain_shift` phantom: labelled
source-scanner slices and unlabelled target-scanner slices (`dann_dataset`; the target masks are
never read in training). Source-only is `dann` with lambda_domain=0, which never reads the target
images. Optionally the single-connected variant (Ganin: D reads only H's last layer). Measured:
mean per-image Dice on the test split's target images (and source images), mean and standard
deviation over seeds.

    python benchmarks/dann_domain_shift.py
    python benchmarks/dann_domain_shift.py --steps 200 --seeds 0 --no-write
"""
import argparse
import pathlib

import numpy as np

from advzoo import zoo
from advzoo.readme import write_domain_shift_result
from advzoo.recipes import train_recipe

RESULT = pathlib.Path(__file__).parent / "results" / "dann_domain_shift.json"
PRESET = "dann_domain_shift"
VARIANTS = {
    "source only (lambda 0)": {"lambda_domain": 0.0},
    "dann multi-connected": {"multi_connected": True},
    "dann single-connected": {"multi_connected": False},
}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=None, help="default: the preset's")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
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
            runs.append((report["target_dice"], report["source_dice"], seconds))
            print(name, seed, report, round(seconds, 1), flush=True)
        results[name] = runs
    base = np.array([t for t, _, _ in results.get("source only (lambda 0)", [])])
    rows = []
    for name, runs in results.items():
        target = np.array([t for t, _, _ in runs])
        source = np.array([s for _, s, _ in runs])
        rows.append({
            "model": name,
            "target Dice (mean ± std)": f"{target.mean():.3f} ± {target.std():.3f}",
            "per-seed target Dice": ", ".join(f"{d:.3f}" for d in target),
            "gain over source only (per seed)": "-" if name.startswith("source") or not len(base)
            else ", ".join(f"{d:+.3f}" for d in target - base),
            "source Dice (mean)": f"{source.mean():.3f}",
            "train s (mean)": round(float(np.mean([s for _, _, s in runs])), 1)})
        print(rows[-1], flush=True)
    seeds = " ".join(str(s) for s in args.seeds)
    config = preset.config
    result = {
        "title": "DANN (Ganin; Kamnitsas): target-scanner Dice without target labels vs. "
                 "source-only training (domain_shift liver, 32x32)",
        "command": f"python benchmarks/dann_domain_shift.py --steps {steps} --seeds {seeds} "
                   f"--variants {' '.join(repr(v) for v in args.variants)}",
        "columns": list(rows[0]),
        "rows": rows,
        "note": f"{steps} steps of batch {preset.batch_size} per model and seed with the "
                f"`{PRESET}` recipe: the same U-Net segmentor ({config['generator_filters']} "
                f"filters, 5 levels, batch norm), Adam(1e-3, 0.5) for segmentor and domain "
                f"classifier, Ganin's lambda schedule up to lambda_domain "
                f"{config['lambda_domain']:g}; multi-connected D reads the head's input and the "
                f"first {config['domain_levels']} encoder depths pooled to 4x4. Source only: "
                f"lambda_domain=0, the target images unseen. Dice: mean per image over the 64 "
                f"test images of each scanner (target masks used for scoring only). Seeds {seeds}.",
    }
    if not args.no_write:
        write_domain_shift_result(RESULT, result, PRESET, steps, args.seeds,
                                  "dann_domain_shift.py",
                                  {name: [t for t, _, _ in runs] for name, runs in results.items()})


if __name__ == "__main__":
    main()
