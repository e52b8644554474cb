"""Does adversarial discriminative adaptation help on an unlabelled target scanner? `adda`
(Tzeng; Dou) against its own stage-1 model, i.e. source-only training of the same segmentor.

Each seed runs the `adda_domain_shift` recipe (`advzoo.recipes.train_recipe`, two stages):
stage "source" trains the 32x32 U-Net liver segmentor on labelled source-scanner slices; the
stage-1 model is measured (the source-only baseline: same network, data, steps, optimizer and
seed; it never sees a target image); stage "target" then adapts the first `adapted_levels`
encoder depths against the multi-depth feature discriminator on unlabelled target slices (the
target masks are never read in training). Ablations, from the same stage-1 weights: D reading
the head's input only (single-connected, Tzeng's feature discriminator on a U-Net), and the
whole network but the output convolution adapted (Tzeng's full encoder). Measured: mean
per-image Dice on the test split's target (and source) images, mean and standard deviation
over seeds.

    python benchmarks/adda_domain_shift.py
    python benchmarks/adda_domain_shift.py --source-steps 300 --target-steps 200 --seeds 0 --no-write
"""
import argparse
import pathlib
import time

import keras
import numpy as np

from advzoo import zoo
from advzoo.readme import write_domain_shift_result
from advzoo.recipes import fit_on_default_data, train_recipe

RESULT = pathlib.Path(__file__).parent / "results" / "adda_domain_shift.json"
PRESET = "adda_domain_shift"
BASELINE = "source only (stage-1 model)"
MAIN = "adda (multi-depth D, 3 levels adapted)"
ABLATIONS = {
    "adda, single-connected D": {"multi_connected": False},
    "adda, whole network adapted": {"adapted_levels": None},
}


def adapt_from(stage1, overrides: dict, seed: int, steps: int):
    """An ablation's stage 2: a fresh model of the preset's config with `overrides`, started
    from the stage-1 segmentor's weights, adapted with the recipe's target-stage fit."""
    preset = zoo.get_preset(PRESET)
    keras.utils.set_random_seed(seed)
    model = zoo.build(preset.family, **{**preset.config, **overrides, "seed": seed})
    for mine, theirs in zip(model.segmentor.weights, stage1):
        mine.assign(theirs)
    model.set_stage("target")
    start = time.perf_counter()
    fit_on_default_data(model, steps, preset.batch_size, seed=seed, verbose=0,
                        dataset_options=preset.dataset)
    return model, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    preset = zoo.get_preset(PRESET)
    parser.add_argument("--source-steps", type=int, default=preset.train_steps["source"])
    parser.add_argument("--target-steps", type=int, default=preset.train_steps["target"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--ablations", nargs="*", default=["adda, single-connected D"],
                        choices=list(ABLATIONS))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    steps = {"source": args.source_steps, "target": args.target_steps}
    results = {name: [] for name in [BASELINE, MAIN, *args.ablations]}
    for seed in args.seeds:
        stage1 = {}

        def measure_stage1(stage, model):
            if stage == "source":  # before adaptation: the source-only baseline
                stage1["report"] = model.domain_report()
                stage1["weights"] = [np.array(w.numpy()) for w in model.segmentor.weights]
                stage1["end"] = time.perf_counter()

        model, _, _ = train_recipe(PRESET, seed=seed, steps=steps, verbose=0,
                                   after_stage=measure_stage1)
        seconds = time.perf_counter() - stage1["end"]  # stage 2 of the recipe
        runs = {BASELINE: (stage1["report"], None), MAIN: (model.domain_report(), seconds)}
        for name in args.ablations:
            ablation, ablation_seconds = adapt_from(stage1["weights"], ABLATIONS[name], seed,
                                                    args.target_steps)
            runs[name] = (ablation.domain_report(), ablation_seconds)
        for name, (report, secs) in runs.items():
            results[name].append((report["target_dice"], report["source_dice"], secs))
            print(name, seed, {k: round(v, 3) for k, v in report.items()
                               if isinstance(v, float)}, secs and round(secs, 1), flush=True)
    base = np.array([t for t, _, _ in results[BASELINE]])
    rows = []
    for name, runs in results.items():
        target = np.array([t for t, _, _ in runs])
        source = np.array([s for _, s, _ in runs])
        rows.append({
            "model": name,
            "target Dice (mean ± std)": f"{target.mean():.3f} ± {target.std():.3f}",
            "per-seed target Dice": ", ".join(f"{d:.3f}" for d in target),
            "gain over source only (per seed)": "-" if name == BASELINE
            else ", ".join(f"{d:+.3f}" for d in target - base),
            "source Dice (mean)": f"{source.mean():.3f}",
            "train s (mean)": "stage 1 of adda" if name == BASELINE
            else round(float(np.mean([s for _, _, s in runs])), 1)})
        print(rows[-1], flush=True)
    seeds = " ".join(str(s) for s in args.seeds)
    config = preset.config
    ablations = " ".join(repr(a) for a in args.ablations)
    result = {
        "title": "ADDA (Tzeng; Dou): target-scanner Dice without target labels vs. its "
                 "source-only stage-1 model (domain_shift liver, 32x32)",
        "command": f"python benchmarks/adda_domain_shift.py --source-steps {args.source_steps} "
                   f"--target-steps {args.target_steps} --seeds {seeds} --ablations {ablations}",
        "columns": list(rows[0]),
        "rows": rows,
        "note": f"Per seed, the `{PRESET}` recipe: stage 1, {args.source_steps} supervised steps "
                f"of batch {preset.batch_size} on labelled source-scanner slices (U-Net, "
                f"{config['generator_filters']} filters, 5 levels, batch norm, Adam(1e-3, 0.5)); "
                "the stage-1 model is the source-only baseline (it never sees a target image). "
                f"Stage 2, {args.target_steps} adversarial steps on unlabelled target slices: "
                f"the first {config['adapted_levels']} encoder depths (M_t, initialised from "
                "M_s) against D (nsgan, inverted labels, Adam(1e-3, 0.5)) reading the head's "
                f"input and the first {config['domain_levels']} encoder depths pooled to 4x4; "
                "M_s, the deeper layers and the head frozen. Ablations start from the same "
                "stage-1 weights. train s: stage 2 only. Dice: mean per image over the 64 test "
                f"images of each scanner (target masks used for scoring only). Seeds {seeds}.",
    }
    if not args.no_write:
        write_domain_shift_result(RESULT, result, PRESET, steps, args.seeds,
                                  "adda_domain_shift.py",
                                  {name: [t for t, _, _ in runs] for name, runs in results.items()})


if __name__ == "__main__":
    main()
