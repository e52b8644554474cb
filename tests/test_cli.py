"""The `advzoo` command, run as users run it: in a subprocess."""
import json
import subprocess
import sys

import numpy as np
import pytest


def advzoo(*args, cwd=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "advzoo", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


def test_help_of_every_command(capsys):
    result = advzoo("--help")  # the installed entry point, once
    assert result.returncode == 0 and "usage: advzoo" in result.stdout
    from advzoo.cli import main

    for command in (["list"], ["demo"], ["train"], ["sample"], ["export"]):
        with pytest.raises(SystemExit) as exit_info:
            main([*command, "--help"])
        assert exit_info.value.code == 0 and "usage: advzoo" in capsys.readouterr().out, command


def test_list_json():
    result = advzoo("list", "--json")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert "gan" in listing["families"] and "gan_digits_dcgan" in listing["presets"]


def test_demo_writes_pictures(tmp_path):
    from PIL import Image

    result = advzoo("demo", "--out", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stderr[-3000:]
    grid = np.asarray(Image.open(tmp_path / "demo" / "samples.png"))
    strip = np.asarray(Image.open(tmp_path / "demo" / "interpolation.png"))
    assert grid.shape == (4 * (8 * 17 + 1),) * 2 and grid.std() > 20  # 8x8 tiles of 16 px, x4
    assert strip.shape == (4 * (4 * 17 + 1), 4 * (10 * 17 + 1))
    assert "recognisable" in result.stdout


def test_train_gan_three_steps(tmp_path):
    out = tmp_path / "run"
    result = advzoo("train", "gan", "--steps", "3", "--batch-size", "8", "--out", str(out),
                    "--set", "generator_filters=8", "--set", "discriminator_filters=8")
    assert result.returncode == 0, result.stderr[-3000:]
    history = json.loads((out / "history.json").read_text())
    assert set(history) >= {"d_loss", "g_loss", "val_d_loss", "val_g_loss"}
    assert (out / "samples.png").is_file() and (out / "model.keras").is_file()
    sampled = advzoo("sample", str(out / "model.keras"), "--n", "5", "--out", str(tmp_path / "s.npy"))
    assert sampled.returncode == 0, sampled.stderr[-3000:]
    assert np.load(tmp_path / "s.npy").shape == (5, 16, 16, 1)
    exported = advzoo("export", str(out / "model.keras"), "--out", str(tmp_path / "saved"))
    assert exported.returncode == 0, exported.stderr[-3000:]
    assert (tmp_path / "saved" / "saved_model.pb").is_file()


@pytest.mark.parametrize("args, message", [
    (["train", "gna", "--steps", "3"], "Did you mean 'gan'"),
    (["train", "gan", "--steps", "3", "--objective", "wgan-gp"], "Did you mean 'wgan_gp'"),
    (["train", "gan", "--steps", "3", "--set", "image_shape=[12,12,1]"], r"4 * 2^k"),
    (["sample", "gan_digits_dcgn", "--n", "2"], "Did you mean 'gan_digits_dcgan'"),
    (["export", "../gan_digits_dcgan"], "is not a preset folder"),
])
def test_errors_are_clear_and_write_nothing(tmp_path, args, message):
    out = tmp_path / "target"
    result = advzoo(*args, "--out", str(out) + (".png" if args[0] == "sample" else ""), cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_existing_output_is_not_overwritten(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "model.keras").write_text("precious")
    result = advzoo("train", "gan", "--steps", "2", "--out", str(out))
    assert result.returncode != 0 and "--overwrite" in result.stderr
    assert (out / "model.keras").read_text() == "precious"
