"""Does InfoGAN's categorical code pick the digit class without labels? Against lambda = 0.

Two `infogan` runs with the same networks, codes, data (scikit-learn digits, 16x16, labels never
used), steps, batch size and seed; the only difference is the weight of the mutual-information
term: Chen's lambda (1 categorical, 0.1 continuous) or 0, which leaves a plain GAN whose G
receives the same code but is never asked to make it recoverable (Chen et al. Sec. 6.1 compare
the same way).

    python benchmarks/infogan_categorical.py
    python benchmarks/infogan_categorical.py --steps 300 --no-write     # quick look
"""
import argparse
import pathlib
import time

import keras

import advzoo
from advzoo.readme import write_result
from advzoo.recipes import fit_on_default_data

RESULT = pathlib.Path(__file__).parent / "results" / "infogan_categorical.json"
CONFIG = {"image_shape": (16, 16, 1), "noise_dim": 16, "categorical_codes": (10,),
          "continuous_codes": 2, "generator_filters": 32, "discriminator_filters": 32,
          "q_units": 64}


def run(lambdas, steps, batch_size, seed):
    keras.utils.set_random_seed(seed)
    model = advzoo.build("infogan", lambda_categorical=lambdas[0], lambda_continuous=lambdas[1],
                         seed=seed, **CONFIG)
    start = time.perf_counter()
    fit_on_default_data(model, steps, batch_size, seed=seed, verbose=0)
    return model.sample_report(seed=seed), time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows = []
    for label, lambdas in (("lambda = 0 (codes ignored: plain GAN)", (0.0, 0.0)),
                           ("lambda = 1 / 0.1 (Chen)", (1.0, 0.1))):
        report, seconds = run(lambdas, args.steps, args.batch_size, args.seed)
        row = {"mutual-information weight": label,
               "code -> class accuracy (generated)": report["code_class_accuracy"],
               "Q clustering accuracy (real test digits)": report["q_cluster_accuracy"],
               "code values Q uses": report["code_values_used_by_q"],
               "train s": round(seconds, 1)}
        rows.append(row)
        print(row, flush=True)
    result = {
        "title": "InfoGAN: the 10-way categorical code recovers the digit class (no labels)",
        "command": f"python benchmarks/infogan_categorical.py --steps {args.steps} "
                   f"--batch-size {args.batch_size} --seed {args.seed}",
        "columns": list(rows[0]),
        "rows": rows,
        "note": f"{args.steps} steps of batch {args.batch_size}; noise 16 + one 10-way categorical "
                "+ 2 continuous codes, 32 filters, nsgan, Adam 2e-4 (D, Q) / 1e-3 (G) as Chen. "
                "Accuracies after the best one-to-one matching of code values to classes "
                "(Hungarian algorithm; 0.1 is chance): 1,000 samples (100 per code value) judged "
                "by the real-digit classifier, and Q's code on the 270 real test digits.",
    }
    if not args.no_write:
        write_result(RESULT, result)


if __name__ == "__main__":
    main()
