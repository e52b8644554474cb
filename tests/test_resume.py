"""Exact resume: a run interrupted and resumed ends with the weights of an uninterrupted run
(max abs difference 0 on CPU), through Keras' BackupAndRestore and through `advzoo train
--checkpoint-every N --resume` after a SIGKILL."""
import json
import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf

import advzoo
from tests.conftest import run_python, tiny_gan

EPOCHS, STEPS, BATCH = 4, 2, 4


class Killed(Exception):
    pass


class KillAt(keras.callbacks.Callback):
    """Interrupts `fit` at the start of an epoch (after the previous epoch's backup)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise Killed


def _images(shape, n=STEPS * BATCH, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, *shape)).astype(np.float32)


def _builders():
    def gan():
        return tiny_gan(seed=None), lambda: tf.data.Dataset.from_tensor_slices(
            _images((8, 8, 1))).batch(BATCH)

    def dann():
        model = advzoo.build("dann", image_shape=(16, 16, 1), generator_filters=4,
                             discriminator_filters=4, domain_levels=2, seed=None)
        x = _images((16, 16, 1))
        return model, lambda: tf.data.Dataset.from_tensor_slices(
            (x, (x > 0.3).astype(np.float32), _images((16, 16, 1), seed=1))).batch(BATCH)

    def progan():
        model = advzoo.build("progan", image_shape=(16, 16, 2), start_size=4, latent_dim=8,
                             filters=8, seed=None)
        return model, lambda: tf.data.Dataset.from_tensor_slices(
            _images((16, 16, 2))).batch(BATCH)

    def cyclegan():
        model = advzoo.build("cyclegan", image_shape=(16, 16, 1), generator_filters=4,
                             discriminator_filters=4, n_blocks=1, n_layers=1, pool_size=4,
                             seed=None)
        return model, lambda: tf.data.Dataset.from_tensor_slices(
            (_images((16, 16, 1)), _images((16, 16, 1), seed=1))).batch(BATCH)

    def pix2pix_wgan_gp():
        # U-Net dropout, the gradient penalty's random interpolation and two critic steps: the
        # random draws of the wgan_vgg recipe
        model = advzoo.build("pix2pix", source_shape=(16, 16, 1), generator_filters=4,
                             discriminator_filters=4, n_layers=1, depth=2, dropout=0.5,
                             objective="wgan_gp", n_critic=2, discriminator="image",
                             discriminator_norm="layer", seed=None)
        return model, lambda: tf.data.Dataset.from_tensor_slices(
            (_images((16, 16, 1)), _images((16, 16, 1), seed=1))).batch(BATCH)

    return {"gan": gan, "dann": dann, "progan": progan, "cyclegan": cyclegan,
            "pix2pix_wgan_gp": pix2pix_wgan_gp}


@pytest.mark.parametrize("family", ["gan", "dann", "progan", "cyclegan", "pix2pix_wgan_gp"])
def test_backup_and_restore_ends_like_an_uninterrupted_run(tmp_path, family):
    build = _builders()[family]
    keras.utils.set_random_seed(0)
    model, data = build()
    model.fit(data(), epochs=EPOCHS, verbose=0)
    uninterrupted = model.get_weights()

    keras.utils.set_random_seed(0)
    model, data = build()
    backup = str(tmp_path / "backup")
    with pytest.raises(Killed):
        model.fit(data(), epochs=EPOCHS, verbose=0,
                  callbacks=[keras.callbacks.BackupAndRestore(backup), KillAt(2)])
    keras.utils.set_random_seed(123)  # a new process: other initial weights and global seeds
    model, data = build()
    model.fit(data(), epochs=EPOCHS, verbose=0,
              callbacks=[keras.callbacks.BackupAndRestore(backup)])
    resumed = model.get_weights()
    assert len(resumed) == len(uninterrupted)
    assert max(float(np.abs(a - b).max()) for a, b in zip(resumed, uninterrupted)) == 0.0


def test_random_states_are_saved_and_old_weight_files_still_load(tmp_path):
    model = tiny_gan(seed=None)
    model.sample(4)  # advance the latent generator
    model.save_weights(tmp_path / "w.weights.h5")
    fresh = tiny_gan(seed=None)
    fresh.load_weights(tmp_path / "w.weights.h5")
    for a, b in zip(model.random_states(), fresh.random_states()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    advzoo.load("gan_digits_dcgan")  # saved before random states were stored


_CLI = """
import os, signal, sys
sys.argv = ["advzoo"] + {argv!r}
kill_at = {kill_at!r}
import advzoo.training.callbacks as callbacks
original = callbacks.TrainingCheckpoint.on_epoch_end

def on_epoch_end(self, epoch, logs=None):
    if kill_at == ("inside", epoch + 1):
        # killed inside the checkpoint: the new weights are in place, the state file is not
        real_replace = os.replace
        def replace(src, dst):
            if str(dst).endswith("checkpoint.json"):
                os.kill(os.getpid(), signal.SIGKILL)
            return real_replace(src, dst)
        os.replace = replace
    original(self, epoch, logs)
    if kill_at == ("after", epoch + 1):
        os.kill(os.getpid(), signal.SIGKILL)

callbacks.TrainingCheckpoint.on_epoch_end = on_epoch_end
from advzoo.cli import main
sys.exit(main())
"""


def _train(argv, kill_at=None):
    return run_python(_CLI.format(argv=argv, kill_at=kill_at))


@pytest.mark.parametrize("kill_at", [("after", 3), ("inside", 4)])
def test_cli_run_killed_then_resumed_equals_the_uninterrupted_run(tmp_path, kill_at):
    args = ["train", "gan", "--set", "image_shape=[8,8,1]", "--set", "latent_dim=8",
            "--set", "generator_filters=8", "--set", "discriminator_filters=8",
            "--steps", "12", "--checkpoint-every", "2", "--batch-size", "8", "--seed", "3"]
    full = _train(args + ["--out", str(tmp_path / "full")])
    assert full.returncode == 0, full.stderr[-3000:]
    killed = _train(args + ["--out", str(tmp_path / "run")], kill_at=kill_at)
    assert killed.returncode == -9  # SIGKILL
    assert not (tmp_path / "run" / "model.keras").exists()
    state = json.loads((tmp_path / "run" / ".advzoo-checkpoint" / "checkpoint.json").read_text())
    assert state["epoch"] == 3  # the last complete checkpoint
    resumed = _train(args + ["--out", str(tmp_path / "run"), "--resume"])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "Resuming" in resumed.stdout and not (tmp_path / "run" / ".advzoo-checkpoint").exists()
    a = keras.saving.load_model(tmp_path / "full" / "model.keras").get_weights()
    b = keras.saving.load_model(tmp_path / "run" / "model.keras").get_weights()
    assert max(float(np.abs(x - y).max()) for x, y in zip(a, b)) == 0.0


def test_resume_refuses_other_options_or_no_checkpoint(tmp_path, capsys):
    from advzoo.cli import main

    out = tmp_path / "run"
    assert main(["train", "gan", "--steps", "4", "--checkpoint-every", "2", "--out", str(out),
                 "--resume"]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    args = ["train", "gan", "--set", "image_shape=[8,8,1]", "--set", "latent_dim=8",
            "--steps", "4", "--checkpoint-every", "2", "--batch-size", "8", "--out", str(out)]
    killed = _train(args, kill_at=("after", 1))
    assert killed.returncode == -9
    assert main(args[:-4] + ["--batch-size", "4", "--out", str(out), "--resume"]) == 2
    assert "these differ: batch_size" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:  # an argument error, before TensorFlow work
        main(["train", "gan", "--steps", "5", "--checkpoint-every", "2", "--out",
              str(tmp_path / "x")])
    assert refused.value.code == 2
    assert "multiple of --checkpoint-every" in capsys.readouterr().err
    assert pathlib.Path(out / ".advzoo-checkpoint" / "checkpoint.json").exists()
