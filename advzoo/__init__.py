"""advzoo: a TensorFlow/Keras model zoo of the adversarial methods of biomedical image analysis.

    import advzoo
    model = advzoo.load("gan_digits_dcgan")      # pretrained preset, offline
    images = model.sample(16, seed=0)            # (16, 16, 16, 1) in [-1, 1]
    model.fit(advzoo.data.digits(batch_size=64), epochs=1)
    model.export("exported/gan")                 # SavedModel, float32 signature

Submodules and functions load on first use, so `import advzoo` and `advzoo --help` stay fast.
"""
import importlib as _importlib
import os as _os
import sys as _sys

from advzoo.version import __version__

_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
_backend = (_sys.modules["keras"].backend.backend() if "keras" in _sys.modules
            else _os.environ["KERAS_BACKEND"])
if _backend != "tensorflow":
    raise ImportError(
        "advzoo needs the TensorFlow backend of Keras (tf.distribute, SavedModel export), but "
        f"the backend is {_backend!r}. Set KERAS_BACKEND=tensorflow before importing keras.")

_FUNCTIONS = {
    "build": "advzoo.zoo", "load": "advzoo.zoo", "list_models": "advzoo.zoo",
    "list_presets": "advzoo.zoo", "get_family": "advzoo.zoo", "get_preset": "advzoo.zoo",
    "AdversarialModel": "advzoo.training",
    "AdvzooError": "advzoo.errors", "UnknownNameError": "advzoo.errors",
    "WeightsError": "advzoo.errors",
}
_SUBMODULES = {"data", "export", "latent", "layers", "losses", "metrics", "models", "networks",
               "presets", "recipes", "training", "weights", "zoo", "cli"}

__all__ = ["__version__", *_FUNCTIONS, *sorted(_SUBMODULES)]


def __getattr__(name):
    if name in _FUNCTIONS:
        return getattr(_importlib.import_module(_FUNCTIONS[name]), name)
    if name in _SUBMODULES:
        return _importlib.import_module(f"advzoo.{name}")
    raise AttributeError(f"module 'advzoo' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
