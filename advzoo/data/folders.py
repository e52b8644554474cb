"""Training datasets from the user's own folders of scans, for the translation (paired / unpaired)
and segmentation (labelled) families: `paired_folders`, `unpaired_folders`, `labelled_folders`
(tf.data) and `folder_arrays` (numpy, for inspection).

A folder holds files of one kind (hidden files, named '.*', are ignored; any other file is an error):
  .nii / .nii.gz   a 3D volume (X, Y, Z)                       (`readers.read_nifti`)
  .dcm             one 2D slice per file, in HU                (`readers.read_dicom`)
  a sub-folder     one DICOM series, a volume (rows, cols, slices) (`readers.read_dicom_series`)
  .png/.jpg/.jpeg/.tif/.tiff/.bmp   a 2D image (H, W, 1), or (H, W, 3) if stored in colour
  .npy             (H, W) or (H, W, C) with C in {1, 3, 4} is an image; any other 3D array, or
                   (X, Y, Z, 1), is a volume.
mode="slices": a volume gives its 2D slices along `axis` as items (H, W, 1); 2D files are items
as they are (H, W, C). mode="volumes": each volume is one item (X, Y, Z, 1); 2D files are refused.

Matching rule: files of the two folders are paired by name without extension (`case01.nii.gz`
<-> `case01.nii.gz` or `case01.png`; a DICOM sub-folder by its folder name); a name in one folder
only, or a pair whose shapes differ, is an error naming the files.

Intensities: `window` (lo, hi) in physical units (HU for CT), or a preset name of
`readers.WINDOWS`, is clipped and mapped to [-1, 1]; window=None maps each file's min..max to
[-1, 1], except PNG/JPEG/TIFF, whose dtype range (0..255, or 0..65535 for 16 bit) is mapped.
Labels are read raw and must be integers >= 0 (< num_classes when given); label images holding only
0 and 255 (or 0 and 65535), i.e. binary masks saved as 8-bit PNG, are mapped to {0, 1}.

Geometry: `image_size` resizes every item (bilinear for images, nearest for labels); `patch` takes
a random crop of that size per item and epoch (2D or 3D, items may then differ in shape);
`jitter=True` is pix2pix's random jitter (Isola et al. 2017, Sec. 6.2): resize to
image_size * 286/256, random crop back to image_size and random flip of the second spatial axis
(left-right). Crops and flips are the same for a and b (image and label). With neither
image_size nor patch all items must have the same shape.

Everything is checked when the function is called: files are decoded once into memory (kept in a
module cache keyed by path and modification time when cache=True), then served by
from_tensor_slices -> shuffle(seed) -> map(crop/jitter) -> batch -> prefetch, deterministic given
`seed` (crops use stateless random ops fed by `tf.data.Dataset.random(seed)`).
"""
from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

import numpy as np

from advzoo.data import readers
from advzoo.data.scaling import to_unit
from advzoo.errors import AdvzooError, check_choice

DICOM_EXTENSIONS = (".dcm",)
NPY_EXTENSIONS = (".npy",)
EXTENSIONS = readers.NIFTI_EXTENSIONS + DICOM_EXTENSIONS + readers.IMAGE_EXTENSIONS + NPY_EXTENSIONS
#: pix2pix's jitter: resize 256 -> 286, crop back to 256 (Isola et al. 2017, Sec. 6.2).
JITTER_SCALE = 286 / 256
_CACHE: OrderedDict = OrderedDict()
_CACHE_BYTES = 1 << 30


def _few(names, k=5):
    names = list(names)
    return ", ".join(repr(n) for n in names[:k]) + (f" and {len(names) - k} more" if len(names) > k else "")


def _ext(p: Path):
    low = p.name.lower()
    return next((e for e in EXTENSIONS if low.endswith(e)), None)


def _scan(directory, what) -> dict:
    """Supported entries of a folder: {name without extension: path}, sorted by name."""
    d = Path(os.fspath(directory))
    if not d.is_dir():
        raise AdvzooError(f"{what}: '{d}' is not a folder" + ("" if d.exists() else " (no such path)"))
    found, bad = {}, []
    for p in sorted(d.iterdir()):
        if p.name.startswith("."):
            continue
        ext = "" if p.is_dir() else _ext(p)
        if ext is None:
            bad.append(p.name)
            continue
        stem = p.name[:len(p.name) - len(ext)]
        if stem in found:
            raise AdvzooError(f"{what}: '{found[stem].name}' and '{p.name}' in '{d}' share the name {stem!r}")
        found[stem] = p
    accepted = f"accepted extensions: {', '.join(EXTENSIONS)}, or sub-folders each holding one DICOM series"
    if not found:
        held = f"it holds only {_few(bad)}" if bad else "it is empty"
        raise AdvzooError(f"{what}: no supported files in folder '{d}' ({held}); {accepted}")
    if bad:
        raise AdvzooError(f"{what}: '{d / bad[0]}' is not an image file ({len(bad)} such in '{d}': "
                          f"{_few(bad)}); {accepted}")
    return found


def _npy(p: Path):
    try:
        x = np.load(p, allow_pickle=False)
    except Exception as err:
        raise AdvzooError(f"'{p}' is not a readable .npy array: {err}") from err
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "biuf":
        raise AdvzooError(f"'{p}' does not hold a numeric array")
    x = x.astype(np.float32)
    if x.ndim == 2 or (x.ndim == 3 and x.shape[-1] in (1, 3, 4)):
        return (x[..., None] if x.ndim == 2 else x), False, None
    if x.ndim == 3 or (x.ndim == 4 and x.shape[-1] == 1):
        return x.reshape(x.shape[:3]), True, None
    raise AdvzooError(f"'{p}' holds an array of shape {x.shape}; expected (H, W), (H, W, C) or (X, Y, Z[, 1])")


def _image(p: Path, label: bool):
    from PIL import Image

    try:
        with Image.open(p) as im:
            mode = im.mode
            if label and mode == "P":  # palette image: the indices are the labels
                return np.asarray(im, np.float32)[..., None], False, None
    except Exception as err:
        raise AdvzooError(f"'{p}' is not an image file: {err}") from err
    white = 65535.0 if mode in ("I;16", "I;16B", "I;16L", "I") else 255.0
    gray = label or mode in ("1", "L", "LA", "I;16", "I;16B", "I;16L", "I", "F")
    return readers.read_image(p, "grayscale" if gray else "rgb") * white, False, white


def _decode(p: Path, label: bool):
    """-> (raw float32: (H, W, C) for a 2D file or (X, Y, Z) for a volume, is_volume, white level
    of an 8/16-bit image file or None)."""
    ext = "" if p.is_dir() else _ext(p)
    try:
        if ext == "":
            vol, _, _ = readers.read_dicom_series(p)
            return np.moveaxis(vol, 0, -1), True, None
        if ext in readers.NIFTI_EXTENSIONS:
            return readers.read_nifti(p)[0], True, None
        if ext in DICOM_EXTENSIONS:
            return readers.read_dicom(p)[0][..., None], False, None
        return _npy(p) if ext in NPY_EXTENSIONS else _image(p, label)
    except AdvzooError:
        raise
    except (ValueError, OSError) as err:
        msg = str(err)
        raise AdvzooError(msg if p.name in msg else f"cannot read '{p}': {msg}") from err


def _read(p: Path, label: bool, cache: bool):
    stat = lambda q: (q.name, q.stat().st_mtime_ns, q.stat().st_size)  # noqa: E731
    stamp = tuple(stat(q) for q in sorted(p.iterdir())) if p.is_dir() else stat(p)
    key = (str(p.resolve()), label, stamp)
    if cache and key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    out = _decode(p, label)
    if cache:
        out[0].setflags(write=False)
        _CACHE[key] = out
        while len(_CACHE) > 1 and sum(v[0].nbytes for v in _CACHE.values()) > _CACHE_BYTES:
            _CACHE.popitem(last=False)
    return out


def _labels(x, white, p: Path, num_classes):
    bad = x != np.rint(x)  # also true for NaN
    if bad.any():
        raise AdvzooError(f"label file '{p}' has non-integer values (e.g. {x[bad].flat[0]}); labels must be "
                          f"integer class indices")
    if white is not None and x.max() == white and np.isin(x, (0.0, white)).all():
        x = x / white  # binary mask saved as 0/255 (or 0/65535)
    lo, hi = float(x.min()), float(x.max())
    if lo < 0:
        raise AdvzooError(f"label file '{p}' has negative values (min {lo:g}, max {hi:g}); labels must be >= 0")
    if num_classes is not None and hi >= num_classes:
        raise AdvzooError(f"label file '{p}' has values in [{lo:g}, {hi:g}], outside [0, {num_classes}) "
                          f"for num_classes={num_classes}")
    return x


def _load(directory, what, mode, axis, window=None, label=False, num_classes=None, cache=True):
    """{stem: (path, spatial shape, items, item names)} of a folder, scaled (images) or checked (labels)."""
    out, channels = {}, None
    for stem, p in _scan(directory, what).items():
        x, is_volume, white = _read(p, label, cache)
        if label:
            x = _labels(x, white, p, num_classes)
        elif window is not None:
            x = readers._normalize(x, window, None)
        elif white is not None:
            x = to_unit(x, 0.0, white)
        else:
            x = readers._normalize(x, None, "minmax")
        if is_volume and mode == "volumes":
            items, names = [x[..., None]], [p.name]
        elif is_volume:
            slices = np.moveaxis(x, axis, 0)
            items, names = [s[..., None] for s in slices], [f"{p.name}[{i}]" for i in range(len(slices))]
        elif mode == "volumes":
            raise AdvzooError(f"'{p}' is a 2D image of shape {x.shape}; mode='volumes' needs 3D volumes")
        else:
            items, names = [x], [p.name]
        if label and items[0].shape[-1] != 1:
            raise AdvzooError(f"label file '{p}' has {items[0].shape[-1]} channels; label maps need one")
        if channels is not None and items[0].shape[-1] != channels[0]:
            raise AdvzooError(f"{what}: '{channels[1]}' has {channels[0]} channel(s) but '{p}' has "
                              f"{items[0].shape[-1]}; a folder must hold one channel count")
        channels = channels or (items[0].shape[-1], p)
        out[stem] = (p, x.shape if is_volume else x.shape[:2], items, names)
    return out


def _match(a: dict, b: dict, what_a: str, what_b: str):
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    if only_a or only_b:
        raise AdvzooError(f"files are matched by name without extension, but {what_a} has unmatched "
                          f"{_few(only_a) or 'none'} and {what_b} has unmatched {_few(only_b) or 'none'}")
    for stem in a:
        (pa, sa, _, _), (pb, sb, _, _) = a[stem], b[stem]
        if tuple(sa) != tuple(sb):
            raise AdvzooError(f"'{pa}' has shape {tuple(sa)} but its match '{pb}' has shape {tuple(sb)}")
    cols = [[x for s in a for x in a[s][2]], [x for s in a for x in b[s][2]]]
    return cols, [n for s in a for n in a[s][3]]


def _size(size, rank, what):
    if size is None:
        return None
    t = (int(size),) * rank if np.isscalar(size) else tuple(int(s) for s in size)
    if len(t) != rank or min(t) < 1:
        raise AdvzooError(f"{what} must be a positive int or {rank} ints for {rank}D items, got {size!r}")
    return t


def _resize(x, size, label):
    if tuple(x.shape[:-1]) == size:
        return x
    if label:  # nearest neighbour, exact on integer maps
        idx = [np.minimum(((np.arange(t) + 0.5) * s / t).astype(int), s - 1) for s, t in zip(x.shape, size)]
        return x[np.ix_(*idx)]
    return np.clip(readers._fit_size(x, size, "interpolate", len(size)), -1.0, 1.0)


def _geometry(cols, names, is_label, image_size, patch, jitter):
    """Resize, check shapes, zero-pad to a common shape -> (stacked columns, valid shapes, crops)."""
    rank = cols[0][0].ndim - 1
    image_size, patch = _size(image_size, rank, "image_size"), _size(patch, rank, "patch")
    shapes = [tuple(x.shape[:-1]) for x in cols[0]]
    if jitter and image_size is None and len(set(shapes)) == 1:
        image_size = shapes[0]
    crops = []
    if image_size is not None:
        target = tuple(int(round(s * JITTER_SCALE)) for s in image_size) if jitter else image_size
        cols = [[_resize(x, target, lab) for x in col] for col, lab in zip(cols, is_label)]
        shapes = [target] * len(cols[0])
        crops = [(image_size, True)] if jitter else []
    if len(set(shapes)) > 1 and patch is None:
        j = next(i for i, s in enumerate(shapes) if s != shapes[0])
        raise AdvzooError(f"items differ in shape: '{names[0]}' is {shapes[0]} but '{names[j]}' is {shapes[j]}; "
                          f"pass image_size=... to resize them or patch=... to crop them")
    if patch is not None:
        for s, n in zip([image_size] if jitter else shapes, names):
            if any(p > d for p, d in zip(patch, s)):
                raise AdvzooError(f"patch {patch} is larger than '{n}' of shape {s}")
        crops.append((patch, False))
    top = tuple(np.max(shapes, axis=0))
    pad = lambda x: np.pad(x, [(0, t - d) for t, d in zip(top, x.shape)] + [(0, 0)])  # noqa: E731
    arrays = [np.stack([pad(x) for x in col]) for col in cols]
    arrays = [a.astype(np.int32) if lab else a.astype(np.float32) for a, lab in zip(arrays, is_label)]
    return tuple(arrays), np.asarray(shapes, np.int32), crops


def _pipeline(arrays, shapes, crops, shuffle, seed):
    """Unbatched tf.data of tuples: (shuffle) -> random crops/flips shared by the tuple's members."""
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((arrays, shapes))
    if shuffle:
        ds = ds.shuffle(len(shapes), seed=seed, reshuffle_each_iteration=True)
    if not crops:
        return ds.map(lambda xs, valid: xs)

    def augment(item, r):
        xs, valid = list(item[0]), item[1]
        for k, (size, flip) in enumerate(crops):
            room = valid - tf.constant(size, tf.int32) + 1
            u = tf.random.stateless_uniform([len(size)], seed=tf.stack([r, tf.constant(2 * k, tf.int64)]))
            off = tf.minimum(tf.cast(u * tf.cast(room, tf.float32), tf.int32), room - 1)
            begin = tf.concat([off, [0]], 0)
            xs = [tf.slice(x, begin, list(size) + [x.shape[-1]]) for x in xs]
            if flip:
                coin = tf.random.stateless_uniform([], seed=tf.stack([r, tf.constant(2 * k + 1, tf.int64)])) < 0.5
                xs = [tf.cond(coin, lambda x=x: tf.reverse(x, [1]), lambda x=x: x) for x in xs]
            valid = tf.constant(size, tf.int32)
        return tuple(xs)

    rnd = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    return tf.data.Dataset.zip((ds, rnd)).map(augment, num_parallel_calls=tf.data.AUTOTUNE)


def _finish(ds, batch_size):
    import tensorflow as tf

    return (ds if batch_size is None else ds.batch(int(batch_size))).prefetch(tf.data.AUTOTUNE)


def _check(mode, axis, batch_size, *windows):
    check_choice("mode", mode, ("slices", "volumes"))
    if not isinstance(axis, (int, np.integer)) or not -3 <= axis <= 2:
        raise AdvzooError(f"axis must be an int in -3..2, got {axis!r}")
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer)) or batch_size < 1):
        raise AdvzooError(f"batch_size must be a positive int or None, got {batch_size!r}")
    for w in windows:
        try:
            None if w is None else readers.window_range(w)
        except ValueError as err:
            raise AdvzooError(str(err)) from None


def paired_folders(dir_a, dir_b, *, image_size=None, patch=None, mode="slices", axis=-1, window_a=None,
                   window_b=None, batch_size=None, shuffle=True, jitter=False, cache=True, seed=0):
    """Aligned (a, b) pairs (pix2pix, SRGAN...) from two folders whose files match by name.

    Yields (a, b) float32 in [-1, 1], each (H, W, C) in mode="slices" or (X, Y, Z, 1) in
    mode="volumes" (batched with a leading axis when batch_size is given); shapes are image_size,
    then patch when given. Crops and the flip of `jitter` (pix2pix, Isola et al. 2017, Sec. 6.2)
    are identical for a and b. `window_a` / `window_b` scale each side (see the module docstring).
    """
    _check(mode, axis, batch_size, window_a, window_b)
    a = _load(dir_a, "dir_a", mode, axis, window_a, cache=cache)
    b = _load(dir_b, "dir_b", mode, axis, window_b, cache=cache)
    cols, names = _match(a, b, f"dir_a '{dir_a}'", f"dir_b '{dir_b}'")
    arrays, shapes, crops = _geometry(cols, names, (False, False), image_size, patch, jitter)
    return _finish(_pipeline(arrays, shapes, crops, shuffle, seed), batch_size)


def unpaired_folders(dir_a, dir_b, *, image_size=None, patch=None, mode="slices", axis=-1, window_a=None,
                     window_b=None, batch_size=None, shuffle=True, jitter=False, cache=True, seed=0):
    """Unaligned (a, b) (CycleGAN, SimGAN...): the folders need not match in names or counts.

    Same options and output shapes as `paired_folders`, but b is shuffled (seed + 1), cropped and
    jittered independently of a; one epoch has max(len(a), len(b)) pairs, the shorter side being
    cycled (and reshuffled). The two folders may differ in channels and, without image_size/patch,
    in item shape.
    """
    _check(mode, axis, batch_size, window_a, window_b)
    sides = []
    for k, (d, w, what) in enumerate(((dir_a, window_a, "dir_a"), (dir_b, window_b, "dir_b"))):
        items = _load(d, what, mode, axis, w, cache=cache)
        cols = [[x for s in items for x in items[s][2]]]
        arrays, shapes, crops = _geometry(cols, [n for s in items for n in items[s][3]], (False,),
                                          image_size, patch, jitter)
        sides.append((_pipeline(arrays, shapes, crops, shuffle, seed + k), len(shapes)))
    (da, na), (db, nb) = sides
    da, db = (da.repeat(), db) if na < nb else (da, db.repeat() if nb < na else db)
    import tensorflow as tf

    return _finish(tf.data.Dataset.zip((da, db)).map(lambda a, b: (a[0], b[0])), batch_size)


def labelled_folders(images_dir, labels_dir, *, num_classes=None, image_size=None, patch=None, mode="slices",
                     axis=-1, window=None, batch_size=None, shuffle=True, jitter=False, cache=True, seed=0):
    """(image, label map) pairs for the segmentation families, matched by name like `paired_folders`.

    Yields image float32 in [-1, 1] (H, W, C) / (X, Y, Z, 1) and label int32 (H, W, 1) /
    (X, Y, Z, 1). Labels must be integer-valued and >= 0, and < num_classes when given (else an
    error naming the file); 0/255 binary PNG masks become {0, 1}. Labels are resized with nearest
    neighbour and cropped/flipped exactly as their image.
    """
    _check(mode, axis, batch_size, window)
    if num_classes is not None and (not isinstance(num_classes, (int, np.integer)) or num_classes < 1):
        raise AdvzooError(f"num_classes must be a positive int or None, got {num_classes!r}")
    images = _load(images_dir, "images_dir", mode, axis, window, cache=cache)
    labels = _load(labels_dir, "labels_dir", mode, axis, label=True, num_classes=num_classes, cache=cache)
    cols, names = _match(images, labels, f"images_dir '{images_dir}'", f"labels_dir '{labels_dir}'")
    arrays, shapes, crops = _geometry(cols, names, (False, True), image_size, patch, jitter)
    return _finish(_pipeline(arrays, shapes, crops, shuffle, seed), batch_size)


def folder_arrays(directory, *, mode="slices", axis=-1, window=None):
    """The items of one folder as numpy, for inspection: (float32 (N, H, W, C) or (N, X, Y, Z, 1) in
    [-1, 1], names) with one name per item: the file name, plus `[i]` for slice i of a volume."""
    _check(mode, axis, None, window)
    items = _load(directory, "directory", mode, axis, window)
    cols = [[x for s in items for x in items[s][2]]]
    arrays, _, _ = _geometry(cols, [n for s in items for n in items[s][3]], (False,), None, None, False)
    return arrays[0], [n for s in items for n in items[s][3]]
