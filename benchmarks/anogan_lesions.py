"""AnoGAN on the lesion phantoms: AUC of Schlegl's score, normal vs. lesion slices.

`anogan` (a DCGAN) is trained on the normal slices of `lesions` only (32x32). Held-out slices,
half with 1-3 hypodense liver lesions, are scored after latent inversion; the AUC says how well the
score ranks lesion slices above normal ones (0.5 is chance). Rows: Schlegl's score (lambda = 0.1),
its two parts alone (lambda = 0: residual only; lambda = 1: discrimination loss only) at the same
inverted codes, and the same score from the untrained GAN (what the training on normal anatomy
adds).

    python benchmarks/anogan_lesions.py
    python benchmarks/anogan_lesions.py --steps 200 --test 32 --no-write     # quick look
"""
import argparse
import pathlib
import time

import keras

import advzoo
from advzoo.readme import write_result
from advzoo.metrics import auc
from advzoo.models.anogan import SOFT_TISSUE_WINDOW
from advzoo.recipes import fit_on_default_data

RESULT = pathlib.Path(__file__).parent / "results" / "anogan_lesions.json"
CONFIG = {"image_shape": (32, 32, 1), "latent_dim": 64, "generator_filters": 32,
          "discriminator_filters": 32, "lambda_feature": 0.1, "window": SOFT_TISSUE_WINDOW}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--test", type=int, default=128, help="held-out slices (half abnormal)")
    parser.add_argument("--inversion-steps", type=int, default=300)
    parser.add_argument("--restarts", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    test = advzoo.data.lesions_arrays("test", n=args.test, size=32, seed=args.seed)
    images = advzoo.data.hu_to_unit(test["images"], SOFT_TISSUE_WINDOW)
    keras.utils.set_random_seed(args.seed)
    model = advzoo.build("anogan", seed=args.seed, **CONFIG)
    untrained = model.anomaly_score(images, steps=args.inversion_steps, restarts=args.restarts,
                                    seed=args.seed)
    start = time.perf_counter()
    fit_on_default_data(model, args.steps, args.batch_size, seed=args.seed, verbose=0)
    seconds = time.perf_counter() - start
    parts = model.anomaly_score(images, steps=args.inversion_steps, restarts=args.restarts,
                                seed=args.seed)
    rows = [
        {"score": "untrained GAN, (1 - 0.1) R + 0.1 D", "AUC": auc(test["labels"], untrained["score"])},
        {"score": "residual R only (lambda = 0)", "AUC": auc(test["labels"], parts["residual"])},
        {"score": "discrimination loss D only (lambda = 1)",
         "AUC": auc(test["labels"], parts["discrimination"])},
        {"score": "AnoGAN, (1 - 0.1) R + 0.1 D (Schlegl)", "AUC": auc(test["labels"], parts["score"])},
    ]
    for row in rows:
        print(row, flush=True)
    result = {
        "title": "AnoGAN: anomaly-score AUC, normal vs. lesion CT phantoms (lesions, 32x32)",
        "command": f"python benchmarks/anogan_lesions.py --steps {args.steps} "
                   f"--batch-size {args.batch_size} --test {args.test} "
                   f"--inversion-steps {args.inversion_steps} --restarts {args.restarts} "
                   f"--seed {args.seed}",
        "columns": list(rows[0]),
        "rows": rows,
        "note": f"DCGAN (32 filters, latent 64, nsgan) trained {args.steps} steps of batch "
                f"{args.batch_size} ({seconds:.0f} s) on the normal training slices only. "
                f"{args.test} held-out slices (half with lesions), inverted with "
                f"{args.inversion_steps} Adam steps (lr 0.05) from {args.restarts} restarts on "
                "Schlegl's Eq. 5; R = sum |x - G(z)|, D = sum |f(x) - f(G(z))| over D's features "
                f"before its logit. Soft-tissue CT window {SOFT_TISSUE_WINDOW} HU; the lesions are "
                "35-60 HU below the liver.",
    }
    if not args.no_write:
        write_result(RESULT, result)


if __name__ == "__main__":
    main()
