"""Layers of our own that Keras 3 does not provide.

Registered as Keras serializables (package "advzoo") so models that use them save and load.
"""
from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="advzoo")
class MinibatchDiscrimination(keras.layers.Layer):
    """Minibatch discrimination (Salimans et al. 2016, Sec. 3.2).

    For features f(x_i) in R^A, a learned tensor T in R^{A x B x C} gives M_i = f(x_i) T in
    R^{B x C}. For each of the B kernels, c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_1) and
    o(x_i)_b = sum_{j != i} c_b(x_i, x_j). The output is [f(x_i), o(x_i)], so the discriminator
    sees how close each sample is to the others in its batch, which penalises a collapsed
    generator. The self term (c_b(x_i, x_i) = 1) is left out: it carries no information.

    Args:
        num_kernels: B, the number of closeness features appended.
        kernel_dim: C, the dimension each kernel compares samples in.
    """

    def __init__(self, num_kernels: int = 50, kernel_dim: int = 5, **kwargs):
        super().__init__(**kwargs)
        if int(num_kernels) < 1 or int(kernel_dim) < 1:
            raise ValueError(
                f"MinibatchDiscrimination needs num_kernels >= 1 and kernel_dim >= 1, "
                f"got num_kernels={num_kernels}, kernel_dim={kernel_dim}")
        self.num_kernels = int(num_kernels)
        self.kernel_dim = int(kernel_dim)

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                f"MinibatchDiscrimination expects flat features (batch, A), got shape {input_shape}")
        self.kernel = self.add_weight(
            name="kernel", shape=(input_shape[-1], self.num_kernels * self.kernel_dim),
            initializer=keras.initializers.RandomNormal(stddev=0.02))

    def call(self, features):
        m = ops.reshape(ops.matmul(features, self.kernel), (-1, self.num_kernels, self.kernel_dim))
        l1 = ops.sum(ops.abs(ops.expand_dims(m, 0) - ops.expand_dims(m, 1)), axis=-1)  # (N, N, B)
        closeness = ops.sum(ops.exp(-l1), axis=1) - 1.0  # drop the self term exp(0) = 1
        return ops.concatenate([features, ops.cast(closeness, features.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1] + self.num_kernels)

    def get_config(self):
        return {**super().get_config(), "num_kernels": self.num_kernels, "kernel_dim": self.kernel_dim}


# --- Progressive growing of GANs (Karras et al. 2018) ---------------------------------------------

@keras.saving.register_keras_serializable(package="advzoo")
class PixelNormalization(keras.layers.Layer):
    """Pixelwise feature vector normalisation (Karras et al. 2018, Sec. 4.2).

    b_{x,y} = a_{x,y} / sqrt(mean_j (a^j_{x,y})^2 + epsilon), over the channels j of each pixel
    (or each vector of a dense layer), epsilon = 1e-8.
    """

    def __init__(self, epsilon: float = 1e-8, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, x):
        x32 = ops.cast(x, "float32")
        norm = ops.rsqrt(ops.mean(ops.square(x32), axis=-1, keepdims=True) + self.epsilon)
        return ops.cast(x32 * norm, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="advzoo")
class MinibatchStdDev(keras.layers.Layer):
    """Minibatch standard deviation (Karras et al. 2018, Sec. 3).

    The batch is split into groups of `group_size` consecutive samples; within each group the
    standard deviation of every feature over the samples is averaged over features and positions
    into one value, appended to each sample of the group as an extra constant channel. A batch
    that `group_size` does not divide forms a single group. Grouping consecutive samples keeps
    the statistic of a sample the same when a batch is split evenly over replicas.
    """

    def __init__(self, group_size: int = 4, epsilon: float = 1e-8, **kwargs):
        super().__init__(**kwargs)
        if int(group_size) < 2:
            raise ValueError(f"MinibatchStdDev needs group_size >= 2 (a std over samples), "
                             f"got {group_size}")
        self.group_size = int(group_size)
        self.epsilon = float(epsilon)

    def call(self, x):
        x32 = ops.cast(x, "float32")
        n = ops.shape(x32)[0]
        group = ops.where(ops.equal(n % self.group_size, 0), self.group_size, n)
        grouped = ops.reshape(x32, (-1, group) + tuple(x.shape[1:]))
        variance = ops.mean(ops.square(grouped - ops.mean(grouped, axis=1, keepdims=True)), axis=1)
        std = ops.mean(ops.sqrt(variance + self.epsilon),
                       axis=tuple(range(1, len(x.shape))))           # (n / group,)
        std = ops.repeat(std, group, axis=0)                          # back to (n,)
        feature = ops.ones_like(x32[..., :1]) * ops.reshape(std, (-1,) + (1,) * (len(x.shape) - 1))
        return ops.cast(ops.concatenate([x32, feature], axis=-1), x.dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 1)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size, "epsilon": self.epsilon}


def _he_constant(fan_in: int, gain: float) -> float:
    return gain / float(fan_in) ** 0.5


@keras.saving.register_keras_serializable(package="advzoo")
class EqualizedDense(keras.layers.Layer):
    """Dense layer with an equalised learning rate (Karras et al. 2018, Sec. 4.1).

    Weights are initialised from N(0, 1) and scaled at run time by c = gain / sqrt(fan_in) (He's
    constant), so every weight has the same dynamic range and adaptive optimisers update all
    layers at the same speed: y = x (c W) + b.
    """

    def __init__(self, units: int, gain: float = 2.0 ** 0.5, use_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        if int(units) < 1:
            raise ValueError(f"EqualizedDense needs units >= 1, got {units}")
        self.units = int(units)
        self.gain = float(gain)
        self.use_bias = bool(use_bias)

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.scale = _he_constant(fan_in, self.gain)
        self.kernel = self.add_weight(name="kernel", shape=(fan_in, self.units),
                                      initializer=keras.initializers.RandomNormal(0.0, 1.0))
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros") \
            if self.use_bias else None

    def call(self, x):
        y = ops.matmul(x, ops.cast(self.kernel * self.scale, x.dtype))
        return y + ops.cast(self.bias, x.dtype) if self.use_bias else y

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "gain": self.gain,
                "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package="advzoo")
class EqualizedConv2D(keras.layers.Layer):
    """2D convolution (stride 1, "same" padding) with an equalised learning rate (Karras et al.
    2018, Sec. 4.1): kernel ~ N(0, 1) scaled at run time by gain / sqrt(k * k * in_channels)."""

    def __init__(self, filters: int, kernel_size: int = 3, gain: float = 2.0 ** 0.5,
                 use_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        if int(filters) < 1 or int(kernel_size) < 1:
            raise ValueError(f"EqualizedConv2D needs filters >= 1 and kernel_size >= 1, got "
                             f"filters={filters}, kernel_size={kernel_size}")
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.gain = float(gain)
        self.use_bias = bool(use_bias)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.scale = _he_constant(self.kernel_size * self.kernel_size * channels, self.gain)
        self.kernel = self.add_weight(
            name="kernel", shape=(self.kernel_size, self.kernel_size, channels, self.filters),
            initializer=keras.initializers.RandomNormal(0.0, 1.0))
        self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros") \
            if self.use_bias else None

    def call(self, x):
        y = ops.conv(x, ops.cast(self.kernel * self.scale, x.dtype), strides=1, padding="same")
        return y + ops.cast(self.bias, x.dtype) if self.use_bias else y

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "gain": self.gain, "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package="advzoo")
class FadeIn(keras.layers.Layer):
    """The fade-in of progressive growing (Karras et al. 2018, Sec. 3, Fig. 2): w_old * old +
    w_new * new, where `new` comes from the block of resolution stage `stage`.

    The layer holds the network's current growth state as non-trainable weights `level` (the
    finest active stage) and `alpha` (in [0, 1], how far the newest stage has faded in):
    a stage below `level` is fully in (w_new = 1), the stage `level` is at w_new = alpha,
    w_old = 1 - alpha, and a stage above `level` is not in yet (w_new = 0, w_old = 1). Changing
    the weights (`set_growth`) changes the network without re-tracing any graph.
    """

    def __init__(self, stage: int, **kwargs):
        super().__init__(**kwargs)
        if int(stage) < 1:
            raise ValueError(f"FadeIn blends a stage >= 1 into a coarser one, got stage={stage}")
        self.stage = int(stage)

    def build(self, input_shape):
        self.level = self.add_weight(name="level", shape=(), initializer="zeros", trainable=False)
        self.alpha = self.add_weight(name="alpha", shape=(), initializer="ones", trainable=False)

    def set_growth(self, level: int, alpha: float) -> None:
        self.level.assign(float(level))
        self.alpha.assign(float(alpha))

    def weights_old_new(self):
        stage = float(self.stage)
        w_new = ops.where(ops.less(stage, self.level), 1.0,
                          ops.where(ops.equal(stage, self.level), self.alpha, 0.0))
        return 1.0 - w_new, w_new

    def call(self, inputs):
        old, new = inputs
        w_old, w_new = self.weights_old_new()
        return ops.cast(w_old, old.dtype) * old + ops.cast(w_new, new.dtype) * new

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "stage": self.stage}


# --- Image translation (Johnson et al. 2016; Shrivastava et al. 2017; Zhu et al. 2017) -----------

@keras.saving.register_keras_serializable(package="advzoo")
class ReflectionPadding(keras.layers.Layer):
    """Mirror padding of every spatial axis by `padding` voxels (2D or 3D, channels last).

    Johnson et al.'s and CycleGAN's generators pad by reflection instead of zeros, which avoids
    dark borders in translated images. Keras has no such layer.
    """

    def __init__(self, padding: int = 1, **kwargs):
        super().__init__(**kwargs)
        if int(padding) < 0:
            raise ValueError(f"ReflectionPadding needs padding >= 0, got {padding}")
        self.padding = int(padding)

    def call(self, x):
        import tensorflow as tf

        p = self.padding
        pads = [[0, 0]] + [[p, p]] * (len(x.shape) - 2) + [[0, 0]]
        return tf.pad(x, pads, mode="REFLECT")

    def compute_output_shape(self, input_shape):
        p = 2 * self.padding
        return (input_shape[0], *[None if s is None else s + p for s in input_shape[1:-1]],
                input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


@keras.saving.register_keras_serializable(package="advzoo")
class ImagePool(keras.layers.Layer):
    """History buffer of generated images (Shrivastava et al. 2017, Sec. 2.3; Zhu et al. 2017,
    Sec. 4): the discriminator sees a mix of the newest fakes and fakes of earlier steps, which
    keeps it from forgetting what the generator did before and damps oscillation.

    `pool(images)` returns a batch of the same shape. While the pool is not full, each image is
    stored and returned as is; once full, each image is, with probability 1/2, returned as is, or
    swapped with a random stored image, which is returned instead (Zhu et al.'s rule, applied to
    the whole batch at once). `pool_size=0` returns the images unchanged. Under `tf.distribute` the
    buffer keeps the first replica's images; it is saved with the model.
    """

    def __init__(self, pool_size: int = 50, image_shape=None, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(pool_size, int) or pool_size < 0:
            raise ValueError(f"ImagePool pool_size must be an int >= 0, got {pool_size!r}")
        self.pool_size = pool_size
        self.image_shape = tuple(image_shape) if image_shape is not None else None
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        if self.image_shape is not None:
            self.build((None, *self.image_shape))

    def build(self, input_shape):
        if self.built:
            return
        self.image_shape = tuple(input_shape[1:])
        # One spare row receives the writes of images that are not stored, so every step writes
        # a fixed number of rows (no data-dependent shapes: XLA compiles it).
        self.images = self.add_weight(shape=(self.pool_size + 1, *self.image_shape),
                                      initializer="zeros", trainable=False, name="images",
                                      aggregation="only_first_replica")
        self.count = self.add_weight(shape=(), initializer="zeros", dtype="int32", trainable=False,
                                     name="count", aggregation="only_first_replica")
        self.built = True

    def call(self, images):
        if self.pool_size == 0:
            return images
        import tensorflow as tf

        got = tuple(images.shape[1:])
        if any(g is not None and g != s for g, s in zip(got, self.image_shape)):
            raise ValueError(
                f"{self.name} holds images of shape {self.image_shape} (the model's image "
                f"shape), got {got}. The networks take any size, but the pool's buffer is "
                "sized once: to train at another size, build the model at it, e.g. "
                "advzoo.load(preset, image_shape=...), which keeps the preset's weights.")
        batch = tf.shape(images)[0]
        stored = tf.cast(self.images.value, images.dtype)
        slot = self.count.value + tf.range(batch)
        filling = slot < self.pool_size
        swap = tf.logical_and(~filling, keras.random.uniform((batch,), seed=self.seed_generator) < 0.5)
        picked = tf.cast(keras.random.uniform((batch,), seed=self.seed_generator)
                         * self.pool_size, tf.int32)
        picked = tf.minimum(picked, self.pool_size - 1)
        out = tf.where(tf.reshape(swap, [-1] + [1] * len(self.image_shape)),
                       tf.gather(stored, picked), images)
        rows = tf.where(filling, slot, tf.where(swap, picked, self.pool_size))
        self.images.assign(tf.tensor_scatter_nd_update(
            self.images.value, rows[:, None], tf.cast(images, self.images.dtype)))
        self.count.assign(tf.minimum(self.count.value + batch, self.pool_size))
        return tf.stop_gradient(out)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size,
                "image_shape": self.image_shape, "seed": self.seed}


@keras.saving.register_keras_serializable(package="advzoo")
class GradientReversal(keras.layers.Layer):
    """Gradient reversal layer (Ganin & Lempitsky 2015, Sec. 3.2, Eq. 13-15).

    The identity in the forward pass; in the backward pass the incoming gradient is multiplied by
    -lambda. Placed between a feature extractor H and a domain classifier D, one descent step on
    L_y + L_d then moves D down the domain loss and H *up* it (scaled by lambda), which is the
    saddle point of Ganin Eq. 9 reached with ordinary back-propagation.

    Call as `layer(features, weight)` with `weight` a scalar tensor (e.g. a variable that a
    schedule callback updates), or `layer(features)` to use the constant `weight` given here.
    """

    def __init__(self, weight: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.weight = float(weight)

    def call(self, inputs, weight=None):
        import tensorflow as tf

        weight = tf.cast(self.weight if weight is None else weight, tf.float32)

        @tf.custom_gradient
        def reverse(x):
            def grad(dy):
                return -tf.cast(weight, dy.dtype) * dy

            return tf.identity(x), grad

        return reverse(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}


@keras.saving.register_keras_serializable(package="advzoo")
class ResizeLike(keras.layers.Layer):
    """`ResizeLike()([x, reference])`: x resized (bilinear) to the spatial size of `reference`,
    2D or 3D, channels last.

    Lets a map of a fixed size (PixelDA's noise channel, made by a dense layer at the size the
    model was built at) follow an image of any size, so a fully convolutional generator stays
    size-free. At equal sizes bilinear resizing is the identity, so weights trained at the
    nominal size give the same outputs there.
    """

    def call(self, inputs):
        import tensorflow as tf

        x, reference = inputs
        target = tf.shape(reference)[1:-1]
        if len(x.shape) == 4:
            return tf.image.resize(x, target)
        # 3D: (H, W) for every depth slice, then depth for every row
        shape = tf.shape(x)
        n, d, c = shape[0], shape[1], x.shape[-1]
        hw = tf.image.resize(tf.reshape(x, tf.concat([[n * d], shape[2:4], [c]], 0)), target[1:])
        hw = tf.reshape(hw, tf.concat([[n, d], target[1:], [c]], 0))
        rows = tf.reshape(tf.transpose(hw, [0, 2, 1, 3, 4]), tf.stack(
            [n * target[1], d, target[2], c]))
        rows = tf.image.resize(rows, tf.stack([target[0], target[2]]))
        rows = tf.reshape(rows, tf.stack([n, target[1], target[0], target[2], c]))
        return tf.transpose(rows, [0, 2, 1, 3, 4])

    def compute_output_shape(self, input_shapes):
        x, reference = input_shapes
        return (x[0], *reference[1:-1], x[-1])
