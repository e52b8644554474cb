"""`AdversarialModel`: the base class of every advzoo family.

A family owns named sub-networks ("players"), one optimizer per player, and a `train_step` that
runs the updates of its paper's algorithm in order. This base class gives each family:

- `compile(optimizers={"generator": ..., "discriminator": ...})` with the objective's paper
  defaults for the players left out, LossScaleOptimizer wrapping under `mixed_float16`, and
  `jit_compile` / `steps_per_execution` passed through to Keras;
- `apply_update(player, loss_fn)`: one optimizer step of one player, with its own forward pass in
  its own GradientTape, the loss in float32, loss scaling, global-batch averaging under
  `tf.distribute`, and WGAN weight clipping after critic updates;
- `keras.metrics.Mean` trackers declared once (`loss_names`), so `fit`, `evaluate`, `History`,
  callbacks and TensorBoard see every loss;
- `get_config`/`from_config`, compile-config round-trip (so `.keras` files restore the
  optimizers' state), `inference_model()` and `export()`.
"""
from __future__ import annotations

import math
from typing import Callable, Iterable

import keras
import tensorflow as tf

from advzoo.contract import check_contract
from advzoo.errors import AdvzooError, unknown_name
from advzoo.losses import Objective, clip_weights, get_objective, gradient_penalty
from advzoo.networks.translation import free_spatial
from advzoo.networks.translation import size_multiple as network_size_multiple
from advzoo.training.distribute import is_multi_worker


def _unwrap(optimizer):
    return getattr(optimizer, "inner_optimizer", optimizer)


def _with_replica_axis(step: Callable) -> Callable:
    """`step` returning each log with a leading axis of length 1, for a multi-worker strategy.

    Under MultiWorkerMirroredStrategy Keras reduces the per-replica logs of a step with
    `strategy.reduce(MEAN, value, axis=0)` (`reduce_per_replica` in
    keras/src/backend/tensorflow/trainer.py), which fails on the scalar losses of a `train_step`
    ("Invalid reduction dimension 0 for input with 0 dimensions", TensorFlow issue #72388). With
    a replica axis that reduction is the mean over the replicas, of the original shape: the
    value one device or MirroredStrategy reports."""

    def step_with_replica_axis(data):
        return tf.nest.map_structure(lambda value: tf.expand_dims(value, 0), step(data))

    return step_with_replica_axis


class _input_errors:
    """Re-raise a failed value check of `check_input` as the AdvzooError it describes."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if isinstance(error, tf.errors.InvalidArgumentError):
            from advzoo.training.guard import input_error

            clean = input_error(error)
            if clean is not None:
                raise clean from None
        return False


@keras.saving.register_keras_serializable(package="advzoo")
class AdversarialModel(keras.Model):
    """Base class of the families: players, per-player optimizers, ordered updates.

    Subclasses set:
        players: attribute names of the trained sub-networks, in the order they are updated.
        critic: the player whose updates follow the objective's critic rules (n_critic, clipping).
        inference_player: the network `inference_model()` and `export()` hand to users.
        loss_names: names of every value `train_step`/`test_step` report.

    Args:
        objective: an id of `advzoo.losses.OBJECTIVES` (gan, nsgan, lsgan, wgan, wgan_gp, hinge).
        n_critic: critic updates per generator update; None takes the objective's paper default.
        seed: seed of the model's random draws (latent codes, interpolation factors).
        contract: the input contract of a preset (`advzoo.contract`): the physical units, window
            and modality of its inputs and outputs, so `translate(..., units="physical")`,
            `segment` and `advzoo apply` map a user's scan in and out. None: none stated.
    """

    players: tuple[str, ...] = ()
    # True for the fully convolutional families, whose players take any spatial size that is a
    # multiple of `size_multiple`; False where weights depend on the size (a DCGAN generator's
    # projection, ProGAN's resolution), which then check the full per-sample shape.
    size_free: bool = False
    critic: str | None = "discriminator"
    inference_player: str = "generator"
    loss_names: tuple[str, ...] = ()

    def __init__(self, objective: str = "nsgan", n_critic: int | None = None,
                 seed: int | None = None, contract: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        self.objective: Objective = get_objective(objective)
        if n_critic is not None and (not isinstance(n_critic, int) or n_critic < 1):
            raise AdvzooError(f"n_critic must be a positive int or None, got {n_critic!r}")
        self.n_critic = int(n_critic) if n_critic is not None else self.objective.n_critic
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self._base_config = {"objective": self.objective.name, "n_critic": n_critic, "seed": seed}
        self.contract = check_contract(contract)
        if self.contract is not None:
            self._base_config["contract"] = self.contract
        self._family_config: dict = {}
        self.trackers: dict[str, keras.metrics.Mean] = {}
        self.player_optimizers: dict[str, keras.optimizers.Optimizer] = {}

    # -- construction ---------------------------------------------------------------------------

    def set_family_config(self, **config) -> None:
        """Record the family's constructor arguments for `get_config` (call once in __init__)."""
        self._family_config = dict(config)

    def players_ready(self) -> None:
        """Create the loss trackers and mark the model built once every player exists.

        Call at the end of a family's __init__; `loss_names` may be set per instance before, so a
        model reports only the terms its options use (e.g. a gradient penalty only for wgan_gp).
        """
        missing = [p for p in self.players if not isinstance(getattr(self, p, None), keras.Model)]
        if missing:
            raise AdvzooError(f"{type(self).__name__} did not create its players {missing}")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.loss_names}
        self.built = True  # players are functional models, built at construction

    def get_config(self) -> dict:
        return {"name": self.name, "trainable": self.trainable, **self._base_config,
                **self._family_config}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    # -- compile --------------------------------------------------------------------------------

    def default_optimizers(self) -> dict[str, keras.optimizers.Optimizer]:
        """One fresh optimizer per player with the objective's paper defaults."""
        return {p: self.objective.make_optimizer() for p in self.players}

    def compile(self, optimizers: dict | None = None, *, jit_compile="auto",
                steps_per_execution: int = 1, run_eagerly: bool = False,
                check_inputs: bool = True, on_nonfinite: str = "raise",
                max_skipped_steps: int = 0, **kwargs):
        """Configure training: one optimizer per player.

        Args:
            optimizers: {player: optimizer instance, name or config}; players left out get the
                objective's paper default (`default_optimizers()`).
            jit_compile, steps_per_execution, run_eagerly: as in `keras.Model.compile`.
            check_inputs: check the values of every `fit`/`evaluate` batch (finite, images in
                [-1, 1], label maps integer in [0, K)), not only shapes at tracing; False turns
                the value checks off (XLA-compiled steps skip them: XLA drops assertions).
            on_nonfinite: an update whose loss or gradients are NaN or infinite is never applied
                (each player keeps its last finite weights); "raise" stops `fit` with an error
                naming the step, player and loss, "skip" steps over up to `max_skipped_steps`
                such updates (with a warning) before it stops.
        """
        from advzoo.training.guard import NonFiniteGuard, check_policy

        if not isinstance(check_inputs, bool):
            raise AdvzooError(f"check_inputs must be True or False, got {check_inputs!r}")
        check_policy(on_nonfinite, max_skipped_steps)
        if jit_compile is True and not (tf.config.list_physical_devices("GPU")
                                        or tf.config.list_physical_devices("TPU")):
            import warnings

            warnings.warn(  # shown once per call site (Python's default warning filter)
                "jit_compile=True on a machine without a GPU or TPU: on CPU, XLA bypasses "
                "TensorFlow's oneDNN kernels and was measured 1.2x-2.0x slower than "
                "jit_compile=False for pix2pix at 128x128 on a 2-core CPU, with a 3x longer "
                "first step (benchmarks/results/throughput.json). jit_compile=\"auto\" (the "
                "default) turns XLA off on CPU.", UserWarning, stacklevel=2)
        given = dict(optimizers or {})
        for player in given:
            if player not in self.players:
                raise unknown_name(f"player of {type(self).__name__}", player, self.players)
        defaults = self.default_optimizers()
        mixed = self.dtype_policy.name == "mixed_float16" or (
            keras.mixed_precision.global_policy().name == "mixed_float16")
        resolved = {}
        for player in self.players:
            optimizer = keras.optimizers.get(given[player]) if player in given else defaults[player]
            if mixed and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
                optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
            optimizer.build(getattr(self, player).trainable_variables)
            resolved[player] = optimizer
            setattr(self, f"{player}_optimizer", optimizer)  # a named attribute: saved in .keras
        self.player_optimizers = resolved
        super().compile(optimizer=None, jit_compile=jit_compile,
                        steps_per_execution=steps_per_execution, run_eagerly=run_eagerly, **kwargs)
        # Keras reads `model.optimizer.iterations` (TensorBoard, steps/s): the last player to be
        # updated in a step counts exactly one iteration per `fit` step.
        self.optimizer = resolved[self.players[-1]] if self.players else None
        self._advzoo_compile_config = {"steps_per_execution": steps_per_execution,
                                       "jit_compile": jit_compile, "check_inputs": check_inputs,
                                       "on_nonfinite": on_nonfinite,
                                       "max_skipped_steps": max_skipped_steps}
        # not a tracked attribute: the guard's record describes one `fit`, it is not saved
        object.__setattr__(self, "_nonfinite_guard", NonFiniteGuard())

    def get_compile_config(self) -> dict | None:
        if not self.player_optimizers:
            return None
        return {"optimizers": {p: keras.saving.serialize_keras_object(o)
                               for p, o in self.player_optimizers.items()},
                **self._advzoo_compile_config}

    def compile_from_config(self, config: dict) -> None:
        optimizers = {p: keras.saving.deserialize_keras_object(o)
                      for p, o in config.get("optimizers", {}).items()}
        self.compile(optimizers=optimizers,
                     **{k: v for k, v in config.items() if k != "optimizers"})

    # -- one update -----------------------------------------------------------------------------

    def apply_update(self, player: str | tuple[str, ...],
                     loss_fn: Callable[[], tuple[tf.Tensor, dict]]) -> dict:
        """Run `loss_fn` under a tape and take one optimizer step on the player(s)' variables.

        `loss_fn` makes its own forward pass and returns (total float32 loss, {name: value}).
        `player` may be a tuple of players that minimise the same loss jointly (e.g. BiGAN's
        generator and encoder); each still steps with its own optimizer and loss scale.
        Under a distribution strategy each replica's loss is divided by the number of replicas,
        so the summed gradients are those of the global-batch mean.
        """
        players = (player,) if isinstance(player, str) else tuple(player)
        optimizers = [self.player_optimizers[p] for p in players]
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        with tf.GradientTape(persistent=len(players) > 1) as tape:
            total, logs = loss_fn()
            total = tf.cast(total, tf.float32) / replicas
            scaled = [optimizer.scale_loss(total) for optimizer in optimizers]
        networks = [getattr(self, name) for name in players]
        grads = [tape.gradient(s, n.trainable_variables) for s, n in zip(scaled, networks)]
        del tape

        def update():
            for name, network, optimizer, g in zip(players, networks, optimizers, grads):
                optimizer.apply_gradients(zip(g, network.trainable_variables))
                if name == self.critic and self.objective.clip_value:
                    clip_weights(network, self.objective.clip_value)

        guard = getattr(self, "_nonfinite_guard", None)
        if guard is None or not tf.__internal__.distribute.strategy_supports_no_merge_call():
            update()  # (a cond around merge_call-ing optimizers needs the cross-replica context)
            return logs
        # a loss-scaling optimizer skips non-finite scaled gradients itself (and lowers the
        # scale): only the loss is checked for it
        scaling = any(isinstance(o, keras.optimizers.LossScaleOptimizer) for o in optimizers)
        terms = {**logs, "total": total}
        finite, first_bad = guard.finite(terms, [] if scaling else
                                         [x for g in grads for x in g])
        update_id = guard.update_id("+".join(players), tuple(terms))
        step = tf.cast(self.optimizer.iterations, tf.int64) + 1
        tf.cond(finite, update, lambda: guard.record(step, update_id, first_bad))
        return logs

    # -- the critic's loss, shared by every family with a real/fake discriminator ---------------

    def critic_loss(self, critic: Callable[[tf.Tensor], tf.Tensor], real, fake,
                    drift: float = 0.0) -> tuple[tf.Tensor, dict]:
        """The objective's discriminator loss of `critic` on a real and a fake batch (Table 1),
        plus lambda * the gradient penalty on interpolates for wgan_gp (Gulrajani et al. Eq. 4),
        plus `drift` * E[D(x)^2] on the real batch (Karras et al. 2018, App. A.1).

        `critic` maps a batch to logits; close over any condition (e.g. `lambda x: D([x, y])`),
        so the penalty is taken in the judged input only. Returns (total loss, logs) with d_loss
        (the total), d_real, d_fake and, when used, gradient_penalty and drift.
        """
        real_logits, fake_logits = critic(real), critic(fake)
        loss = self.objective.discriminator_loss(real_logits, fake_logits)
        logs = {"d_real": tf.reduce_mean(real_logits), "d_fake": tf.reduce_mean(fake_logits)}
        if drift:
            logs["drift"] = tf.reduce_mean(tf.square(tf.cast(real_logits, tf.float32)))
            loss += drift * logs["drift"]
        if self.objective.gradient_penalty:
            logs["gradient_penalty"] = gradient_penalty(critic, real, fake,
                                                        seed=self.seed_generator)
            loss += self.objective.gradient_penalty * logs["gradient_penalty"]
        return loss, {"d_loss": loss, **logs}

    # -- the alternating step of most families -------------------------------------------------

    generator_players: str | tuple[str, ...] = "generator"  # trained by the step's second update

    def unpack_batch(self, data):
        """What `step_losses` takes from a `fit` batch; default: the checked samples x."""
        return self.check_input(keras.utils.unpack_x_y_sample_weight(data)[0],
                                self.image_shape, "samples")

    def step_losses(self, batch):
        """(critic_losses, generator_losses) of one step on `batch`: functions of `training`
        returning (total loss, logs), each making its own forward pass."""
        raise NotImplementedError(
            f"{type(self).__name__} must define step_losses(batch) or its own train_step")

    def critic_then_generator(self, critic_losses, generator_losses) -> dict:
        """The alternating loop of Goodfellow et al. (Algorithm 1) and Arjovsky et al.
        (Algorithm 1): `n_critic` updates of `self.critic`, then one of `generator_players`."""
        logs = {}
        for _ in range(self.n_critic):
            logs.update(self.apply_update(self.critic, lambda: critic_losses(True)))
        logs.update(self.apply_update(self.generator_players, lambda: generator_losses(True)))
        return logs

    @staticmethod
    def evaluate_losses(*loss_fns) -> dict:
        """The logs of each loss function in inference mode, without any update."""
        logs = {}
        for loss_fn in loss_fns:
            logs.update(loss_fn(False)[1])
        return logs

    def train_step(self, data):
        return self.record(self.critic_then_generator(*self.step_losses(self.unpack_batch(data))))

    def test_step(self, data):
        return self.record(self.evaluate_losses(*self.step_losses(self.unpack_batch(data))))

    # Under a multi-worker strategy Keras' own step function is built around every family's
    # step with its logs given a replica axis (`_with_replica_axis`, TF issue #72388); one
    # device and MirroredStrategy take Keras' path unchanged.
    def make_train_function(self, force: bool = False):
        if not is_multi_worker(self.distribute_strategy) or (
                self.train_function is not None and not force):
            return super().make_train_function(force)
        self.train_function = self._make_function(_with_replica_axis(self.train_step))
        return self.train_function

    def make_test_function(self, force: bool = False):
        if not is_multi_worker(self.distribute_strategy) or (
                self.test_function is not None and not force):
            return super().make_test_function(force)
        self.test_function = self._make_function(_with_replica_axis(self.test_step))
        return self.test_function

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Before fit/evaluate Keras reduces a first batch with strategy.reduce(MEAN, batch) only
        # for its shapes; a multi-worker strategy refuses a nested batch such as (source, target)
        # ("Attempt to convert a value (PerReplica...) to a Tensor"). One replica's share of the
        # batch has those shapes, with no collective op.
        if iterator is None or not is_multi_worker(self.distribute_strategy):
            return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)
        for *_, batches in iterator:
            data_batch = next(batches)
            break
        local = self.distribute_strategy.experimental_local_results
        return super()._maybe_symbolic_build(
            data_batch=tf.nest.map_structure(lambda v: local(v)[0], data_batch))

    # -- reporting ------------------------------------------------------------------------------

    @property
    def metrics(self):
        return list(self.trackers.values())

    def record(self, logs: dict) -> dict:
        """Update the trackers with this step's values and return every tracker's result."""
        for name, value in logs.items():
            if name not in self.trackers:
                raise AdvzooError(f"{type(self).__name__} reports {name!r}, which is not in its "
                                  f"loss_names {tuple(self.trackers)}")
            self.trackers[name].update_state(tf.cast(value, tf.float32))
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    # -- physical units -------------------------------------------------------------------------

    def io_contract(self, **options) -> tuple[dict, dict | None]:
        """The (input, output) sides of the model's contract for a call with `options` (e.g. a
        translation direction); raises when the model states none."""
        if not self.contract:
            raise AdvzooError(
                f"{type(self).__name__} states no input contract, so units='physical' cannot map "
                "its inputs: load a preset (every image-to-image preset states one), build the "
                "model with contract={'input': {'window': [lo, hi], ...}, 'output': {...}} (see "
                "advzoo.contract), or scale inputs to [-1, 1] yourself and use units='model'.")
        return self.contract["input"], self.contract.get("output")

    # -- input checks ---------------------------------------------------------------------------

    @property
    def size_multiple(self) -> int | None:
        """The stride of a size-free family's networks: inputs must be a multiple of it along
        every spatial axis (`translate`, `segment` and `attribute` pad other sizes). None for
        the families whose weights depend on the image size."""
        if not self.size_free:
            return None
        if getattr(self, "_size_multiple", None) is None:
            self._size_multiple = network_size_multiple(self.inference_model())
        return self._size_multiple

    def check_input(self, tensor, expected_shape: Iterable[int | None], what: str, like=None,
                    like_what: str = "", scale: int = 1, values: str | None = None,
                    num_classes: int | None = None):
        """Cast `tensor` to float32 and raise at trace time if its per-sample shape is wrong; with
        `compile(check_inputs=True)` (the default) also check its values on every batch.

        A size-free family checks the rank and channels, and that every known spatial size is a
        multiple of `size_multiple`; the others check the whole per-sample shape. `like`: a
        tensor (called `like_what`) whose spatial size, times `scale`, this one must have (a
        target and its source, a mask and its image). `values`: "image" (finite, in [-1, 1]; the
        default for images and volumes), "unit" (in [0, 1]), "labels" (integers in
        [0, num_classes)), "finite" (the default for vectors and sequences)."""
        expected = tuple(expected_shape)
        got = tuple(tensor.shape[1:])
        if self.size_free and expected:
            expected = free_spatial(expected)
        if len(got) != len(expected) or any(
                e is not None and g is not None and e != g for e, g in zip(expected, got)):
            hint = ("Give images with these channels (any spatial size that is a multiple of "
                    f"{self.size_multiple})" if self.size_free else
                    "Resize the data or build the model with a matching shape option (this "
                    "family's weights depend on the image size)")
            raise AdvzooError(
                f"{type(self).__name__} expects {what} of shape (batch, "
                f"{', '.join(str(e) for e in expected)}), got (batch, "
                f"{', '.join(str(g) for g in got)}). {hint}.")
        if like is not None:
            want = tuple(None if s is None else int(s) * scale for s in like.shape[1:-1])
            if any(w is not None and g is not None and w != g for w, g in zip(want, got[:-1])):
                raise AdvzooError(
                    f"{type(self).__name__} expects {what} of shape (batch, "
                    f"{', '.join(str(s) for s in want + got[-1:])}): the spatial size of the "
                    f"{like_what}{f' times {scale}' if scale != 1 else ''}; got (batch, "
                    f"{', '.join(str(g) for g in got)}).")
        if self.size_free:
            multiple = self.size_multiple
            if any(g is not None and g % multiple for g in got[:-1]):
                raise AdvzooError(
                    f"{type(self).__name__} expects {what} whose spatial sizes are multiples of "
                    f"{multiple} (its networks halve them {int(math.log2(multiple))} times), got "
                    f"(batch, {', '.join(str(g) for g in got)}). Crop or pad the data "
                    f"(advzoo.inference.pad_to_multiple) to a multiple of {multiple}.")
        if getattr(self, "_advzoo_compile_config", {}).get("check_inputs"):
            from advzoo.training.guard import value_checks

            values = values or ("image" if len(expected) >= 3 else "finite")
            step = tf.cast(self.optimizer.iterations, tf.int64) + 1 if self.optimizer else -1
            tensor = value_checks(tensor, what, type(self).__name__, values, step, num_classes)
        return tf.cast(tensor, tf.float32)

    # -- the random state, saved with the weights -------------------------------------------

    _SEED_STATE = "seed_state_"  # keys of the random states in a saved weights store

    def random_states(self) -> list:
        """The state variables of every seed generator of the model and its layers (latent draws,
        dropout, image pools' choices, gradient-penalty interpolation), in a fixed order."""
        states, seen = [], set()
        for layer in [self, *self._flatten_layers(include_self=False)]:
            for generator in getattr(layer, "_seed_generators", []):
                if id(generator) not in seen:
                    seen.add(id(generator))
                    states.append(generator.state)
        return states

    def save_own_variables(self, store):
        """Keras' variables, plus the seed generators' states, which Keras leaves out, so a
        `BackupAndRestore` backup (saved weights) resumes the same random draws."""
        super().save_own_variables(store)
        for i, state in enumerate(self.random_states()):
            store[f"{self._SEED_STATE}{i}"] = keras.ops.convert_to_numpy(state)

    def load_own_variables(self, store):
        """The inverse of `save_own_variables`; weights saved without random states (presets of
        earlier versions) load as before."""
        keys = list(store.keys())
        super().load_own_variables({k: store[k] for k in keys
                                    if not k.startswith(self._SEED_STATE)})
        for i, state in enumerate(self.random_states()):
            key = f"{self._SEED_STATE}{i}"
            if key in keys:
                state.assign(store[key])

    # -- fit and save ---------------------------------------------------------------------------

    def fit(self, x=None, y=None, *args, **kwargs):
        """`keras.Model.fit`, refusing a missing dataset with a clear error (Keras would fail
        deep inside with "pop from an empty set")."""
        if x is None:
            raise AdvzooError(f"{type(self).__name__}.fit needs training data: a tf.data.Dataset "
                              "or arrays (see the family's docstring for what a batch holds), "
                              "got x=None")
        guard = getattr(self, "_nonfinite_guard", None)
        if guard is not None:
            from advzoo.training.guard import NonFiniteStop

            config = self._advzoo_compile_config
            stop = NonFiniteStop(guard, config["on_nonfinite"], config["max_skipped_steps"])
            kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), stop]
        if isinstance(x, tf.data.Dataset) and not args:
            # Keras ignores shuffle for a dataset, and its default (True) warns on every fit
            kwargs.setdefault("shuffle", False)
        with _input_errors():
            return super().fit(x, y, *args, **kwargs)

    def evaluate(self, *args, **kwargs):
        with _input_errors():
            return super().evaluate(*args, **kwargs)

    def save(self, filepath, overwrite: bool = True, **kwargs):
        """`keras.Model.save`, atomically: the file is written beside `filepath` and renamed over
        it, so a failed save (a full disk, a killed process) leaves any previous file intact."""
        import os
        import pathlib
        import uuid

        path = pathlib.Path(filepath)
        if path.exists() and not overwrite:
            raise AdvzooError(f"{path} exists; pass overwrite=True to replace it")
        # Keras picks the format from the suffix, so the temporary file keeps it
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
        try:
            super().save(tmp, overwrite=True, **kwargs)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    # -- deployment -----------------------------------------------------------------------------

    def inference_model(self) -> keras.Model:
        """The network a user deploys (generator, translator, segmentor, ...)."""
        return getattr(self, self.inference_player)

    def export(self, filepath, overwrite: bool = False, **kwargs):
        """Write `inference_model()` as a SavedModel with a float32 `serve` signature."""
        from advzoo.export import export_inference_model

        return export_inference_model(self, filepath, overwrite=overwrite, **kwargs)
