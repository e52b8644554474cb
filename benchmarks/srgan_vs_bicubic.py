"""Does srgan super-resolve MR better than cubic up-sampling? PSNR / SSIM / MAE on the test split.

Rows, all on the same test images of `multi_contrast_sr` (T2 averaged over 2x2 blocks, 16x16 ->
32x32; values in [-1, 1], data range 2):

- cubic-spline up-sampling of the low-resolution T2 (`t2_upsampled`, the baseline);
- the `srgan_mr` preset (T2 only) and the `srgan_multicontrast` preset (+ high-resolution T1),
  as shipped (trained by `python scripts/train_preset.py NAME` with their registered recipe), or
  re-trained here with that recipe (`--retrain`);
- the same generators trained with the content loss only (`lambda_adversarial=0`: SRResNet,
  Ledig's MSE baseline), same recipe and seed (`--content-only mr|both|none`);
- optionally (`--perceptual`) srgan_mr's recipe with the phantom-feature perceptual content loss.

    python benchmarks/srgan_vs_bicubic.py
    python benchmarks/srgan_vs_bicubic.py --steps 50 --no-write       # quick look
"""
import argparse
import pathlib
import time

import keras
import numpy as np

import advzoo
from advzoo.metrics import psnr, ssim
from advzoo.readme import write_result
from advzoo.recipes import fit_on_default_data

RESULT = pathlib.Path(__file__).parent / "results" / "srgan_vs_bicubic.json"
PRESETS = {"mr": "srgan_mr", "both": "srgan_multicontrast"}


def train(preset_name, steps, **changes):
    preset = advzoo.get_preset(preset_name)
    keras.utils.set_random_seed(preset.seed)
    model = advzoo.build("srgan", **{**preset.config, **changes})
    start = time.perf_counter()
    fit_on_default_data(model, steps or preset.train_steps, preset.batch_size, seed=preset.seed,
                        verbose=0)
    return model, time.perf_counter() - start


def measure(high, images):
    return {"PSNR dB": round(psnr(high, images, data_range=2.0), 2),
            "SSIM": round(float(np.mean([ssim(h[..., 0], o[..., 0], data_range=2.0)
                                         for h, o in zip(high, images)])), 4),
            "MAE": round(float(np.abs(high - images).mean()), 4)}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--test-images", type=int, default=256)
    parser.add_argument("--steps", type=int, help="training steps (default: each preset's)")
    parser.add_argument("--retrain", action="store_true", help="re-train the presets here")
    parser.add_argument("--content-only", choices=("mr", "both", "none"), default="mr")
    parser.add_argument("--perceptual", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    size, factor = 32, 2
    arr = advzoo.data.multi_contrast_sr_arrays("test", n=args.test_images, size=size, factor=factor)
    low, t1, high, cubic = (advzoo.data.mr_to_unit(arr[k])
                            for k in ("t2_low", "t1", "t2", "t2_upsampled"))
    rows = []

    def row(model_name, inputs, loss, images, seconds="-"):
        r = {"model": model_name, "inputs": inputs, "G loss": loss, **measure(high, images),
             "train s": seconds if seconds == "-" else round(seconds, 1)}
        rows.append(r)
        print(r, flush=True)

    row("cubic up-sampling (baseline)", "T2 16x16", "-", cubic)
    for key, name in PRESETS.items():
        inputs = "T2 16x16" + (" + T1 32x32" if key == "both" else "")
        if args.retrain:
            model, seconds = train(name, args.steps)
        else:
            model = advzoo.load(name)
            seconds = advzoo.weights.read_metadata(
                advzoo.weights.resolve_preset(name))["train_seconds"]
        ref = t1 if model.reference_channels else None
        row(f"srgan ({name})", inputs, "MSE + 1e-3 adversarial",
            model.translate(low, reference=ref), seconds)
        if args.content_only in (key, "both"):
            model, seconds = train(name, args.steps, lambda_adversarial=0.0)
            row("SRResNet (same G, content loss only)", inputs, "MSE",
                model.translate(low, reference=ref), seconds)
        if args.perceptual and key == "mr":
            model, seconds = train(name, args.steps, content_loss="perceptual")
            row("srgan, perceptual content (phantom features act1b)", inputs,
                "perceptual + 1e-3 adversarial", model.translate(low, reference=ref), seconds)

    steps = args.steps or advzoo.get_preset("srgan_mr").train_steps
    result = {
        "title": "srgan: x2 super-resolution of T2 MR phantoms (16x16 -> 32x32) against cubic "
                 "up-sampling, test split",
        "command": "python benchmarks/srgan_vs_bicubic.py"
                   + (f" --steps {args.steps}" if args.steps else "")
                   + (" --retrain" if args.retrain else "")
                   + f" --content-only {args.content_only}"
                   + (" --perceptual" if args.perceptual else "")
                   + f" --test-images {args.test_images}",
        "columns": list(rows[0]),
        "rows": rows,
        "note": f"{len(high)} test subjects of multi_contrast_sr; PSNR / SSIM / MAE in the [-1, 1] "
                f"scale (data range 2; MR [0, 1.5] a.u.). Every trained row uses the presets' "
                f"recipe: SRResNet G (32 filters, 4 residual blocks, pixel shuffle, residual to "
                f"the bilinear up-sampling, no normalisation), PatchGAN whole-image D, "
                f"{steps} steps of batch 16, Adam(2e-4, 0.5), seed 0"
                + ("" if args.retrain else "; the srgan rows are the shipped presets") + ".",
    }
    if not args.no_write:
        write_result(RESULT, result)


if __name__ == "__main__":
    main()
