"""Callbacks that drive a family's training schedule inside one `fit` call.

Both read their position in the schedule from the model's step counter (the optimizer's
`iterations`, which is saved with the weights), not from a count of their own: a `fit` resumed by
`keras.callbacks.BackupAndRestore` (or started at `initial_epoch`) continues the schedule where
the interrupted run was, and a new `fit` call starts it again at `start_step`.
"""
from __future__ import annotations

import keras


class _ScheduleStep(keras.callbacks.Callback):
    """The schedule's step: `start_step` plus the steps this run has made, counted from the
    model's (restorable) step counter."""

    def __init__(self, start_step: int = 0):
        super().__init__()
        if not isinstance(start_step, int) or start_step < 0:
            raise ValueError(f"{type(self).__name__} needs start_step >= 0, got {start_step!r}")
        self.start_step = start_step
        self.step = start_step
        self._run_start = None

    def on_train_begin(self, logs=None):
        self._run_start = None

    def on_epoch_begin(self, epoch, logs=None):
        if self._run_start is None:  # after BackupAndRestore restored the counter and the epoch
            steps = self.params.get("steps") or 0
            self._run_start = self._iterations() - epoch * steps

    def _iterations(self) -> int:
        # through numpy: under tf.distribute the counter is a mirrored variable
        return int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def schedule_step(self) -> int:
        """The schedule's step of the batch about to run (`self.step` is then the next one)."""
        if self._run_start is None:
            self.on_epoch_begin(0)
        current = self.start_step + self._iterations() - self._run_start
        self.step = current + 1
        return current


class ProgressiveGrowing(_ScheduleStep):
    """The growth schedule of progressive GANs (Karras et al. 2018, Sec. 3 and A.1).

    Training starts at the first stage; every further stage is first faded in (alpha rising
    linearly from 0 to 1 over `phase_steps` steps) and then trained stably for `phase_steps`
    steps, so a model of S stages is fully grown after (2S - 1) * `phase_steps` steps and stays
    at full resolution afterwards. Before each batch the callback calls
    `model.set_growth(level, alpha)`; the model's graph reads the new values without re-tracing.

    Args:
        phase_steps: steps of each stabilisation and each fade-in phase (Karras: 800k images).
        start_step: step of the schedule the first batch is at (to resume a schedule).
    """

    def __init__(self, phase_steps: int, start_step: int = 0):
        super().__init__(start_step)
        if not isinstance(phase_steps, int) or phase_steps < 1:
            raise ValueError(f"ProgressiveGrowing needs phase_steps >= 1, got {phase_steps!r}")
        self.phase_steps = phase_steps
        self.history: list[tuple[int, float]] = []  # (level, alpha) of every batch

    @staticmethod
    def growth_at(step: int, phase_steps: int, stages: int) -> tuple[int, float]:
        """(level, alpha) at `step`: phases are [stable 0], [fade 1, stable 1], ..., then final."""
        phase = step // phase_steps
        if phase == 0:
            return 0, 1.0
        level = (phase + 1) // 2
        if level > stages - 1:
            return stages - 1, 1.0
        if phase % 2:  # fading in
            return level, ((step % phase_steps) + 1) / phase_steps
        return level, 1.0

    def on_train_batch_begin(self, batch, logs=None):
        level, alpha = self.growth_at(self.schedule_step(), self.phase_steps, self.model.stages)
        self.model.set_growth(level, alpha)
        self.history.append((level, alpha))


class DomainAdaptationSchedule(_ScheduleStep):
    """The adaptation weight schedule of Ganin & Lempitsky (2015, Sec. 5.1):

        lambda_p = lambda_max * (2 / (1 + exp(-gamma * p)) - 1),   gamma = 10,

    with p in [0, 1] the training progress. The weight rises from 0 so the domain classifier's
    noisy early signal does not disturb the feature extractor, and reaches lambda_max at the end.
    Before each batch the callback calls `model.set_domain_weight(lambda_p)`.

    Args:
        total_steps: steps over which p goes from 0 to 1; None: epochs x steps of the `fit` call
            (if the data's length is unknown, p = 1 throughout, i.e. the constant lambda_max).
        lambda_max: the final weight; None takes the model's `lambda_domain`.
        gamma: steepness (Ganin: 10).
        start_step: step of the schedule the first batch is at (to resume a schedule).
    """

    def __init__(self, total_steps: int | None = None, lambda_max: float | None = None,
                 gamma: float = 10.0, start_step: int = 0):
        super().__init__(start_step)
        if total_steps is not None and (not isinstance(total_steps, int) or total_steps < 1):
            raise ValueError(f"DomainAdaptationSchedule needs total_steps >= 1 or None, "
                             f"got {total_steps!r}")
        self.total_steps = total_steps
        self.lambda_max = lambda_max
        self.gamma = float(gamma)
        self.history: list[float] = []  # lambda_p of every batch

    @staticmethod
    def weight_at(progress: float, lambda_max: float, gamma: float = 10.0) -> float:
        """lambda_max * (2 / (1 + exp(-gamma p)) - 1) for p clipped to [0, 1]."""
        import math

        p = min(1.0, max(0.0, float(progress)))
        return float(lambda_max) * (2.0 / (1.0 + math.exp(-gamma * p)) - 1.0)

    def _total(self):
        if self.total_steps is not None:
            return self.total_steps
        steps, epochs = self.params.get("steps"), self.params.get("epochs")
        return steps * epochs if steps and epochs else None

    def on_train_batch_begin(self, batch, logs=None):
        total = self._total()
        step = self.schedule_step()
        progress = 1.0 if total is None else step / max(1, total - 1)
        lambda_max = self.model.lambda_domain if self.lambda_max is None else self.lambda_max
        weight = self.weight_at(progress, lambda_max, self.gamma)
        self.model.set_domain_weight(weight)
        self.history.append(weight)


class TrainingCheckpoint(keras.callbacks.Callback):
    """Writes everything `fit` changes to `directory` at the end of every epoch, for
    `advzoo train --resume` (and `TrainingCheckpoint.restore` in Python): the players' weights,
    each player's optimizer state, the seed generators' states, image pools, schedules' counters
    (all in `model.save_weights`), and the number of finished epochs.

    In a multi-worker run only the chief writes (`advzoo.training.distribute.is_chief`); to
    resume, every worker reads the chief's `directory` (a shared folder across machines).
    A kill at any moment leaves a consistent checkpoint: the weights go to a new file, renamed
    into place, before the small state file that names them is replaced; older files go last.
    `run` (the command's options) is stored and must match on resume, so a run is never continued
    with other settings.
    """

    STATE = "checkpoint.json"

    def __init__(self, directory, run: dict):
        super().__init__()
        import pathlib

        self.directory = pathlib.Path(directory)
        self.run = run

    def on_epoch_end(self, epoch, logs=None):
        import json
        import os

        from advzoo.training.distribute import is_chief

        if not is_chief():  # in a multi-worker run one process writes: the weights are mirrored
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"epoch_{epoch + 1}.weights.h5"
        tmp = self.directory / f".{name}.tmp.weights.h5"
        self.model.save_weights(tmp)
        os.replace(tmp, self.directory / name)
        state = self.directory / f".{self.STATE}.tmp"
        state.write_text(json.dumps({"epoch": epoch + 1, "weights": name, "run": self.run}))
        os.replace(state, self.directory / self.STATE)
        for old in self.directory.glob("epoch_*.weights.h5"):
            if old.name != name:
                old.unlink()

    @classmethod
    def restore(cls, model, directory, run: dict) -> int:
        """Load the checkpoint in `directory` into the compiled `model`; return the number of
        finished epochs (`fit(initial_epoch=...)`). Raises if there is none or `run` differs."""
        import json
        import pathlib

        from advzoo.errors import AdvzooError

        path = pathlib.Path(directory) / cls.STATE
        if not path.is_file():
            raise AdvzooError(f"nothing to resume: no checkpoint in {path.parent} (a run started "
                              "with --checkpoint-every N writes one)")
        state = json.loads(path.read_text())
        if state["run"] != run:
            changed = sorted(k for k in set(state["run"]) | set(run)
                             if state["run"].get(k) != run.get(k))
            raise AdvzooError(f"--resume continues the run in {path.parent} with the same options; "
                              f"these differ: {', '.join(changed)} (checkpoint: "
                              f"{ {k: state['run'].get(k) for k in changed} }, now: "
                              f"{ {k: run.get(k) for k in changed} })")
        model.load_weights(pathlib.Path(directory) / state["weights"])
        return int(state["epoch"])
