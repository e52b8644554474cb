"""Pretrained weights in `zoo_weights/<preset>/`, loaded offline and checked by sha256.

Each preset folder holds, as keras-hub presets do:
    config.json        {"family": ..., "config": {constructor arguments}}
    model.weights.h5   the weights of every player (no optimizer state)
    metadata.json      sha256 of the weights and of the config (`config_sha256`), training
                       recipe and time, measured metrics, advzoo / Keras / TensorFlow versions
Preset names are plain folder names: no separators, no `..`, no absolute paths, so a name can
never reach outside `zoo_weights/`. Folders are written to a temporary sibling and renamed into
place, so a failed write leaves nothing half-written and an existing preset is never clobbered
unless asked.
"""
from __future__ import annotations

import hashlib
import json
import os
import pathlib
import re
import shutil
import tempfile

from advzoo.errors import AdvzooError, WeightsError

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # whole name (fullmatch: no trailing newline)


def zoo_weights_dir() -> pathlib.Path:
    """Where the shipped presets live.

    `ADVZOO_WEIGHTS_DIR` if set; else `zoo_weights/` installed inside the package; else the
    repository's top-level `zoo_weights/` (source checkouts and editable installs).
    """
    if os.environ.get("ADVZOO_WEIGHTS_DIR"):
        return pathlib.Path(os.environ["ADVZOO_WEIGHTS_DIR"])
    package = pathlib.Path(__file__).resolve().parent
    for candidate in (package / "zoo_weights", package.parent / "zoo_weights"):
        if candidate.is_dir():
            return candidate
    return package.parent / "zoo_weights"


def sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_preset_name(name: str) -> str:
    """Return `name` if it is a safe folder name, else raise (no `..`, separators, absolute paths)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise AdvzooError(
            f"Invalid preset name {name!r}: expected a plain name of letters, digits, '_', '-', "
            "'.' (no path separators, no '..'); pass a folder path to load a preset from elsewhere.")
    return name


def resolve_preset(preset_or_path) -> pathlib.Path:
    """The folder of a preset given by registered name, name of a folder in `zoo_weights/`, or path."""
    from advzoo import zoo

    if isinstance(preset_or_path, pathlib.Path) or (
            isinstance(preset_or_path, str) and (os.sep in preset_or_path or "/" in preset_or_path)):
        folder = pathlib.Path(preset_or_path)
        if not (folder / CONFIG_FILE).is_file():
            raise WeightsError(f"{folder} is not a preset folder: expected {CONFIG_FILE}, "
                               f"{WEIGHTS_FILE} and {METADATA_FILE} in it.")
        return folder
    name = check_preset_name(preset_or_path)
    folder = zoo_weights_dir() / name
    if (folder / CONFIG_FILE).is_file():
        return folder
    zoo.get_preset(name)  # unknown name: raises with the closest registered names
    raise WeightsError(
        f"Preset {name!r} is registered but its weights are missing from {folder}; re-create "
        f"them with `python scripts/train_preset.py {name}`.")


def _read_json(path: pathlib.Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise WeightsError(f"Missing {path.name} in preset folder {path.parent}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise WeightsError(f"{path} is not valid JSON ({e}); the preset is corrupt.") from None


def read_config(folder) -> dict:
    config = _read_json(pathlib.Path(folder) / CONFIG_FILE)
    if not isinstance(config, dict) or "family" not in config or "config" not in config:
        raise WeightsError(f"{pathlib.Path(folder) / CONFIG_FILE} must hold "
                           '{"family": ..., "config": {...}}; got keys '
                           f"{sorted(config) if isinstance(config, dict) else type(config)}")
    return config


def config_sha256(config: dict) -> str:
    """sha256 of a preset's config.json content (its JSON with sorted keys, so formatting does
    not count but every value does)."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def read_metadata(folder) -> dict:
    return _read_json(pathlib.Path(folder) / METADATA_FILE)


def verify(folder) -> dict:
    """Check the weights file and config.json against the sha256s in metadata.json; return the
    metadata."""
    folder = pathlib.Path(folder)
    metadata = read_metadata(folder)
    weights_path = folder / WEIGHTS_FILE
    if not weights_path.is_file():
        raise WeightsError(f"Missing weights file {weights_path}")
    for key, what in (("sha256", "the weights"), ("config_sha256", "config.json")):
        if not metadata.get(key):
            raise WeightsError(
                f"{folder / METADATA_FILE} has no {key!r} (the hash of {what}), so the preset "
                "cannot be verified; re-save it with advzoo.weights.save_preset or re-train it "
                "with scripts/train_preset.py.")
    actual_config = config_sha256(read_config(folder))
    if metadata["config_sha256"] != actual_config:
        raise WeightsError(
            f"{folder / CONFIG_FILE} does not match its metadata: sha256 {actual_config[:16]}..., "
            f"expected {str(metadata['config_sha256'])[:16]}... It was edited or replaced; "
            "restore it, or re-save the preset.")
    expected = metadata.get("sha256")
    actual = sha256_file(weights_path)
    if expected != actual:
        raise WeightsError(
            f"{weights_path} does not match its metadata: sha256 {actual[:16]}..., expected "
            f"{str(expected)[:16]}... The file is corrupt or was replaced; restore it or re-train "
            "the preset.")
    return metadata


def load_into(model, folder) -> None:
    """Load a preset's (verified) weights into a freshly built model of its family."""
    path = pathlib.Path(folder) / WEIGHTS_FILE
    try:
        model.load_weights(str(path))
    except Exception as e:  # h5py/Keras raise many types for truncated or mismatched files
        raise WeightsError(f"Could not load {path} into {type(model).__name__}: {e}") from e


def save_preset(model, folder, metadata: dict | None = None, overwrite: bool = False) -> pathlib.Path:
    """Write `model` as a preset folder (config, weights without optimizer state, metadata).

    The folder is written beside its destination and renamed into place, so an interrupted
    save leaves any existing preset untouched.
    """
    import keras
    import tensorflow as tf

    from advzoo.version import __version__

    folder = pathlib.Path(folder)
    if folder.exists() and not overwrite:
        raise AdvzooError(f"{folder} exists; pass overwrite=True to replace it.")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        # A fresh, uncompiled copy holds the players' weights only, in a layout that does not
        # depend on whether (or how) the trained model was compiled.
        config = {k: v for k, v in model.get_config().items() if k not in ("name", "trainable")}
        clone = type(model)(**config)
        clone.set_weights(model.get_weights())
        clone.save_weights(str(tmp / WEIGHTS_FILE))
        config_file = {"family": model.family_name, "config": _jsonable(config)}
        (tmp / CONFIG_FILE).write_text(json.dumps(config_file, indent=2) + "\n")
        meta = {**(metadata or {}), "sha256": sha256_file(tmp / WEIGHTS_FILE),
                "config_sha256": config_sha256(config_file),
                "family": model.family_name, "advzoo_version": __version__,
                "keras_version": keras.__version__, "tensorflow_version": tf.__version__}
        (tmp / METADATA_FILE).write_text(json.dumps(_jsonable(meta), indent=2) + "\n")
        if folder.exists():
            backup = folder.with_name(f".{folder.name}.old")
            shutil.rmtree(backup, ignore_errors=True)
            folder.rename(backup)
            tmp.rename(folder)
            shutil.rmtree(backup)
        else:
            tmp.rename(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    return obj
