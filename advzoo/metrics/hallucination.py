"""Checks of what an image translator invents or hides (review Sec. 6).

- `hallucination_report` (Cohen et al. 2018, "Distribution matching losses can hallucinate
  features in medical image translation"): translate source images that carry known lesions and
  lesion-free ones; measure how much of each lesion's contrast against the surrounding organ
  survives in the output (relative to the same contrast in the true target image), and whether
  lesion-like blobs appear in the organ of lesion-free images.
- `hidden_information_report` (Chu et al. 2017, "CycleGAN, a master of steganography"): a
  CycleGAN can hide the source's details in a low-amplitude, high-frequency signal of the
  intermediate image G_AB(a) so that G_BA can restore them. Then the cycle reconstruction is
  far more sensitive to small noise added to G_AB(a) than to the same noise added to a.

Both accept any translator: an advzoo model with `translate()` (cyclegan, pix2pix, ...), a
`keras.Model`, or a callable on numpy batches in [-1, 1].
"""
from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from advzoo.errors import AdvzooError


def _network_call(network, batch_size: int):
    def run(x):
        import keras

        return np.concatenate([np.asarray(keras.ops.convert_to_numpy(
            network(x[i:i + batch_size], training=False)), np.float32)
            for i in range(0, len(x), batch_size)])
    return run


def as_translator(model, direction: str | None = None, batch_size: int = 32):
    """A function numpy batch -> numpy batch for an advzoo model (its `translate`, with
    `direction` for two-way models), a `keras.Model`, or any callable."""
    import keras

    if hasattr(model, "translate"):
        kwargs = {} if direction is None else {"direction": direction}
        return lambda x: np.asarray(model.translate(x, batch_size=batch_size, **kwargs), np.float32)
    if direction is not None:
        raise AdvzooError(f"direction={direction!r} needs a model with translate(direction=...), "
                          f"got {type(model).__name__}")
    if isinstance(model, keras.Model):
        return _network_call(model, batch_size)
    if callable(model):
        return lambda x: np.asarray(model(x), np.float32)
    raise AdvzooError(f"expected a translator (a model with translate(), a keras.Model or a "
                      f"callable), got {type(model).__name__}")


def _input_shape(model, direction):
    """The per-sample input shape of a translator, when it can be read; else None."""
    network = None
    if hasattr(model, "translation_network"):
        network = model.translation_network(**({} if direction is None else
                                                {"direction": direction}))
    elif hasattr(model, "inference_model"):
        network = model.inference_model()
    elif hasattr(model, "inputs"):
        network = model
    try:
        return tuple(int(s) for s in network.inputs[0].shape[1:])
    except (AttributeError, TypeError, IndexError):
        return None


def _spatial_axes(array):
    return tuple(range(1, array.ndim - 1))


def hallucination_report(model, sources=None, targets=None, masks=None, organ_masks=None, *,
                         direction: str | None = None, n: int = 64, split: str = "test",
                         seed: int = 0, ring_pixels: int = 2, threshold: float | None = None,
                         min_blob_pixels: int | None = None, batch_size: int = 32) -> dict:
    """Lesion contrast kept and lesions invented by a translator (Cohen et al. 2018).

    Args:
        model: the translator (see `as_translator`); `direction` for two-way models.
        sources, targets: (N, ..., C) source images and the true target images, in [-1, 1].
            Default: `advzoo.data.lesion_pairs_arrays(split, n, size, seed=seed)`, MR -> CT at the
            model's input size, half of the subjects with liver lesions.
        masks: (N, ..., 1) lesion masks (empty for lesion-free images).
        organ_masks: (N, ..., 1) the organ the lesions lie in (lesions included).
        ring_pixels: width of the band of organ around a lesion its contrast is measured against.
        threshold: smallest |output - target| (after a 3-pixel box filter) that counts as a blob;
            default half the median |lesion contrast| of the true targets.
        min_blob_pixels: smallest blob (connected pixels) that counts as an invented lesion;
            default half the median lesion area, at least 3.

    Returns:
        dict(lesion_contrast_kept: sum over lesions of the output's lesion-vs-surround contrast
        over the same sum in the true targets (1: kept, 0: erased, < 0: inverted);
        lesions_kept: fraction of lesions whose own ratio is >= 0.5;
        lesion_contrast_truth, lesion_contrast_output: mean contrasts (target units);
        invented_fraction: fraction of lesion-free images with at least one blob in the organ
        (eroded by one pixel) where the output departs from the truth by more than `threshold`;
        invented_blobs_per_image, false_positive_area: mean blobs and blob pixels / organ pixels
        over lesion-free images; threshold, min_blob_pixels, lesion_images, lesion_free_images).
    """
    if sources is None:
        from advzoo import data as zoo_data

        shape = _input_shape(model, direction)
        if shape is not None and (len(shape) != 3 or shape[0] != shape[1] or
                                  shape[-1] not in (1, 2)):
            raise AdvzooError(f"the built-in lesion pairs are square 2D MR slices with 1-2 "
                              f"channels; the translator takes {shape}: pass sources, targets, "
                              "masks and organ_masks")
        size = 32 if shape is None else shape[0]
        arr = zoo_data.lesion_pairs_arrays(split, n=n, size=size, seed=seed,
                                           contrast="t1" if shape is None or shape[-1] == 1
                                           else "both")
        sources, targets = zoo_data.mr_to_unit(arr["mr"]), zoo_data.hu_to_unit(arr["ct"])
        masks = arr["masks"]
        organ_masks = arr["organ_labels"] == zoo_data.CT_LABELS.index("liver")
    elif targets is None or masks is None or organ_masks is None:
        raise AdvzooError("with your own sources, pass targets, masks and organ_masks too")
    sources = np.asarray(sources, np.float32)
    targets = np.asarray(targets, np.float32)
    masks = np.asarray(masks) > 0.5
    organ = np.asarray(organ_masks) > 0.5
    if not (len(sources) == len(targets) == len(masks) == len(organ)) or \
            targets.shape[:-1] != masks.shape[:-1] or masks.shape != organ.shape:
        raise AdvzooError(f"sources {sources.shape}, targets {targets.shape}, masks {masks.shape} "
                          f"and organ_masks {organ.shape} must describe the same images "
                          "(masks and organ_masks one channel)")
    outputs = as_translator(model, direction, batch_size)(sources)
    if outputs.shape != targets.shape:
        raise AdvzooError(f"the translator gave {outputs.shape} for targets of {targets.shape}")
    out, true = outputs[..., 0], targets[..., 0]  # the lesion check reads the first channel
    masks, organ = masks[..., 0], organ[..., 0]
    nd = out.ndim - 1
    ball = ndimage.generate_binary_structure(nd, 1)

    has_lesion = masks.reshape(len(masks), -1).any(axis=1)
    c_true, c_out, areas = [], [], []
    for i in np.where(has_lesion)[0]:
        ring = ndimage.binary_dilation(masks[i], ball, iterations=ring_pixels) & organ[i] & ~masks[i]
        if not ring.any():
            continue
        c_true.append(true[i][masks[i]].mean() - true[i][ring].mean())
        c_out.append(out[i][masks[i]].mean() - out[i][ring].mean())
        areas.append(int(masks[i].sum()))
    c_true, c_out = np.asarray(c_true, np.float64), np.asarray(c_out, np.float64)
    if threshold is None:
        if not len(c_true):
            raise AdvzooError("no lesion images to set the blob threshold from: pass threshold")
        threshold = 0.5 * float(np.median(np.abs(c_true)))
    if min_blob_pixels is None:
        min_blob_pixels = max(3, int(math.ceil(0.5 * np.median(areas)))) if areas else 3
    threshold, min_blob_pixels = float(threshold), int(min_blob_pixels)

    blobs, fp_area = [], []
    size = (3,) * nd
    for i in np.where(~has_lesion)[0]:
        region = ndimage.binary_erosion(organ[i], ball)
        if not region.any():
            continue
        diff = ndimage.uniform_filter(out[i].astype(np.float64) - true[i], size=size,
                                      mode="nearest")
        flagged = (np.abs(diff) > threshold) & region
        components, count = ndimage.label(flagged, ball)
        sizes = np.bincount(components.ravel(), minlength=count + 1)[1:]
        big = sizes >= min_blob_pixels
        blobs.append(int(big.sum()))
        fp_area.append(float(sizes[big].sum()) / float(region.sum()))
    blobs = np.asarray(blobs)
    ratio = c_out / np.where(np.abs(c_true) > 1e-8, c_true, np.nan)
    nan = float("nan")
    return {
        "lesion_contrast_kept": float(c_out.sum() / c_true.sum()) if len(c_true) else nan,
        "lesions_kept": float(np.nanmean(ratio >= 0.5)) if len(c_true) else nan,
        "lesion_contrast_truth": float(c_true.mean()) if len(c_true) else nan,
        "lesion_contrast_output": float(c_out.mean()) if len(c_out) else nan,
        "invented_fraction": float((blobs > 0).mean()) if len(blobs) else nan,
        "invented_blobs_per_image": float(blobs.mean()) if len(blobs) else nan,
        "false_positive_area": float(np.mean(fp_area)) if fp_area else nan,
        "threshold": threshold, "min_blob_pixels": min_blob_pixels,
        "lesion_images": int(len(c_true)), "lesion_free_images": int(len(blobs)),
    }


def _cycle_networks(model, forward, backward, batch_size):
    if forward is not None or backward is not None:
        if forward is None or backward is None:
            raise AdvzooError("pass both forward (A -> B) and backward (B -> A) translators")
    elif hasattr(model, "generator_ab") and hasattr(model, "generator_ba"):
        forward, backward = model.generator_ab, model.generator_ba
    elif isinstance(model, (tuple, list)) and len(model) == 2:
        forward, backward = model
    else:
        raise AdvzooError(f"hidden_information_report needs a two-way translator (a cyclegan, "
                          f"or forward= and backward=), got {type(model).__name__}")

    def wrap(t):
        import keras

        # the networks themselves: noisy intermediates may leave [-1, 1] by a hair
        if isinstance(t, keras.Model):
            return _network_call(t, batch_size)
        if hasattr(t, "translate") or not callable(t):
            return as_translator(t, batch_size=batch_size)
        return lambda x: np.asarray(t(x), np.float32)
    return wrap(forward), wrap(backward)


def hidden_information_report(model=None, images=None, amplitudes=(0.01, 0.02, 0.05), *,
                              forward=None, backward=None, n: int = 64, seed: int = 0,
                              batch_size: int = 32) -> dict:
    """How much the cycle reconstruction G_BA(G_AB(a)) depends on low-amplitude high-frequency
    content of the intermediate image G_AB(a) (Chu et al. 2017).

    For each amplitude e, pixel-wise zero-mean noise n = +-e (random signs, white: the highest
    frequencies carry as much as the lowest) is added once to the intermediate image and once to
    the input, and the reconstructions are compared with the clean one:

        intermediate_change = mean |G_BA(G_AB(a) + n) - G_BA(G_AB(a))|
        input_change        = mean |G_BA(G_AB(a + n)) - G_BA(G_AB(a))|

    A translator that hides the source in a faint signal of G_AB(a) has an intermediate change
    far above e (G_BA amplifies faint content: `intermediate_gain` >> 1) and far above the input
    change (`sensitivity_ratio` >> 1). For identity generators both changes equal e.

    Args:
        model: a cyclegan (its generator_ab and generator_ba), or a (forward, backward) pair;
            or give `forward` and `backward` translators.
        images: domain-A images in [-1, 1]; default the paired MR test split (n images) at a
            cyclegan's source shape.
        amplitudes: noise amplitudes in [-1, 1] units.

    Returns:
        dict(cycle_error: mean |G_BA(G_AB(a)) - a|, images, rows: one dict per amplitude with
        amplitude, intermediate_change, input_change, intermediate_gain (= change / e),
        input_gain, sensitivity_ratio (intermediate / input change), intermediate_error and
        input_error (mean |reconstruction - a| with the noise), error_growth (intermediate_error
        - cycle_error)).
    """
    f, g = _cycle_networks(model, forward, backward, batch_size)
    if images is None:
        shape = getattr(model, "source_shape", None)
        if shape is None:
            raise AdvzooError("pass images (domain A, in [-1, 1])")
        from advzoo import data as zoo_data

        arr = zoo_data.mr_slices_arrays("test", n=n, size=shape[:-1], ndim=len(shape) - 1,
                                        contrast="t1" if shape[-1] == 1 else "both",
                                        paired=True, seed=seed)
        images = zoo_data.mr_to_unit(arr["mr"])
    a = np.asarray(images, np.float32)
    amplitudes = [float(e) for e in np.atleast_1d(amplitudes)]
    if not amplitudes or any(not e > 0 for e in amplitudes):
        raise AdvzooError(f"amplitudes must be positive numbers, got {amplitudes}")
    fake = f(a)
    rec = g(fake)
    base = float(np.mean(np.abs(rec - a)))
    rng = np.random.default_rng(seed)
    rows = []
    for e in amplitudes:
        signs = rng.choice(np.array([-1.0, 1.0], np.float32), size=fake.shape)
        rec_mid = g(fake + e * signs)
        rec_in = g(f(a + e * rng.choice(np.array([-1.0, 1.0], np.float32), size=a.shape)))
        mid_change = float(np.mean(np.abs(rec_mid - rec)))
        in_change = float(np.mean(np.abs(rec_in - rec)))
        mid_error = float(np.mean(np.abs(rec_mid - a)))
        rows.append({"amplitude": e, "intermediate_change": mid_change, "input_change": in_change,
                     "intermediate_gain": mid_change / e, "input_gain": in_change / e,
                     "sensitivity_ratio": mid_change / max(in_change, 1e-12),
                     "intermediate_error": mid_error,
                     "input_error": float(np.mean(np.abs(rec_in - a))),
                     "error_growth": mid_error - base})
    return {"cycle_error": base, "images": int(len(a)), "rows": rows}
