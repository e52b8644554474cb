"""Callbacks that drive a family's training schedule inside one `fit` call."""
from __future__ import annotations

import keras


class ProgressiveGrowing(keras.callbacks.Callback):
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
        super().__init__()
        if not isinstance(phase_steps, int) or phase_steps < 1:
            raise ValueError(f"ProgressiveGrowing needs phase_steps >= 1, got {phase_steps!r}")
        if not isinstance(start_step, int) or start_step < 0:
            raise ValueError(f"ProgressiveGrowing needs start_step >= 0, got {start_step!r}")
        self.phase_steps = phase_steps
        self.step = start_step
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
        level, alpha = self.growth_at(self.step, self.phase_steps, self.model.stages)
        self.model.set_growth(level, alpha)
        self.history.append((level, alpha))
        self.step += 1


class DomainAdaptationSchedule(keras.callbacks.Callback):
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
        super().__init__()
        if total_steps is not None and (not isinstance(total_steps, int) or total_steps < 1):
            raise ValueError(f"DomainAdaptationSchedule needs total_steps >= 1 or None, "
                             f"got {total_steps!r}")
        if not isinstance(start_step, int) or start_step < 0:
            raise ValueError(f"DomainAdaptationSchedule needs start_step >= 0, got {start_step!r}")
        self.total_steps = total_steps
        self.lambda_max = lambda_max
        self.gamma = float(gamma)
        self.step = start_step
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
        progress = 1.0 if total is None else self.step / max(1, total - 1)
        lambda_max = self.model.lambda_domain if self.lambda_max is None else self.lambda_max
        weight = self.weight_at(progress, lambda_max, self.gamma)
        self.model.set_domain_weight(weight)
        self.history.append(weight)
        self.step += 1
