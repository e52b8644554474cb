"""Do simgan's refined low-dose CT images move toward routine dose and keep their content?

The `simgan_lowdose_ct` refiner was trained on UNALIGNED data only (each low-dose scan paired with
the routine-dose scan of another subject). On the test split of `lowdose_ct` we measure, for the
low-dose input, the refined image, a Gaussian smoothing of the input (a naive denoiser, for
scale) and the routine-dose scan itself:

- noise: sd (HU) of the image minus the noiseless reconstruction in eroded soft-tissue organs
  (`advzoo.models.simgan.soft_tissue_noise_hu`); the target domain's level is the routine row;
- domain distance: Fréchet distance to the routine-dose images in the phantom feature space
  (`advzoo.metrics.feature_distances`);
- content: PSNR / SSIM against the ALIGNED routine-dose scan of the same subject (never seen paired
  in training).

    python benchmarks/simgan_lowdose.py               # the shipped preset
    python benchmarks/simgan_lowdose.py --retrain     # re-train it here with its recipe first
"""
import argparse
import pathlib
import time

import keras
import numpy as np
from scipy.ndimage import gaussian_filter

import advzoo
from advzoo.metrics import feature_distances, psnr, ssim
from advzoo.models.simgan import soft_tissue_noise_hu
from advzoo.readme import write_result
from advzoo.recipes import fit_on_default_data

RESULT = pathlib.Path(__file__).parent / "results" / "simgan_lowdose.json"
PRESET = "simgan_lowdose_ct"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--test-images", type=int, default=256)
    parser.add_argument("--retrain", action="store_true")
    parser.add_argument("--steps", type=int, help="training steps with --retrain")
    parser.add_argument("--smoothing-sigma", type=float, default=0.7)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    preset = advzoo.get_preset(PRESET)
    if args.retrain:
        keras.utils.set_random_seed(preset.seed)
        model = advzoo.build("simgan", **preset.config)
        start = time.perf_counter()
        fit_on_default_data(model, args.steps or preset.train_steps, preset.batch_size,
                            seed=preset.seed, verbose=0, dataset_options=preset.dataset)
        seconds = time.perf_counter() - start
    else:
        model = advzoo.load(PRESET)
        seconds = advzoo.weights.read_metadata(advzoo.weights.resolve_preset(PRESET))["train_seconds"]
    size, window = model.image_shape[0], model.window
    arr = advzoo.data.lowdose_ct_arrays("test", n=args.test_images, size=size)
    low = advzoo.data.hu_to_unit(arr["low"], window)
    routine = advzoo.data.hu_to_unit(arr["routine"], window)
    smoothed = gaussian_filter(low, sigma=(0, args.smoothing_sigma, args.smoothing_sigma, 0))
    refined = model.translate(low)
    rows = []
    for name, images in (("low-dose input (dose 0.25)", low),
                         (f"simgan refined ({PRESET})", refined),
                         (f"Gaussian smoothing of the input (sigma {args.smoothing_sigma} px)",
                          smoothed),
                         ("routine-dose scan (target domain)", routine)):
        is_target = images is routine
        r = {"images": name,
             "soft-tissue noise sd (HU)": round(soft_tissue_noise_hu(
                 advzoo.data.unit_to_hu(images, window), arr["noiseless"], arr["labels"]), 2),
             "Fréchet to routine dose": "0 (itself)" if is_target else
             round(feature_distances(routine, images)["frechet"], 3),
             "PSNR vs aligned routine (dB)": "-" if is_target else
             round(psnr(routine, images, data_range=2.0), 2),
             "SSIM vs aligned routine": "-" if is_target else
             round(float(np.mean([ssim(a[..., 0], b[..., 0], data_range=2.0)
                                  for a, b in zip(routine, images)])), 4)}
        rows.append(r)
        print(r, flush=True)
    result = {
        "title": f"simgan: unpaired refinement of low-dose CT phantoms ({size}x{size}) toward "
                 "routine dose, test split",
        "command": "python benchmarks/simgan_lowdose.py" + (" --retrain" if args.retrain else "")
                   + (f" --steps {args.steps}" if args.steps else "")
                   + f" --test-images {args.test_images}",
        "columns": list(rows[0]),
        "rows": rows,
        "note": f"{len(low)} test subjects of lowdose_ct (dose 0.25 vs 1; HU window "
                f"[{window[0]:g}, {window[1]:g}] -> [-1, 1], the preset's). The refiner ({'re-trained here' if args.retrain else 'the shipped preset'}, "
                f"{round(seconds, 1)} s of training) never saw an aligned pair: its targets were "
                f"routine-dose scans of other subjects. Noise sd: image minus the noiseless "
                f"reconstruction inside eroded soft-tissue organs. Fréchet distance: phantom "
                f"feature network, {len(low)} images per set.",
    }
    if not args.no_write:
        write_result(RESULT, result)


if __name__ == "__main__":
    main()
