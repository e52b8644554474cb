"""SavedModel export of a family's inference network, servable without advzoo.

The exported signature always takes and returns float32, also for a model built under
`mixed_float16` (whose layers compute in float16 and whose default Keras export signature would
ask for float16 input): inputs are cast to the network's compute dtype inside the graph and the
outputs cast back to float32.
"""
from __future__ import annotations

import pathlib
import shutil
import tempfile

import keras
import tensorflow as tf

from advzoo.errors import AdvzooError

ENDPOINT = "serve"


def export_inference_model(model, filepath, overwrite: bool = False,
                           network: keras.Model | None = None) -> pathlib.Path:
    """Write `model.inference_model()` (or `network`) to `filepath` as a SavedModel.

    The SavedModel has one endpoint, `serve` (also the `serving_default` signature), taking the
    network's inputs as float32 tensors with a free batch axis, and free spatial axes for the
    fully convolutional (size-free) families: (None, None, None, C) in 2D, one more None in 3D.
    Load it anywhere with
    `tf.saved_model.load(path).serve(x)`.

    The folder is written beside `filepath` and renamed into place: an interrupted export leaves
    no partial SavedModel, and an existing path is only replaced with `overwrite=True`.
    """
    network = network if network is not None else model.inference_model()
    path = pathlib.Path(filepath)
    if path.exists() and not overwrite:
        raise AdvzooError(f"{path} exists; pass overwrite=True (CLI: --overwrite) to replace it.")
    specs = [tf.TensorSpec((None, *t.shape[1:]), tf.float32, name=t.name.split(":")[0])
             for t in network.inputs]
    compute_dtype = network.dtype_policy.compute_dtype

    @tf.function(input_signature=specs)
    def serve(*inputs):
        cast = [tf.cast(x, compute_dtype) for x in inputs]
        outputs = network(cast[0] if len(cast) == 1 else cast, training=False)
        return tf.nest.map_structure(lambda y: tf.cast(y, tf.float32), outputs)

    archive = keras.export.ExportArchive()
    archive.track(network)
    archive.add_endpoint(ENDPOINT, serve)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        archive.write_out(str(tmp / "saved_model"), verbose=False)
        if path.exists():
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        (tmp / "saved_model").rename(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path
