"""The zoo's registry: families (model classes) and presets (family + config + weights).

Families register themselves with `@register_family`; presets are registered in
`advzoo/presets.py`. Lookups of unknown names raise an error that lists the closest names.
"""
from __future__ import annotations

import dataclasses
import inspect
import pathlib
from typing import Any, Callable

from advzoo.errors import AdvzooError, unknown_name


@dataclasses.dataclass(frozen=True)
class Family:
    """A registered family: the model class and what it trains on by default."""

    name: str
    cls: type
    default_dataset: Callable[..., Any]
    summary: str
    section: str

    def dataset(self, model=None, split: str = "train", batch_size: int | None = None, **kwargs):
        """The family's default `tf.data.Dataset`, shaped for `model` when one is given."""
        if model is not None and hasattr(model, "dataset_options"):
            kwargs = {**model.dataset_options(), **kwargs}
        return self.default_dataset(split=split, batch_size=batch_size, **kwargs)


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named, pretrained configuration of a family (weights in `zoo_weights/<name>/`)."""

    name: str
    family: str
    config: dict
    summary: str
    dataset: dict  # keyword arguments of the family's default dataset used for training
    train_steps: int | dict  # a dict {stage: steps} for families trained in stages (adda)
    batch_size: int
    seed: int = 0
    data_description: str = ""  # what the dataset is, in words, for metadata and the README
    # the real (not phantom) data the preset was checked on, by which benchmark, and how it did;
    # None: phantom or toy data only (metadata.json's "validated_on_real_data" says the same)
    real_data: dict | None = None

    def real_data_statement(self) -> dict:
        """What metadata.json records under "validated_on_real_data"."""
        if self.real_data is None:
            return {"validated": False, "note": "phantom or toy data only: not checked on real "
                                                "scans or images"}
        return {"validated": True, **self.real_data}


_FAMILIES: dict[str, Family] = {}
_PRESETS: dict[str, Preset] = {}


def register_family(name: str, *, default_dataset: Callable[..., Any], summary: str,
                    section: str = ""):
    """Class decorator registering a family under `name` (also sets `cls.family_name`)."""

    def decorate(cls):
        if name in _FAMILIES and _FAMILIES[name].cls is not cls:
            raise AdvzooError(f"Family {name!r} is already registered by {_FAMILIES[name].cls}")
        cls.family_name = name
        _FAMILIES[name] = Family(name, cls, default_dataset, summary, section)
        return cls

    return decorate


def register_preset(preset: Preset) -> Preset:
    """Register a preset; its family must exist and its config must be accepted by the family."""
    family = get_family(preset.family)
    params = inspect.signature(family.cls.__init__).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        unknown = set(preset.config) - set(params)
        if unknown:
            raise AdvzooError(f"Preset {preset.name!r}: {preset.family} has no options {sorted(unknown)}")
    _PRESETS[preset.name] = preset
    return preset


def _ensure_registered() -> None:
    # Importing the models and presets modules runs their registration decorators.
    import advzoo.models  # noqa: F401
    import advzoo.presets  # noqa: F401


def get_family(name: str) -> Family:
    """The registered `Family` called `name`, or an error listing the closest names."""
    _ensure_registered()
    if name not in _FAMILIES:
        raise unknown_name("family", name, _FAMILIES)
    return _FAMILIES[name]


def get_preset(name: str) -> Preset:
    """The registered `Preset` called `name`, or an error listing the closest names."""
    _ensure_registered()
    if name not in _PRESETS:
        raise unknown_name("preset", name, _PRESETS)
    return _PRESETS[name]


def list_models() -> list[str]:
    """Names of all registered families, sorted."""
    _ensure_registered()
    return sorted(_FAMILIES)


def list_presets(family: str | None = None) -> list[str]:
    """Names of all registered presets (of one family when `family` is given), sorted."""
    _ensure_registered()
    if family is not None:
        get_family(family)
    return sorted(n for n, p in _PRESETS.items() if family is None or p.family == family)


def build(family: str, **config):
    """A fresh, untrained, compiled model of `family` with the given options.

    Example: `advzoo.build("gan", generator="dcgan", image_shape=(16, 16, 1), objective="wgan_gp")`.
    Optimizers are the objective's paper defaults; call `compile(optimizers=...)` to change them.
    """
    model = get_family(family).cls(**config)
    model.compile()
    return model


def _rebuilt_with(model, cls, config: dict, name: str):
    """`cls(**config)` with `model`'s weights, matched by path; image pools start empty."""
    from advzoo.layers import ImagePool

    rebuilt = cls(**config)
    old = {v.path: v for v in model.weights}
    pools = {v.path for layer in rebuilt._flatten_layers() if isinstance(layer, ImagePool)
             for v in layer.weights}
    for variable in rebuilt.weights:
        if variable.path in pools:
            continue
        source = old.get(variable.path)
        if source is None or tuple(source.shape) != tuple(variable.shape):
            raise AdvzooError(
                f"the options given to load {name} change its networks: {variable.path} "
                f"{tuple(variable.shape)} has no match in the preset"
                f"{'' if source is None else f' (which has {tuple(source.shape)})'}. Only "
                "options that keep the networks can be overridden (shapes of size-free "
                "families, loss weights); build a new model with advzoo.build for others.")
        variable.assign(source.value)
    return rebuilt


def load(preset_or_path: str | pathlib.Path, compile: bool = True, **overrides):
    """Load a pretrained model: a preset name (`advzoo.list_presets()`) or a preset folder path.

    The folder holds `config.json`, `model.weights.h5` and `metadata.json`; the weights' sha256
    is checked against the metadata before anything is built. No network access is used.

    `overrides` change options of the preset's config that keep its networks, e.g.
    `image_shape=(128, 128, 1)` to fine-tune a size-free family at 128x128 (the size its image
    pools and built-in data use), or a loss weight: the model is built with them and every
    weight is copied from the preset (the image pools' contents, sized for the old shape,
    start empty).
    """
    from advzoo import weights

    folder = weights.resolve_preset(preset_or_path)
    config = weights.read_config(folder)
    cls = get_family(config["family"]).cls
    for option in overrides:
        if option not in config["config"]:
            raise unknown_name(f"option of preset {folder.name}", option, config["config"])
    weights.verify(folder)
    model = cls(**config["config"])
    weights.load_into(model, folder)
    if overrides:
        model = _rebuilt_with(model, cls, {**config["config"], **overrides}, folder.name)
    if compile:
        model.compile()
    return model


def catalog() -> dict:
    """Every family's and preset's name and summary, as `advzoo/catalog.json` holds them for the
    command line (which answers `advzoo list` and checks names without importing TensorFlow)."""
    return {"families": {name: get_family(name).summary for name in list_models()},
            "presets": {name: {"family": get_preset(name).family, "summary": get_preset(name).summary}
                        for name in list_presets()}}


CATALOG_PATH = pathlib.Path(__file__).resolve().parent / "catalog.json"


def catalog_text() -> str:
    import json

    return json.dumps(catalog(), indent=1, sort_keys=True) + "\n"
