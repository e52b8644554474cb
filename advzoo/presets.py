"""The named presets: a family, its configuration, and the recipe its weights were trained with.

`scripts/train_preset.py NAME` re-trains a preset from scratch with exactly this recipe and writes
`zoo_weights/NAME/`.
"""
import dataclasses

from advzoo.zoo import Preset, register_preset

# --- input contracts (advzoo.contract): each image-to-image preset's physical units ------------
# The windows are those of the presets' training data. MR has no absolute units, so MR inputs are
# stretched per image from their 1st..99th percentile onto the training images' mean 1st and 99th
# percentiles (`reference`, measured on each preset's train split at 32x32).

def _side(modality: str, units: str, window, normalise: str = "window", reference=None) -> dict:
    side = {"modality": modality, "units": units, "window": list(window)}
    if normalise != "window":
        side["normalise"] = normalise
    if reference is not None:
        side["reference"] = list(reference)
    return side


CT_HU = _side("CT", "HU", (-1024.0, 1024.0))
CT_SOFT_TISSUE = _side("CT", "HU", (-160.0, 240.0))  # the lesion presets' soft-tissue window
MR_AU = _side("MR", "a.u.", (0.0, 1.5), "percentile", (0.004, 1.059))  # mr_slices T1
MR_LOW_RES = _side("MR (T2, low resolution)", "a.u.", (0.0, 1.5), "percentile", (0.007, 0.624))
MR_ZERO_FILLED = _side("MR (zero-filled, under-sampled k-space)", "a.u.", (0.0, 1.5),
                       "percentile", (0.008, 0.676))
MR_OUT = _side("MR", "a.u.", (0.0, 1.5))
RGB_8BIT = _side("fundus photograph (RGB)", "8-bit intensity", (0.0, 255.0))
# the adaptation presets segment the target scanner's images (p1..p99 0.0..0.595 there)
DOMAIN_SHIFT = _side("CT (domain_shift target scanner)", "a.u.", (0.0, 1.0), "percentile",
                     (0.0, 0.595))
SKETCH = _side("bone sketch", "intensity", (0.0, 1.0), "minmax")
XRAY = _side("X-ray", "intensity", (0.0, 1.0))


def _labels(*classes: str) -> dict:
    return {"kind": "labels", "classes": list(classes)}


def _contract(source: dict, target: dict) -> dict:
    return {"input": source, "output": target}


GAN_DIGITS_DCGAN = register_preset(Preset(
    name="gan_digits_dcgan",
    family="gan",
    config={"image_shape": (16, 16, 1), "latent_dim": 32, "generator": "dcgan",
            "discriminator": "dcgan", "objective": "nsgan", "generator_filters": 32,
            "discriminator_filters": 32, "seed": 0},
    summary="DCGAN (Radford) on scikit-learn's digits, 16x16, non-saturating loss",
    dataset={"image_shape": (16, 16, 1)},
    data_description="scikit-learn digits (train split, 1,257 images), resized to 16x16, [-1, 1]",
    train_steps=12000,
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

# Grown to METHODS.md's 64 (8 -> 16 -> 32 -> 64 in one fit). With 16 filters, as the 32x32 preset,
# the bone masks collapsed onto one position for every sample and lined up with their own image no
# better than with another sample's (a trial run); 64 filters give the masks about the real data's
# spread and an alignment above the shuffled pairs (benchmarks/progan.py, README table).
PROGAN_CT_BONE_64 = register_preset(Preset(
    name="progan_ct_bone_64",
    family="progan",
    config={"image_shape": (64, 64, 2), "start_size": 8, "latent_dim": 64, "filters": 64,
            "mask_organs": ("bone",), "seed": 0},
    summary="ProGAN (Karras) grown 8 -> 64 in one fit; CT slice + bone mask synthesised "
            "jointly (Beers)",
    dataset={"image_shape": (64, 64, 2), "mask_organs": ("bone",)},
    data_description="ct_slices phantom (train split, 512 slices) at 64x64 with the bone label "
                     "map as a second channel, [-1, 1]",
    train_steps=3000,
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

# --- pix2pix (METHODS.md section C): paired translation, and the wgan_vgg preset ---------------

_PIX2PIX_2D = {"source_shape": (32, 32, 1), "generator": "unet", "discriminator": "patch",
               "depth": 5,  # U-Net levels, explicit: the networks run at any multiple of 32
               "generator_filters": 8, "discriminator_filters": 16, "n_layers": 2,
               "objective": "nsgan", "lambda_l1": 100.0, "seed": 0}

PIX2PIX_MR_TO_CT = register_preset(Preset(
    name="pix2pix_mr_to_ct",
    family="pix2pix",
    # adversarial weight 0.3 rather than Isola's 1 against 100 L1: at 1 this small G overshoots
    # the CT's sharpness (gradient ratio 1.18-1.26 on 3 seeds) and loses 1-1.5 dB to the L1-only
    # G; at 0.3 it matches it (0.98-1.02) and beats L1 alone on PSNR and sharpness on each seed
    # (benchmarks/results/pix2pix_vs_voxel_loss*.json).
    config={"contract": _contract(MR_AU, CT_HU),
            **_PIX2PIX_2D, "task": "mr_to_ct", "lambda_adversarial": 0.3},
    summary="pix2pix (Isola Eq. 6) MR -> CT on aligned pairs (Nie), 32x32: U-Net G, conditional "
            "PatchGAN D (34x34 field), 0.3 * nsgan + 100 * L1",
    dataset={"task": "mr_to_ct", "size": 32, "ndim": 2},
    data_description="mr_slices phantom, paired T1 MR -> CT of the same subject (train split, "
                     "512 slices), 32x32; MR [0, 1.5] and CT [-1024, 1024] HU -> [-1, 1]",
    train_steps=3000,
    batch_size=16,
    seed=0,
))

# Real CT that installed packages ship (pydicom's test data), at a simulated quarter dose at each
# slice's native resolution: benchmarks/real_ct_lowdose.py (docs/benchmarks.md).
REAL_CT_LOWDOSE = {"data": "3 real CT slices from pydicom's test data (CT_small.dcm, 128x128 body; "
                           "693_J2KI.dcm and J2K_pixelrep_mismatch.dcm, 512x512 heads) at a "
                           "simulated quarter dose",
                   "benchmark": "benchmarks/real_ct_lowdose.py"}

PIX2PIX_LOWDOSE_CT = register_preset(Preset(
    name="pix2pix_lowdose_ct",
    family="pix2pix",
    config={"contract": _contract(CT_HU, CT_HU),
            **_PIX2PIX_2D, "task": "lowdose_ct", "residual": True},
    summary="pix2pix low-dose -> routine-dose CT (Wolterink 2017: aligned, residual G predicts "
            "the correction), 32x32, nsgan + 100 * L1",
    dataset={"task": "lowdose_ct", "size": 32, "ndim": 2},
    data_description="lowdose_ct phantom (radon, Poisson noise at dose 0.25, FBP) against the "
                     "routine-dose scan of the same slice (train split, 512 slices), 32x32, "
                     "[-1024, 1024] HU -> [-1, 1]",
    train_steps=3000,
    batch_size=16,
    seed=0,
    real_data={**REAL_CT_LOWDOSE, "result": "not better than its input: mean body PSNR 37.69 "
               "vs 38.03 dB for the quarter-dose input (SSIM 0.904 vs 0.895), and below non-local "
               "means (40.93 dB); for real scans use pix2pix_lowdose_ct_clinical"},
))

PIX2PIX_SKETCH_XRAY = register_preset(Preset(
    name="pix2pix_sketch_xray",
    family="pix2pix",
    config={"contract": _contract(SKETCH, XRAY),
            **_PIX2PIX_2D, "task": "sketch_xray"},
    summary="pix2pix bone sketch -> X-ray (Galbusera), 32x32, nsgan + 100 * L1",
    dataset={"task": "sketch_xray", "size": 32, "ndim": 2},
    data_description="sketch_xray phantom: bone outlines -> X-ray (train split, 512 images), "
                     "32x32, [0, 1] -> [-1, 1]",
    train_steps=2000,
    batch_size=16,
    seed=0,
))

PIX2PIX_CSMRI = register_preset(Preset(
    name="pix2pix_csmri",
    family="pix2pix",
    config={"contract": _contract(MR_ZERO_FILLED, MR_OUT),
            **_PIX2PIX_2D, "task": "csmri", "residual": True},
    summary="pix2pix zero-filled under-sampled MR -> fully sampled MR (Quan, CS-MRI; 4x "
            "Cartesian), 32x32, residual G, nsgan + 100 * L1",
    dataset={"task": "csmri", "size": 32, "ndim": 2},
    data_description="undersampled_mr phantom: zero-filled reconstruction of 4x Cartesian "
                     "under-sampled k-space -> full MR (train split, 512 slices), 32x32, "
                     "[0, 1.5] -> [-1, 1]",
    train_steps=2000,
    batch_size=16,
    seed=0,
))

PIX2PIX_LOWDOSE_CT_3D = register_preset(Preset(
    name="pix2pix_lowdose_ct_3d",
    family="pix2pix",
    config={"contract": _contract(CT_HU, CT_HU),
            "depth": 5,  # U-Net levels: runs at any multiple of 32
            "source_shape": (32, 32, 32, 1), "generator": "unet", "discriminator": "patch",
            "generator_filters": 6, "discriminator_filters": 4, "n_layers": 2, "dropout": 0.0,
            "objective": "nsgan", "lambda_l1": 100.0, "residual": True, "task": "lowdose_ct",
            "seed": 0},
    summary="3D pix2pix low-dose -> routine-dose CT volumes, 32^3: 3D U-Net (residual, no "
            "dropout), 3D conditional PatchGAN, nsgan + 100 * L1",
    dataset={"task": "lowdose_ct", "size": 32, "ndim": 3},
    data_description="ct_slices 3D phantom volumes (train split, 512) with image-domain "
                     "correlated Gaussian noise (sd 19 HU low dose, 9.5 HU routine; not a "
                     "radon/FBP simulation: advzoo.data.pairs.lowdose_ct_3d_arrays), 32^3, "
                     "[-1024, 1024] HU -> [-1, 1]",
    train_steps=1500,
    batch_size=4,
    seed=0,
))

WGAN_VGG_LOWDOSE_CT = register_preset(Preset(
    name="wgan_vgg_lowdose_ct",
    family="pix2pix",
    config={"contract": _contract(CT_HU, CT_HU),
            "depth": 5,  # U-Net levels: runs at any multiple of 32
            "source_shape": (32, 32, 1), "generator": "unet", "discriminator": "image",
            "generator_filters": 8, "discriminator_filters": 16, "n_layers": 2,
            "discriminator_norm": "layer", "objective": "wgan_gp", "n_critic": 2,
            "lambda_l1": 20.0, "lambda_perceptual": 100.0, "perceptual_layer": "act2b",
            "residual": True, "task": "lowdose_ct", "seed": 0},
    # Yang's lambda_1 = 0.1 is for VGG-19 feature magnitudes; the phantom network's features of
    # CT noise are far smaller (measured gradient of the loss ~1e-3 of L1's at act2b), so the
    # weight is raised to 100 to keep the perceptual term comparable to the small L1 term. 2
    # critic steps per G step to fit the time budget. Earlier recipes, test PSNR vs the input's
    # 42.54 dB: 42.29 (L1 10, perceptual 10, 3 critic steps, 2000 steps), 42.52 (this recipe
    # with 2000 steps), 42.27 (L1 50, 1 critic step, 2000 steps).
    summary="WGAN-VGG (Yang 2018) as a pix2pix preset: whole-image WGAN-GP critic (lambda 10, "
            "2 critic steps) + perceptual loss in the zoo's PHANTOM feature network (not VGG) "
            "+ small L1 (20), low-dose -> routine-dose CT, 32x32",
    dataset={"task": "lowdose_ct", "size": 32, "ndim": 2},
    data_description="lowdose_ct phantom (radon, Poisson noise at dose 0.25, FBP) against the "
                     "routine-dose scan of the same slice (train split, 512 slices), 32x32, "
                     "[-1024, 1024] HU -> [-1, 1]",
    train_steps=3000,
    batch_size=16,
    seed=0,
    real_data={**REAL_CT_LOWDOSE, "result": "worse than its input: mean body PSNR 32.12 vs "
               "38.03 dB for the quarter-dose input (SSIM 0.746 vs 0.895), noise sd 51.15 vs "
               "27.77 HU; for real scans use wgan_vgg_lowdose_ct_clinical"},
))

# --- low-dose CT presets for real scans (issue 17): clinical resolution, randomised scanner -----
# The 32x32 presets above learnt one phantom at one resolution and do not improve real CT
# (benchmarks/real_ct_lowdose.py). These learn `lowdose_ct_clinical` at 128x128: a radon /
# Poisson / FBP simulation with flux, field of view (so pixel size), body size, blur and filter
# drawn per slice, against the noiseless reconstruction. Their networks take any multiple of 32.
# Checked on the real slices by benchmarks/real_ct_clinical.py against non-local means and TV.
# SimGAN on the same data was first trained through the full [-1024, 1024] window, so that a real
# slice's air and bone would pass the input contract: its discriminator stayed at chance (d_real
# 0.496, d_fake 0.495 after 3000 steps) and the refiner at the identity (soft-tissue noise 29.56
# HU in and out), as the simgan module says of the full window, and it was not registered. The
# registered one keeps simgan_lowdose_ct's soft-tissue window, and its contract passes the input
# through outside that window (`outside: "input"`), so air and bone come out as they went in.
CLINICAL_CT_DATA = {"task": "lowdose_ct_clinical", "size": 128, "ndim": 2}
REAL_CT_CLINICAL = {**REAL_CT_LOWDOSE, "benchmark": "benchmarks/real_ct_clinical.py"}
CLINICAL_CT_DESCRIPTION = (
    "lowdose_ct_clinical phantoms (train split, 512 slices, 128x128): radon, Poisson counts at "
    "a quarter of a routine flux drawn in 1e5..2e6 photons per bin, FBP (ramp or Shepp-Logan), "
    "field of view 80..420 mm, body 250..420 mm, blur 0..1 px, against the noiseless "
    "reconstruction of the same slice; [-1024, 1024] HU -> [-1, 1]")

PIX2PIX_LOWDOSE_CT_CLINICAL = register_preset(Preset(
    name="pix2pix_lowdose_ct_clinical",
    family="pix2pix",
    # 16 filters rather than 8: 1.05M generator weights stay a few MB, and 6000 steps train in
    # about 14 minutes on 2 CPU cores (metadata.json's train_seconds). Adversarial weight 0.1
    # against 100 L1: in the 8-filter pilot of benchmarks/real_ct_clinical.py (its result at commit e19d9c0)
    # Isola's weight 1 cost 1.9 dB of phantom test PSNR against L1 alone; the adversarial term is
    # kept to hold back the waxy texture of a voxel loss, not to lead.
    config={"contract": _contract(CT_HU, CT_HU),
            **_PIX2PIX_2D, "source_shape": (128, 128, 1), "generator_filters": 16,
            "task": "lowdose_ct_clinical", "residual": True, "lambda_adversarial": 0.1},
    summary="pix2pix low-dose -> full-dose CT for real scans: trained at 128x128 on randomised "
            "radon/Poisson/FBP phantoms (flux, pixel size, body, blur, filter); residual U-Net "
            "G (16 filters), PatchGAN D, 0.1 * nsgan + 100 * L1",
    dataset=CLINICAL_CT_DATA,
    data_description=CLINICAL_CT_DESCRIPTION,
    train_steps=6000,
    batch_size=8,
    seed=0,
    real_data={**REAL_CT_CLINICAL, "result": "better than its input on every real slice: mean "
               "body PSNR 42.25 vs 38.03 dB for the quarter-dose input (SSIM 0.975 vs 0.895), "
               "but below non-local means tuned on phantoms (43.90 dB, SSIM 0.980)"},
))

WGAN_VGG_LOWDOSE_CT_CLINICAL = register_preset(Preset(
    name="wgan_vgg_lowdose_ct_clinical",
    family="pix2pix",
    # the wgan_vgg_lowdose_ct recipe (critic, loss weights, critic steps) on the clinical data,
    # with the 16-filter G of pix2pix_lowdose_ct_clinical
    config={**WGAN_VGG_LOWDOSE_CT.config, "source_shape": (128, 128, 1), "generator_filters": 16,
            "task": "lowdose_ct_clinical"},
    summary="WGAN-VGG (Yang 2018) low-dose -> full-dose CT for real scans: trained at 128x128 "
            "on randomised radon/Poisson/FBP phantoms; whole-image WGAN-GP critic + perceptual "
            "loss in the zoo's phantom feature network (not VGG) + L1 (20)",
    dataset=CLINICAL_CT_DATA,
    data_description=CLINICAL_CT_DESCRIPTION,
    train_steps=3000,  # as wgan_vgg_lowdose_ct; a step costs ~2x a pix2pix one (2 critic steps)
    batch_size=8,
    seed=0,
    real_data={**REAL_CT_CLINICAL, "result": "better than its input on the two heads, worse on "
               "CT_small: mean body PSNR 39.86 vs 38.03 dB for the quarter-dose input (SSIM "
               "0.955 vs 0.895), below non-local means (43.90 dB) and pix2pix_lowdose_ct_clinical "
               "(42.25 dB)"},
))

CYCLEGAN_MR_CT = register_preset(Preset(
    name="cyclegan_mr_ct",
    family="cyclegan",
    config={"contract": _contract(MR_AU, CT_HU),
            "source_shape": (32, 32, 1), "target_shape": (32, 32, 1), "generator": "resnet",
            "generator_filters": 16, "n_blocks": 2, "discriminator_filters": 16, "n_layers": 2,
            "norm": "instance", "objective": "lsgan", "lambda_cycle": 10.0,
            "lambda_identity": 0.5, "pool_size": 50, "seed": 0},
    summary="CycleGAN (Zhu; Wolterink 2017) trained on UNPAIRED T1 MR and CT phantoms of "
            "different subjects, 32x32: G_AB translates MR -> CT",
    dataset={"source_shape": (32, 32, 1), "target_shape": (32, 32, 1)},
    data_description="mr_slices phantoms, unpaired (MR and CT of different subjects; train split, "
                     "512 each), 32x32, T1 MR [0, 1.5] and CT [-1024, 1024] HU -> [-1, 1]",
    train_steps=1200,
    batch_size=8,
    seed=0,
))

CYCLEGAN_MR_CT_SEG = register_preset(Preset(
    name="cyclegan_mr_ct_seg",
    family="cyclegan",
    config={"contract": _contract(MR_AU, CT_HU),
            "segmentation_depth": 5,  # U-Net levels: runs at any multiple of 32
            "source_shape": (32, 32, 1), "target_shape": (32, 32, 1), "generator": "resnet",
            "generator_filters": 12, "n_blocks": 2, "discriminator_filters": 16, "n_layers": 2,
            "norm": "instance", "objective": "lsgan", "lambda_cycle": 10.0,
            "lambda_identity": 0.5, "pool_size": 50, "segmentation_classes": 5,
            "segmentation_filters": 8, "lambda_segmentation": 1.0, "seed": 0},
    summary="SynSeg-Net (Huo): CycleGAN MR -> CT + a U-Net segmentor trained on synthetic CT "
            "with MR labels only; segments real CT (background, body, liver, kidney, bone), 32x32",
    dataset={"source_shape": (32, 32, 1), "target_shape": (32, 32, 1),
             "segmentation_classes": 5},
    data_description="mr_slices phantoms, unpaired MR (with its organ labels, merged to 5 "
                     "classes) and CT of other subjects (no CT labels); train split, 512 each, "
                     "32x32, [-1, 1]",
    train_steps=1200,
    batch_size=8,
    seed=0,
))

SRGAN_MR = register_preset(Preset(
    name="srgan_mr",
    family="srgan",
    config={"contract": _contract(MR_LOW_RES, MR_OUT),
            "source_shape": (16, 16, 1), "scale": 2, "reference_channels": 0,
            "content_loss": "mse", "lambda_adversarial": 1e-3, "generator_filters": 32,
            "n_blocks": 4, "norm": "none", "residual": True, "discriminator": "image",
            "discriminator_filters": 16, "n_layers": 2, "objective": "nsgan", "seed": 0},
    summary="SRGAN (Ledig) x2 super-resolution of T2 MR phantoms, 16x16 -> 32x32: SRResNet "
            "(4 blocks, pixel shuffle) with MSE content + 1e-3 adversarial loss",
    dataset={"source_shape": (16, 16, 1), "scale": 2, "reference_channels": 0},
    data_description="multi_contrast_sr phantoms (train split, 512 subjects): T2 averaged over "
                     "2x2 blocks (16x16) -> T2 at 32x32, MR [0, 1.5] -> [-1, 1]",
    train_steps=600,
    batch_size=16,
    seed=0,
))

SRGAN_MULTICONTRAST = register_preset(Preset(
    name="srgan_multicontrast",
    family="srgan",
    config={"contract": _contract(MR_LOW_RES, MR_OUT),
            "source_shape": (16, 16, 1), "scale": 2, "reference_channels": 1,
            "content_loss": "mse", "lambda_adversarial": 1e-3, "generator_filters": 32,
            "n_blocks": 4, "norm": "none", "residual": True, "discriminator": "image",
            "discriminator_filters": 16, "n_layers": 2, "objective": "nsgan", "seed": 0},
    summary="multi-contrast SRGAN: low-resolution T2 (16x16) + high-resolution T1 (32x32) of "
            "the same subject -> T2 at 32x32 (Ledig's loss, T1 folded into G's input)",
    dataset={"source_shape": (16, 16, 1), "scale": 2, "reference_channels": 1},
    data_description="multi_contrast_sr phantoms (train split, 512 subjects): T2 averaged over "
                     "2x2 blocks (16x16) and T1 at 32x32 -> T2 at 32x32, MR [0, 1.5] -> [-1, 1]",
    train_steps=600,
    batch_size=16,
    seed=0,
))

SIMGAN_LOWDOSE_CT = register_preset(Preset(
    name="simgan_lowdose_ct",
    family="simgan",
    config={"contract": _contract(CT_SOFT_TISSUE, CT_SOFT_TISSUE),
            "image_shape": (32, 32, 1), "generator": "resnet", "generator_filters": 16,
            "n_blocks": 3, "n_downsampling": 0, "norm": "none", "residual": True,
            "discriminator": "patch", "discriminator_filters": 16, "n_layers": 2,
            "lambda_l1": 1.0, "pool_size": 50, "window": (-160.0, 240.0), "objective": "lsgan",
            "seed": 0},
    summary="SimGAN (Shrivastava; Wolterink 2017) refining low-dose CT toward routine dose "
            "from UNALIGNED scans, 32x32: residual ResNet refiner, local PatchGAN D, L1 "
            "self-regularisation, history pool of 50",
    dataset={"image_shape": (32, 32, 1), "window": (-160.0, 240.0)},
    data_description="lowdose_ct phantoms (train split, 512 subjects; dose 0.25 vs routine), each "
                     "low-dose scan paired with the routine scan of ANOTHER subject, 32x32, "
                     "soft-tissue window [-160, 240] HU -> [-1, 1]",
    train_steps=1200,
    batch_size=16,
    seed=0,
))

SIMGAN_LOWDOSE_CT_CLINICAL = register_preset(Preset(
    name="simgan_lowdose_ct_clinical",
    family="simgan",
    config={**SIMGAN_LOWDOSE_CT.config,
            "contract": _contract(CT_SOFT_TISSUE, {**CT_SOFT_TISSUE, "outside": "input"}),
            "image_shape": (128, 128, 1), "task": "lowdose_ct_clinical"},
    summary="SimGAN (Shrivastava; Wolterink 2017) refining low-dose CT from UNALIGNED scans, for "
            "real scans: trained at 128x128 on randomised radon/Poisson/FBP phantoms in the "
            "soft-tissue window (values outside it pass through); residual ResNet refiner, local "
            "PatchGAN D, L1 self-regularisation, history pool of 50",
    dataset={"image_shape": (128, 128, 1), "window": (-160.0, 240.0),
             "task": "lowdose_ct_clinical"},
    data_description=CLINICAL_CT_DESCRIPTION.replace(
        "against the noiseless reconstruction of the same slice",
        "each low-dose slice paired with the noiseless reconstruction of ANOTHER slice").replace(
        "[-1024, 1024] HU -> [-1, 1]", "soft-tissue window [-160, 240] HU -> [-1, 1]"),
    train_steps=3000,
    batch_size=8,
    seed=0,
    real_data={**REAL_CT_CLINICAL, "result": "better than its input on every real slice: mean "
               "body PSNR 41.57 vs 38.03 dB for the quarter-dose input (SSIM 0.973 vs 0.895, "
               "soft-tissue noise 9.8 vs 27.8 HU), below non-local means tuned on phantoms "
               "(43.90 dB, SSIM 0.980)"},
))

ADVERSARIAL_SEGMENTATION_RETINA = register_preset(Preset(
    name="adversarial_segmentation_retina",
    family="adversarial_segmentation",
    config={"contract": _contract(RGB_8BIT, _labels("background", "vessel")),
            "depth": 5,  # U-Net levels: runs at any multiple of 32
            "image_shape": (32, 32, 3), "generator_filters": 8, "discriminator_filters": 8,
            "n_layers": 3, "input_mode": "product", "objective": "lsgan",
            "adversarial_weight": 0.05, "seed": 0},
    summary="U-Net vessel segmentor trained with CE + a pair discriminator (Luc, product input, "
            "least-squares loss) on retina phantoms, 32x32 RGB",
    dataset={"image_shape": (32, 32, 3), "task": "vessels"},
    data_description="retina phantoms (train split, 512 fundus-like images with vessel masks), "
                     "32x32 RGB, [0, 1] -> [-1, 1]",
    train_steps=1000,
    batch_size=16,
    seed=0,
))

# The same recipe on domain-randomised retina phantoms (issue #17, point 3): every training and
# validation image gets a random appearance (advzoo.data.DomainRandomisation's default ranges:
# per-label colours, bias field, blur and resolution, noise, gamma) over the same vessel masks.
# adversarial_segmentation_retina stays as its non-randomised baseline
# (benchmarks/segmentation_randomisation.py compares the two). Trial runs that are not in the
# repo (blur sd <= 0.5 px and down-sampling <= 1.5x, the vessels being 1-3 px wide at 32x32; 3000
# steps instead of 1000) did not bring it near its twin on the usual validation phantoms: the
# 8-filter U-Net under-fits the randomised data, so these defaults were kept.
ADVERSARIAL_SEGMENTATION_RETINA_RANDOMISED = register_preset(dataclasses.replace(
    ADVERSARIAL_SEGMENTATION_RETINA,
    name="adversarial_segmentation_retina_randomised",
    config=dict(ADVERSARIAL_SEGMENTATION_RETINA.config),  # a copy: no shared mutable state
    summary="U-Net vessel segmentor trained with CE + a pair discriminator (Luc, product input, "
            "least-squares loss) on domain-randomised retina phantoms (SynthSeg-style), 32x32 RGB",
    dataset={**ADVERSARIAL_SEGMENTATION_RETINA.dataset, "randomise": True},
    data_description="retina phantoms (train split, 512 fundus-like images with vessel masks), "
                     "each image drawn once with a random appearance (DomainRandomisation "
                     "defaults: per-label colours, bias field, blur/resolution, noise, gamma), "
                     "32x32 RGB, [0, 1] -> [-1, 1]",
))

SEGAN_RETINA = register_preset(Preset(
    name="segan_retina",
    family="segan",
    config={"contract": _contract(RGB_8BIT, _labels("background", "vessel")),
            "depth": 5,  # U-Net levels: runs at any multiple of 32
            "image_shape": (32, 32, 3), "generator_filters": 8, "critic_filters": 8,
            "n_layers": 3, "seed": 0},
    summary="SegAN (Xue): U-Net vessel segmentor trained only by the multi-scale L1 loss of a "
            "clipped critic, retina phantoms, 32x32 RGB",
    dataset={"image_shape": (32, 32, 3), "task": "vessels"},
    data_description="retina phantoms (train split, 512 fundus-like images with vessel masks), "
                     "32x32 RGB, [0, 1] -> [-1, 1]",
    train_steps=1000,
    batch_size=16,
    seed=0,
))

DAN_RETINA_5PCT = register_preset(Preset(
    name="dan_retina_5pct",
    family="dan",
    config={"contract": _contract(RGB_8BIT, _labels("background", "vessel")),
            "depth": 5,  # U-Net levels: runs at any multiple of 32
            "image_shape": (32, 32, 3), "generator_filters": 8, "discriminator_filters": 8,
            "n_layers": 3, "input_mode": "concat", "objective": "lsgan",
            "adversarial_weight": 0.05, "seed": 0},
    summary="DAN (Zhang): U-Net vessel segmentor from 5% labelled retina phantoms + the "
            "unlabelled rest, 32x32 RGB",
    dataset={"image_shape": (32, 32, 3), "task": "vessels", "labelled_fraction": 0.05},
    data_description="retina phantoms (train split: 26 labelled images, 486 unlabelled), 32x32 "
                     "RGB, [0, 1] -> [-1, 1]",
    train_steps=1000,
    batch_size=16,
    seed=0,
))

# The same recipe with half of the images labelled: the fraction at which the adversarial term
# helps on these phantoms (benchmarks/dan_few_labels.py; at 5 % and 10 % it hurts).
DAN_RETINA_50PCT = register_preset(dataclasses.replace(
    DAN_RETINA_5PCT,
    name="dan_retina_50pct",
    config=dict(DAN_RETINA_5PCT.config),  # a copy: the two presets share no mutable state
    summary="DAN (Zhang): U-Net vessel segmentor from 50% labelled retina phantoms + the "
            "unlabelled rest, 32x32 RGB",
    dataset={**DAN_RETINA_5PCT.dataset, "labelled_fraction": 0.5},
    data_description="retina phantoms (train split: 256 labelled images, 256 unlabelled), 32x32 "
                     "RGB, [0, 1] -> [-1, 1]",
))

DANN_DOMAIN_SHIFT = register_preset(Preset(
    name="dann_domain_shift",
    family="dann",
    config={"contract": _contract(DOMAIN_SHIFT, _labels("background", "liver")),
            "depth": 5,  # U-Net levels: runs at any multiple of 32
            "image_shape": (32, 32, 1), "generator_filters": 8, "discriminator_filters": 8,
            "lambda_domain": 0.3, "multi_connected": True, "domain_levels": 3, "seed": 0},
    summary="DANN (Ganin; Kamnitsas multi-connected): U-Net liver segmentor trained on labelled "
            "source-scanner CT phantoms, adapted to an unlabelled target scanner, 32x32",
    dataset={"image_shape": (32, 32, 1), "organ": "liver"},
    data_description="domain_shift phantoms (train split: 512 labelled source-scanner slices, "
                     "512 unlabelled target-scanner slices), 32x32, [0, 1] -> [-1, 1]",
    train_steps=1500,
    batch_size=16,
    seed=0,
))

ADDA_DOMAIN_SHIFT = register_preset(Preset(
    name="adda_domain_shift",
    family="adda",
    config={"contract": _contract(DOMAIN_SHIFT, _labels("background", "liver")),
            "depth": 5,  # U-Net levels: runs at any multiple of 32
            "image_shape": (32, 32, 1), "generator_filters": 8, "discriminator_filters": 8,
            "multi_connected": True, "domain_levels": 3, "adapted_levels": 3, "seed": 0},
    summary="ADDA (Tzeng; Dou): U-Net liver segmentor pre-trained on labelled source-scanner CT "
            "phantoms, its early encoder levels then adapted adversarially to an unlabelled "
            "target scanner, 32x32",
    dataset={"image_shape": (32, 32, 1), "organ": "liver"},
    data_description="domain_shift phantoms (train split: 512 labelled source-scanner slices, "
                     "512 unlabelled target-scanner slices), 32x32, [0, 1] -> [-1, 1]",
    # two stages (advzoo.recipes.recipe_stages): supervised pre-training, then adaptation
    train_steps={"source": 1500, "target": 1000},
    batch_size=16,
    seed=0,
))

PIXELDA_DOMAIN_SHIFT = register_preset(Preset(
    name="pixelda_domain_shift",
    family="pixelda",
    config={"contract": _contract(DOMAIN_SHIFT, _labels("background", "liver")),
            "segmentation_depth": 5,  # U-Net levels: runs at any multiple of 32
            "image_shape": (32, 32, 1), "generator": "resnet", "generator_filters": 8,
            "n_blocks": 3, "n_downsampling": 0, "residual": True, "noise_dim": 10,
            "discriminator_filters": 8, "n_layers": 2, "segmentation_filters": 8,
            "lambda_adv": 1.0, "lambda_task": 0.1, "lambda_content": 0.0,
            "train_on_source": True, "seed": 0},
    summary="PixelDA (Bousmalis): source-scanner CT phantoms translated to the look of an "
            "unlabelled target scanner by G(x_s, z) against a PatchGAN; the U-Net liver "
            "segmentor learns from the translations and the source images, 32x32",
    dataset={"image_shape": (32, 32, 1), "organ": "liver"},
    data_description="domain_shift phantoms (train split: 512 labelled source-scanner slices, "
                     "512 unlabelled target-scanner slices), 32x32, [0, 1] -> [-1, 1]",
    train_steps=600,
    batch_size=16,
    seed=0,
))

SSL_GAN_DIGITS = register_preset(Preset(
    name="ssl_gan_digits",
    family="ssl_gan",
    config={"image_shape": (16, 16, 1), "num_classes": 10, "latent_dim": 64,
            "generator_filters": 32, "discriminator_filters": 32, "discriminator_norm": "none",
            "dropout": 0.3, "noise_std": 0.2, "lambda_unsupervised": 1.0,
            "feature_matching": True, "seed": 0},
    summary="Semi-supervised GAN classifier (Salimans: K+1 discriminator, feature matching) "
            "of digits from 5% labels (63 digits) + the unlabelled rest, 16x16",
    dataset={"image_shape": (16, 16, 1), "dataset": "digits", "labelled_fraction": 0.05},
    data_description="scikit-learn digits (train split, 1,258 images: 63 labelled, "
                     "class-balanced, 1,195 unlabelled), 8x8 resized to 16x16, [-1, 1]",
    train_steps=400,
    batch_size=32,
    seed=0,
))

VAGAN_LESIONS = register_preset(Preset(
    name="vagan_lesions",
    family="vagan",
    config={"contract": _contract(CT_SOFT_TISSUE, {**CT_SOFT_TISSUE, "kind": "difference"}),
            "image_shape": (32, 32, 1), "generator_filters": 16, "discriminator_filters": 16,
            "n_layers": 3, "depth": 3, "lambda_map": 30.0, "learning_rate": 1e-3,
            "critic_warmup": 300, "seed": 0},
    summary="VA-GAN (Baumgartner): U-Net attribution-map generator M whose x + M(x) a WGAN-GP "
            "critic must take for a lesion-free slice, liver-lesion CT phantoms, 32x32",
    dataset={"image_shape": (32, 32, 1)},
    data_description="lesions phantoms (train split: 256 slices with 1-3 hypodense liver lesions "
                     "paired at random with 256 lesion-free slices), 32x32, soft-tissue window "
                     "[-160, 240] HU -> [-1, 1]",
    # 3000 steps: at 1000 the map overlapped the lesions less than the classifier's gradient
    # saliency (NCC 0.253 vs 0.278 over seeds 0 1 2, `python benchmarks/vagan_attribution.py
    # --steps 1000 --seeds 0 1 2`); the 3000-step figures are in the README's VA-GAN table.
    train_steps=3000,
    batch_size=16,
    seed=0,
))
