"""Are BiGAN's encoder features useful to a downstream classifier? A linear probe on E(x).

`bigan` is trained without labels on `nodules` CT patches (32x32). A logistic regression on
standardised features then learns nodule present/absent from the labelled training patches and is
scored on held-out patches. Baselines with the same probe: the same encoder architecture with its
random initial weights (what the BiGAN training adds), and the raw pixels.

    python benchmarks/bigan_probe.py
    python benchmarks/bigan_probe.py --steps 200 --seeds 0 --no-write     # quick look
"""
import argparse
import pathlib
import time

import keras
import numpy as np

import advzoo
from advzoo.readme import write_result
from advzoo.models.bigan import linear_probe_accuracy
from advzoo.recipes import fit_on_default_data

RESULT = pathlib.Path(__file__).parent / "results" / "bigan_probe.json"
CONFIG = {"image_shape": (32, 32, 1), "latent_dim": 64, "generator_filters": 16,
          "encoder_filters": 16, "discriminator_filters": 16, "joint_units": 128}


FEATURES = [
    ("raw pixels (1,024)", "pixel_probe_accuracy"),
    ("random encoder, code E(x) (64, untrained)", "random_encoder_probe_accuracy"),
    ("random encoder, last conv features (1,024, untrained)",
     "random_encoder_trunk_probe_accuracy"),
    ("BiGAN encoder, code E(x) (64)", "probe_accuracy"),
    ("BiGAN encoder, last conv features (1,024)", "trunk_probe_accuracy"),
]


def run_seed(steps: int, batch_size: int, test_n: int, seed: int) -> dict:
    """Train one BiGAN (seed drives the weights and the phantom draw) and probe every feature."""
    keras.utils.set_random_seed(seed)
    model = advzoo.build("bigan", seed=seed, **CONFIG)
    start = time.perf_counter()
    fit_on_default_data(model, steps, batch_size, seed=seed, verbose=0)
    seconds = time.perf_counter() - start
    report = model.sample_report(n_test=test_n, seed=seed)
    train = advzoo.data.nodules_arrays("train", size=32, seed=seed)
    test = advzoo.data.nodules_arrays("test", n=test_n, size=32, seed=seed)
    report["pixel_probe_accuracy"] = linear_probe_accuracy(
        advzoo.data.hu_to_unit(train["images"]).reshape(len(train["images"]), -1), train["labels"],
        advzoo.data.hu_to_unit(test["images"]).reshape(len(test["images"]), -1), test["labels"])
    return {**report, "seconds": seconds}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--test", type=int, default=256, help="held-out patches for the probe")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    runs = []
    for seed in args.seeds:
        runs.append(run_seed(args.steps, args.batch_size, args.test, seed))
        print(seed, runs[-1], flush=True)
    rows = []
    for name, key in FEATURES:
        values = np.array([r[key] for r in runs], float)
        rows.append({"features": name,
                     "probe accuracy (mean ± std)": f"{values.mean():.3f} ± {values.std():.3f}",
                     "per seed": ", ".join(f"{v:.3f}" for v in values)})
        print(rows[-1], flush=True)
    gains = [r["probe_accuracy"] - r["random_encoder_probe_accuracy"] for r in runs]
    trunk_gains = [r["trunk_probe_accuracy"] - r["random_encoder_trunk_probe_accuracy"]
                   for r in runs]
    seeds = " ".join(str(s) for s in args.seeds)
    result = {
        "title": "BiGAN: linear probe of nodule presence on encoder features (nodules, 32x32)",
        "command": f"python benchmarks/bigan_probe.py --steps {args.steps} "
                   f"--batch-size {args.batch_size} --test {args.test} --seeds {seeds}",
        "columns": list(rows[0]),
        "rows": rows,
        "note": f"Per seed (seeds {seeds}; the seed draws the weights and the phantoms), BiGAN "
                f"trained without labels on the 512 training patches (half with a nodule), "
                f"{args.steps} steps of batch {args.batch_size} "
                f"({np.mean([r['seconds'] for r in runs]):.0f} s mean), nsgan, Adam(2e-4, 0.5) "
                f"for D, G and E. Probe: logistic regression on standardised features, fitted on "
                f"the 512 labelled training patches, accuracy on {args.test} held-out patches "
                f"(chance 0.5). Gain of the trained over the random encoder, per seed: code "
                + ", ".join(f"{g:+.3f}" for g in gains) + "; last conv features "
                + ", ".join(f"{g:+.3f}" for g in trunk_gains)
                + ". Reconstruction |x - G(E(x))| of the held-out patches: "
                + ", ".join(f"{r['reconstruction_l1']:.3f}" for r in runs)
                + " (pixel range [-1, 1]).",
    }
    if not args.no_write:
        write_result(RESULT, result)


if __name__ == "__main__":
    main()
