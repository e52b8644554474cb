"""Careless and hostile input: clear errors before any work, and no file lost on a failed save."""
import subprocess
import sys

import numpy as np
import pytest

import advzoo
from advzoo.cli import main
from advzoo.errors import AdvzooError
from tests.conftest import run_python, tiny_gan


@pytest.mark.parametrize("argv, match", [
    (["train", "gan", "--steps", "0", "--out", "o"], "--steps: expected a positive int, got 0"),
    (["sample", "gan_digits_dcgan", "--n", "0", "--out", "s.png"], "--n: expected a positive"),
    (["apply", "pix2pix_lowdose_ct", "x.dcm", "--out", "o", "--overlap", "1.5"],
     "--overlap: expected a number in"),
    (["train", "gan", "--batch-size", "two", "--out", "o"], "expected a positive int, got 'two'"),
])
def test_cli_argument_errors_exit_2_without_traceback(argv, match, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "advzoo: error: argument" in err and match in err and "Traceback" not in err


def test_a_set_value_that_is_not_json_gets_an_example(tmp_path, capsys):
    code = main(["train", "gan", "--set", "image_shape=[16,16", "--steps", "1", "--out",
                 str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "advzoo: error: --set image_shape" in err and "[32,32,1]" in err
    assert not (tmp_path / "o").exists()


def test_cli_errors_from_the_library_exit_2_in_a_real_process(tmp_path):
    result = subprocess.run([sys.executable, "-m", "advzoo", "train", "gan", "--set",
                             "image_shape=abc", "--steps", "1", "--out", str(tmp_path / "o")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "advzoo: error: image_shape must be a tuple of positive ints" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["abc", None, 3, (16, 16.5, 1), (16, 0, 1), ()])
def test_bad_image_shapes_name_the_option(value):
    with pytest.raises(AdvzooError, match=r"image_shape must be a tuple of positive ints"):
        advzoo.build("gan", image_shape=value)


def test_fit_without_data_is_a_clear_error():
    with pytest.raises(AdvzooError, match=r"fit needs training data.*got x=None"):
        tiny_gan().fit(None)


def test_a_failed_save_leaves_the_previous_file_loadable(tmp_path):
    path = tmp_path / "m.keras"
    code = f"""
import resource, signal, sys
sys.path.insert(0, {str(__import__('pathlib').Path(__file__).parent.parent)!r})
import numpy as np, keras
from tests.conftest import tiny_gan
model = tiny_gan()
model.save({str(path)!r})
z = np.ones((1, model.latent_dim), np.float32)
before = model.generate(z)
model.generator.set_weights([w + 1.0 for w in model.generator.get_weights()])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
try:
    model.save({str(path)!r})
    print("saved?!")
except OSError as e:
    print("save failed:", type(e).__name__)
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
loaded = keras.saving.load_model({str(path)!r})
print("previous kept:", bool(np.array_equal(loaded.generate(z), before)))
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "save failed: OSError" in result.stdout and "previous kept: True" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]  # no temporary left


def test_save_refuses_to_overwrite_when_asked_not_to(tmp_path):
    model = tiny_gan()
    model.save(tmp_path / "m.keras")
    before = (tmp_path / "m.keras").read_bytes()
    with pytest.raises(AdvzooError, match="exists"):
        model.save(tmp_path / "m.keras", overwrite=False)
    assert (tmp_path / "m.keras").read_bytes() == before


# -- values checked on every batch --------------------------------------------------------------

def test_uint8_images_are_refused_on_every_fit_batch_not_only_the_first():
    x = np.random.default_rng(0).uniform(-1, 1, (8, 8, 8, 1)).astype(np.float32)
    model = tiny_gan()
    model.fit(x, batch_size=8, epochs=1, verbose=0)  # traced on good data
    uint8 = np.concatenate([x, np.full((8, 8, 8, 1), 255.0, np.float32)])
    # steps count on from the first fit: the uint8 batch is the run's third
    with pytest.raises(AdvzooError, match=r"GAN got samples at step 3 with values in "
                                          r"\[255, 255\]; expected in \[-1, 1\].*127.5"):
        model.fit(uint8, batch_size=8, epochs=1, verbose=0, shuffle=False)


def test_pix2pix_and_dann_refuse_out_of_range_images():
    source = np.random.default_rng(0).uniform(0, 255, (4, 32, 32, 1)).astype(np.float32)
    pix2pix = advzoo.build("pix2pix", source_shape=(32, 32, 1), generator_filters=4,
                           discriminator_filters=4)
    with pytest.raises(AdvzooError, match=r"Pix2Pix got source images at step 1 with values"):
        pix2pix.fit(source, source / 255.0, batch_size=2, epochs=1, verbose=0)
    dann = advzoo.build("dann", image_shape=(32, 32, 1), generator_filters=4,
                        discriminator_filters=4)
    masks = np.zeros((4, 32, 32, 1), np.float32)
    import tensorflow as tf

    triples = tf.data.Dataset.from_tensor_slices((source, masks, source / 255.0)).batch(2)
    with pytest.raises(AdvzooError, match="DANN got images at step 1"):
        dann.fit(triples, epochs=1, verbose=0)


@pytest.mark.parametrize("labels, match", [(np.arange(12, 20), r"\[12, 19\]; expected integer "
                                            r"labels in \[0, 8\)"),
                                           (np.full(8, -1), r"\[-1, -1\]"),
                                           (np.full(8, 2.5), r"\[2.5, 2.5\]")])
def test_label_maps_outside_the_classes_are_refused(labels, match):
    model = advzoo.build("adversarial_segmentation", image_shape=(16, 16, 1), num_classes=8,
                         generator_filters=4, discriminator_filters=4)
    images = np.zeros((8, 16, 16, 1), np.float32)
    maps = np.broadcast_to(labels[:, None, None, None], (8, 16, 16, 1)).astype(np.float32)
    with pytest.raises(AdvzooError, match=r"masks at step 1 with values in " + match):
        model.fit(images, maps, batch_size=8, epochs=1, verbose=0)
    model.compile(check_inputs=False)  # the documented switch
    model.fit(images, np.zeros_like(maps), batch_size=8, epochs=1, verbose=0)


# -- non-finite updates are never applied -------------------------------------------------------

def _poisoned(n_good_batches: int):
    x = np.random.default_rng(0).uniform(-1, 1, (8 * (n_good_batches + 2), 8, 8, 1))
    x = x.astype(np.float32)
    x[8 * n_good_batches + 3, 2, 2, 0] = np.nan
    return x


def test_a_nan_batch_stops_fit_naming_step_player_and_loss_and_no_nan_enters_the_weights():
    import keras

    x = _poisoned(2)
    keras.utils.set_random_seed(0)
    clean = tiny_gan()
    clean.fit(x[:16], batch_size=8, epochs=1, verbose=0, shuffle=False)
    keras.utils.set_random_seed(0)
    model = tiny_gan()
    model.compile(check_inputs=False)  # let the NaN reach the losses
    with pytest.raises(AdvzooError, match=r"step 3, where the discriminator's loss 'd_loss' "
                                          r"became NaN.*No NaN entered the weights"):
        model.fit(x, batch_size=8, epochs=1, verbose=0, shuffle=False)
    assert all(np.isfinite(w).all() for w in model.get_weights())
    # D's update of step 3 was skipped: D keeps the weights of the last finite step
    for got, want in zip(model.discriminator.get_weights(), clean.discriminator.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_skip_policy_steps_over_bad_updates_up_to_a_limit():
    x = _poisoned(1)
    model = tiny_gan()
    model.compile(check_inputs=False, on_nonfinite="skip", max_skipped_steps=1)
    with pytest.warns(RuntimeWarning, match="skipped 1 non-finite update"):
        model.fit(x, batch_size=8, epochs=1, verbose=0, shuffle=False)
    assert all(np.isfinite(w).all() for w in model.get_weights())
    model.compile(check_inputs=False, on_nonfinite="skip", max_skipped_steps=0)
    with pytest.raises(AdvzooError, match="more than max_skipped_steps=0"):
        model.fit(x, batch_size=8, epochs=1, verbose=0, shuffle=False)
    with pytest.raises(AdvzooError, match="on_nonfinite"):
        model.compile(on_nonfinite="ignore")


def test_cli_on_nan_data_exits_non_zero_and_writes_no_model(tmp_path, monkeypatch, capsys):
    import tensorflow as tf

    from advzoo import zoo

    poisoned = tf.data.Dataset.from_tensor_slices(_poisoned(3)).batch(8)
    monkeypatch.setattr(zoo.Family, "dataset", lambda self, *a, **k: poisoned)
    out = tmp_path / "run"
    code = main(["train", "gan", "--set", "image_shape=[8,8,1]", "--set", "latent_dim=8",
                 "--steps", "6", "--batch-size", "8", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "step 4" in err and "NaN" in err
    assert not out.exists()
