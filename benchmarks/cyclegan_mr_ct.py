"""Does an UNPAIRED CycleGAN translate MR to CT, and can SynSeg segment CT without CT labels?

MR -> CT (METHODS.md C, `cyclegan` must show "MR->CT error below identity mapping"): on PAIRED
test slices (MR and CT of the same subject, never seen in training) the MAE in HU of
- `cyclegan` G_AB, trained on MR and CT of different subjects (the preset recipe),
- the identity mapping: the MR image, in [-1, 1], read as CT,
- intensity-histogram matching: each MR mapped by `skimage.exposure.match_histograms` onto the
  histogram of the training CT (unpaired, the same data the CycleGAN saw).

Segmentation in the target domain without target labels (SynSeg-Net, Huo et al.): Dice per organ on
real CT test slices of
- the SynSeg segmentor of `cyclegan` with `segmentation_classes=5`, trained on G_AB(MR) with the MR
  labels only,
- the same U-Net trained on real MR with the MR labels for the same number of steps, batch and
  optimizer (source only), applied to CT as is,
- for reference (it uses CT labels, which the other two never see): the same U-Net trained on CT.

Seed 0 of the CycleGANs is the shipped preset (trained with exactly the recipe of
advzoo/presets.py); further seeds are trained here with the same recipe.

    python benchmarks/cyclegan_mr_ct.py                  # presets (seed 0) + baselines
    python benchmarks/cyclegan_mr_ct.py --seeds 0 1      # also trains seed 1 (~15 min)
"""
import argparse
import pathlib
import time

import keras
import numpy as np

import advzoo
from advzoo.metrics import dice, mae_hu
from advzoo.models.cyclegan import ORGAN_CLASSES, SEGMENTOR_LEARNING_RATE, organ_classes
from advzoo.networks import unet
from advzoo.readme import write_result
from advzoo.recipes import fit_on_default_data

RESULT = pathlib.Path(__file__).parent / "results" / "cyclegan_mr_ct.json"
SIZE = 32
LEARNING_RATE = SEGMENTOR_LEARNING_RATE  # as the SynSeg segmentor


def cyclegan(preset_name, seed):
    """The shipped preset for seed 0, else the preset's recipe trained here with `seed`."""
    if seed == 0:
        return advzoo.load(preset_name), "preset"
    preset = advzoo.get_preset(preset_name)
    keras.utils.set_random_seed(seed)
    model = advzoo.build("cyclegan", **{**preset.config, "seed": seed})
    start = time.perf_counter()
    fit_on_default_data(model, preset.train_steps, preset.batch_size, seed=seed, verbose=0,
                        dataset_options=preset.dataset)
    return model, f"{time.perf_counter() - start:.0f} s"


def segmentor_on(images, labels, steps, batch_size, seed, filters):
    """The SynSeg U-Net (same builder, width and optimizer) trained alone on (images, labels)."""
    keras.utils.set_random_seed(seed)
    net = unet((SIZE, SIZE, 1), len(ORGAN_CLASSES), filters=filters, norm="instance",
               dropout=0.0, output_activation="softmax", name="segmentor")
    net.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE, beta_1=0.5),
                loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(len(images))
                            for _ in range(steps * batch_size // len(images) + 1)])
    index = order[:steps * batch_size]
    net.fit(images[index], labels[index], batch_size=batch_size, epochs=1, shuffle=False,
            verbose=0)
    return lambda x: np.argmax(net.predict(x, verbose=0), axis=-1)[..., None]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--test-images", type=int, default=64)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    from skimage.exposure import match_histograms

    test = advzoo.data.mr_slices_arrays("test", n=args.test_images, size=SIZE, paired=True)
    mr, ct = advzoo.data.mr_to_unit(test["mr"]), advzoo.data.hu_to_unit(test["ct"])
    body = test["ct_labels"] > 0
    truth = organ_classes(test["ct_labels"])
    train = advzoo.data.mr_slices_arrays("train", size=SIZE, paired=False)
    train_mr, train_ct = advzoo.data.mr_to_unit(train["mr"]), advzoo.data.hu_to_unit(train["ct"])
    seg_preset = advzoo.get_preset("cyclegan_mr_ct_seg")
    steps, batch = seg_preset.train_steps, seg_preset.batch_size

    def errors(fake):
        return (mae_hu(ct, fake, mask=body, from_unit=True), mae_hu(ct, fake, from_unit=True))

    rows = []

    def translation_row(method, seed, fake, note):
        inside, whole = errors(fake)
        row = {"task": "MR -> CT (paired test)", "method": method, "seed": seed,
               "MAE HU (body)": round(inside, 1), "MAE HU (image)": round(whole, 1),
               "mean Dice (body, liver, kidney, bone)": "-", "liver Dice": "-",
               "kidney Dice": "-", "bone Dice": "-", "train": note}
        rows.append(row)
        print(row, flush=True)

    def segmentation_row(method, seed, predicted, note):
        per = dice(truth, predicted, labels=range(1, len(ORGAN_CLASSES)))
        row = {"task": "segment real CT", "method": method, "seed": seed,
               "MAE HU (body)": "-", "MAE HU (image)": "-",
               "mean Dice (body, liver, kidney, bone)": round(float(np.mean(per)), 3),
               "liver Dice": round(float(per[1]), 3), "kidney Dice": round(float(per[2]), 3),
               "bone Dice": round(float(per[3]), 3), "train": note}
        rows.append(row)
        print(row, flush=True)

    translation_row("identity (MR read as CT)", "-", mr, "none")
    reference = train_ct[:128, ..., 0].reshape(-1, SIZE)  # pooled values of 128 slices, 2D
    matched = np.stack([match_histograms(image[..., 0], reference) for image in mr])[..., None]
    translation_row("histogram matching to training CT", "-", matched, "none")
    for seed in args.seeds:
        model, note = cyclegan("cyclegan_mr_ct", seed)
        translation_row("cyclegan (unpaired)", seed, model.translate(mr), note)
        synseg, note = cyclegan("cyclegan_mr_ct_seg", seed)
        translation_row("cyclegan + SynSeg head (unpaired)", seed, synseg.translate(mr), note)
        segmentation_row("SynSeg: S trained on G_AB(MR) with MR labels", seed, synseg.segment(ct),
                         note)
        filters = seg_preset.config["segmentation_filters"]
        source_only = segmentor_on(train_mr, organ_classes(train["mr_labels"]), steps, batch,
                                   seed, filters)
        segmentation_row("source only: same U-Net trained on MR, applied to CT", seed,
                         source_only(ct), f"{steps} steps")
        oracle = segmentor_on(train_ct, organ_classes(train["ct_labels"]), steps, batch, seed,
                              filters)
        segmentation_row("reference: same U-Net trained on CT WITH CT labels", seed, oracle(ct),
                         f"{steps} steps")

    result = {
        "title": "cyclegan: unpaired MR -> CT error, and SynSeg segmentation of CT without CT "
                 "labels (32x32 phantoms)",
        "command": "python benchmarks/cyclegan_mr_ct.py --seeds " + " ".join(map(str, args.seeds))
                   + f" --test-images {args.test_images}",
        "columns": list(rows[0]),
        "rows": rows,
        "note": f"{args.test_images} paired test slices (MR and CT of the same subjects; training "
                f"used other subjects, MR and CT unpaired). MAE in HU over the body (CT label > "
                f"0) and over the whole image, CT window [-1024, 1024]. CycleGANs: "
                f"{seg_preset.train_steps} steps of batch {seg_preset.batch_size}, recipes "
                f"cyclegan_mr_ct / cyclegan_mr_ct_seg (seed 0 = the shipped preset). Dice per "
                f"class on real CT against its organ labels (CT_LABELS merged into "
                f"{', '.join(ORGAN_CLASSES)}); the mean is over the four foreground classes. "
                f"Segmentors: U-Net (filters "
                f"{seg_preset.config['segmentation_filters']}, instance norm, softmax), "
                f"Adam({LEARNING_RATE:g}, 0.5), {steps} steps of batch {batch}. Histogram matching: "
                f"skimage.exposure.match_histograms of each MR onto 128 training CT slices.",
    }
    if not args.no_write:
        write_result(RESULT, result)


if __name__ == "__main__":
    main()
