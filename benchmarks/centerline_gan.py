"""Does the latent space of `centerline_gan` separate left/right and short/long vessels?

Wolterink et al. (MIDL 2018) report that the latent codes of left and right coronary arteries
are linearly separable. For each seed this script trains the `centerline_gan_coronary` recipe,
then draws 1,000 codes z, labels each generated vessel (side, length class) with logistic
regressions trained on real vessels, and fits a linear probe (logistic regression, 5-fold
cross-validated) from z to each label. Baselines in the same run: the majority-class rate of
the generated labels (what a probe that ignores z gets) and the same measurement on the same
architecture before training.

    python benchmarks/centerline_gan.py            # writes benchmarks/results/centerline_gan.json
    python benchmarks/centerline_gan.py --steps 100 --seeds 0 --no-write   # quick look
"""
import argparse
import pathlib
import time

import keras
import numpy as np

import advzoo
from advzoo.readme import write_result
from advzoo.recipes import fit_on_default_data

RESULT = pathlib.Path(__file__).parent / "results" / "centerline_gan.json"
PRESET = "centerline_gan_coronary"


def run(seed: int, steps: int, batch_size: int) -> dict:
    keras.utils.set_random_seed(seed)
    preset = advzoo.get_preset(PRESET)
    model = advzoo.build("centerline_gan", **{**preset.config, "seed": seed})
    untrained = model.sample_report(seed=seed)
    start = time.perf_counter()
    fit_on_default_data(model, steps, batch_size, seed=seed, verbose=0)
    seconds = time.perf_counter() - start
    return {"trained": model.sample_report(seed=seed), "untrained": untrained, "seconds": seconds}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    preset = advzoo.get_preset(PRESET)
    parser.add_argument("--steps", type=int, default=preset.train_steps)
    parser.add_argument("--batch-size", type=int, default=preset.batch_size)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    runs = [run(seed, args.steps, args.batch_size) for seed in args.seeds]
    rows = []
    for which in ("untrained", "trained"):
        for label in ("side", "long"):
            reports = [r[which] for r in runs]
            row = {"generator": f"{which} ({args.steps} steps)" if which == "trained" else which,
                   "label": "left/right" if label == "side" else "short/long",
                   "probe accuracy from z, per seed": " / ".join(
                       f"{r[f'{label}_probe_accuracy']:.3f}" for r in reports),
                   "majority rate, per seed": " / ".join(
                       f"{r[f'{label}_majority']:.3f}" for r in reports),
                   "mean probe - majority": float(np.mean(
                       [r[f"{label}_probe_accuracy"] - r[f"{label}_majority"] for r in reports]))}
            rows.append(row)
            print(row, flush=True)
    labeller = runs[0]["trained"]
    result = {
        "title": "centerline_gan: linear probe of vessel side and length from the latent code",
        "command": f"python benchmarks/centerline_gan.py --steps {args.steps} "
                   f"--batch-size {args.batch_size} --seeds {' '.join(str(s) for s in args.seeds)}",
        "columns": list(rows[0]),
        "rows": rows,
        "note": f"Recipe of preset {PRESET} ({np.mean([r['seconds'] for r in runs]):.0f} s of "
                "training per seed). 1,000 generated vessels per run, labelled by logistic "
                "regressions trained on real vessels (accuracy on real test vessels: side "
                f"{labeller['side_real_label_accuracy']:.3f}, length "
                f"{labeller['long_real_label_accuracy']:.3f}); probe: logistic regression "
                "z -> label, 5-fold cross-validated. A probe can only beat the majority rate if "
                "the label is linearly readable from z.",
    }
    if not args.no_write:
        write_result(RESULT, result)


if __name__ == "__main__":
    main()
