"""LAPGAN samples at 4x the coarsest size: do the residual levels add what up-sampling cannot?

For each seed this script trains the `lapgan_ct_32` recipe (levels 8 -> 16 -> 32 on CT phantom
slices) and compares, in the phantom feature space (`advzoo.metrics.feature_distances`), real
32x32 test slices with (a) full pyramid samples and (b) the coarsest level's samples merely
up-sampled to 32x32 (the same codes z_0, no residuals) - the baseline of Denton et al. Sec. 4,
where the pyramid's refinement is what separates LAPGAN from a coarse GAN. A real-vs-real
distance (train vs. test slices) gives the floor.

    python benchmarks/lapgan.py            # writes benchmarks/results/lapgan.json
    python benchmarks/lapgan.py --steps 50 --seeds 0 --no-write   # quick look
"""
import argparse
import pathlib

import numpy as np

import advzoo
from advzoo.readme import write_result
from advzoo.metrics import frechet_distance, phantom_features
from advzoo.recipes import train_recipe

RESULT = pathlib.Path(__file__).parent / "results" / "lapgan.json"
PRESET = "lapgan_ct_32"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    preset = advzoo.get_preset(PRESET)
    parser.add_argument("--steps", type=int, default=preset.train_steps)
    parser.add_argument("--batch-size", type=int, default=preset.batch_size)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    runs = []
    for seed in args.seeds:
        model, _, seconds = train_recipe(PRESET, seed=seed, steps=args.steps,
                                         batch_size=args.batch_size, verbose=0)
        runs.append({**model.sample_report(seed=seed), "seconds": seconds})
        print(runs[-1], flush=True)
    side = preset.config["image_shape"][0]
    unit = advzoo.data.hu_to_unit
    real_train = unit(advzoo.data.ct_slices_arrays("train", n=512, size=side)["images"])
    real_test = unit(advzoo.data.ct_slices_arrays("test", n=512, size=side)["images"])
    floor = frechet_distance(phantom_features(real_train), phantom_features(real_test))

    def per_seed(key):
        return " / ".join(f"{r[key]:.2f}" for r in runs)

    rows = [
        {"samples": f"pyramid, {runs[0]['coarsest_size']} -> {side} (3 levels)",
         "Fréchet distance to real test slices, per seed": per_seed("frechet"),
         "mean": float(np.mean([r["frechet"] for r in runs]))},
        {"samples": f"coarsest level only, up-sampled {runs[0]['coarsest_size']} -> {side}",
         "Fréchet distance to real test slices, per seed": per_seed("frechet_coarse_upsampled"),
         "mean": float(np.mean([r["frechet_coarse_upsampled"] for r in runs]))},
        {"samples": "real training slices (floor)",
         "Fréchet distance to real test slices, per seed": f"{floor:.2f}", "mean": float(floor)},
    ]
    for row in rows:
        print(row)
    result = {
        "title": "lapgan: pyramid samples at 4x the coarsest size vs. the up-sampled coarsest level",
        "command": f"python benchmarks/lapgan.py --steps {args.steps} --batch-size "
                   f"{args.batch_size} --seeds {' '.join(str(s) for s in args.seeds)}",
        "columns": list(rows[0]),
        "rows": rows,
        "note": f"Recipe of preset {PRESET} ({np.mean([r['seconds'] for r in runs]):.0f} s of "
                "training per seed); 512 samples per set, Fréchet distance in the phantom "
                "feature network's space (lower is closer to real).",
    }
    if not args.no_write:
        write_result(RESULT, result)


if __name__ == "__main__":
    main()
