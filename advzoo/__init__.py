"""advzoo: a TensorFlow/Keras model zoo of the adversarial methods of biomedical image analysis.

    import advzoo
    model = advzoo.load("gan_digits_dcgan")      # pretrained preset, offline
    images = model.sample(16, seed=0)            # (16, 16, 16, 1) in [-1, 1]
    model.fit(advzoo.data.digits(batch_size=64), epochs=1)
    model.export("exported/gan")                 # SavedModel, float32 signature

Importing advzoo registers every family with Keras, so `keras.saving.load_model("m.keras")`
finds them after a plain `import advzoo`.
"""
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

from advzoo import data, latent, layers, losses, metrics, networks, weights  # noqa: E402
from advzoo import models, presets  # noqa: E402,F401  (registration side effects)
from advzoo import apply, contract, inference, scan_io  # noqa: E402  (files in, files out)
from advzoo.errors import AdvzooError, UnknownNameError, WeightsError  # noqa: E402
from advzoo.training import AdversarialModel  # noqa: E402
from advzoo.zoo import build, get_family, get_preset, list_models, list_presets, load  # noqa: E402

__all__ = ["__version__", "build", "load", "list_models", "list_presets", "get_family",
           "get_preset", "AdversarialModel", "AdvzooError", "UnknownNameError", "WeightsError",
           "data", "latent", "layers", "losses", "metrics", "networks", "weights", "apply",
           "contract", "inference", "scan_io"]
