"""GAN (Goodfellow; Radford's DCGAN) on scikit-learn's digits: do the samples look like digits?

The zoo's measure (`advzoo.metrics.digit_sample_report`): an RBF SVM fitted on the real 8x8
digits judges 1,000 samples resized to 8x8. `recognisable` is the fraction it classifies with
probability >= 0.9, `classes_covered` how many of the 10 classes it predicts at least once,
`digit_score` the Inception-score formula with this classifier (1 = useless, 10 = confident and
uniform over classes).

Rows, each scored the same way:
- real held-out digits (the test split, at the model's size): the reference;
- the same DCGAN untrained (its initial weights, seed 0): the floor;
- the DCGAN trained with the `gan_digits_dcgan` recipe (its seed, 0) for each `--steps` value
  (`advzoo.recipes.train_preset(..., out_dir=tmp, steps=...)`). One seed: the figures of one run.

    python benchmarks/gan_digits.py [--steps 4000 12000]
"""
import argparse
import pathlib
import tempfile
import time

import advzoo
from advzoo import data as zoo_data
from advzoo.metrics import digit_sample_report
from advzoo.readme import write_result
from advzoo.recipes import train_preset

RESULT = pathlib.Path(__file__).parent / "results" / "gan_digits.json"
PRESET = "gan_digits_dcgan"
MEASURES = ("recognisable", "classes_covered", "class_entropy", "digit_score")
COLUMNS = ["samples", "steps", "seed", *MEASURES, "train s"]


def row(samples: str, steps, seed, report: dict, seconds="-") -> dict:
    return {"samples": samples, "steps": steps, "seed": seed,
            **{m: round(float(report[m]), 3) for m in MEASURES}, "train s": seconds}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[4000, 12000])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    preset = advzoo.get_preset(PRESET)
    size = preset.config["image_shape"][0]
    real, _ = zoo_data.digits_arrays("test", image_size=size)
    rows = [row("real digits (test split)", "-", "-", digit_sample_report(real))]
    untrained = advzoo.build("gan", **preset.config)
    rows.append(row("DCGAN, untrained", 0, 0, digit_sample_report(untrained.sample(1000, seed=0))))
    for steps in args.steps:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            folder = train_preset(PRESET, out_dir=pathlib.Path(tmp) / "run", steps=steps, verbose=0)
            seconds = round(time.perf_counter() - start, 1)
            model = advzoo.load(str(folder))
            rows.append(row("DCGAN, trained (nsgan)", steps, preset.seed,
                            digit_sample_report(model.sample(1000, seed=0)), seconds))
            print(rows[-1])
    trained = [r for r in rows if r["samples"].startswith("DCGAN, trained")]
    best = max(trained, key=lambda r: r["digit_score"])
    real_row, untrained_row = rows[0], rows[1]
    result = {
        "title": f"GAN / DCGAN samples of scikit-learn's digits ({size}x{size}) judged by a "
                 "real-digit classifier",
        "command": f"python benchmarks/gan_digits.py --steps {' '.join(map(str, args.steps))}",
        "columns": COLUMNS,
        "rows": rows,
        "note": (f"The `{PRESET}` recipe (DCGAN, {preset.config['generator_filters']} filters, "
                 f"latent {preset.config['latent_dim']}, non-saturating loss, batch "
                 f"{preset.batch_size}) at each step count; 1,000 samples per row (seed 0 of the "
                 "sampler), the real row is the 540 held-out test digits. Best trained run: "
                 f"digit_score {best['digit_score']} and recognisable {best['recognisable']} at "
                 f"{best['steps']} steps, against {real_row['digit_score']} and "
                 f"{real_row['recognisable']} for real digits. The untrained generator's "
                 f"recognisable {untrained_row['recognisable']} is one class only (classes_covered "
                 f"{untrained_row['classes_covered']:g}, digit_score {untrained_row['digit_score']}): "
                 "recognisable is read with the class measures beside it."),
    }
    if not args.no_write:
        write_result(RESULT, result)


if __name__ == "__main__":
    main()
