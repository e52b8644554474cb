"""Does cgan draw what it is asked for? Class and vector conditioning against an unconditional gan.

Three models with the same DCGAN widths, data (scikit-learn digits, 16x16), objective, steps,
batch size and seed: the unconditional `gan`, `cgan` conditioned on the class id, and `cgan`
conditioned on a continuous vector (the two standardised `digit_attributes`: ink and horizontal
spread). For the gan the "asked" class or vector is simply paired with its samples, so its
figures are what ignoring the request scores (chance: 0.1 and correlation 0).

    python benchmarks/cgan_conditioning.py
    python benchmarks/cgan_conditioning.py --steps 300 --no-write     # quick look
"""
import argparse
import pathlib
import time

import keras
import numpy as np

import advzoo
from advzoo.readme import write_result
from advzoo.metrics import DigitClassifier
from advzoo.models.cgan import DIGIT_ATTRIBUTES, digit_attributes
from advzoo.recipes import fit_on_default_data

RESULT = pathlib.Path(__file__).parent / "results" / "cgan_conditioning.json"
WIDTHS = {"image_shape": (16, 16, 1), "latent_dim": 32, "generator_filters": 32,
          "discriminator_filters": 32, "objective": "nsgan"}


def train(family, steps, batch_size, seed, **config):
    keras.utils.set_random_seed(seed)
    model = advzoo.build(family, seed=seed, **WIDTHS, **config)
    start = time.perf_counter()
    fit_on_default_data(model, steps, batch_size, seed=seed, verbose=0)
    return model, time.perf_counter() - start


def correlations(asked, samples):
    measured = digit_attributes(samples)
    return [float(np.corrcoef(asked[:, i], measured[:, i])[0, 1]) for i in range(asked.shape[1])]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    n = args.samples
    classifier = DigitClassifier()
    asked_classes = np.arange(n) % 10
    real, _ = advzoo.data.digits_arrays("test", image_size=16)
    asked_vectors = digit_attributes(real)[np.random.default_rng(args.seed).integers(0, len(real), n)]

    rows = []

    def row(model_name, condition, class_acc, corr, seconds):
        r = {"model": model_name, "condition": condition,
             "asked-class accuracy": class_acc,
             f"{DIGIT_ATTRIBUTES[0]} correlation (asked vs measured)": corr[0] if corr else "-",
             f"{DIGIT_ATTRIBUTES[1]} correlation": corr[1] if corr else "-",
             "train s": round(seconds, 1)}
        rows.append(r)
        print(r, flush=True)

    gan, seconds = train("gan", args.steps, args.batch_size, args.seed)
    samples = gan.sample(n, seed=args.seed)
    row("gan (unconditional baseline)", "none (request ignored)",
        float((classifier.predict(samples) == asked_classes).mean()),
        correlations(asked_vectors, samples), seconds)
    by_class, seconds = train("cgan", args.steps, args.batch_size, args.seed, condition="class")
    samples = by_class.sample(n, seed=args.seed, condition=asked_classes)
    row("cgan", "class id (one-hot)", float((classifier.predict(samples) == asked_classes).mean()),
        None, seconds)
    by_vector, seconds = train("cgan", args.steps, args.batch_size, args.seed, condition="vector")
    samples = by_vector.sample(n, seed=args.seed, condition=asked_vectors)
    row("cgan", "continuous vector (2 attributes)", "-", correlations(asked_vectors, samples), seconds)

    result = {
        "title": "cgan: samples of the asked class / with the asked attribute vector (digits, 16x16)",
        "command": f"python benchmarks/cgan_conditioning.py --steps {args.steps} "
                   f"--batch-size {args.batch_size} --samples {n} --seed {args.seed}",
        "columns": list(rows[0]),
        "rows": rows,
        "note": f"{args.steps} steps of batch {args.batch_size} for each model, same DCGAN widths "
                f"(32 filters, latent 32), nsgan, Adam(2e-4, 0.5). Asked-class accuracy: the "
                f"real-digit classifier (test accuracy {classifier.test_accuracy:.3f}) on {n} "
                f"samples, 100 asked per class (chance 0.1). Correlations: Pearson, between "
                f"{n} attribute vectors of real test digits and those measured on the samples "
                f"drawn for them.",
    }
    if not args.no_write:
        write_result(RESULT, result)


if __name__ == "__main__":
    main()
