"""The named presets: a family, its configuration, and the recipe its weights were trained with.

`scripts/train_preset.py NAME` re-trains a preset from scratch with exactly this recipe and writes
`zoo_weights/NAME/`.
"""
from advzoo.zoo import Preset, register_preset

GAN_DIGITS_DCGAN = register_preset(Preset(
    name="gan_digits_dcgan",
    family="gan",
    config={"image_shape": (16, 16, 1), "latent_dim": 32, "generator": "dcgan",
            "discriminator": "dcgan", "objective": "nsgan", "generator_filters": 32,
            "discriminator_filters": 32, "seed": 0},
    summary="DCGAN (Radford) on scikit-learn's digits, 16x16, non-saturating loss",
    dataset={"image_shape": (16, 16, 1)},
    data_description="scikit-learn digits (train split, 1,257 images), resized to 16x16, [-1, 1]",
    train_steps=4000,
    batch_size=64,
    seed=0,
))
