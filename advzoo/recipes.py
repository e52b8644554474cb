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
                        callbacks=(), verbose="auto", dataset_options: dict | None = None):
    """`model.fit` for `steps` steps on its family's default (repeated) training data."""
    if int(steps) < 1 or int(batch_size) < 1 or int(epochs) < 1:
        raise ValueError(f"steps, batch_size and epochs must be >= 1, got {steps}, {batch_size}, {epochs}")
    family = zoo.get_family(model.family_name)
    data = family.dataset(model, split="train", batch_size=batch_size, seed=seed,
                          **(dataset_options or {})).repeat()
    validation = family.dataset(model, split="val", batch_size=batch_size, seed=seed,
                                **(dataset_options or {}))
    return model.fit(data, steps_per_epoch=math.ceil(steps / epochs), epochs=epochs,
                     validation_data=validation, callbacks=list(callbacks), verbose=verbose,
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
        "command": f"python scripts/train_preset.py {name}",
    }
    return weights.save_preset(model, out, metadata, overwrite=overwrite)
