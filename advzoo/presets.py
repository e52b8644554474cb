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

CGAN_DIGITS_CLASS = register_preset(Preset(
    name="cgan_digits_class",
    family="cgan",
    config={"image_shape": (16, 16, 1), "latent_dim": 32, "condition": "class", "num_classes": 10,
            "objective": "nsgan", "generator_filters": 32, "discriminator_filters": 32, "seed": 0},
    summary="conditional DCGAN (Mirza) on scikit-learn's digits, 16x16, one-hot class condition",
    dataset={"image_shape": (16, 16, 1), "condition": "class"},
    data_description="scikit-learn digits with class ids (train split, 1,257 images), 16x16, [-1, 1]",
    train_steps=3000,
    batch_size=64,
    seed=0,
))

INFOGAN_DIGITS = register_preset(Preset(
    name="infogan_digits",
    family="infogan",
    config={"image_shape": (16, 16, 1), "noise_dim": 16, "categorical_codes": (10,),
            "continuous_codes": 2, "objective": "nsgan", "generator_filters": 32,
            "discriminator_filters": 32, "q_units": 64, "seed": 0},
    summary="InfoGAN (Chen) on scikit-learn's digits, 16x16, one 10-way categorical + 2 "
            "continuous codes, no labels",
    dataset={"image_shape": (16, 16, 1)},
    data_description="scikit-learn digits (train split, 1,257 images, labels unused), 16x16, [-1, 1]",
    train_steps=3000,
    batch_size=64,
    seed=0,
))

BIGAN_NODULES = register_preset(Preset(
    name="bigan_nodules",
    family="bigan",
    config={"image_shape": (32, 32, 1), "latent_dim": 64, "objective": "nsgan",
            "generator_filters": 16, "encoder_filters": 16, "discriminator_filters": 16,
            "joint_units": 128, "seed": 0},
    summary="BiGAN (Donahue) on lung-nodule CT phantoms, 32x32; the encoder E(x) gives "
            "unsupervised features",
    dataset={"image_shape": (32, 32, 1)},
    data_description="nodules phantoms (train split, 512 patches, labels unused), 32x32, "
                     "HU window [-1024, 1024] -> [-1, 1]",
    train_steps=1500,
    batch_size=64,
    seed=0,
))

UNROLLED_GAN_RING = register_preset(Preset(
    name="unrolled_gan_ring",
    family="unrolled_gan",
    config={"image_shape": (2,), "latent_dim": 16, "hidden_units": (128, 128),
            "objective": "nsgan", "unrolling_steps": 5, "unrolling_optimizer": "adam",
            "unrolling_learning_rate": 1e-3, "seed": 0},
    summary="Unrolled GAN (Metz) on the 8-Gaussians ring: MLP players, 5 look-ahead steps of D",
    dataset={"image_shape": (2,)},
    data_description="8-Gaussians ring (radius 2, std 0.02), 2,048 training points",
    train_steps=2000,
    batch_size=128,
    seed=0,
))

CENTERLINE_GAN_CORONARY = register_preset(Preset(
    name="centerline_gan_coronary",
    family="centerline_gan",
    config={"image_shape": (64, 4), "latent_dim": 32, "generator_filters": 16,
            "discriminator_filters": 16, "seed": 0},
    summary="Coronary centrelines (Wolterink 2018): 1D-conv WGAN-GP on 64 (x, y, z, r) points",
    dataset={"image_shape": (64, 4)},
    data_description="centerlines phantom (train split, 512 vessels, left/right x short/long), "
                     "xyz / 150 mm, r / 5 mm",
    train_steps=700,
    batch_size=64,
    seed=0,
))

LAPGAN_CT_32 = register_preset(Preset(
    name="lapgan_ct_32",
    family="lapgan",
    config={"image_shape": (32, 32, 1), "levels": 3, "latent_dim": 96, "generator_filters": 16,
            "discriminator_filters": 16, "seed": 0},
    summary="LAPGAN (Denton) on CT phantom slices: 3 levels, 8 -> 16 -> 32",
    dataset={"image_shape": (32, 32, 1)},
    data_description="ct_slices phantom (train split, 512 slices) at 32x32, HU window "
                     "[-1024, 1024] -> [-1, 1]",
    train_steps=1000,
    batch_size=64,
    seed=0,
))

PROGAN_CT_BONE_32 = register_preset(Preset(
    name="progan_ct_bone_32",
    family="progan",
    config={"image_shape": (32, 32, 2), "start_size": 8, "latent_dim": 64, "filters": 16,
            "mask_organs": ("bone",), "seed": 0},
    summary="ProGAN (Karras) grown 8 -> 32 in one fit; CT slice + bone mask synthesised "
            "jointly (Beers)",
    dataset={"image_shape": (32, 32, 2), "mask_organs": ("bone",)},
    data_description="ct_slices phantom (train split, 512 slices) at 32x32 with the bone label "
                     "map as a second channel, [-1, 1]",
    train_steps=1500,
    batch_size=32,
    seed=0,
))

ANOGAN_LESIONS = register_preset(Preset(
    name="anogan_lesions",
    family="anogan",
    config={"image_shape": (32, 32, 1), "latent_dim": 64, "generator": "dcgan",
            "discriminator": "dcgan", "objective": "nsgan", "generator_filters": 32,
            "discriminator_filters": 32, "lambda_feature": 0.1, "window": (-160.0, 240.0),
            "seed": 0},
    summary="AnoGAN (Schlegl): DCGAN of normal liver CT phantom slices, 32x32; anomaly score "
            "after latent inversion",
    dataset={"image_shape": (32, 32, 1), "window": (-160.0, 240.0)},
    data_description="lesions phantoms, normal subset of the train split (256 slices), 32x32, "
                     "soft-tissue window [-160, 240] HU -> [-1, 1]",
    train_steps=2000,
    batch_size=64,
    seed=0,
))
