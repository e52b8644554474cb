"""Cost of checking every `fit` batch's values (`compile(check_inputs=True)`, the default):
finite values, images in [-1, 1], label maps in [0, K).

Two models of each setting are built alike (same seed) and compiled with the checks on and off;
their `fit` steps are timed in alternating rounds by the process's CPU time (all threads: the work
done, less sensitive than wall time to a shared machine's stalls), and the overhead is the median
over rounds of (time with checks / time without) - 1.

Settings (the issue's): `gan` DCGAN at 32x32 (batch 64) and `pix2pix` at 64x64 (batch 16).

For the DCGAN a third arm times a hand-written step (a `tf.function` with the same networks,
the same non-saturating losses and Adam optimizers, no checks, no guard, a plain Python loop) in
the same rounds, so the table also says what advzoo's `train_step`, with its checks and its
non-finite update guard, costs against the code a user would write by hand.

    python benchmarks/input_checks.py [--rounds 7] [--steps 20]
"""
import argparse
import pathlib
import time

import keras
import numpy as np
import tensorflow as tf

import advzoo
from advzoo.readme import write_result

RESULT = pathlib.Path(__file__).parent / "results" / "input_checks.json"
SETTINGS = {
    "gan DCGAN 32x32, batch 64": dict(
        family="gan", config=dict(image_shape=(32, 32, 1), generator="dcgan",
                                  discriminator="dcgan", latent_dim=64, seed=0),
        batch=64, data=lambda rng, n: (rng.uniform(-1, 1, (n, 32, 32, 1)),)),
    "pix2pix 64x64, batch 16": dict(
        family="pix2pix", config=dict(source_shape=(64, 64, 1), generator_filters=32,
                                      discriminator_filters=32, seed=0),
        batch=16, data=lambda rng, n: (rng.uniform(-1, 1, (n, 64, 64, 1)),
                                       rng.uniform(-1, 1, (n, 64, 64, 1)))),
}


def dataset(arrays, batch):
    tensors = tuple(a.astype(np.float32) for a in arrays)
    data = tf.data.Dataset.from_tensor_slices(tensors if len(tensors) > 1 else tensors[0])
    return data.batch(batch, drop_remainder=True).repeat().prefetch(2)


def timed_fit(model, data, steps) -> float:
    start = time.process_time()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    return time.process_time() - start


def hand_written_gan_step(model):
    """One D then one G update of Goodfellow's Algorithm 1 (non-saturating G loss), written out
    as a user would, on `model`'s networks and optimizers."""
    generator, discriminator = model.generator, model.discriminator
    d_opt, g_opt = model.player_optimizers["discriminator"], model.player_optimizers["generator"]
    latent = model.latent_dim

    @tf.function
    def step(x):
        z = tf.random.normal((tf.shape(x)[0], latent))
        with tf.GradientTape() as tape:
            real = discriminator(x, training=True)
            fake = discriminator(generator(z, training=True), training=True)
            d_loss = tf.reduce_mean(tf.nn.softplus(-real)) + tf.reduce_mean(tf.nn.softplus(fake))
        variables = discriminator.trainable_variables
        d_opt.apply_gradients(zip(tape.gradient(d_loss, variables), variables))
        z = tf.random.normal((tf.shape(x)[0], latent))
        with tf.GradientTape() as tape:
            g_loss = tf.reduce_mean(tf.nn.softplus(
                -discriminator(generator(z, training=True), training=True)))
        variables = generator.trainable_variables
        g_opt.apply_gradients(zip(tape.gradient(g_loss, variables), variables))
        return d_loss, g_loss

    return step


def timed_loop(step, iterator, steps) -> float:
    start = time.process_time()
    for _ in range(steps):
        out = step(next(iterator))
    float(out[0])  # wait for the last step
    return time.process_time() - start


def measure(setting: dict, rounds: int, steps: int) -> dict:
    rng = np.random.default_rng(0)
    data = dataset(setting["data"](rng, setting["batch"] * 4), setting["batch"])
    models = {}
    for checks in (True, False):
        keras.utils.set_random_seed(0)
        model = advzoo.get_family(setting["family"]).cls(**setting["config"])
        model.compile(check_inputs=checks)
        timed_fit(model, data, 2)  # trace and warm up
        models[checks] = model
    hand = None
    if setting["family"] == "gan":
        keras.utils.set_random_seed(0)
        own = advzoo.get_family("gan").cls(**setting["config"])
        own.compile()
        hand = (hand_written_gan_step(own), iter(data))
        timed_loop(*hand, 2)
    ratios, hand_ratios, seconds = [], [], {True: [], False: [], "hand": []}
    for r in range(rounds):
        order = (True, False) if r % 2 == 0 else (False, True)
        times = {checks: timed_fit(models[checks], data, steps) for checks in order}
        if hand is not None:
            times["hand"] = timed_loop(*hand, steps)
            hand_ratios.append(times[True] / times["hand"])
        for arm, t in times.items():
            seconds[arm].append(t / steps)
        ratios.append(times[True] / times[False])
    return {"step with checks (CPU ms)": round(1000 * float(np.median(seconds[True])), 1),
            "step without (CPU ms)": round(1000 * float(np.median(seconds[False])), 1),
            "overhead (median of round ratios)": f"{100 * (float(np.median(ratios)) - 1):+.1f} %",
            "round ratios": " ".join(f"{r:.3f}" for r in ratios),
            "hand-written step (CPU ms)": (round(1000 * float(np.median(seconds["hand"])), 1)
                                       if hand else "-"),
            "advzoo / hand-written (median ratio)": (f"{float(np.median(hand_ratios)):.3f}"
                                                     if hand else "-")}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    rows = []
    for name, setting in SETTINGS.items():
        row = {"setting": name, **measure(setting, args.rounds, args.steps)}
        print(row, flush=True)
        rows.append(row)
    result = {
        "title": "Cost of the per-batch input value checks (compile(check_inputs=True), the "
                 "default) in a fit step",
        "command": f"python benchmarks/input_checks.py --rounds {args.rounds} --steps "
                   f"{args.steps}",
        "columns": list(rows[0]),
        "rows": rows,
        "note": "Each round times `steps` fit steps (process CPU time, all threads) of the model "
                "with checks and of an identical model without, in alternating order; the "
                "overhead is the median over rounds of the ratio minus 1, and the round ratios "
                "show the spread of this shared 2-core machine. Target: at most 2 %. The "
                "non-finite update guard is on in both advzoo arms; the hand-written DCGAN step "
                "has neither.",
    }
    if not args.no_write:
        write_result(RESULT, result)


if __name__ == "__main__":
    main()
