"""ProGAN with a jointly synthesised mask (Beers et al.): does the generated mask line up with
the generated image?

For each seed this script trains the recipe of a progan preset (default `progan_ct_bone_64`,
grown 8 -> 16 -> 32 -> 64 inside one fit) and measures Dice between each sample's bone-mask
channel and a threshold segmentation of the same sample's image channel (bone's HU range,
300-1000 HU). Baselines in the same run: the Dice of each mask against the image of another
sample (shuffled pairs: what the masks' typical position alone explains) and the same measure on
real test slices (the threshold rule's own ceiling, since real masks are exact). Also reported:
the Dice of each mask with another sample's mask, the spread of the mask positions (it is high
when the generator draws one mask for every sample), beside the real data's.

For the preset's own seed at its recipe's steps and batch size, the shipped weights (trained by
`scripts/train_preset.py` with the same recipe) are measured instead of training again, unless
--retrain is given.

    python benchmarks/progan.py                                   # 64x64 preset, seeds 0 1 2
    python benchmarks/progan.py --preset progan_ct_bone_32 --seeds 0 --retrain
    python benchmarks/progan.py --steps 50 --seeds 1 --no-write   # quick look
"""
import argparse
import pathlib

import numpy as np

import advzoo
from advzoo.metrics import dice
from advzoo.models.progan import progan_dataset
from advzoo.readme import write_result
from advzoo.recipes import train_recipe

RESULTS = pathlib.Path(__file__).parent / "results"
PRESETS = ("progan_ct_bone_64", "progan_ct_bone_32")
SAMPLES = 256


def mask_spread(masks) -> float:
    """Dice of each binary mask with the next sample's (1: every sample has the same mask)."""
    masks = np.asarray(masks) > 0.0
    return float(dice(masks, np.roll(masks, 1, axis=0)))


def measure(model, seed: int) -> dict:
    report = model.sample_report(n=SAMPLES, seed=seed)
    channel = model.image_channels  # the first mask channel
    report["mask_spread"] = mask_spread(np.asarray(model.sample(SAMPLES, seed=seed))[..., channel])
    return report


def real_mask_spread(model) -> float:
    real = np.concatenate([np.asarray(b) for b in progan_dataset(
        "test", batch_size=64, image_shape=model.image_shape, mask_organs=model.mask_organs)])
    return mask_spread(real[..., model.image_channels])


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=PRESETS, default=PRESETS[0])
    parser.add_argument("--steps", type=int, help="default: the preset's recipe")
    parser.add_argument("--batch-size", type=int, help="default: the preset's recipe")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--retrain", action="store_true",
                        help="train the preset's own seed too instead of measuring the shipped "
                             "weights")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    preset = advzoo.get_preset(args.preset)
    steps = args.steps or preset.train_steps
    batch_size = args.batch_size or preset.batch_size
    runs = []
    for seed in args.seeds:
        if (not args.retrain and seed == preset.seed and steps == preset.train_steps
                and batch_size == preset.batch_size):
            model = advzoo.load(args.preset)
            seconds = advzoo.weights.read_metadata(
                advzoo.weights.zoo_weights_dir() / args.preset)["train_seconds"]
            source = "shipped preset"
        else:
            model, _, seconds = train_recipe(args.preset, seed=seed, steps=steps,
                                             batch_size=batch_size, verbose=0)
            source = "trained here"
        runs.append({**measure(model, seed), "seconds": seconds, "seed": seed, "source": source})
        print(runs[-1], flush=True)
    organ = model.mask_organs[0]
    real_spread = real_mask_spread(model)  # the test slices are the same for every seed

    def per_seed(key):
        return " / ".join(f"{r[key]:.3f}" for r in runs)

    def mean(key):
        return round(float(np.mean([r[key] for r in runs])), 4)

    rows = [
        {"pairs": "generated mask vs. its own generated image",
         f"{organ} Dice, per seed": per_seed(f"dice_{organ}"), "mean": mean(f"dice_{organ}")},
        {"pairs": "generated mask vs. another sample's image (shuffled)",
         f"{organ} Dice, per seed": per_seed(f"dice_{organ}_shuffled_pairs"),
         "mean": mean(f"dice_{organ}_shuffled_pairs")},
        {"pairs": "real mask vs. its real image (ceiling of the threshold rule)",
         f"{organ} Dice, per seed": per_seed(f"dice_{organ}_real_data"),
         "mean": mean(f"dice_{organ}_real_data")},
        {"pairs": "generated mask vs. another sample's mask (position spread)",
         f"{organ} Dice, per seed": per_seed("mask_spread"), "mean": mean("mask_spread")},
        {"pairs": "real mask vs. another slice's mask (position spread of the data)",
         f"{organ} Dice, per seed": f"{real_spread:.3f}", "mean": round(real_spread, 4)},
    ]
    for row in rows:
        print(row)
    side = model.image_shape[0]
    sizes = " -> ".join(str(model.start_size * 2 ** i) for i in range(model.stages))
    seeds = " ".join(str(s) for s in args.seeds)
    gains = [r[f"dice_{organ}"] - r[f"dice_{organ}_shuffled_pairs"] for r in runs]
    result = {
        "title": f"progan: the jointly generated {organ} mask lines up with the generated CT "
                 f"image ({side}x{side})",
        "command": f"python benchmarks/progan.py --preset {args.preset} --steps {steps} "
                   f"--batch-size {batch_size} --seeds {seeds}"
                   + (" --retrain" if args.retrain else ""),
        "columns": list(rows[0]),
        "rows": rows,
        "note": f"Recipe of preset {args.preset}: grown {sizes} in one fit, {steps} steps of "
                f"batch {batch_size} ({np.mean([r['seconds'] for r in runs]):.0f} s of training "
                f"per seed); seeds {seeds} ("
                + ", ".join(f"{r['seed']}: {r['source']}" for r in runs)
                + f"); {SAMPLES} samples per run; Dice pooled over all pixels of all samples. "
                f"Own image minus shuffled pairs, per seed: "
                + ", ".join(f"{g:+.3f}" for g in gains) + ".",
    }
    if not args.no_write:
        write_result(RESULTS / f"{args.preset}.json", result)


if __name__ == "__main__":
    main()
