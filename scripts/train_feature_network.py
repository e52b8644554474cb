"""Train the phantom feature network of `advzoo.metrics.features` and write it, with its
metadata, to zoo_weights/feature_net_phantoms/ (or --out).

    python scripts/train_feature_network.py [--n-per-class 256] [--epochs 12] [--seed 0]

Writes model.weights.h5, config.json and metadata.json (sha256 of the weights, the phantom
classes and counts it was trained on, validation and test accuracy, training seconds, versions).
Runs in about a minute or two on two CPU cores; no download.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-per-class", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="output folder (default zoo_weights/feature_net_phantoms)")
    args = ap.parse_args(argv)

    import keras
    import numpy as np
    import tensorflow as tf

    import advzoo
    from advzoo.metrics import features as F

    keras.utils.set_random_seed(args.seed)
    out = pathlib.Path(args.out) if args.out else F.default_folder()
    t0 = time.perf_counter()
    x_train, y_train = F.phantom_library("train", args.n_per_class, seed=args.seed)
    x_val, y_val = F.phantom_library("val", max(32, args.n_per_class // 4), seed=args.seed)
    x_test, y_test = F.phantom_library("test", max(32, args.n_per_class // 4), seed=args.seed)
    t_data = time.perf_counter() - t0
    print(f"library: {len(x_train)} train / {len(x_val)} val / {len(x_test)} test images "
          f"of {len(F.LIBRARY_CLASSES)} classes in {t_data:.1f} s", flush=True)

    net = F.build_feature_network(len(F.LIBRARY_CLASSES))
    net.compile(optimizer=keras.optimizers.Adam(2e-3),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    t1 = time.perf_counter()
    hist = net.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=args.epochs,
                   batch_size=args.batch_size, shuffle=True, verbose=2)
    t_train = time.perf_counter() - t1
    test_acc = float(net.evaluate(x_test, y_test, verbose=0)[1])
    val_acc = float(hist.history["val_accuracy"][-1])
    pred = net.predict(x_test, verbose=0).argmax(-1)
    per_class = {c: float((pred[y_test == i] == i).mean()) for i, c in enumerate(F.LIBRARY_CLASSES)}
    print(f"trained in {t_train:.1f} s; val accuracy {val_acc:.4f}, test accuracy {test_acc:.4f}")

    out.mkdir(parents=True, exist_ok=True)
    tmp = out / (F.WEIGHTS_FILE + ".tmp.weights.h5")
    clean = F.build_feature_network(len(F.LIBRARY_CLASSES))  # uncompiled: no optimizer state saved
    clean.set_weights(net.get_weights())
    clean.save_weights(str(tmp))
    os.replace(tmp, out / F.WEIGHTS_FILE)
    config = {"builder": "advzoo.metrics.features.build_feature_network",
              "config": {"n_classes": len(F.LIBRARY_CLASSES), "image_size": F.IMAGE_SIZE,
                         "feature_dim": F.FEATURE_DIM}}
    meta = {
        "sha256": F._sha256(out / F.WEIGHTS_FILE),
        "what": "phantom feature network for Frechet / kernel distances (layer 'features')",
        "trained_on": {"data": "advzoo.metrics.features.phantom_library (advzoo.data phantoms)",
                       "split": "train", "n_per_class": args.n_per_class, "seed": args.seed,
                       "n_images": int(len(x_train))},
        "classes": list(F.LIBRARY_CLASSES),
        "image_size": F.IMAGE_SIZE, "feature_dim": F.FEATURE_DIM,
        "epochs": args.epochs, "batch_size": args.batch_size, "optimizer": "Adam(2e-3)",
        "val_accuracy": round(val_acc, 4), "test_accuracy": round(test_acc, 4),
        "test_accuracy_per_class": {k: round(v, 4) for k, v in per_class.items()},
        "train_seconds": round(t_train, 1), "data_seconds": round(t_data, 1),
        "parameters": int(net.count_params()),
        "advzoo_version": advzoo.__version__, "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__, "numpy_version": np.__version__,
        "command": "python scripts/train_feature_network.py " + " ".join(argv or sys.argv[1:]),
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (out / "metadata.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {out} ({(out / F.WEIGHTS_FILE).stat().st_size / 1024:.0f} KiB weights)")
    return meta


if __name__ == "__main__":
    main()
