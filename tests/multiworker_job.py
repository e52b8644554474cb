"""One worker of tests/test_distributed_multiworker.py, and what both sides of its comparisons
share (models, data, the training run).

Each worker process runs `python tests/multiworker_job.py OUT` with its TF_CONFIG; OUT holds the
initial weights the test wrote (`<family>-init.weights.h5`) and receives the worker's results
(`worker-<index>.pkl`). The workers train under MultiWorkerMirroredStrategy:

- gan (4 steps) and pix2pix (3 steps) from those weights, on `distribute_dataset`'s shards of
  the global batches, recording every step's logs, the final weights and `evaluate`'s losses;
- the shards each worker's replica got (their union must be each global batch);
- pix2pix saved through `save_on_chief` (only worker 0 writes);
- gan interrupted after its first epoch under `BackupAndRestore(task_dir(...))`, then resumed
  by a fit from the initial weights: it must restore the backup and end on the weights of the
  uninterrupted run.
"""
import os
import pickle
import sys

GLOBAL_BATCH = 8
EPOCHS = {"gan": 2, "pix2pix": 1}  # 2 x 2 and 1 x 3 steps


def build(family: str):
    """The tiny model of `family`, compiled with SGD (in the current strategy's scope): random
    draws fixed (no dropout, the same latent codes on one device or two) so that the runs must
    agree."""
    import keras
    import tensorflow as tf

    if family == "gan":
        from advzoo.models.gan import GAN

        class FixedCodeGAN(GAN):  # the same z for a sample on one device or two
            def sample_latent(self, batch_size):
                return tf.ones((batch_size, self.latent_dim)) * 0.3

        model = FixedCodeGAN(image_shape=(8, 8, 1), generator="mlp", discriminator="mlp",
                             latent_dim=4, hidden_units=(16, 16), seed=0)
        rate = 0.05
    else:
        from advzoo.models.pix2pix import Pix2Pix

        model = Pix2Pix(source_shape=(16, 16, 1), generator_filters=4, discriminator_filters=4,
                        n_layers=1, norm="none", dropout=0.0, seed=0)
        rate = 0.01
    model.compile(optimizers={p: keras.optimizers.SGD(rate) for p in model.players})
    return model


def examples(family: str):
    """The unbatched training examples of `family` (fixed values, fixed order)."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    if family == "gan":
        return tf.data.Dataset.from_tensor_slices(
            rng.uniform(-1, 1, (16, 8, 8, 1)).astype("float32"))
    x = rng.uniform(-1, 1, (24, 16, 16, 1)).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, np.tanh(1.5 * x).astype("float32")))


def batches(family: str, strategy):
    """`fit`'s data: the global batches on one device, each replica's share under a multi-worker
    strategy."""
    from advzoo.training.distribute import distribute_dataset, is_multi_worker

    if is_multi_worker(strategy):
        return distribute_dataset(examples(family), GLOBAL_BATCH, strategy)
    return examples(family).batch(GLOBAL_BATCH)


def step_logs_callback():
    import keras
    import numpy as np

    class StepLogs(keras.callbacks.Callback):
        """Every step's logs, as Python floats (a log of any other shape is an error)."""

        def __init__(self):
            super().__init__()
            self.steps = []

        def on_train_batch_end(self, batch, logs=None):
            shapes = {k: np.shape(v) for k, v in logs.items() if np.shape(v) != ()}
            assert not shapes, f"step logs are not scalars: {shapes}"
            self.steps.append({k: float(v) for k, v in logs.items()})

    return StepLogs()


def train(family: str, strategy, init_weights, model=None, callbacks=(),
          evaluate: bool = False) -> dict:
    """`fit` `family` (or `model`) from `init_weights` under `strategy`: every step's logs, the
    History, the final weights and, with `evaluate`, `evaluate`'s losses on the same batches."""
    with strategy.scope():
        model = build(family) if model is None else model
        model.load_weights(init_weights)
    recorder = step_logs_callback()
    history = model.fit(batches(family, strategy), epochs=EPOCHS[family], verbose=0,
                        callbacks=[*callbacks, recorder])
    run = {"steps": recorder.steps, "history": history.history,
           "weights": [w.copy() for w in model.get_weights()], "model": model}
    if evaluate:
        run["evaluate"] = model.evaluate(batches(family, strategy), verbose=0, return_dict=True)
    return run


def main(out: str) -> None:
    import time

    start = time.monotonic()

    def done(phase):  # in the worker's log, for a slow run
        print(f"{phase} done after {time.monotonic() - start:.1f} s", flush=True)

    from advzoo.training.distribute import strategy_from_name

    strategy = strategy_from_name("multiworker")  # first: before any other TensorFlow work
    import keras

    from advzoo.training.distribute import (distribute_dataset, is_multi_worker, save_on_chief,
                                            task_dir, task_from_tf_config)

    assert is_multi_worker(strategy) and strategy.num_replicas_in_sync == 2
    done("start")
    keras.utils.set_random_seed(0)
    index = task_from_tf_config()[1]
    results = {}
    for family in EPOCHS:
        run = train(family, strategy, os.path.join(out, f"{family}-init.weights.h5"),
                    evaluate=True)
        results[family] = {k: v for k, v in run.items() if k != "model"}
        if family == "pix2pix":
            results["wrote_checkpoint"] = save_on_chief(
                run["model"], os.path.join(out, "checkpoints", "pix2pix.keras"))
        else:
            gan = run["model"]
        done(family)

    results["shards"] = [[x.numpy() for x in strategy.experimental_local_results(batch)]
                         for batch in distribute_dataset(examples("gan"), GLOBAL_BATCH, strategy)]

    class Interrupted(Exception):
        pass

    class InterruptAfterFirstEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                raise Interrupted

    backup = task_dir(os.path.join(out, "backup"))
    init = os.path.join(out, "gan-init.weights.h5")
    try:
        train("gan", strategy, init, model=gan,
              callbacks=[keras.callbacks.BackupAndRestore(backup), InterruptAfterFirstEpoch()])
        raise AssertionError("the first run was not interrupted")
    except Interrupted:
        pass
    results["backup_files"] = (backup, sorted(os.listdir(backup)))
    done("interrupted gan")
    # the same model, reset to its initial weights: only a restored backup gives the final ones
    resumed = train("gan", strategy, init, model=gan,
                    callbacks=[keras.callbacks.BackupAndRestore(backup)])
    results["resumed"] = {k: v for k, v in resumed.items() if k != "model"}
    results["backup_left"] = os.path.exists(backup)
    done("resumed gan")

    path = os.path.join(out, f"worker-{index}.pkl")
    with open(path + ".tmp", "wb") as f:
        pickle.dump(results, f)
    os.replace(path + ".tmp", path)
    done(f"worker {index}")


if __name__ == "__main__":
    main(sys.argv[1])
