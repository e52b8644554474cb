"""MultiWorkerMirroredStrategy with two real worker processes on localhost.

One cluster run (tests/multiworker_job.py in two processes with TF_CONFIG) trains gan and
pix2pix on each worker's share of the global batches; the test process trains the same models
from the same initial weights on the whole global batches, on one device. Every step's logs and
the final weights must agree (the families average their gradients over the global batch), and
BackupAndRestore and a chief-only checkpoint must work under the strategy.
"""
import json
import os
import pickle
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import multiworker_job as job
from advzoo.errors import AdvzooError, UnknownNameError
from advzoo.training.distribute import (distribute_dataset, is_chief, save_on_chief,
                                        strategy_from_name, task_dir, task_from_tf_config)

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 2
TIMEOUT = 300  # seconds for the whole cluster run: a hang fails the test instead of blocking


def assert_close(actual, expected, what):
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-6, err_msg=what)


def free_ports(n: int) -> list[int]:
    """n distinct free ports (bound together to port 0, then released for the workers)."""
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("localhost", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def start_workers(out: Path) -> list[subprocess.Popen]:
    cluster = {"worker": [f"localhost:{port}" for port in free_ports(WORKERS)]}
    procs = []
    for index in range(WORKERS):
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "2",
               "KERAS_BACKEND": "tensorflow",
               "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               "TF_CONFIG": json.dumps({"cluster": cluster,
                                        "task": {"type": "worker", "index": index}})}
        log = open(out / f"worker-{index}.log", "w")
        procs.append(subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "multiworker_job.py"), str(out)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        log.close()
    return procs


def wait_for(procs: list[subprocess.Popen], out: Path, timeout: float) -> None:
    """Until every worker exits 0; fails at the first that fails (its peers would wait for it
    forever) or at the timeout, with the workers' logs."""

    def logs():
        return "\n".join(f"--- worker {i}:\n" + (out / f"worker-{i}.log").read_text()[-3000:]
                         for i in range(len(procs)))

    deadline = time.monotonic() + timeout
    while any(p.poll() is None for p in procs):
        failed = [i for i, p in enumerate(procs) if p.poll() not in (None, 0)]
        if failed:
            pytest.fail(f"worker {failed[0]} failed\n{logs()}")
        if time.monotonic() > deadline:
            pytest.fail(f"the workers did not finish in {timeout} s\n{logs()}")
        time.sleep(0.2)
    if any(p.returncode for p in procs):
        pytest.fail(f"a worker failed\n{logs()}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """(out folder, one-process reference runs, each worker's results)."""
    import keras
    import tensorflow as tf

    out = tmp_path_factory.mktemp("multiworker")
    keras.utils.set_random_seed(0)
    for family in job.EPOCHS:
        job.build(family).save_weights(out / f"{family}-init.weights.h5")
    procs = start_workers(out)
    try:
        # the one-device runs, while the workers start
        reference = {family: job.train(family, tf.distribute.get_strategy(),
                                       out / f"{family}-init.weights.h5", evaluate=True)
                     for family in job.EPOCHS}
        wait_for(procs, out, TIMEOUT)
    finally:
        for p in procs:
            p.kill()
            p.wait(timeout=30)
    workers = []
    for index in range(WORKERS):
        with open(out / f"worker-{index}.pkl", "rb") as f:
            workers.append(pickle.load(f))
    return out, reference, workers


def assert_same_run(run, reference, what):
    assert len(run["steps"]) == len(reference["steps"]), what
    for step, (got, expected) in enumerate(zip(run["steps"], reference["steps"])):
        assert set(got) == set(expected), (what, step)
        for name in expected:
            assert_close(got[name], expected[name], f"{what}: {name} at step {step + 1}")
    assert set(run["history"]) == set(reference["history"])
    for name, values in run["history"].items():
        assert all(type(v) is float for v in values), (what, name, values)
        assert_close(values, reference["history"][name], f"{what}: History {name}")
    if "evaluate" in reference:
        assert set(run["evaluate"]) == set(reference["evaluate"])
        for name, value in run["evaluate"].items():
            assert type(value) is float, (what, name, value)
            assert_close(value, reference["evaluate"][name], f"{what}: evaluate {name}")
    assert len(run["weights"]) == len(reference["weights"])
    for i, (got, expected) in enumerate(zip(run["weights"], reference["weights"])):
        assert_close(got, expected, f"{what}: weight {i}")


@pytest.mark.parametrize("family, steps", [("gan", 4), ("pix2pix", 3)])
def test_two_workers_match_one_process_step_by_step(cluster, family, steps):
    _, reference, workers = cluster
    assert len(reference[family]["steps"]) == steps
    for index, results in enumerate(workers):
        assert_same_run(results[family], reference[family], f"{family} on worker {index}")


def test_each_global_batch_is_split_over_the_workers(cluster):
    _, _, workers = cluster
    global_batches = [b.numpy() for b in job.examples("gan").batch(job.GLOBAL_BATCH)]
    assert [len(w["shards"]) for w in workers] == [len(global_batches)] * WORKERS
    for step, expected in enumerate(global_batches):
        shards = [w["shards"][step] for w in workers]
        assert [len(s) for s in shards] == [1] * WORKERS  # one replica per worker
        assert [s[0].shape[0] for s in shards] == [job.GLOBAL_BATCH // WORKERS] * WORKERS
        np.testing.assert_array_equal(np.concatenate([s[0] for s in shards]), expected)


def test_backup_and_restore_resumes_under_the_strategy(cluster):
    out, reference, workers = cluster
    folders = set()
    for index, results in enumerate(workers):
        folder, files = results["backup_files"]
        # each worker backs up into its own folder after the interrupted first epoch
        assert Path(folder) == out / "backup" / f"worker-{index}"
        assert {"latest.weights.h5", "training_metadata.json"} <= set(files), files
        folders.add(folder)
        resumed = results["resumed"]
        # the resumed fit restored the first epoch's weights and ran the second epoch only
        assert all(len(v) == 1 for v in resumed["history"].values()), resumed["history"]
        assert len(resumed["steps"]) == 2
        assert_same_run(resumed, {"steps": reference["gan"]["steps"][2:],
                                  "history": {k: v[1:] for k, v in
                                              reference["gan"]["history"].items()},
                                  "weights": reference["gan"]["weights"]},
                        f"resumed gan on worker {index}")
        assert not results["backup_left"]  # removed at the end of the completed fit
    assert len(folders) == WORKERS


def test_chief_only_checkpoint_is_written_once(cluster):
    import keras

    out, _, workers = cluster
    assert [w["wrote_checkpoint"] for w in workers] == [True, False]
    assert sorted(os.listdir(out / "checkpoints")) == ["pix2pix.keras"]
    loaded = keras.saving.load_model(out / "checkpoints" / "pix2pix.keras")
    for got, expected in zip(loaded.get_weights(), workers[0]["pix2pix"]["weights"]):
        np.testing.assert_array_equal(got, expected)


# -- the helpers of advzoo.training.distribute, in this process ---------------------------------

def test_strategy_from_name():
    import tensorflow as tf

    assert strategy_from_name("default") is tf.distribute.get_strategy()
    assert isinstance(strategy_from_name("mirrored"), tf.distribute.MirroredStrategy)
    with pytest.raises(UnknownNameError, match=r"Unknown strategy 'mirored'\. Did you mean "
                                               r"'mirrored'.*Expected one of: default, mirrored, "
                                               r"multiworker\."):
        strategy_from_name("mirored")


def _config(task_type, index, chief=False):
    cluster = {"worker": ["localhost:1", "localhost:2"], **({"chief": ["localhost:3"]}
                                                            if chief else {})}
    return json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})


@pytest.mark.parametrize("tf_config, chief", [
    ("", True),
    (_config("worker", 0), True),
    (_config("worker", 1), False),
    (_config("chief", 0, chief=True), True),
    (_config("worker", 0, chief=True), False),
    (_config("evaluator", 0), False),
])
def test_is_chief(tf_config, chief, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", tf_config)
    assert is_chief() is chief
    assert is_chief(tf_config) is chief


def test_task_dir_and_save_on_chief(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert task_from_tf_config() is None and is_chief()
    assert task_dir(tmp_path) == str(tmp_path)
    assert task_dir(tmp_path, _config("worker", 1)) == str(tmp_path / "worker-1")
    assert task_from_tf_config(_config("chief", 0, chief=True)) == ("chief", 0)
    with pytest.raises(AdvzooError, match="TF_CONFIG is not valid JSON"):
        is_chief("{cluster")

    class Saves:
        def save(self, filepath, **kwargs):
            Path(filepath).write_text("saved")

    assert not save_on_chief(Saves(), tmp_path / "a.keras", _config("worker", 1))
    assert save_on_chief(Saves(), tmp_path / "b.keras", _config("worker", 0))
    assert sorted(os.listdir(tmp_path)) == ["b.keras"]


def test_input_pipelines_share_each_global_batch():
    """2 workers x 2 replicas: worker w gives its replicas r the examples of rows 2w + r."""
    import tensorflow as tf

    from advzoo.training.distribute import _input_pipeline

    examples = tf.data.Dataset.from_tensor_slices((np.arange(18), -np.arange(18)))
    given = []
    for worker in range(2):
        context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=worker,
                                             num_replicas_in_sync=4)
        given.append([(x.numpy(), y.numpy())
                      for x, y in _input_pipeline(examples, 8, context)])
    # 2 whole global batches of 8 (the last 2 examples dropped), 2 per-replica batches a step
    assert [len(g) for g in given] == [4, 4]
    for step in range(2):
        parts = [given[w][2 * step + r] for w in range(2) for r in range(2)]
        np.testing.assert_array_equal(np.concatenate([x for x, _ in parts]),
                                      np.arange(8 * step, 8 * step + 8))
        np.testing.assert_array_equal(np.concatenate([y for _, y in parts]),
                                      -np.arange(8 * step, 8 * step + 8))


@pytest.mark.parametrize("bad", [0, 3.0, True])
def test_distribute_dataset_needs_a_whole_global_batch_size(bad):
    import tensorflow as tf

    with pytest.raises(AdvzooError, match="global_batch_size must be a positive multiple"):
        distribute_dataset(tf.data.Dataset.range(4), bad)


def test_cli_trains_with_two_workers_and_only_the_chief_writes(tmp_path):
    """`advzoo train ... --strategy multiworker`, once per worker with its TF_CONFIG, as the
    README says: both finish, the chief writes the model, its checkpoint folder is gone."""
    out = tmp_path / "run"
    cluster = {"worker": [f"localhost:{port}" for port in free_ports(WORKERS)]}
    procs = []
    try:
        for index in range(WORKERS):
            env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "2",
                   "TF_CONFIG": json.dumps({"cluster": cluster,
                                            "task": {"type": "worker", "index": index}})}
            log = open(tmp_path / f"worker-{index}.log", "w")
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "advzoo_cli", "train", "gan", "--steps", "2",
                 "--batch-size", "8", "--checkpoint-every", "1", "--strategy", "multiworker",
                 "--set", "generator_filters=8", "--set", "discriminator_filters=8",
                 "--out", str(out)], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT))
            log.close()
        wait_for(procs, tmp_path, TIMEOUT)
    finally:
        for p in procs:
            p.kill()
            p.wait(timeout=30)
    assert sorted(p.name for p in out.iterdir()) == ["history.json", "model.keras", "samples.png"]
    assert "as a worker; the chief writes" in (tmp_path / "worker-1.log").read_text()
    assert len(json.loads((out / "history.json").read_text())["g_loss"]) == 2
