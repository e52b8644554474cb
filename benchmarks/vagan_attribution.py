"""Does VA-GAN's attribution map overlap the true lesion better than a classifier's gradient
saliency map? `vagan` (Baumgartner et al. 2018) against |d logit / d x| (Simonyan et al. 2014) of
a CNN classifier (normal vs. abnormal) trained on the same data in the same run.

VA-GAN trains with the recipe of the `vagan_lesions` preset. The classifier is the VA-GAN critic's
network (the shared PatchGAN, its patch logits averaged into one logit, same widths, no
normalisation) trained with the logistic loss on labelled normal and abnormal `lesions` slices of
the same train split and CT window, at the same batch size, for at most as many updates as the
VA-GAN critic gets (steps x n_critic), keeping the weights of its best validation accuracy (with
the critic's Adam(beta1 0) and all updates it overfits the 512 slices: test accuracy 0.62-0.71 in
a first run). Also reported: the gradient saliency of the trained VA-GAN critic itself.
Measured on the abnormal images of 256 test phantoms: the normalised cross-correlation (NCC) of
|map| with the lesion mask and the per-image pixel AUC of |map| as a lesion score
(`advzoo.metrics.attribution`), mean over images, then mean and standard deviation over seeds.

    python benchmarks/vagan_attribution.py
    python benchmarks/vagan_attribution.py --steps 100 --seeds 0 --no-write
"""
import argparse
import pathlib
import time

import keras
import numpy as np
import tensorflow as tf

from advzoo import data as zoo_data
from advzoo import zoo
from advzoo.metrics.attribution import attribution_report, gradient_saliency
from advzoo.networks.translation import patchgan
from advzoo.readme import record_comparison, write_result
from advzoo.recipes import train_recipe

RESULT = pathlib.Path(__file__).parent / "results" / "vagan_attribution.json"
PRESET = "vagan_lesions"
TEST_PHANTOMS = 256


def train_classifier(model, updates: int, batch_size: int, seed: int, chunk: int = 250):
    """The critic's architecture as a normal-vs-abnormal classifier, trained with the logistic
    loss on the train split (both classes, labels) for at most `updates` Adam steps (Keras
    defaults, learning rate 1e-3), keeping the weights of the best accuracy on 256 validation
    phantoms, checked every `chunk` steps (on 512 training slices it overfits otherwise)."""
    keras.utils.set_random_seed(seed)
    size = model.image_shape[0]
    train = zoo_data.lesions_arrays("train", size=size)
    val = zoo_data.lesions_arrays("val", n=256, size=size)
    images = zoo_data.hu_to_unit(train["images"], model.window)
    val_images = zoo_data.hu_to_unit(val["images"], model.window)
    config = model.get_config()
    classifier = patchgan(model.image_shape, filters=config["discriminator_filters"],
                          n_layers=config["n_layers"], norm=config["discriminator_norm"],
                          output="image", name="classifier")
    classifier.compile(keras.optimizers.Adam(model.learning_rate),
                       keras.losses.BinaryCrossentropy(from_logits=True))
    data = (tf.data.Dataset.from_tensor_slices((images, train["labels"].astype("float32")))
            .shuffle(len(images), seed=seed).repeat().batch(batch_size))
    start = time.perf_counter()
    best, best_weights = -1.0, None
    for _ in range(max(1, updates // chunk)):
        classifier.fit(data, steps_per_epoch=chunk, epochs=1, verbose=0)
        logits = classifier.predict(val_images, verbose=0).ravel()
        accuracy = float(np.mean((logits > 0) == (val["labels"] == 1)))
        if accuracy > best:
            best, best_weights = accuracy, [w.copy() for w in classifier.get_weights()]
    classifier.set_weights(best_weights)
    return classifier, best, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=None, help="default: the preset's")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    preset = zoo.get_preset(PRESET)
    steps = args.steps or preset.train_steps
    test = None
    runs = {"vagan map |M|": [], "classifier gradient saliency": [],
            "VA-GAN critic gradient saliency": []}
    extra = {"classifier accuracy": [], "classifier val accuracy": [], "vagan s": [],
             "classifier s": []}
    for seed in args.seeds:
        model, _, vagan_seconds = train_recipe(PRESET, seed=seed, steps=steps, verbose=0)
        if test is None:
            test = zoo_data.lesions_arrays("test", n=TEST_PHANTOMS, size=model.image_shape[0])
            images = zoo_data.hu_to_unit(test["images"], model.window)
            sick = test["labels"] == 1
        classifier, val_accuracy, classifier_seconds = train_classifier(
            model, steps * model.n_critic, preset.batch_size, seed)
        logits = classifier.predict(images, verbose=0).ravel()
        accuracy = float(np.mean((logits > 0) == (test["labels"] == 1)))
        maps = {"vagan map |M|": model.attribute(images[sick]),
                "classifier gradient saliency": gradient_saliency(classifier, images[sick]),
                "VA-GAN critic gradient saliency": gradient_saliency(model.discriminator,
                                                                     images[sick])}
        for name, attribution in maps.items():
            runs[name].append(attribution_report(attribution, test["masks"][sick]))
        extra["classifier accuracy"].append(accuracy)
        extra["classifier val accuracy"].append(val_accuracy)
        extra["vagan s"].append(vagan_seconds)
        extra["classifier s"].append(classifier_seconds)
        print(seed, {k: {m: round(v, 3) for m, v in r[-1].items()} for k, r in runs.items()},
              f"classifier accuracy {accuracy:.3f}", f"{vagan_seconds:.0f} s + "
              f"{classifier_seconds:.0f} s", flush=True)

    rows = []
    for name, reports in runs.items():
        ncc = np.array([r["ncc"] for r in reports])
        auc = np.array([r["pixel_auc"] for r in reports])
        seconds = extra["vagan s"] if name.startswith("vagan") else (
            extra["classifier s"] if name.startswith("classifier") else ["-"])
        rows.append({
            "attribution": name,
            "NCC with lesion mask (mean ± std over seeds)": f"{ncc.mean():.3f} ± {ncc.std():.3f}",
            "per-seed NCC": ", ".join(f"{v:.3f}" for v in ncc),
            "pixel AUC (mean ± std)": f"{auc.mean():.3f} ± {auc.std():.3f}",
            "per-seed pixel AUC": ", ".join(f"{v:.3f}" for v in auc),
            "train s (mean)": "-" if seconds == ["-"] else round(float(np.mean(seconds)), 1)})
        print(rows[-1], flush=True)
    seeds = " ".join(str(s) for s in args.seeds)
    config = preset.config
    accuracy = np.array(extra["classifier accuracy"])
    vagan_ncc = np.array([r["ncc"] for r in runs["vagan map |M|"]])
    saliency_ncc = np.array([r["ncc"] for r in runs["classifier gradient saliency"]])
    vagan_auc = np.array([r["pixel_auc"] for r in runs["vagan map |M|"]])
    saliency_auc = np.array([r["pixel_auc"] for r in runs["classifier gradient saliency"]])
    wins = int(np.sum(vagan_ncc > saliency_ncc))
    auc_wins = int(np.sum(vagan_auc > saliency_auc))
    n = len(vagan_ncc)
    verdict = (f"{'Shown' if wins == auc_wins == n else 'NOT SHOWN on every seed'}: VA-GAN's map "
               f"overlaps the lesions better than the classifier's gradient saliency by NCC in "
               f"{wins} of {n} seeds and by pixel AUC in {auc_wins} of {n} (NCC "
               f"{vagan_ncc.mean():.3f} vs {saliency_ncc.mean():.3f}, pixel AUC "
               f"{vagan_auc.mean():.3f} vs {saliency_auc.mean():.3f}, means over seeds)")
    result = {
        "title": "VA-GAN (Baumgartner): attribution map vs. a classifier's gradient saliency, "
                 "overlap with the true lesion masks (lesions phantom, 32x32)",
        "command": f"python benchmarks/vagan_attribution.py --steps {steps} --seeds {seeds}",
        "columns": list(rows[0]),
        "rows": rows,
        "note": f"{verdict}. {steps} steps of batch {preset.batch_size} with the `{PRESET}` recipe "
                f"(U-Net map generator, {config['generator_filters']} filters; critic "
                f"{config['discriminator_filters']} filters; wgan_gp, n_critic 5, lambda_map "
                f"{config['lambda_map']:g}, critic warm-up {config.get('critic_warmup', 0)} "
                f"steps, Adam({config.get('learning_rate', 1e-3):g}, 0, 0.9)). Classifier: the "
                f"critic's network trained with the logistic loss on the labelled train split for "
                f"at most {steps * 5} updates of batch {preset.batch_size} (as many as the critic), "
                f"Adam(1e-3), weights of the best accuracy on 256 validation phantoms (checked "
                f"every 250 updates); test accuracy {accuracy.mean():.3f} (mean over seeds). "
                f"Measures on the "
                f"{int(sick.sum())} abnormal images of {TEST_PHANTOMS} test phantoms: NCC of "
                f"|map| with the mask and per-image pixel AUC of |map|. Seeds {seeds}.",
    }
    if not args.no_write:
        write_result(RESULT, result)
        record_comparison(PRESET, steps, what="NCC of |attribution| with the lesion masks of "
                                              f"the test split, per seed {list(args.seeds)}",
                          command="python benchmarks/vagan_attribution.py",
                          values={name: [r["ncc"] for r in reports]
                                  for name, reports in runs.items()})


if __name__ == "__main__":
    main()
