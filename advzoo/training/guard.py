"""Guards of long runs: no non-finite update ever reaches the weights, and bad input values are
refused on every batch, not only when a step is first traced.

- `NonFiniteGuard` state: `AdversarialModel.apply_update` checks each update's loss terms and
  gradients; a non-finite update is skipped (the player keeps the weights of its last finite
  step) and recorded (step, player, loss, count) in a small variable. The `NonFiniteStop`
  callback, which `AdversarialModel.fit` adds, reads it after every batch and stops training with
  an error naming the step, the player and the loss (`on_nonfinite="raise"`, the default), or
  lets up to `max_skipped_steps` such steps pass (`on_nonfinite="skip"`).
- `value_checks`: graph assertions on a batch's values (finite; images within [-1, 1]; label
  maps integer in [0, K)), whose failures `AdversarialModel.fit` turns into an `AdvzooError`
  naming the step and what was wrong.

Keras' own `TerminateOnNaN` reads only a `loss` log, which most families do not report, and it
stops after the NaN has entered the weights; these act before.
"""
from __future__ import annotations

import re
import warnings

import keras
import tensorflow as tf

from advzoo.errors import AdvzooError, check_choice
from advzoo.training.translation import RANGE_TOLERANCE  # as `translate` and `segment` allow

NONFINITE_POLICIES = ("raise", "skip")
INPUT_CHECK_MARK = "advzoo-input-check"
_EMPTY = (-1, -1, -1, 0)  # step, update id, term id, count of skipped updates


def check_policy(on_nonfinite: str, max_skipped_steps: int) -> None:
    check_choice("on_nonfinite", on_nonfinite, NONFINITE_POLICIES)
    if isinstance(max_skipped_steps, bool) or not isinstance(max_skipped_steps, int) or \
            max_skipped_steps < 0:
        raise AdvzooError(f"max_skipped_steps must be an int >= 0, got {max_skipped_steps!r}")


class NonFiniteGuard:
    """The record of skipped non-finite updates of one model (not saved with it: it describes
    the current `fit`)."""

    def __init__(self):
        self.state = tf.Variable(_EMPTY, dtype=tf.int64, trainable=False, name="nonfinite",
                                 aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        self.updates: list[tuple[str, tuple[str, ...]]] = []  # (player, term names) per id

    def reset(self) -> None:
        self.state.assign(_EMPTY)

    def update_id(self, player: str, terms: tuple[str, ...]) -> int:
        key = (player, terms)
        if key not in self.updates:
            self.updates.append(key)
        return self.updates.index(key)

    def finite(self, terms: dict, grads) -> tuple[tf.Tensor, tf.Tensor]:
        """(all finite, index of the first non-finite term: len(terms) for the gradients)."""
        flags = [tf.reduce_all(tf.math.is_finite(tf.cast(v, tf.float32))) for v in terms.values()]
        grad_flags = [tf.reduce_all(tf.math.is_finite(tf.cast(g, tf.float32)))
                      for g in grads if g is not None]
        flags.append(tf.reduce_all(tf.stack(grad_flags)) if grad_flags else tf.constant(True))
        flags = tf.stack(flags)
        ok = tf.reduce_all(flags)
        replica = tf.distribute.get_replica_context()
        if replica is not None and replica.num_replicas_in_sync > 1:
            # every replica must take the same branch: one skipped update would stall the others
            ok = replica.all_reduce("min", tf.cast(ok, tf.float32)) > 0.5
        return ok, tf.argmin(tf.cast(flags, tf.int32))

    def record(self, step, update_id: int, term) -> None:
        state = self.state
        first = tf.equal(state[3], 0)
        new = tf.stack([tf.where(first, tf.cast(step, tf.int64), state[0]),
                        tf.where(first, tf.constant(update_id, tf.int64), state[1]),
                        tf.where(first, tf.cast(term, tf.int64), state[2]), state[3] + 1])
        state.assign(new)

    def describe(self) -> tuple[int, str]:
        """(count of skipped updates, a sentence on the first one)."""
        step, update, term, count = (int(v) for v in self.state.numpy())
        if not count:
            return 0, ""
        player, terms = self.updates[update]
        what = f"loss {terms[term]!r}" if term < len(terms) else "gradients"
        return count, f"step {step}, where the {player}'s {what} became NaN or infinite"


class NonFiniteStop(keras.callbacks.Callback):
    """Stops `fit` on the first non-finite update ("raise"), or after `max_skipped_steps` of them
    ("skip"); the weights are those of the last finite update of each player."""

    def __init__(self, guard: NonFiniteGuard, policy: str = "raise", max_skipped_steps: int = 0):
        super().__init__()
        self.guard, self.policy, self.max_skipped_steps = guard, policy, max_skipped_steps
        self._warned = 0

    def on_train_begin(self, logs=None):
        self.guard.reset()
        self._warned = 0

    def on_train_batch_end(self, batch, logs=None):
        count, sentence = self.guard.describe()
        if not count:
            return
        if self.policy == "raise" or count > self.max_skipped_steps:
            self.model.stop_training = True
            limit = ("" if self.policy == "raise" else
                     f" ({count} updates skipped, more than max_skipped_steps="
                     f"{self.max_skipped_steps})")
            raise AdvzooError(
                f"training stopped at a non-finite value, {sentence}{limit}. No NaN entered the "
                "weights: each player keeps its last finite update. Check the data (NaN or "
                "inf pixels), lower the learning rates, or compile(on_nonfinite='skip', "
                "max_skipped_steps=N) to step over rare bad batches.")
        if count > self._warned:
            warnings.warn(f"advzoo: skipped {count} non-finite update(s); the first at {sentence}",
                          RuntimeWarning, stacklevel=2)
            self._warned = count


def value_checks(tensor, what: str, owner: str, values: str, step, num_classes=None):
    """`tensor` with graph assertions on its values: "finite", "image" (also within [-1, 1]),
    "unit" (also within [0, 1]: binary masks), "labels" (integer in [0, num_classes))."""
    x = tf.cast(tensor, tf.float32)
    prefix = [INPUT_CHECK_MARK, f"{owner} got {what} at step", step]
    checks = [tf.debugging.Assert(tf.reduce_all(tf.math.is_finite(x)),
                                  prefix + ["with NaN or infinite values"], summarize=1)]
    low, high = tf.reduce_min(x), tf.reduce_max(x)
    expected = None
    if values == "image":
        ok = (low >= -1.0 - RANGE_TOLERANCE) & (high <= 1.0 + RANGE_TOLERANCE)
        expected = ("in [-1, 1] like the zoo's data. Map physical units first "
                    "(advzoo.data.hu_to_unit, mr_to_unit, to_unit; uint8 images: x / 127.5 - 1)")
    elif values == "unit":
        ok = (low >= 0.0) & (high <= 1.0)
        expected = "in [0, 1] (binary masks, > 0.5 is foreground)"
    elif values == "labels":
        ok = (low >= 0.0) & (high < float(num_classes)) & tf.reduce_all(tf.equal(x, tf.round(x)))
        expected = f"integer labels in [0, {num_classes})"
    if expected is not None:
        checks.append(tf.debugging.Assert(
            ok, prefix + ["with values in [", low, ",", high, f"]; expected {expected}"],
            summarize=1))
    with tf.control_dependencies(checks):
        return tf.identity(tensor)


def input_error(error: Exception) -> AdvzooError | None:
    """The `AdvzooError` for a failed `value_checks` assertion (None for other errors)."""
    text = str(getattr(error, "message", error))
    if INPUT_CHECK_MARK not in text:
        return None
    marker = f"[{INPUT_CHECK_MARK}]"  # the assertion's own data, not a traceback line
    text = text[text.rindex(marker) + len(marker):] if marker in text else \
        text[text.rindex(INPUT_CHECK_MARK) + len(INPUT_CHECK_MARK):]
    text = text.split("\n")[0]
    text = re.sub(r"\]\s*\[", " ", text).strip(" []")
    text = re.sub(r"\s+", " ", text).replace("[ ", "[").replace(" ,", ",").replace(" ]", "]")
    text = text.replace("\\'", "'")  # TensorFlow escapes quotes in assertion messages
    return AdvzooError(text + ". (compile(check_inputs=False) turns these checks off.)")
