"""`TranslationMixin`: what every image-to-image family (pix2pix, srgan, simgan, cyclegan, and the
segmentors of the later sections) gives its users on top of `AdversarialModel`.

- `translate(images)`: numpy arrays or tensors, one image or a batch of any size, checked against
  the translator's input shape and the zoo's [-1, 1] range before any work starts;
- `add_image_metrics()` / `record_images(target, output)`: PSNR, SSIM (data range 2 for [-1, 1])
  and MAE trackers, so `evaluate` and `fit(validation_data=...)` report image quality beside the
  losses.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from advzoo.errors import AdvzooError

VALUE_RANGE = (-1.0, 1.0)
RANGE_TOLERANCE = 1e-3
IMAGE_METRICS = ("psnr", "ssim", "mae")


def check_unit_range(array: np.ndarray, what: str) -> None:
    """Raise if `array` holds NaN/inf or values outside [-1, 1] (the zoo's scaled range)."""
    if not np.all(np.isfinite(array)):
        raise AdvzooError(f"{what} contain NaN or infinite values")
    lo, hi = float(array.min()), float(array.max())
    if lo < VALUE_RANGE[0] - RANGE_TOLERANCE or hi > VALUE_RANGE[1] + RANGE_TOLERANCE:
        raise AdvzooError(
            f"{what} must be scaled to [-1, 1] like the zoo's data, got values in "
            f"[{lo:.4g}, {hi:.4g}]. Map physical units first: advzoo.data.hu_to_unit (CT in HU), "
            "advzoo.data.mr_to_unit (MR), advzoo.data.to_unit(x, lo, hi) (anything else).")


def as_batch(images, shape, what: str) -> tuple[np.ndarray, bool]:
    """`images` as a float32 numpy batch of per-sample `shape`; True if one image was given."""
    array = np.asarray(images.numpy() if hasattr(images, "numpy") else images, dtype=np.float32)
    shape = tuple(shape)
    single = array.ndim == len(shape)
    if single:
        array = array[None]
    if array.ndim != len(shape) + 1 or any(
            e is not None and g != e for g, e in zip(array.shape[1:], shape)):
        raise AdvzooError(f"{what}: expected images of shape {shape} or a batch (N, "
                          f"{', '.join(str(s) for s in shape)}), got {tuple(np.shape(images))}")
    if len(array) == 0:
        raise AdvzooError(f"{what}: got an empty batch")
    return array, single


class TranslationMixin:
    """Mixed into an `AdversarialModel` whose `inference_model()` maps images to images."""

    def translation_network(self, **kwargs) -> keras.Model:
        """The network `translate` runs; families with several directions take a keyword."""
        if kwargs:
            raise AdvzooError(f"{type(self).__name__}.translate takes no options "
                              f"{sorted(kwargs)}")
        return self.inference_model()

    def translate(self, images, batch_size: int = 32, check_range: bool = True,
                  **kwargs) -> np.ndarray:
        """Translate `images` (numpy or tensor, (N, *shape) or one image) with the trained network.

        Inputs must be scaled to [-1, 1] (as every `advzoo.data` dataset is); the output is in the
        target's scaled units (invert with e.g. `advzoo.data.unit_to_hu`). Returns float32 numpy
        of the same batch layout as the input.
        """
        network = self.translation_network(**kwargs)
        if not isinstance(batch_size, int) or batch_size < 1:
            raise AdvzooError(f"batch_size must be a positive int, got {batch_size!r}")
        inputs = network.inputs
        if len(inputs) != 1:
            raise AdvzooError(f"{type(self).__name__}.translate needs one input; this translator "
                              f"takes {len(inputs)}: call its network directly")
        what = f"{type(self).__name__}.translate"
        array, single = as_batch(images, inputs[0].shape[1:], what)
        if check_range:
            check_unit_range(array, f"{what} inputs")
        outputs = [np.asarray(keras.ops.convert_to_numpy(
            network(array[i:i + batch_size], training=False)), np.float32)
            for i in range(0, len(array), batch_size)]
        out = np.concatenate(outputs)
        return out[0] if single else out

    # -- image quality in evaluate --------------------------------------------------------------

    def add_image_metrics(self, prefix: str = "") -> None:
        """Add PSNR, SSIM and MAE trackers (call after `players_ready()`)."""
        from advzoo.metrics.keras_metrics import PSNR, SSIM

        self._image_metric_prefix = prefix
        self.trackers.update({
            f"{prefix}psnr": PSNR(data_range=2.0, name=f"{prefix}psnr"),
            f"{prefix}ssim": SSIM(data_range=2.0, name=f"{prefix}ssim"),
            f"{prefix}mae": keras.metrics.MeanAbsoluteError(name=f"{prefix}mae")})

    def record_images(self, target, output, prefix: str | None = None) -> None:
        """Update the image trackers with one batch of (target, translated) images."""
        prefix = getattr(self, "_image_metric_prefix", "") if prefix is None else prefix
        target, output = tf.cast(target, tf.float32), tf.cast(output, tf.float32)
        for name in IMAGE_METRICS:
            self.trackers[f"{prefix}{name}"].update_state(target, output)
