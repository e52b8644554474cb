"""The `advzoo` command, run as users run it: in a subprocess."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest


# what TensorFlow and Keras print on a CPU machine when nobody asked (`--verbose` shows it)
LOG_NOISE = ("oneDNN", "cuInit", "cuda drivers", "absl::InitializeLog", "cpu_feature_guard",
             "shuffle=True")


def advzoo(*args, cwd=None, timeout=300):
    """The `advzoo` console script's entry point (advzoo_cli:main), in a fresh process with the
    environment of a user's shell (not the tests' TF_CPP_MIN_LOG_LEVEL)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, "-m", "advzoo_cli", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd, env=env)


def test_help_of_every_command(capsys):
    result = subprocess.run([sys.executable, "-m", "advzoo", "--help"], capture_output=True,
                            text=True, timeout=300)  # `python -m advzoo` too
    assert result.returncode == 0 and "usage: advzoo" in result.stdout
    from advzoo.cli import main

    for command in (["list"], ["demo"], ["train"], ["sample"], ["export"]):
        with pytest.raises(SystemExit) as exit_info:
            main([*command, "--help"])
        assert exit_info.value.code == 0 and "usage: advzoo" in capsys.readouterr().out, command


def test_help_list_and_argument_errors_do_not_import_tensorflow():
    script = """
import sys, advzoo_cli
for argv in (["--help"], ["train", "--help"], ["train", "gna", "--out", "x"],
             ["apply", "pix2pix_lowdos", "in.nii", "--out", "y"], ["train", "gan", "--steps", "0"],
             ["train", "gan_digits_dcgan", "--objective", "wgan", "--out", "z"]):
    try:
        advzoo_cli.main(argv)
    except SystemExit as e:
        print("exit", e.code)
advzoo_cli.main(["list"])
print("imported:", sorted(m for m in ("tensorflow", "keras", "advzoo.zoo") if m in sys.modules))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("exit 0") == 2 and result.stdout.count("exit 2") == 4
    assert "imported: []" in result.stdout
    assert "unknown family or preset 'gna'. Did you mean 'gan'" in result.stderr
    assert "unknown preset 'pix2pix_lowdos'. Did you mean 'pix2pix_lowdose_ct'" in result.stderr
    assert "argument --steps: expected a positive int, got 0" in result.stderr
    assert "cannot be applied to a pretrained preset" in result.stderr
    assert "gan_digits_dcgan" in result.stdout and "[gan]" in result.stdout


def test_catalog_is_current():
    """`advzoo list` and the name checks read advzoo/catalog.json: it matches the registry."""
    from advzoo import zoo

    assert zoo.CATALOG_PATH.read_text() == zoo.catalog_text(), (
        "advzoo/catalog.json is stale: run `python scripts/update_readme.py`")


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
    # a medical preset on a real CT slice that pydicom ships, with the PSNRs it measured
    panels = np.asarray(Image.open(tmp_path / "demo" / "lowdose_ct.png"))
    assert panels.shape[0] > 128 * 3 and panels.shape[1] > 3 * 128 * 3 and panels.std() > 20
    assert "CT_small.dcm (128x128, 0.66 mm pixels) at a simulated quarter dose: PSNR" in result.stdout


def test_train_gan_three_steps(tmp_path):
    out = tmp_path / "run"
    result = advzoo("train", "gan", "--steps", "3", "--batch-size", "8", "--out", str(out),
                    "--set", "generator_filters=8", "--set", "discriminator_filters=8")
    assert result.returncode == 0, result.stderr[-3000:]
    assert not [noise for noise in LOG_NOISE if noise in result.stderr], result.stderr[-3000:]
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
