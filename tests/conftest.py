import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

# Two logical CPUs for the MirroredStrategy tests, set before TensorFlow initialises its devices
# (once per test process), so those tests run in this process instead of a fresh interpreter
# each. Ops without a device still run on /cpu:0 and share one thread pool, as before.
try:
    tf.config.set_logical_device_configuration(
        tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2)
except RuntimeError:  # devices already initialised (conftest imported a second time as a module)
    pass


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


def load_script(relative_path: str):
    """A script of the repository (benchmarks/*.py, scripts/*.py: folders that are not packages)
    as a module, e.g. `load_script("benchmarks/throughput.py")`."""
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[1] / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


_MIRRORED_COMPARE = r'''
single = build(tf.distribute.get_strategy())
weights = [np.array(w, copy=True) for w in single.get_weights()]
h1 = single.fit(*DATA, shuffle=False, verbose=0, **FIT()).history
assert mirrored.num_replicas_in_sync == 2
h2 = build(mirrored, weights).fit(*DATA, shuffle=False, verbose=0, **FIT()).history
assert set(h1) == set(h2), (h1, h2)
for k in h1:
    np.testing.assert_allclose(h1[k], h2[k], rtol=1e-4, atol=1e-5, err_msg=k)
'''


_MIRRORED = None


def assert_mirrored_matches_single(setup: str, data: str = "(x,)", fit: str = "dict()"):
    """A family trained on one device and under MirroredStrategy on two logical CPUs gives the
    same losses (global-batch averaging).

    `setup` is code that defines `build(strategy, weights=None)` (compiled inside the strategy's
    scope, with the given weights) and the data; `data` and `fit` are the code of fit's
    positional arguments and of its other keyword arguments. It runs in this process, in a
    namespace of its own, on the two logical CPUs this conftest sets up.
    """
    import numpy as np

    global _MIRRORED
    if _MIRRORED is None:  # one strategy per process: a second one's collective keys collide
        _MIRRORED = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    # FIT is re-evaluated for each run: callbacks such as ProgressiveGrowing carry state
    code = setup + f"\nDATA = {data}\nFIT = lambda: {fit}\n" + _MIRRORED_COMPARE
    # a setup may patch advzoo.losses (e.g. midpoint interpolates for the gradient penalty):
    # undone afterwards, as the fresh interpreter each comparison used to have undid it
    import advzoo.losses

    saved = dict(vars(advzoo.losses))
    try:
        exec(compile(code, "<mirrored comparison>", "exec"),
             {"__name__": "mirrored_comparison", "np": np, "tf": tf, "keras": keras,
              "mirrored": _MIRRORED})
    finally:
        for name in set(vars(advzoo.losses)) - set(saved):
            delattr(advzoo.losses, name)
        for name, value in saved.items():
            setattr(advzoo.losses, name, value)


def segmentor_without_dice(module: str, family_class: str) -> str:
    """Setup code for `assert_mirrored_matches_single` defining `NoDice`, the segmentation family
    `module.family_class` without its Dice tracker: an untrained segmentor's p sits at Dice's 0.5
    threshold, where 1e-7 differences between the devices could flip pixels, so the comparison
    is of the losses only."""
    return f"""
from {module} import {family_class}

class NoDice({family_class}):
    def add_segmentation_metrics(self):
        pass

    def record_segmentation(self, mask, prediction):
        pass
"""


def assert_save_load_export(model, folder, predict, *inputs, iterations: dict | None = None):
    """The checks every family's deployed network must pass, in one place:

    - `model.save` / `keras.saving.load_model` gives the same class, config and `predict`
      outputs (and, with `iterations={player: n}`, each player's optimizer step count);
    - `model.export` writes a SavedModel whose `serve` endpoint takes float32 `inputs` and
      returns float32 outputs equal to `predict(model, *inputs)`.

    Returns the loaded model for family-specific checks (pools, codes, ...).
    """
    import numpy as np
    import tensorflow as tf

    model.save(folder / "m.keras")
    loaded = keras.saving.load_model(folder / "m.keras")
    assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
    expected = predict(model, *inputs)
    np.testing.assert_array_equal(predict(loaded, *inputs), expected)
    for player, steps in (iterations or {}).items():
        assert int(getattr(loaded, f"{player}_optimizer").iterations) == steps
    saved = tf.saved_model.load(str(model.export(folder / "export")))
    spec = saved.signatures["serving_default"].structured_input_signature[1]
    assert [s.dtype for s in spec.values()] == [tf.float32] * len(inputs)
    out = saved.serve(*[tf.constant(x) for x in inputs])
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-5)
    return loaded


def segment_probabilities(model, images):
    """The class probabilities a segmentation family's exported network returns."""
    return model.segment(images, probabilities=True)


@pytest.fixture(scope="module")
def domain_triples16():
    """(source image, source mask, target image) batches of the domain_shift phantom, 16x16:
    the training data of dann, adda and pixelda at test size."""
    from advzoo.models.dann import dann_dataset

    return dann_dataset(image_shape=(16, 16, 1), n=16, shuffle=False, batch_size=8)
