"""Do MR -> CT translators keep lesions they never saw, invent lesions, or hide information?

Hallucination check (Cohen et al. 2018; review Sec. 6): `advzoo.metrics.hallucination_report` on
`advzoo.data.lesion_pairs` test subjects (MR and CT of the same subject; half carry 1-3 liver
lesions, hypointense on T1 MR and 35-60 HU hypodense on CT; the translators were trained on
lesion-free phantoms). It reports how much of each lesion's contrast against the surrounding liver
the synthetic CT keeps (relative to the true CT), and how often a lesion-free liver gets a
lesion-like blob (a connected region where the synthetic CT departs from the truth by more than
half a typical lesion's contrast).

Hidden-information check (Chu et al. 2017): `advzoo.metrics.hidden_information_report` on the
cyclegan presets: the change of the cycle reconstruction G_BA(G_AB(a)) when white +-e noise is
added to the intermediate CT G_AB(a), against the same noise added to the MR a.

Translators: the `cyclegan_mr_ct` and `cyclegan_mr_ct_seg` presets, and `pix2pix_mr_to_ct` when its
weights are shipped (trained on paired data).

    python benchmarks/hallucination.py
"""
import argparse
import pathlib

import advzoo
from advzoo.metrics import hallucination_report, hidden_information_report, mae_hu
from advzoo.readme import write_result

RESULTS = pathlib.Path(__file__).parent / "results"
TRANSLATORS = ("cyclegan_mr_ct", "cyclegan_mr_ct_seg", "pix2pix_mr_to_ct")
AMPLITUDES = (0.01, 0.02, 0.05)


def available(name):
    try:
        return advzoo.load(name)
    except Exception as error:  # weights not shipped (yet)
        print(f"skipping {name}: {error}")
        return None


def lesion_mae(model, n, seed):
    """MAE in HU inside the lesions of the synthetic CT (lesion images only)."""
    shape = tuple(model.inference_model().inputs[0].shape[1:])
    arr = advzoo.data.lesion_pairs_arrays("test", n=n, size=shape[0], seed=seed,
                                          contrast="t1" if shape[-1] == 1 else "both")
    fake = model.translate(advzoo.data.mr_to_unit(arr["mr"]))
    return mae_hu(arr["ct"], advzoo.data.unit_to_hu(fake), mask=arr["masks"] > 0), shape[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=128, help="test subjects (half with lesions)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    rows, hidden_rows = [], []
    for name in TRANSLATORS:
        model = available(name)
        if model is None:
            continue
        report = hallucination_report(model, n=args.images, seed=args.seed)
        inside, size = lesion_mae(model, args.images, args.seed)
        row = {"translator": name, "trained on": "paired" if "pix2pix" in name else "unpaired",
               "size": size,
               "lesion contrast kept (1 = all)": round(report["lesion_contrast_kept"], 3),
               "lesions kept (>= half contrast)": round(report["lesions_kept"], 3),
               "true contrast (HU)": round(1024 * report["lesion_contrast_truth"], 1),
               "output contrast (HU)": round(1024 * report["lesion_contrast_output"], 1),
               "MAE in lesions (HU)": round(inside, 1),
               "lesion-free livers with an invented blob": round(report["invented_fraction"], 3),
               "invented blob area / liver": round(report["false_positive_area"], 4),
               "blob threshold (HU)": round(1024 * report["threshold"], 1)}
        rows.append(row)
        print(row, flush=True)
        if hasattr(model, "generator_ba"):
            hidden = hidden_information_report(model, amplitudes=AMPLITUDES, n=64, seed=args.seed)
            for r in hidden["rows"]:
                hidden_rows.append({
                    "model": name, "noise amplitude e": r["amplitude"],
                    "cycle error (no noise)": round(hidden["cycle_error"], 4),
                    "change, noise on G_AB(a)": round(r["intermediate_change"], 4),
                    "change, noise on a": round(r["input_change"], 4),
                    "gain on G_AB(a) (change / e)": round(r["intermediate_gain"], 2),
                    "ratio (G_AB(a) / a)": round(r["sensitivity_ratio"], 2),
                    "cycle error growth": round(r["error_growth"], 4)})
                print(hidden_rows[-1], flush=True)

    command = f"python benchmarks/hallucination.py --images {args.images} --seed {args.seed}"
    result = {
        "title": "Hallucination check (Cohen 2018): lesions kept and invented by MR -> CT "
                 "translators trained on lesion-free phantoms",
        "command": command, "columns": list(rows[0]), "rows": rows,
        "note": f"{args.images} lesion_pairs test subjects (half with 1-3 liver lesions; lesion "
                f"radii 1.6-2.9 px at 32x32), T1 MR -> CT. Contrast: mean of the lesion minus "
                f"mean of a 2-pixel band of liver around it; 'kept' = sum of output contrasts / "
                f"sum of true contrasts. Invented blob: >= half the median lesion area of "
                f"connected liver pixels (liver eroded by 1 px) where the 3x3-averaged output "
                f"departs from the true CT by more than half the median true lesion contrast. "
                f"pix2pix_mr_to_ct is included only when its weights are shipped.",
    }
    hidden = {
        "title": "Hidden-information check (Chu 2017): sensitivity of the cycle reconstruction "
                 "G_BA(G_AB(a)) to faint noise on the intermediate CT",
        "command": command, "columns": list(hidden_rows[0]), "rows": hidden_rows,
        "note": "64 paired MR test slices (32x32) in [-1, 1] units; noise: independent +-e per "
                "pixel (white, zero mean). change = mean |reconstruction with noise - clean "
                "reconstruction|. Identity generators give gain 1 and ratio 1; a CycleGAN that "
                "hides the MR in a faint signal of its CT gives gain >> 1 (Chu et al.).",
    }
    if not args.no_write:
        write_result(RESULTS / "hallucination.json", result)
        write_result(RESULTS / "hallucination_hidden_information.json", hidden)


if __name__ == "__main__":
    main()
