"""SavedModel export: loadable without advzoo, float32 signature, outputs match the Keras model."""
import numpy as np
import pytest

import advzoo
from conftest import tiny_gan

LOAD_WITHOUT_ADVZOO = r'''
import sys, numpy as np, tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
z = np.load(sys.argv[2])
out = loaded.serve(tf.constant(z)).numpy()
sig = loaded.signatures["serving_default"]
assert [s.dtype for s in sig.structured_input_signature[1].values()] == [tf.float32]
np.save(sys.argv[3], out)
assert "advzoo" not in sys.modules
'''


@pytest.mark.parametrize("backbone", ["dcgan", "mlp"])
def test_export_loads_in_a_process_without_advzoo(tmp_path, backbone):
    model = tiny_gan(generator=backbone, discriminator=backbone)
    path = model.export(tmp_path / "saved")
    z = np.random.default_rng(0).standard_normal((7, model.latent_dim)).astype(np.float32)
    np.save(tmp_path / "z.npy", z)
    script = tmp_path / "load.py"
    script.write_text(LOAD_WITHOUT_ADVZOO)
    import subprocess
    import sys

    result = subprocess.run([sys.executable, str(script), str(path), str(tmp_path / "z.npy"),
                             str(tmp_path / "out.npy")], capture_output=True, text=True, timeout=300,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), model.generate(z), atol=1e-5, rtol=0)


def test_export_refuses_to_overwrite_and_leaves_nothing_half_written(tmp_path):
    model = tiny_gan()
    target = tmp_path / "saved"
    target.mkdir()
    (target / "keep.txt").write_text("user data")
    with pytest.raises(ValueError, match="exists; pass overwrite=True"):
        model.export(target)
    assert (target / "keep.txt").read_text() == "user data"
    model.export(target, overwrite=True)
    assert (target / "saved_model.pb").is_file() and not (target / "keep.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved"]


def test_preset_export_matches(tmp_path):
    import tensorflow as tf

    model = advzoo.load("gan_digits_dcgan")
    path = model.export(tmp_path / "preset")
    z = np.random.default_rng(3).standard_normal((4, model.latent_dim)).astype(np.float32)
    loaded = tf.saved_model.load(str(path))  # keep a reference: its variables die with it
    out = loaded.serve(tf.constant(z)).numpy()
    np.testing.assert_allclose(out, model.generate(z), atol=1e-5, rtol=0)
