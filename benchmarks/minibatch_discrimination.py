"""Mode coverage on the 8-Gaussians ring with and without minibatch discrimination (Salimans).

Same generator, discriminator, objective, data, steps and seeds; the only difference is the
minibatch-discrimination layer before D's logit. Modes are counted as in Metz et al. (unrolled
GANs): a generated point belongs to a mode within 3 standard deviations of its centre.

    python benchmarks/minibatch_discrimination.py            # writes benchmarks/results/*.json
    python benchmarks/minibatch_discrimination.py --budgets 1e-3:300 --seeds 0 --no-write  # quick
"""
import argparse
import pathlib
import time

import keras
import numpy as np

import advzoo
from advzoo.readme import write_result

RESULT = pathlib.Path(__file__).parent / "results" / "minibatch_discrimination.json"


def run(minibatch_discrimination, seed: int, steps: int, batch_size: int, lr: float) -> dict:
    keras.utils.set_random_seed(seed)
    model = advzoo.build("gan", image_shape=(2,), generator="mlp", discriminator="mlp",
                         hidden_units=(128, 128), latent_dim=16, output_activation="linear",
                         objective="nsgan", minibatch_discrimination=minibatch_discrimination,
                         seed=seed)
    model.compile(optimizers={"generator": keras.optimizers.Adam(lr, beta_1=0.5),
                              "discriminator": keras.optimizers.Adam(lr, beta_1=0.5)})
    data = advzoo.data.ring(n=20_000, batch_size=batch_size, seed=seed).repeat()
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    report = model.sample_report(n=2500, seed=seed)
    return {**report, "seconds": time.perf_counter() - start}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budgets", default="2e-4:5000,1e-3:6000",
                        help="comma-separated LR:STEPS training budgets (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    budgets = [(float(lr), int(steps)) for lr, steps in
               (item.split(":") for item in args.budgets.split(","))]
    rows = []
    for lr, steps in budgets:
        for label, option in (("without", False), ("with (16 kernels x 4)", (16, 4))):
            runs = [run(option, seed, steps, args.batch_size, lr) for seed in args.seeds]
            modes = [r["modes_covered"] for r in runs]
            quality = [r["high_quality"] for r in runs]
            row = {"Adam lr, steps": f"{lr:g}, {steps}",
                   "minibatch discrimination": label,
                   "modes covered (of 8), per seed": " / ".join(str(m) for m in modes),
                   "mean modes": float(np.mean(modes)),
                   "high-quality samples": f"{np.mean(quality):.2f} ± {np.std(quality):.2f}",
                   "s per run": float(np.mean([r["seconds"] for r in runs]))}
            rows.append(row)
            print(row, flush=True)
    result = {
        "title": "Minibatch discrimination on the 8-Gaussians ring (gan, MLP 128x128, nsgan)",
        "command": f"python benchmarks/minibatch_discrimination.py --budgets {args.budgets} "
                   f"--batch-size {args.batch_size} --seeds {' '.join(str(s) for s in args.seeds)}",
        "columns": list(rows[0]),
        "rows": rows,
        "note": f"Batch {args.batch_size}, Adam(lr, 0.5) for both players, 2,500 samples per run; "
                "a point is high-quality within 3 std (0.06) of a mode centre, a mode is covered "
                "when at least one point is high-quality for it.",
    }
    if not args.no_write:
        write_result(RESULT, result)


if __name__ == "__main__":
    main()
