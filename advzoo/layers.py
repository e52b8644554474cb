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
