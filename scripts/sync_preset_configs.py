"""Rewrite zoo_weights/NAME/config.json from the registered recipe (advzoo/presets.py) when an
option was added that does not change the networks (an explicit U-Net depth, an input contract),
without re-training, and stamp metadata.json with the config's sha256 (`config_sha256`) and the
registry's statement of what real data the preset was checked on (`validated_on_real_data`).

For each preset: the model is built from the shipped config and from the recipe's config, the
shipped weights are loaded into both, and the new config is written only if every weight has the
same shape and the inference network gives the same output on a seeded batch at the preset's
size; otherwise the preset must be re-trained (`scripts/train_preset.py NAME`).

    python scripts/sync_preset_configs.py            # every registered preset
    python scripts/sync_preset_configs.py NAME ...
"""
import argparse
import json
import os
import pathlib
import tempfile

import numpy as np

import advzoo
from advzoo import weights


def _probe(model) -> np.ndarray:
    network = model.inference_model()
    shapes = [tuple(t.shape[1:]) for t in network.inputs]
    # the built size of each input: the model's image shape, and SRGAN's reference beside it
    nominal = [tuple(model.image_shape), tuple(getattr(model, "reference_shape", None) or ())]
    rng = np.random.default_rng(0)
    batch = [rng.uniform(-1, 1, (2, *(n if None in s else s))).astype("float32")
             for s, n in zip(shapes, nominal)]
    return np.asarray(network(batch[0] if len(batch) == 1 else batch, training=False))


def _write_json(path: pathlib.Path, value: dict) -> None:
    """Replace `path` whole (a temporary sibling renamed into place)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", dir=path.parent)
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(value, indent=2) + "\n")
    pathlib.Path(tmp).replace(path)


def stamp(folder: pathlib.Path, name: str) -> bool:
    """Record config.json's sha256 and the registry's statement of real-data validation
    (`Preset.real_data_statement`) in metadata.json; True if it changed."""
    metadata = weights.read_metadata(folder)
    stamped = {**metadata, "config_sha256": weights.config_sha256(weights.read_config(folder)),
               "validated_on_real_data": advzoo.get_preset(name).real_data_statement()}
    if stamped == metadata:
        return False
    _write_json(folder / weights.METADATA_FILE, stamped)
    return True


def sync(name: str) -> str:
    preset = advzoo.get_preset(name)
    folder = weights.resolve_preset(name)
    shipped = weights.read_config(folder)
    family = advzoo.get_family(shipped["family"]).cls
    old = family(**shipped["config"])
    weights.load_into(old, folder)
    new = family(**{**preset.config, **{k: v for k, v in shipped["config"].items()
                                        if v is not None}})
    weights.load_into(new, folder)
    config = {k: v for k, v in new.get_config().items() if k not in ("name", "trainable")}
    config = json.loads(json.dumps(weights._jsonable(config)))
    # what the shipped config states stays (e.g. the training stage a staged preset ended in);
    # only options it lacks, or left to a default (None), come from the recipe
    config.update({k: v for k, v in shipped["config"].items() if v is not None})
    if config == shipped["config"]:
        return "config unchanged" + (", metadata stamped" if stamp(folder, name) else "")
    difference = float(np.abs(_probe(old) - _probe(new)).max())
    if difference > 0:
        raise SystemExit(f"{name}: the recipe's config changes the network (max output "
                         f"difference {difference:.3g}); re-train it with scripts/train_preset.py")
    _write_json(folder / weights.CONFIG_FILE, {"family": shipped["family"], "config": config})
    stamp(folder, name)
    added = sorted(set(config) - set(shipped["config"]))
    changed = sorted(k for k in set(config) & set(shipped["config"])
                     if config[k] != shipped["config"][k])
    return f"written (added {added}, changed {changed})"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="preset names (default: all)")
    names = parser.parse_args().names or advzoo.list_presets()
    for name in names:
        print(f"{name}: {sync(name)}")


if __name__ == "__main__":
    main()
