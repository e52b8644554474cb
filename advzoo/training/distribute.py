"""Training on several devices or machines with `tf.distribute`.

- `strategy_from_name("default" | "mirrored" | "multiworker")`: the strategy a model is built and
  compiled under (`with strategy.scope(): model = advzoo.build(...); model.compile(...)`);
- `is_chief()` / `task_from_tf_config()`: this process's role in a multi-worker cluster (from the
  TF_CONFIG environment variable), so only the chief writes checkpoints (`save_on_chief`);
- `task_dir(root)`: a per-task folder for state every worker writes itself, such as
  `keras.callbacks.BackupAndRestore(task_dir(root))`;
- `distribute_dataset(examples, global_batch_size)`: each replica's share of every global batch.

A multi-worker run starts the same script once per worker, each with a TF_CONFIG such as
``{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}``;
the strategy must be created at the start of the program, before other TensorFlow work.
Every family's `train_step` averages gradients over the global batch
(`AdversarialModel.apply_update`), so a run on N replicas takes the same steps as one device on
the same global batches.
"""
from __future__ import annotations

import json
import os
import pathlib

import tensorflow as tf

from advzoo.errors import AdvzooError, check_choice

STRATEGIES = ("default", "mirrored", "multiworker")


def strategy_from_name(name: str) -> tf.distribute.Strategy:
    """The `tf.distribute` strategy called `name`:

    - "default": the current strategy (one device, unless called inside another's scope);
    - "mirrored": `MirroredStrategy` over every local GPU (or the CPU), in one process;
    - "multiworker": `MultiWorkerMirroredStrategy` over the cluster in TF_CONFIG (without
      TF_CONFIG, the local devices of this process only).

    Raises `advzoo.errors.UnknownNameError` naming the valid choices for any other name.
    """
    check_choice("strategy", name, STRATEGIES)
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def is_multi_worker(strategy: tf.distribute.Strategy | None = None) -> bool:
    """True when `strategy` (default: the current one) is a MultiWorkerMirroredStrategy over more
    than one worker: the case where Keras reduces step logs with collective ops."""
    strategy = strategy or tf.distribute.get_strategy()
    # the test keras.src.backend.tensorflow.trainer makes before its collective reduction
    return (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
            and strategy.extended._in_multi_worker_mode())


def _tf_config(tf_config: str | dict | None) -> dict:
    if tf_config is None:
        tf_config = os.environ.get("TF_CONFIG", "")
    if isinstance(tf_config, dict):
        return tf_config
    if not tf_config.strip():
        return {}
    try:
        config = json.loads(tf_config)
    except json.JSONDecodeError as error:
        raise AdvzooError(f"TF_CONFIG is not valid JSON ({error}): {tf_config!r}") from None
    if not isinstance(config, dict):
        raise AdvzooError(f"TF_CONFIG must be a JSON object with 'cluster' and 'task', got "
                          f"{tf_config!r}")
    return config


def task_from_tf_config(tf_config: str | dict | None = None) -> tuple[str, int] | None:
    """(task type, task index) of this process from TF_CONFIG (or the given JSON string or
    dict); None when there is no TF_CONFIG or it names no task."""
    task = _tf_config(tf_config).get("task") or {}
    if not task.get("type"):
        return None
    try:
        return str(task["type"]), int(task.get("index", 0))
    except (TypeError, ValueError):
        raise AdvzooError(f"TF_CONFIG's task index must be an int, got {task!r}") from None


def is_chief(tf_config: str | dict | None = None) -> bool:
    """Whether this process writes a multi-worker run's checkpoints and exports: the task of
    type "chief", or worker 0 of a cluster without a chief. True without TF_CONFIG (one
    process)."""
    config = _tf_config(tf_config)
    task = task_from_tf_config(config)
    if task is None:
        return True
    kind, index = task
    if "chief" in (config.get("cluster") or {}):
        return kind == "chief"
    return kind == "worker" and index == 0


def task_dir(root, tf_config: str | dict | None = None) -> str:
    """`root` for a single process; `root/<type>-<index>` for a task of a cluster.

    For files every worker writes itself, so two processes never write (or delete) the same file:
    `keras.callbacks.BackupAndRestore(task_dir(root))` saves and restores on every worker (each
    restores the same mirrored state) and removes only its own folder at the end."""
    task = task_from_tf_config(tf_config)
    if task is None:
        return str(root)
    return str(pathlib.Path(root) / f"{task[0]}-{task[1]}")


def save_on_chief(model, filepath, tf_config: str | dict | None = None, **kwargs) -> bool:
    """`model.save(filepath, **kwargs)` on the chief only (`is_chief`); the other workers write
    nothing. Returns whether this process wrote the file (its folder is created if needed). Call
    it on every worker, outside `fit`, at the same point of the program."""
    if not is_chief(tf_config):
        return False
    pathlib.Path(filepath).parent.mkdir(parents=True, exist_ok=True)
    model.save(filepath, **kwargs)
    return True


def distribute_dataset(examples: tf.data.Dataset, global_batch_size: int,
                       strategy: tf.distribute.Strategy | None = None):
    """Batches of `examples` (an unbatched dataset) split over the replicas of `strategy`
    (default: the current one) for `model.fit`.

    Every worker batches the same `examples` in global batches of `global_batch_size` (a partial
    last batch is dropped, so each replica gets an equal share) and keeps its own contiguous
    slice, cut into its replicas' batches; the replicas' batches of a step together are exactly
    the global batch one device would see. `examples` must give the same order on every worker
    (shuffle with a fixed seed)."""
    strategy = strategy or tf.distribute.get_strategy()
    replicas = strategy.num_replicas_in_sync
    if (isinstance(global_batch_size, bool) or not isinstance(global_batch_size, int)
            or global_batch_size < 1 or global_batch_size % replicas):
        raise AdvzooError(f"global_batch_size must be a positive multiple of the {replicas} "
                          f"replicas in sync, got {global_batch_size!r}")
    return strategy.distribute_datasets_from_function(
        lambda context: _input_pipeline(examples, global_batch_size, context))


def _input_pipeline(examples: tf.data.Dataset, global_batch_size: int,
                    context: tf.distribute.InputContext) -> tf.data.Dataset:
    """The per-replica batches one input pipeline (worker) of `distribute_dataset` gives: its
    contiguous slice of every global batch, one batch per local replica in turn."""
    per_replica = context.get_per_replica_batch_size(global_batch_size)
    local = context.num_replicas_in_sync // context.num_input_pipelines
    start, size = context.input_pipeline_id * local * per_replica, local * per_replica

    def own_slice(*parts):
        part = parts[0] if len(parts) == 1 else parts
        return tf.nest.map_structure(lambda t: t[start:start + size], part)

    batches = examples.batch(global_batch_size, drop_remainder=True).map(own_slice)
    if local > 1:
        batches = batches.unbatch().batch(per_replica, drop_remainder=True)
    return batches.prefetch(tf.data.AUTOTUNE)
