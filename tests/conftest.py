import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _float32_policy_and_seed():
    """Each test starts in float32 with fixed seeds, whatever the test before it did."""
    keras.mixed_precision.set_global_policy("float32")
    keras.utils.set_random_seed(0)
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.fixture
def tiny_digits():
    """32 real digits at 8x8 in [-1, 1]: enough for a few fit steps of tiny models."""
    from advzoo.data import digits_arrays

    images, labels = digits_arrays("train", image_size=8)
    return images[:32], labels[:32]


def tiny_gan(**overrides):
    """A gan small enough to trace and train in a second or two."""
    import advzoo

    config = dict(image_shape=(8, 8, 1), latent_dim=8, generator_filters=8,
                  discriminator_filters=8, hidden_units=(16, 16), seed=0)
    config.update(overrides)
    return advzoo.build("gan", **config)


def run_python(code: str, timeout: int = 300, env_extra: dict | None = None):
    """Run `code` in a fresh interpreter (for process-wide TF settings); return CompletedProcess."""
    import subprocess
    import sys

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env_extra or {})}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, env=env)
