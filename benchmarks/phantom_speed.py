"""Throughput of every phantom of advzoo.data: samples/s of a cold (uncached) generation at its
default size, and the time to make one batch of 64, next to one DCGAN training step on a batch
of 64 images of 64x64 (the bar the phantoms must beat: issue #3).

    python benchmarks/phantom_speed.py [--n 128] [--batch 64] [--no-dcgan]

Cached calls (a second call with the same arguments, or every epoch of a tf.data form) cost only
a copy; the figures here are for first-time generation.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from advzoo import data as D  # noqa: E402

PHANTOMS = {
    "ct_slices (64x64)": (D.ct_slices_arrays, {}),
    "ct_slices (32^3)": (D.ct_slices_arrays, {"ndim": 3}),
    "mr_slices (paired, T1+T2)": (D.mr_slices_arrays, {"contrast": "both"}),
    "mr_slices (unpaired)": (D.mr_slices_arrays, {"paired": False}),
    "lowdose_ct (dose 0.25)": (D.lowdose_ct_arrays, {}),
    "undersampled_mr (4x)": (D.undersampled_mr_arrays, {}),
    "multi_contrast_sr (2x)": (D.multi_contrast_sr_arrays, {}),
    "lesions": (D.lesions_arrays, {}),
    "nodules (64x64)": (D.nodules_arrays, {}),
    "nodules (32^3)": (D.nodules_arrays, {"ndim": 3}),
    "domain_shift (both domains)": (D.domain_shift_arrays, {}),
    "retina (RGB)": (D.retina_arrays, {}),
    "centerlines (64 points)": (D.centerlines_arrays, {}),
    "stain_shift": (D.stain_shift_arrays, {}),
    "sketch_xray": (D.sketch_xray_arrays, {}),
}


def dcgan_step_seconds(batch: int, repeats: int = 5) -> float:
    """Median seconds of one DCGAN (Radford et al.) D+G update on (batch, 64, 64, 1) images."""
    import keras
    import numpy as np
    import tensorflow as tf

    z_dim = 100
    g = keras.Sequential([keras.Input((z_dim,)), keras.layers.Dense(4 * 4 * 256, use_bias=False),
                          keras.layers.BatchNormalization(), keras.layers.ReLU(), keras.layers.Reshape((4, 4, 256))]
                         + sum([[keras.layers.Conv2DTranspose(f, 4, 2, "same", use_bias=False),
                                 keras.layers.BatchNormalization(), keras.layers.ReLU()] for f in (128, 64, 32)], [])
                         + [keras.layers.Conv2DTranspose(1, 4, 2, "same", activation="tanh")])
    d = keras.Sequential([keras.Input((64, 64, 1))]
                         + sum([[keras.layers.Conv2D(f, 4, 2, "same"), keras.layers.LeakyReLU(0.2)]
                                for f in (32, 64, 128, 256)], [])
                         + [keras.layers.Flatten(), keras.layers.Dense(1)])
    og, od = keras.optimizers.Adam(2e-4, 0.5), keras.optimizers.Adam(2e-4, 0.5)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def step(real):
        z = tf.random.normal((tf.shape(real)[0], z_dim))
        with tf.GradientTape() as td, tf.GradientTape() as tg:
            fake = g(z, training=True)
            lr, lf = d(real, training=True), d(fake, training=True)
            ld = bce(tf.ones_like(lr), lr) + bce(tf.zeros_like(lf), lf)
            lg = bce(tf.ones_like(lf), lf)
        od.apply_gradients(zip(td.gradient(ld, d.trainable_variables), d.trainable_variables))
        og.apply_gradients(zip(tg.gradient(lg, g.trainable_variables), g.trainable_variables))
        return ld

    real = tf.constant(np.random.default_rng(0).uniform(-1, 1, (batch, 64, 64, 1)).astype("float32"))
    step(real).numpy()  # trace
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        step(real).numpy()
        times.append(time.perf_counter() - t)
    return float(sorted(times)[len(times) // 2])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=128, help="samples per phantom (cold generation)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--no-dcgan", action="store_true")
    args = ap.parse_args(argv)

    D.ct_slices_arrays(n=1, size=32)  # import / FFT warm-up
    D.lowdose_ct_arrays(n=1, size=64)  # builds the cached CT operators once
    rows = []
    for name, (fn, kw) in PHANTOMS.items():
        D.clear_cache()
        t = time.perf_counter()
        fn("train", n=args.n, seed=1, **kw)
        dt = time.perf_counter() - t
        D.clear_cache()
        t = time.perf_counter()
        fn("train", n=args.batch, seed=2, **kw)
        batch_s = time.perf_counter() - t
        rows.append((name, args.n / dt, batch_s))
    step = None if args.no_dcgan else dcgan_step_seconds(args.batch)
    print(f"{'phantom':32s} {'samples/s':>10s} {'batch of ' + str(args.batch) + ' (s)':>18s}"
          + ("" if step is None else f" {'vs DCGAN step':>14s}"))
    for name, sps, batch_s in rows:
        extra = "" if step is None else f" {batch_s / step:13.2f}x"
        print(f"{name:32s} {sps:10.0f} {batch_s:18.3f}{extra}")
    if step is not None:
        print(f"\nDCGAN step (D + G update, batch {args.batch}, 64x64x1): {step:.3f} s; "
              f"a ratio below 1 means a cold batch is made faster than one training step")
    print("cached repeat call of ct_slices: ", end="")
    t = time.perf_counter()
    D.ct_slices_arrays("train", n=args.batch, seed=2)
    D.ct_slices_arrays("train", n=args.batch, seed=2)
    print(f"{(time.perf_counter() - t) / 2 * 1000:.2f} ms")
    return rows, step


if __name__ == "__main__":
    main()
