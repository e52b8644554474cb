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
