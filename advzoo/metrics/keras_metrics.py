"""`keras.metrics.Metric` versions of PSNR, SSIM and Dice, for `compile(metrics=[...])`, `fit`
and `evaluate`. Each accumulates the per-image value and reports the mean over all images seen,
so `evaluate` gives the same figure as the numpy functions with `per_image=True` averaged.

They are registered as `advzoo>PSNR`, `advzoo>SSIM`, `advzoo>Dice` and round-trip through
`get_config` / `keras.saving`.
"""
from __future__ import annotations

import keras
from keras import ops


class _MeanOverImages(keras.metrics.Metric):
    """Running mean of one value per image (optionally weighted by sample_weight)."""

    def __init__(self, name, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def _values(self, y_true, y_pred):  # (N,) float32
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._values(ops.convert_to_tensor(y_true), ops.convert_to_tensor(y_pred))
        if sample_weight is not None:
            w = ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
            w = ops.broadcast_to(w, ops.shape(values))
            self.total.assign_add(ops.sum(values * w))
            self.count.assign_add(ops.sum(w))
        else:
            self.total.assign_add(ops.sum(values))
            self.count.assign_add(ops.cast(ops.shape(values)[0], "float32"))

    def result(self):
        return ops.divide_no_nan(self.total, self.count)


def _check_rank(x, what):
    if len(x.shape) not in (4, 5):
        raise ValueError(f"{what}: expected batches (N, H, W, C) or (N, D, H, W, C), got shape {tuple(x.shape)}")


@keras.saving.register_keras_serializable(package="advzoo")
class PSNR(_MeanOverImages):
    """Mean per-image PSNR in dB; `data_range` = max - min of the values (2.0 for [-1, 1]).
    Identical images count as 100 dB (MSE floored at data_range^2 * 1e-10)."""

    def __init__(self, data_range: float = 2.0, name: str = "psnr", dtype=None, **kwargs):
        if not float(data_range) > 0:
            raise ValueError(f"PSNR: data_range must be > 0, got {data_range!r}")
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.data_range = float(data_range)

    def _values(self, y_true, y_pred):
        y_true, y_pred = ops.cast(y_true, "float32"), ops.cast(y_pred, "float32")
        axes = list(range(1, len(y_true.shape)))
        r2 = self.data_range ** 2
        mse = ops.maximum(ops.mean(ops.square(y_true - y_pred), axis=axes), r2 * 1e-10)
        return 10.0 * ops.log(r2 / mse) / ops.log(10.0)

    def get_config(self):
        return {**super().get_config(), "data_range": self.data_range}


@keras.saving.register_keras_serializable(package="advzoo")
class SSIM(_MeanOverImages):
    """Mean per-image SSIM of 2D (N, H, W, C) or 3D (N, D, H, W, C) batches, with the
    `skimage.metrics.structural_similarity` defaults (7-wide uniform window, sample covariance,
    K1 = 0.01, K2 = 0.03), averaged over channels; `data_range` 2.0 for [-1, 1] images."""

    def __init__(self, data_range: float = 2.0, win_size: int = 7, name: str = "ssim", dtype=None, **kwargs):
        if not float(data_range) > 0:
            raise ValueError(f"SSIM: data_range must be > 0, got {data_range!r}")
        if int(win_size) != win_size or win_size < 3 or win_size % 2 == 0:
            raise ValueError(f"SSIM: win_size must be an odd int >= 3, got {win_size!r}")
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.data_range, self.win_size = float(data_range), int(win_size)

    def _values(self, y_true, y_pred):
        _check_rank(y_true, "SSIM")
        x, y = ops.cast(y_true, "float32"), ops.cast(y_pred, "float32")
        nd = len(x.shape) - 2
        pool = (self.win_size,) * nd

        def mean(t):
            return ops.average_pool(t, pool, strides=1, padding="valid")

        np_ = float(self.win_size ** nd)
        cov = np_ / (np_ - 1.0)
        ux, uy = mean(x), mean(y)
        vx = cov * (mean(x * x) - ux * ux)
        vy = cov * (mean(y * y) - uy * uy)
        vxy = cov * (mean(x * y) - ux * uy)
        c1, c2 = (0.01 * self.data_range) ** 2, (0.03 * self.data_range) ** 2
        s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
        return ops.mean(s, axis=list(range(1, nd + 2)))

    def get_config(self):
        return {**super().get_config(), "data_range": self.data_range, "win_size": self.win_size}


@keras.saving.register_keras_serializable(package="advzoo")
class Dice(_MeanOverImages):
    """Mean per-image Dice.

    Binary (num_classes=None): y_true 0/1 masks, y_pred probabilities (or logits with
    from_logits=True) thresholded at `threshold`. Multi-class (num_classes=K): y_pred
    (N, ..., K) scores, arg-maxed; y_true integer label maps (N, ..., 1) or one-hot (N, ..., K);
    the Dice of classes 1..K-1 (background excluded) is averaged. An image where a class is absent
    from both counts 1 for that class.
    """

    def __init__(self, threshold: float = 0.5, from_logits: bool = False, num_classes: int | None = None,
                 name: str = "dice", dtype=None, **kwargs):
        if num_classes is not None and int(num_classes) < 2:
            raise ValueError(f"Dice: num_classes must be >= 2 or None, got {num_classes!r}")
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.threshold, self.from_logits = float(threshold), bool(from_logits)
        self.num_classes = None if num_classes is None else int(num_classes)

    @staticmethod
    def _dice(a, b, axes):
        inter = ops.sum(a * b, axis=axes)
        total = ops.sum(a, axis=axes) + ops.sum(b, axis=axes)
        return ops.where(total > 0, 2.0 * inter / ops.maximum(total, 1e-12), 1.0)

    def _values(self, y_true, y_pred):
        axes = list(range(1, len(y_pred.shape)))
        if self.num_classes is None:
            p = ops.sigmoid(ops.cast(y_pred, "float32")) if self.from_logits else ops.cast(y_pred, "float32")
            a = ops.cast(ops.cast(y_true, "float32") > 0.5, "float32")
            b = ops.cast(p > self.threshold, "float32")
            return self._dice(a, b, axes)
        k = self.num_classes
        pred = ops.argmax(y_pred, axis=-1)
        if y_true.shape[-1] == k and k > 1:
            true = ops.argmax(y_true, axis=-1)
        else:
            true = ops.squeeze(ops.cast(y_true, "int32"), axis=-1)
        a, b = ops.one_hot(true, k), ops.one_hot(pred, k)
        per_class = self._dice(a[..., 1:], b[..., 1:], axes[:-1])  # (N, K-1)
        return ops.mean(per_class, axis=-1)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold, "from_logits": self.from_logits,
                "num_classes": self.num_classes}
