"""`TranslationMixin`: what every image-to-image family (pix2pix, srgan, simgan, cyclegan, and the
segmentors of the later sections) gives its users on top of `AdversarialModel`.

- `translate(images)`: numpy arrays or tensors, one image or a batch, of any spatial size (padded
  to the networks' stride, or run in blended tiles), checked against the translator's channels
  and the zoo's [-1, 1] range before any work starts;
- `add_image_metrics()` / `record_images(target, output)`: PSNR, SSIM (data range 2 for [-1, 1])
  and MAE trackers, so `evaluate` and `fit(validation_data=...)` report image quality beside the
  losses.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from advzoo.contract import from_model_units, to_model_units
from advzoo.errors import AdvzooError, check_choice
from advzoo.networks.translation import size_multiple as network_size_multiple

VALUE_RANGE = (-1.0, 1.0)
RANGE_TOLERANCE = 1e-3
IMAGE_METRICS = ("psnr", "ssim", "mae")
UNITS = ("model", "physical")  # [-1, 1] as the networks compute, or the contract's units


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


def run_size_free(predict, array: np.ndarray, multiple: int, batch_size: int, tile=None,
                  overlap: float = 0.25, blend: str = "gaussian") -> np.ndarray:
    """`predict` (a batch -> output batch, fully convolutional of stride `multiple`) on a batch
    of any spatial size.

    Whole images: each is padded by reflection to a multiple of `multiple`, run in batches of
    `batch_size` and cropped back (an output `scale` times larger, as SRGAN's, is cropped at that
    scale). `tile`: sliding-window inference (`advzoo.inference.sliding_window`) over tiles of
    that size, `overlap` and `blend` weighting, for images larger than memory or than the field
    the model was trained on.
    """
    from advzoo.inference import crop_to, pad_to_multiple, sliding_window

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise AdvzooError(f"batch_size must be a positive int, got {batch_size!r}")
    if tile is not None:
        return sliding_window(predict, array, tile, overlap=overlap, batch_size=batch_size,
                              blend=blend, size_multiple=multiple)
    padded, before, sizes = pad_to_multiple(array, multiple)
    out = np.concatenate([np.asarray(keras.ops.convert_to_numpy(predict(padded[i:i + batch_size])),
                                     np.float32) for i in range(0, len(padded), batch_size)])
    scale = out.shape[1] // padded.shape[1]
    return crop_to(out, before, sizes, scale)


class TranslationMixin:
    """Mixed into an `AdversarialModel` whose `inference_model()` maps images to images.

    The translators are fully convolutional (`size_free`): `translate` takes any spatial size,
    padding it to `size_multiple` and cropping the output back, or in tiles (`tile=`).
    """

    size_free = True

    def translation_network(self, **kwargs) -> keras.Model:
        """The network `translate` runs; families with several directions take a keyword."""
        if kwargs:
            raise AdvzooError(f"{type(self).__name__}.translate takes no options "
                              f"{sorted(kwargs)}")
        return self.inference_model()

    def translate(self, images, batch_size: int = 32, check_range: bool = True, tile=None,
                  overlap: float = 0.25, blend: str = "gaussian", units: str = "model",
                  **kwargs) -> np.ndarray:
        """Translate `images` (numpy or tensor, (N, *shape) or one image) with the trained network.

        Inputs must be scaled to [-1, 1] (as every `advzoo.data` dataset is); the output is in the
        target's scaled units (invert with e.g. `advzoo.data.unit_to_hu`). Any spatial size is
        taken: sizes that are not a multiple of `size_multiple` are padded by reflection and the
        output cropped back; `tile` (an int or a size per axis) runs overlapping tiles blended
        with `blend` weights ("gaussian", "linear", "constant"). Returns float32 numpy of the
        same batch layout as the input. `units="physical"` takes and returns physical values
        (e.g. HU) through the model's input contract (`model.contract`, stated by each preset).
        """
        check_choice("units", units, UNITS)
        network = self.translation_network(**kwargs)
        inputs = network.inputs
        if len(inputs) != 1:
            raise AdvzooError(f"{type(self).__name__}.translate needs one input; this translator "
                              f"takes {len(inputs)}: call its network directly")
        what = f"{type(self).__name__}.translate"
        array, single = as_batch(images, inputs[0].shape[1:], what)
        if units == "physical":
            input_spec, output_spec = self.io_contract(**kwargs)
            physical, array = array, to_model_units(array, input_spec)
        if check_range:
            check_unit_range(array, f"{what} inputs")
        out = run_size_free(lambda x: network(x, training=False), array,
                            network_size_multiple(network), batch_size, tile=tile,
                            overlap=overlap, blend=blend)
        if units == "physical" and output_spec is not None:
            out = from_model_units(out, output_spec, inputs=physical)
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
