"""Network builders: plain functional `keras.Model`s with no training logic.

Families compose these; the options here are the ones users know from pytorch-CycleGAN-and-pix2pix
and keras.io (`filters`, `norm`, ...). Final activations and logits are float32 so mixed-precision
models still hand float32 to the losses.
"""
from advzoo.networks.common import NORMS, normalization, validate_norm
from advzoo.networks.dcgan import dcgan_discriminator, dcgan_generator
from advzoo.networks.mlp import mlp_discriminator, mlp_generator

__all__ = ["NORMS", "normalization", "validate_norm", "dcgan_discriminator", "dcgan_generator",
           "mlp_discriminator", "mlp_generator"]
