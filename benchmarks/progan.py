"""ProGAN with a jointly synthesised mask (Beers et al.): does the generated mask line up with
the generated image?

For each seed this script trains the `progan_ct_bone_32` recipe (grown 8 -> 32 inside one fit)
and measures Dice between each sample's bone-mask channel and a threshold segmentation of the
same sample's image channel (bone's HU range, 300-1000 HU). Baselines in the same run: the Dice
of each mask against the image of another sample (shuffled pairs: what the masks' typical
position alone explains) and the same measure on real test slices (the threshold rule's own
ceiling, since real masks are exact).

    python benchmarks/progan.py            # writes benchmarks/results/progan.json
    python benchmarks/progan.py --steps 50 --seeds 1 --no-write   # quick look
"""
import argparse
import pathlib

import numpy as np

import advzoo
from advzoo.readme import write_result
from advzoo.recipes import train_recipe

RESULT = pathlib.Path(__file__).parent / "results" / "progan.json"
PRESET = "progan_ct_bone_32"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    preset = advzoo.get_preset(PRESET)
    parser.add_argument("--steps", type=int, default=preset.train_steps)
    parser.add_argument("--batch-size", type=int, default=preset.batch_size)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    runs = []
    for seed in range(args.seeds):
        model, _, seconds = train_recipe(PRESET, seed=seed, steps=args.steps,
                                         batch_size=args.batch_size, verbose=0)
        runs.append({**model.sample_report(seed=seed), "seconds": seconds})
        print(runs[-1], flush=True)

    def per_seed(key):
        return " / ".join(f"{r[key]:.3f}" for r in runs)

    rows = [
        {"pairs": "generated mask vs. its own generated image",
         "bone Dice, per seed": per_seed("dice_bone"),
         "mean": float(np.mean([r["dice_bone"] for r in runs]))},
        {"pairs": "generated mask vs. another sample's image (shuffled)",
         "bone Dice, per seed": per_seed("dice_bone_shuffled_pairs"),
         "mean": float(np.mean([r["dice_bone_shuffled_pairs"] for r in runs]))},
        {"pairs": "real mask vs. its real image (ceiling of the threshold rule)",
         "bone Dice, per seed": per_seed("dice_bone_real_data"),
         "mean": float(np.mean([r["dice_bone_real_data"] for r in runs]))},
    ]
    for row in rows:
        print(row)
    result = {
        "title": "progan: the jointly generated bone mask lines up with the generated CT image",
        "command": f"python benchmarks/progan.py --steps {args.steps} --batch-size "
                   f"{args.batch_size} --seeds {args.seeds}",
        "columns": list(rows[0]),
        "rows": rows,
        "note": f"Recipe of preset {PRESET}: grown 8 -> 32 in one fit "
                f"({np.mean([r['seconds'] for r in runs]):.0f} s of training per seed); 256 "
                "samples per run; Dice pooled over all pixels of all samples.",
    }
    if not args.no_write:
        write_result(RESULT, result)


if __name__ == "__main__":
    main()
