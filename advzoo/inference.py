"""Inference on images of any size: padding to a network's stride and sliding-window tiling.

The translation, segmentation and adaptation networks are fully convolutional, so they run at any
spatial size that is a multiple of their stride (`model.size_multiple`). `pad_to_multiple` pads
other sizes by reflection and `crop_to` cuts the output back to the input's size (times an output
scale for super-resolution).
"""
from __future__ import annotations

import numpy as np

from advzoo.errors import AdvzooError, check_choice

PAD_MODES = ("reflect", "symmetric", "edge", "constant")


def pad_to_multiple(images: np.ndarray, multiple: int, mode: str = "reflect"):
    """Pad every spatial axis of a channels-last batch (N, *spatial, C) up to a multiple of
    `multiple`, half before and half after (so a centred structure stays centred).

    Returns (padded, before, sizes): the padded batch, the padding added before each spatial axis
    and the original spatial sizes, which `crop_to` takes to undo it.
    """
    if mode not in PAD_MODES:
        raise AdvzooError(f"pad mode must be one of {PAD_MODES}, got {mode!r}")
    if not isinstance(multiple, (int, np.integer)) or multiple < 1:
        raise AdvzooError(f"multiple must be a positive int, got {multiple!r}")
    images = np.asarray(images)
    sizes = tuple(int(s) for s in images.shape[1:-1])
    extra = [(-s) % int(multiple) for s in sizes]
    before = tuple(e // 2 for e in extra)
    if not any(extra):
        return images, before, sizes
    pads = [(0, 0)] + [(b, e - b) for b, e in zip(before, extra)] + [(0, 0)]
    return np.pad(images, pads, mode=mode), before, sizes


def crop_to(outputs: np.ndarray, before, sizes, scale: int = 1) -> np.ndarray:
    """Undo `pad_to_multiple` on a network's output, whose spatial sizes are `scale` times the
    padded input's (1 for translation and segmentation, the upscaling factor for SRGAN)."""
    index = (slice(None),) + tuple(slice(b * scale, (b + s) * scale)
                                   for b, s in zip(before, sizes)) + (slice(None),)
    return outputs[index]


BLENDS = ("gaussian", "constant", "linear")


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise AdvzooError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _starts(size: int, tile: int, overlap: float) -> list:
    """Tile origins along one axis: a stride of tile * (1 - overlap), the last tile shifted back
    to end at the border (as MONAI), so every tile is whole and no padding is needed."""
    stride = max(int(tile * (1.0 - overlap)), 1)
    count = -(-(size - tile) // stride) + 1
    return sorted({min(i * stride, size - tile) for i in range(count)})


def _importance(tile, blend: str, sigma_scale: float, floor: float = 1e-3) -> np.ndarray:
    """Per-pixel blending weight of one (output) tile: a product over axes of 1-D weights, each
    normalised to a maximum of 1 and clipped at `floor` (per axis, so that in a tile's corners the
    ratio between overlapping tiles still follows the axis where they differ)."""
    weight = np.ones(tile, dtype=np.float64)
    for axis, t in enumerate(tile):
        x = np.arange(t, dtype=np.float64) - (t - 1) / 2.0
        if blend == "gaussian":
            w = np.exp(-0.5 * (x / (sigma_scale * t)) ** 2)
        elif blend == "linear":
            w = 1.0 - np.abs(x) / (t / 2.0)
        else:
            w = np.ones(t)
        shape = [1] * len(tile)
        shape[axis] = t
        weight = weight * np.clip(w / w.max(), floor, None).reshape(shape)
    return weight.astype(np.float32)


def sliding_window(predict, images, tile, overlap=0.25, batch_size=8, blend="gaussian",
                   sigma_scale=0.125, size_multiple=1) -> np.ndarray:
    """Run `predict` on overlapping tiles of a batch and blend the tiled outputs into whole images.

    This follows MONAI's `sliding_window_inference` (Cardoso et al. 2022, "MONAI: An open-source
    framework for deep learning in healthcare", arXiv:2211.02701): tiles of size `tile` are laid
    with a stride of `tile * (1 - overlap)`, the last one along each axis shifted back to end at
    the image border, and the outputs of overlapping tiles are averaged with an importance map.
    The default Gaussian map (sigma = `sigma_scale` * tile size, normalised to a maximum of 1 and
    clipped at 1e-3 so no pixel gets zero weight; unlike MONAI the floor applies per axis, so a
    tile's corners keep the ratio of the axis along which tiles overlap) down-weights tile
    borders, where a fully convolutional network sees zero padding instead of the real
    neighbourhood; this removes the seams that a uniform ("constant") average leaves. "linear"
    is a tent that falls linearly to the tile edges (with the same floor).

    Args:
        predict: callable mapping a float32 batch of tiles (B, *tile, C) to (B, *tile*scale,
            C_out), numpy or tensor. The integer `scale` (1 for translation and segmentation, the
            upscaling factor for super-resolution) and C_out are read from the first batch.
        images: float batch channels-last, (N, H, W, C) or (N, D, H, W, C).
        tile: int (every spatial axis) or one int per spatial axis; a multiple of `size_multiple`.
        overlap: fraction in [0, 1) of a tile shared with its neighbour.
        batch_size: tiles per `predict` call, gathered across images and positions.
        blend: "gaussian", "constant" or "linear".
        sigma_scale: Gaussian sigma as a fraction of the tile size.
        size_multiple: the network's stride (`model.size_multiple`); tiles must be multiples of
            it, while the images need not be (tiles are always whole).

    Returns:
        float32 numpy array (N, *spatial*scale, C_out).
    """
    images = np.asarray(images)
    if images.ndim not in (4, 5):
        raise AdvzooError("images must be a channels-last batch (N, H, W, C) or (N, D, H, W, C), "
                          f"got an array of shape {images.shape} (rank {images.ndim})")
    if not np.issubdtype(images.dtype, np.number) or np.iscomplexobj(images):
        raise AdvzooError(f"images must be real numbers, got dtype {images.dtype}")
    if not callable(predict):
        raise AdvzooError(f"predict must be callable, got {type(predict).__name__}")
    size_multiple = _positive_int("size_multiple", size_multiple)
    batch_size = _positive_int("batch_size", batch_size)
    spatial = tuple(int(s) for s in images.shape[1:-1])
    tiles = (tile,) * len(spatial) if isinstance(tile, (int, np.integer)) else tile
    if not isinstance(tiles, (tuple, list)) or len(tiles) != len(spatial):
        raise AdvzooError(f"tile must be an int or a tuple of {len(spatial)} ints (one per "
                          f"spatial axis of input shape {images.shape}), got {tile!r}")
    tiles = tuple(_positive_int("tile", t) for t in tiles)
    if any(t % size_multiple for t in tiles):
        raise AdvzooError(f"tile {tiles} must be a multiple of size_multiple={size_multiple} "
                          "(the network's stride) on every axis")
    if isinstance(overlap, bool) or not isinstance(overlap, (int, float, np.floating, np.integer)) \
            or not 0.0 <= float(overlap) < 1.0:
        raise AdvzooError(f"overlap must be a fraction in [0, 1), got {overlap!r}")
    check_choice("blend", blend, BLENDS)
    if isinstance(sigma_scale, bool) or not isinstance(sigma_scale, (int, float, np.number)) \
            or not float(sigma_scale) > 0:
        raise AdvzooError(f"sigma_scale must be a positive number, got {sigma_scale!r}")
    if any(s < t for s, t in zip(spatial, tiles)):
        raise AdvzooError(f"input of spatial size {spatial} is smaller than one tile {tiles}; "
                          "use a smaller tile or no tiling")

    images = images.astype(np.float32, copy=False)
    grids = np.meshgrid(*[_starts(s, t, float(overlap)) for s, t in zip(spatial, tiles)],
                        indexing="ij")
    origins = np.stack([g.ravel() for g in grids], axis=-1)
    jobs = [(n, tuple(int(o) for o in origin)) for n in range(len(images)) for origin in origins]
    out = weights = window = None
    scale = 1
    for first in range(0, len(jobs), batch_size):
        chunk = jobs[first:first + batch_size]
        batch = np.stack([images[(n,) + tuple(slice(o, o + t) for o, t in zip(origin, tiles))]
                          for n, origin in chunk])
        pred = np.asarray(predict(batch), dtype=np.float32)
        if out is None:
            ratios = {p / t for p, t in zip(pred.shape[1:-1], tiles)}
            if pred.ndim != batch.ndim or pred.shape[0] != len(chunk) or len(ratios) != 1 \
                    or not float(next(iter(ratios))).is_integer() or next(iter(ratios)) < 1:
                raise AdvzooError(f"predict must return (B, *tile*scale, C_out) with one integer "
                                  f"scale on every axis; for tiles {batch.shape} it returned "
                                  f"{pred.shape}")
            scale = int(next(iter(ratios)))
            expected = pred.shape[1:]
            window = _importance(expected[:-1], blend, float(sigma_scale))
            out = np.zeros((len(images),) + tuple(s * scale for s in spatial) + expected[-1:],
                           dtype=np.float32)
            weights = np.zeros(tuple(s * scale for s in spatial), dtype=np.float32)
        elif pred.shape != (len(chunk),) + expected:
            raise AdvzooError(f"predict returned {pred.shape} for tiles {batch.shape}; the first "
                              f"batch gave tiles of shape {expected}")
        for (n, origin), p in zip(chunk, pred):
            region = tuple(slice(o * scale, (o + t) * scale) for o, t in zip(origin, tiles))
            out[(n,) + region] += p * window[..., None]
            if n == 0:
                weights[region] += window
    return out / weights[None, ..., None]
