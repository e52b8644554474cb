"""A small CNN trained on the phantom library, whose features feed the Fréchet and kernel
distances of generated phantom images (the zoo never uses Inception weights, which would need a
download and describe natural photographs, not CT/MR).

The network classifies which phantom (and which degradation: low dose, blur, under-sampling)
a 64x64 grey image comes from (`LIBRARY_CLASSES`), so its 64-d penultimate features
respond to anatomy, texture, noise and sharpness. Its weights ship in
`zoo_weights/feature_net_phantoms/` with `metadata.json` (sha256 of the weights, the data it was
trained on, its accuracy, its training time); `scripts/train_feature_network.py` rebuilds them.
Loading checks the hash and needs no network.

    feats_real = phantom_features(real_images)        # (N, 64), images (N, H, W, C) in [-1, 1]
    feats_fake = phantom_features(generated_images)
    frechet_distance(feats_real, feats_fake)
    feature_distances(real_images, generated_images)  # frechet, kernel, precision, recall
"""
from __future__ import annotations

import hashlib
import json
import pathlib

import numpy as np

FOLDER_NAME = "feature_net_phantoms"
WEIGHTS_FILE = "model.weights.h5"
IMAGE_SIZE = 64
FEATURE_DIM = 64
#: The classes of the phantom library the network was trained to tell apart.
LIBRARY_CLASSES = ("ct", "ct_lowdose", "ct_blurred", "mr_t1", "mr_t2", "mr_zero_filled",
                   "nodules", "scanner_target", "retina", "histology", "sketch", "xray")
_LOADED: dict = {}


def build_feature_network(n_classes: int = len(LIBRARY_CLASSES), image_size: int = IMAGE_SIZE,
                          feature_dim: int = FEATURE_DIM):
    """The classifier (input (S, S, 1) in [-1, 1] -> class logits); its layer "features" gives
    the embedding. Four strided 3x3 conv blocks (16-32-64-64 filters), global average pooling,
    a 64-unit dense feature layer, a linear classifier (about 70k weights)."""
    import keras

    inp = keras.Input((image_size, image_size, 1), name="image")
    x = inp
    for i, f in enumerate((16, 32, 64, 64)):
        x = keras.layers.Conv2D(f, 3, strides=2, padding="same", name=f"conv{i}")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"act{i}")(x)
        x = keras.layers.Conv2D(f, 3, padding="same", name=f"conv{i}b")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"act{i}b")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    feats = keras.layers.Dense(feature_dim, name="features")(x)
    logits = keras.layers.Dense(n_classes, name="logits")(keras.layers.LeakyReLU(0.2, name="act_f")(feats))
    return keras.Model(inp, logits, name="phantom_feature_net")


def phantom_library(split: str = "train", n_per_class: int = 256, seed: int = 0):
    """Images of every `LIBRARY_CLASSES` entry as (images float32 (N, 64, 64, 1) in [-1, 1],
    labels int32 (N,)), drawn from the phantoms of `advzoo.data` with the given split and seed."""
    from advzoo import data as d
    from advzoo.data._phantom_core import gaussian_blur

    n, s = int(n_per_class), IMAGE_SIZE
    hu, mr, unit = d.hu_to_unit, d.mr_to_unit, (lambda x: d.to_unit(x, 0.0, 1.0))
    ct = d.ct_slices_arrays(split, n=n, size=s, seed=seed)["images"]
    mrs = d.mr_slices_arrays(split, n=n, size=s, contrast="both", seed=seed)["mr"]
    sk = d.sketch_xray_arrays(split, n=n, size=s, seed=seed)
    imgs = [
        hu(ct),
        hu(d.lowdose_ct_arrays(split, n=n, size=s, dose=0.25, seed=seed + 1)["low"]),
        hu(gaussian_blur(d.ct_slices_arrays(split, n=n, size=s, seed=seed + 2)["images"][..., 0], 1.2)[..., None]),
        mr(mrs[..., :1]),
        mr(d.mr_slices_arrays(split, n=n, size=s, contrast="t2", seed=seed + 3)["mr"]),
        mr(d.undersampled_mr_arrays(split, n=n, size=s, acceleration=4, seed=seed)["zero_filled"]),
        hu(d.nodules_arrays(split, n=n, size=s, seed=seed)["images"]),
        unit(d.domain_shift_arrays(split, n=n, size=s, seed=seed)["target_images"]),
        unit(d.retina_arrays(split, n=n, size=s, channels=1, seed=seed)["images"]),
        unit(d.stain_shift_arrays(split, n=n, size=s, seed=seed)["images"].mean(-1, keepdims=True)),
        unit(sk["sketches"]),
        unit(sk["xrays"]),
    ]
    labels = np.concatenate([np.full(len(x), i, np.int32) for i, x in enumerate(imgs)])
    return np.concatenate(imgs).astype(np.float32), labels


def _sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_folder() -> pathlib.Path:
    """`zoo_weights/feature_net_phantoms` (located like the presets, `advzoo.weights`)."""
    try:
        from advzoo.weights import zoo_weights_dir

        return zoo_weights_dir() / FOLDER_NAME
    except ImportError:  # the weights module is optional for this one
        return pathlib.Path(__file__).resolve().parents[2] / "zoo_weights" / FOLDER_NAME


def load_feature_network(folder=None):
    """The shipped feature extractor (images (N, 64, 64, 1) in [-1, 1] -> (N, 64) features).

    Checks the weights file against the sha256 in metadata.json first; a missing folder or a
    mismatching hash raises ValueError naming the file (nothing is downloaded).
    """
    import keras

    folder = pathlib.Path(folder) if folder is not None else default_folder()
    key = str(folder.resolve())
    if key in _LOADED:
        return _LOADED[key]
    weights, meta_path = folder / WEIGHTS_FILE, folder / "metadata.json"
    for p in (weights, meta_path):
        if not p.is_file():
            raise ValueError(f"feature network: missing '{p}'; run scripts/train_feature_network.py to create it")
    meta = json.loads(meta_path.read_text())
    actual = _sha256(weights)
    if actual != meta.get("sha256"):
        raise ValueError(f"feature network: '{weights}' has sha256 {actual[:16]}..., but metadata.json "
                         f"expects {str(meta.get('sha256'))[:16]}...; the file is corrupt or was replaced")
    net = build_feature_network(len(meta.get("classes", LIBRARY_CLASSES)), meta.get("image_size", IMAGE_SIZE),
                                meta.get("feature_dim", FEATURE_DIM))
    net.load_weights(str(weights))
    extractor = keras.Model(net.input, net.get_layer("features").output, name="phantom_features")
    extractor.metadata = meta
    _LOADED[key] = extractor
    return extractor


def _prepare(images):
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(f"phantom_features: expected 2D images (N, H, W, 1 or 3) in [-1, 1], got shape {x.shape}")
    if x.shape[-1] == 3:
        x = x.mean(-1, keepdims=True)
    if x.shape[1:3] != (IMAGE_SIZE, IMAGE_SIZE):
        import tensorflow as tf

        x = tf.image.resize(x, (IMAGE_SIZE, IMAGE_SIZE), method="bilinear", antialias=True).numpy()
    return np.clip(x, -1.0, 1.0)


def phantom_features(images, batch_size: int = 256, model=None) -> np.ndarray:
    """Features (N, 64) of images (N, H, W, C) in [-1, 1] (RGB averaged to grey, other sizes
    resized to 64x64) from the shipped phantom feature network (or `model`)."""
    x = _prepare(images)
    model = load_feature_network() if model is None else model
    return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float64)


def feature_distances(real_images, fake_images, k: int = 3, model=None, **kernel_kwargs) -> dict:
    """Fréchet distance, kernel distance (KID) and k-NN precision/recall of two image sets in the
    phantom feature space. Returns dict(frechet, kernel, precision, recall)."""
    from advzoo.metrics.distribution import frechet_distance, kernel_distance, precision_recall

    fr, ff = phantom_features(real_images, model=model), phantom_features(fake_images, model=model)
    out = {"frechet": frechet_distance(fr, ff), "kernel": kernel_distance(fr, ff, **kernel_kwargs)}
    out.update(precision_recall(fr, ff, k=k))
    return out
