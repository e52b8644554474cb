"""Careless and hostile input: clear errors before any work, and no file lost on a failed save."""
import re
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
    assert re.search(r"advzoo( \w+)?: error:", err) and match in err and "Traceback" not in err


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
