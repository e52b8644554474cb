"""Network builders: plain functional `keras.Model`s with no training logic.

Families compose these; the options here are the ones users know from pytorch-CycleGAN-and-pix2pix
and keras.io (`filters`, `norm`, ...). Final activations and logits are float32 so mixed-precision
models still hand float32 to the losses.
"""
from advzoo.networks.common import NORMS, normalization, validate_norm
from advzoo.networks.dcgan import dcgan_discriminator, dcgan_generator
from advzoo.networks.mlp import mlp_discriminator, mlp_generator
from advzoo.networks.conditional import (conditional_discriminator, conditional_generator,
                                         conv_trunk, discriminator_norm_for)
from advzoo.networks.encoders import dcgan_encoder, info_discriminator, joint_discriminator

__all__ = ["NORMS", "normalization", "validate_norm", "dcgan_discriminator", "dcgan_generator",
           "mlp_discriminator", "mlp_generator",
           "conditional_generator", "conditional_discriminator", "conv_trunk",
           "discriminator_norm_for", "dcgan_encoder", "joint_discriminator", "info_discriminator"]

from advzoo.networks.seq1d import seq1d_critic, seq1d_generator, sequence_doublings  # noqa: E402

__all__ += ["seq1d_generator", "seq1d_critic", "sequence_doublings"]

from advzoo.networks.progressive import (progressive_discriminator,  # noqa: E402
                                         progressive_generator, progressive_stages)
from advzoo.networks.pyramid import residual_discriminator, residual_generator  # noqa: E402

__all__ += ["progressive_generator", "progressive_discriminator", "progressive_stages",
            "residual_generator", "residual_discriminator"]

from advzoo.networks.translation import (GENERATORS, build_generator, patchgan,  # noqa: E402
                                         generator_depth, patchgan_receptive_field,
                                         resnet_generator, size_multiple, unet, unet_depth)

__all__ += ["unet", "unet_depth", "resnet_generator", "patchgan", "patchgan_receptive_field",
            "build_generator", "size_multiple", "generator_depth", "GENERATORS"]

from advzoo.networks.superres import PixelShuffle, SpaceToDepth, srresnet  # noqa: E402

__all__ += ["srresnet", "PixelShuffle", "SpaceToDepth"]

from advzoo.networks.segmentation import multiscale_critic  # noqa: E402

__all__ += ["multiscale_critic"]
