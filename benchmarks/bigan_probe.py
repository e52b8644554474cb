"""Are BiGAN's encoder features useful to a downstream classifier? A linear probe on E(x).

`bigan` is trained without labels on `nodules` CT patches (32x32). A logistic regression on
standardised features then learns nodule present/absent from the labelled training patches and is
scored on held-out patches. Baselines with the same probe: the same encoder architecture with its
random initial weights (what the BiGAN training adds), and the raw pixels.

    python benchmarks/bigan_probe.py
    python benchmarks/bigan_probe.py --steps 200 --no-write     # quick look
"""
import argparse
import pathlib
import time

import keras

import advzoo
from advzoo.readme import write_result
from advzoo.models.bigan import linear_probe_accuracy
from advzoo.recipes import fit_on_default_data

RESULT = pathlib.Path(__file__).parent / "results" / "bigan_probe.json"
CONFIG = {"image_shape": (32, 32, 1), "latent_dim": 64, "generator_filters": 16,
          "encoder_filters": 16, "discriminator_filters": 16, "joint_units": 128}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--test", type=int, default=256, help="held-out patches for the probe")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    keras.utils.set_random_seed(args.seed)
    model = advzoo.build("bigan", seed=args.seed, **CONFIG)
    start = time.perf_counter()
    fit_on_default_data(model, args.steps, args.batch_size, seed=args.seed, verbose=0)
    seconds = time.perf_counter() - start
    report = model.sample_report(n_test=args.test, seed=args.seed)
    train = advzoo.data.nodules_arrays("train", size=32, seed=args.seed)
    test = advzoo.data.nodules_arrays("test", n=args.test, size=32, seed=args.seed)
    pixels = linear_probe_accuracy(
        advzoo.data.hu_to_unit(train["images"]).reshape(len(train["images"]), -1), train["labels"],
        advzoo.data.hu_to_unit(test["images"]).reshape(len(test["images"]), -1), test["labels"])
    rows = [
        {"features": "raw pixels (1,024)", "probe accuracy": pixels},
        {"features": "random encoder, code E(x) (64, untrained)",
         "probe accuracy": report["random_encoder_probe_accuracy"]},
        {"features": "random encoder, last conv features (1,024, untrained)",
         "probe accuracy": report["random_encoder_trunk_probe_accuracy"]},
        {"features": f"BiGAN encoder, code E(x) (64; {args.steps} steps, {seconds:.0f} s)",
         "probe accuracy": report["probe_accuracy"]},
        {"features": "BiGAN encoder, last conv features (1,024)",
         "probe accuracy": report["trunk_probe_accuracy"]},
    ]
    for row in rows:
        print(row, flush=True)
    result = {
        "title": "BiGAN: linear probe of nodule presence on encoder features (nodules, 32x32)",
        "command": f"python benchmarks/bigan_probe.py --steps {args.steps} "
                   f"--batch-size {args.batch_size} --test {args.test} --seed {args.seed}",
        "columns": list(rows[0]),
        "rows": rows,
        "note": f"BiGAN trained without labels on the 512 training patches (half with a nodule), "
                f"batch {args.batch_size}, nsgan, Adam(2e-4, 0.5) for D, G and E. Probe: "
                f"logistic regression on standardised features, fitted on the 512 labelled "
                f"training patches, accuracy on {args.test} held-out patches (chance 0.5). "
                f"Reconstruction |x - G(E(x))| of the held-out patches: "
                f"{report['reconstruction_l1']:.3f} (pixel range [-1, 1]).",
    }
    if not args.no_write:
        write_result(RESULT, result)


if __name__ == "__main__":
    main()
