"""Re-training a preset from scratch with its registered recipe, and writing it to zoo_weights/.

`python scripts/train_preset.py NAME` runs `train_preset(NAME)`: the preset's family and config,
its dataset, batch size, steps and seed, then the family's own measurements (`sample_report`)
written into `metadata.json` together with the training time.
"""
from __future__ import annotations

import math
import pathlib
import time

import keras

from advzoo import weights, zoo


def fit_on_default_data(model, steps: int, batch_size: int, epochs: int = 1, seed: int = 0,
                        callbacks=(), verbose="auto", dataset_options: dict | None = None,
                        initial_epoch: int = 0, validation: bool = True):
    """`model.fit` for `steps` steps on its family's default (repeated) training data.

    `initial_epoch` resumes a run: the seeded data stream skips the batches of the finished
    epochs, so the run goes on with the batches an uninterrupted one would see."""
    if int(steps) < 1 or int(batch_size) < 1 or int(epochs) < 1:
        raise ValueError(f"steps, batch_size and epochs must be >= 1, got {steps}, {batch_size}, {epochs}")
    family = zoo.get_family(model.family_name)
    steps_per_epoch = math.ceil(steps / epochs)
    data = family.dataset(model, split="train", batch_size=batch_size, seed=seed,
                          **(dataset_options or {})).repeat().skip(initial_epoch * steps_per_epoch)
    validation_data = family.dataset(model, split="val", batch_size=batch_size, seed=seed,
                                     **(dataset_options or {})) if validation else None
    return model.fit(data, steps_per_epoch=steps_per_epoch, epochs=epochs,
                     initial_epoch=initial_epoch, validation_data=validation_data,
                     callbacks=list(callbacks), verbose=verbose,
                     shuffle=False)  # the datasets shuffle themselves, seeded


def recipe_stages(name: str, steps=None) -> list[tuple[str | None, int]]:
    """The (stage, steps) of preset `name`'s recipe, in order.

    A preset's `train_steps` is an int (one `fit`; stage None), or for a family trained in stages
    (a `set_stage` method and `training_stages`, e.g. `adda`) a {stage: steps} dict run in the
    family's stage order. `steps` overrides it: an int (the total, split in the preset's
    proportions when staged) or a {stage: steps} dict (stages left out are skipped).
    """
    preset = zoo.get_preset(name)
    if not isinstance(preset.train_steps, dict):
        if isinstance(steps, dict):
            raise ValueError(f"preset {name!r} trains in one stage; pass steps as an int")
        return [(None, int(steps or preset.train_steps))]
    order = zoo.get_family(preset.family).cls.training_stages
    planned = {k: int(v) for k, v in preset.train_steps.items()}
    if isinstance(steps, dict):
        unknown = set(steps) - set(order)
        if unknown:
            raise ValueError(f"preset {name!r} has stages {list(order)}, not {sorted(unknown)}")
        planned = {k: int(v) for k, v in steps.items()}
    elif steps:
        total = sum(planned.values())
        planned = {k: max(1, round(int(steps) * v / total)) for k, v in planned.items()}
    return [(stage, planned[stage]) for stage in order if stage in planned]


def train_recipe(name: str, seed: int | None = None, steps=None,
                 batch_size: int | None = None, verbose="auto", after_stage=None,
                 **config_overrides):
    """Build preset `name`'s model from scratch (its config, `config_overrides`, `seed`) and fit it
    with the preset's recipe (data options, steps, batch size). Benchmarks call this once per seed
    or per variant (e.g. a baseline with the adversarial weight set to 0), so every variant
    trains exactly like the shipped preset.

    Staged presets (see `recipe_stages`) run `model.set_stage(stage)` and one `fit` per stage;
    `after_stage(stage, model)`, when given, is called after each (e.g. to measure the
    stage-1 model). Their history holds every stage's logs as "stage/name".

    Returns (model, history, seconds of training).
    """
    preset = zoo.get_preset(name)
    seed = preset.seed if seed is None else int(seed)
    keras.utils.set_random_seed(seed)
    model = zoo.build(preset.family, **{**preset.config, **config_overrides, "seed": seed})
    stages = recipe_stages(name, steps)
    merged = keras.callbacks.History()
    seconds = 0.0
    for stage, stage_steps in stages:
        if stage is not None:
            model.set_stage(stage)
        start = time.perf_counter()
        history = fit_on_default_data(model, stage_steps, batch_size or preset.batch_size,
                                      seed=seed, verbose=verbose, dataset_options=preset.dataset)
        seconds += time.perf_counter() - start
        if stage is None:
            return model, history, seconds
        merged.history.update({f"{stage}/{k}": v for k, v in history.history.items()})
        if after_stage is not None:
            after_stage(stage, model)
    return model, merged, seconds


def train_preset(name: str, out_dir=None, steps: int | None = None, verbose="auto",
                 overwrite: bool = True) -> pathlib.Path:
    """Train preset `name` from scratch and write its folder (default: zoo_weights/NAME)."""
    preset = zoo.get_preset(name)
    out = pathlib.Path(out_dir) if out_dir else weights.zoo_weights_dir() / name
    stages = recipe_stages(name, steps)
    model, history, seconds = train_recipe(name, steps=steps, verbose=verbose)
    metadata = {
        "preset": name,
        "summary": preset.summary,
        "trained_on": {"description": preset.data_description,
                       "dataset": zoo.get_family(preset.family).default_dataset.__name__,
                       "options": preset.dataset, "split": "train"},
        "train_steps": sum(n for _, n in stages),
        **({"stage_steps": dict(stages)} if stages[0][0] is not None else {}),
        "batch_size": preset.batch_size,
        "seed": preset.seed,
        "train_seconds": round(seconds, 1),
        "train_machine": "CPU, 2 cores (the project's development machine)",
        "final_losses": {k: round(float(v[-1]), 4) for k, v in history.history.items()},
        "metrics": model.sample_report(),
        "validated_on_real_data": preset.real_data_statement(),
        "command": f"python scripts/train_preset.py {name}",
    }
    return weights.save_preset(model, out, metadata, overwrite=overwrite)


# -- training on the user's folders ------------------------------------------------------------

PAIRED_FAMILIES = ("pix2pix",)  # (source, target) matched by file name
UNPAIRED_FAMILIES = ("cyclegan", "simgan", "vagan")  # two folders, no correspondence
TRIPLE_FAMILIES = ("dann", "adda", "pixelda", "dan")  # (image, label, unlabelled target image)


def _contract_window(model, side: str):
    """The contract's window for `side` when its units are absolute (CT in HU, 8-bit RGB); None
    (each file's range) for modalities the contract normalises per image (MR)."""
    spec = (getattr(model, "contract", None) or {}).get(side)
    if not spec or spec.get("kind", "image") == "labels" or \
            spec.get("normalise", "window") != "window":
        return None
    return tuple(spec["window"])


def folder_training_data(model, data, *, data_b=None, labels=None, image_size=None, patch=None,
                         mode: str = "slices", axis: int = -1, batch_size: int = 16,
                         jitter: bool = False, seed: int = 0, preset: str | None = None):
    """(model, tf.data batches) to fine-tune or train `model` on the user's folders.

    `data` and `labels` give (image, label map) pairs for the segmentation families (with
    `data_b`, unlabelled target images for the adaptation and semi-supervised ones); `data` and
    `data_b` give (source, target) pairs for pix2pix (matched by file name) or unpaired domains
    for cyclegan, simgan and vagan (abnormal, normal). Intensities go through the preset's
    contract window where its units are absolute (HU), else each file's range. A preset whose
    image pools are sized for another shape than the data's is reloaded at the data's shape with
    the same weights (`advzoo.load(preset, image_shape=...)`).
    """
    import tensorflow as tf

    from advzoo.data import folders
    from advzoo.errors import AdvzooError
    from advzoo.layers import ImagePool

    family = model.family_name
    common = dict(image_size=image_size, patch=patch, mode=mode, axis=axis,
                  batch_size=batch_size, jitter=jitter, seed=seed)
    if labels:
        if not hasattr(model, "num_classes"):
            raise AdvzooError(f"--labels trains segmentation families; {family} is not one")
        data_set = folders.labelled_folders(data, labels, num_classes=model.num_classes,
                                            window=_contract_window(model, "input"), **common)
        if family in TRIPLE_FAMILIES:
            if not data_b:
                raise AdvzooError(f"{family} trains on (image, label, unlabelled image) triples: "
                                  "give the unlabelled (target-domain) images with --data-b")
            targets = folders.unpaired_folders(data, data_b, window_a=_contract_window(
                model, "input"), window_b=_contract_window(model, "input"), **common)
            data_set = tf.data.Dataset.zip(data_set, targets).map(
                lambda pair, unpaired: (pair[0], pair[1], unpaired[1]))
    elif data_b:
        windows = dict(window_a=_contract_window(model, "input"),
                       window_b=_contract_window(model, "output"))
        if family in PAIRED_FAMILIES:
            data_set = folders.paired_folders(data, data_b, **windows, **common)
        elif family in UNPAIRED_FAMILIES:
            if family == "vagan":  # abnormal and normal images: both are inputs
                windows["window_b"] = windows["window_a"]
            data_set = folders.unpaired_folders(data, data_b, **windows, **common)
        else:
            raise AdvzooError(
                f"{family} does not train on two image folders here: folders train "
                f"{', '.join(PAIRED_FAMILIES + UNPAIRED_FAMILIES)} (--data, --data-b) and the "
                "segmentation families (--data, --labels)")
    else:
        raise AdvzooError("--data needs --data-b (a second image folder) or --labels (label maps)")
    first = data_set.element_spec[0]
    channels = model.image_shape[-1]
    if first.shape[-1] != channels:
        raise AdvzooError(f"the images in {data} have {first.shape[-1]} channel(s); "
                          f"{preset or family} takes {channels}")
    spatial = tuple(first.shape[1:-1])
    pools = [layer for layer in model._flatten_layers() if isinstance(layer, ImagePool)]
    if pools and None not in spatial and spatial != tuple(model.image_shape[:-1]):
        if preset is None:
            raise AdvzooError(f"{family}'s image pools hold {tuple(model.image_shape)} images, the "
                              f"data gives {spatial}: build it with image_shape at the data's size")
        from advzoo import zoo

        config = model.get_config()
        overrides = {key: [*spatial, config[key][-1]] for key in
                     ("image_shape", "source_shape", "target_shape") if key in config}
        model = zoo.load(preset, **overrides)
    return model, data_set
