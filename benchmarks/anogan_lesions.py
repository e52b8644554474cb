"""AnoGAN on the lesion phantoms: AUC of Schlegl's score, normal vs. lesion slices.

`anogan` (a DCGAN) is trained on the normal slices of `lesions` only (32x32). Held-out slices,
half with 1-3 hypodense liver lesions, are scored after latent inversion; the AUC says how well the
score ranks lesion slices above normal ones (0.5 is chance). Rows: Schlegl's score (lambda = 0.1),
its two parts alone (lambda = 0: residual only; lambda = 1: discrimination loss only) at the same
inverted codes, and the same score from the untrained GAN (what the training on normal anatomy
adds).

    python benchmarks/anogan_lesions.py
    python benchmarks/anogan_lesions.py --steps 200 --test 32 --seeds 0 --no-write     # quick look
"""
import argparse
import pathlib
import time

import keras
import numpy as np

import advzoo
from advzoo.readme import write_result
from advzoo.metrics import auc
from advzoo.models.anogan import SOFT_TISSUE_WINDOW
from advzoo.recipes import fit_on_default_data

RESULT = pathlib.Path(__file__).parent / "results" / "anogan_lesions.json"
CONFIG = {"image_shape": (32, 32, 1), "latent_dim": 64, "generator_filters": 32,
          "discriminator_filters": 32, "lambda_feature": 0.1, "window": SOFT_TISSUE_WINDOW}


SCORES = [
    ("untrained GAN, (1 - 0.1) R + 0.1 D", "untrained"),
    ("residual R only (lambda = 0)", "residual"),
    ("discrimination loss D only (lambda = 1)", "discrimination"),
    ("AnoGAN, (1 - 0.1) R + 0.1 D (Schlegl)", "score"),
]


def run_seed(args, seed: int) -> dict:
    """Train one AnoGAN on normal slices (seed drives the weights and the phantom draw) and
    return the AUC of each score on the held-out slices."""
    test = advzoo.data.lesions_arrays("test", n=args.test, size=32, seed=seed)
    images = advzoo.data.hu_to_unit(test["images"], SOFT_TISSUE_WINDOW)
    keras.utils.set_random_seed(seed)
    model = advzoo.build("anogan", seed=seed, **CONFIG)
    untrained = model.anomaly_score(images, steps=args.inversion_steps, restarts=args.restarts,
                                    seed=seed)
    start = time.perf_counter()
    fit_on_default_data(model, args.steps, args.batch_size, seed=seed, verbose=0)
    seconds = time.perf_counter() - start
    parts = model.anomaly_score(images, steps=args.inversion_steps, restarts=args.restarts,
                                seed=seed)
    return {"untrained": auc(test["labels"], untrained["score"]),
            **{key: auc(test["labels"], parts[key])
               for key in ("residual", "discrimination", "score")},
            "seconds": seconds}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--test", type=int, default=128, help="held-out slices (half abnormal)")
    parser.add_argument("--inversion-steps", type=int, default=300)
    parser.add_argument("--restarts", type=int, default=2)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    runs = []
    for seed in args.seeds:
        runs.append(run_seed(args, seed))
        print(seed, runs[-1], flush=True)
    rows = []
    for name, key in SCORES:
        values = np.array([r[key] for r in runs], float)
        rows.append({"score": name, "AUC (mean ± std)": f"{values.mean():.3f} ± {values.std():.3f}",
                     "per seed": ", ".join(f"{v:.3f}" for v in values)})
        print(rows[-1], flush=True)
    seeds = " ".join(str(s) for s in args.seeds)
    result = {
        "title": "AnoGAN: anomaly-score AUC, normal vs. lesion CT phantoms (lesions, 32x32)",
        "command": f"python benchmarks/anogan_lesions.py --steps {args.steps} "
                   f"--batch-size {args.batch_size} --test {args.test} "
                   f"--inversion-steps {args.inversion_steps} --restarts {args.restarts} "
                   f"--seeds {seeds}",
        "columns": list(rows[0]),
        "rows": rows,
        "note": f"Per seed (seeds {seeds}; the seed draws the weights and the phantoms), DCGAN "
                f"(32 filters, latent 64, nsgan) trained {args.steps} steps of batch "
                f"{args.batch_size} ({np.mean([r['seconds'] for r in runs]):.0f} s mean) on the "
                f"normal training slices only. {args.test} held-out slices (half with lesions), "
                f"inverted with {args.inversion_steps} Adam steps (lr 0.05) from {args.restarts} "
                "restarts on Schlegl's Eq. 5; R = sum |x - G(z)|, D = sum |f(x) - f(G(z))| over "
                f"D's features before its logit. Soft-tissue CT window {SOFT_TISSUE_WINDOW} HU; "
                "the lesions are 35-60 HU below the liver. AUC 0.5 is chance.",
    }
    if not args.no_write:
        write_result(RESULT, result)


if __name__ == "__main__":
    main()
