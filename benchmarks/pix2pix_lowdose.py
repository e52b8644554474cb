"""Low-dose CT denoising by the shipped presets: noise left in homogeneous organs (HU) and PSNR,
against the low-dose input and the routine-dose target (Wolterink et al. 2017; Yang et al. 2018).

Presets: `pix2pix_lowdose_ct` (2D, residual U-Net, nsgan + 100 L1), `wgan_vgg_lowdose_ct` (2D,
whole-image WGAN-GP critic + phantom-feature perceptual loss + small L1) and
`pix2pix_lowdose_ct_3d` (32^3 volumes with image-domain noise). On the test split:

- noise sd (HU): the standard deviation of (image - clean reference) inside soft tissue and liver
  (the phantom's label map), eroded by one voxel to stay away from edges, per image and organ,
  then averaged. The clean reference is the noise-free reconstruction (`noiseless`: same FBP,
  no photon noise) in 2D and the noise-free phantom in 3D, so organ texture does not count as
  noise;
- PSNR (data range 2 in [-1, 1]) and MAE (HU) against the routine-dose target, and PSNR against
  the clean reference.

    python benchmarks/pix2pix_lowdose.py
"""
import argparse
import pathlib

import numpy as np
from scipy.ndimage import binary_erosion

import advzoo
from advzoo.data import CT_LABELS, hu_to_unit, lowdose_ct_arrays, unit_to_hu
from advzoo.data.pairs import lowdose_ct_3d_arrays
from advzoo.metrics import mae_hu, psnr
from advzoo.readme import write_result

RESULT = pathlib.Path(__file__).parent / "results" / "pix2pix_lowdose.json"
ORGANS = ("soft_tissue", "liver")


def homogeneous_masks(labels):
    """{organ: boolean masks (N, ...)}, each organ's label map eroded by one voxel."""
    labels = np.asarray(labels)[..., 0]
    out = {}
    for organ in ORGANS:
        masks = labels == CT_LABELS.index(organ)
        out[organ] = np.stack([binary_erosion(m) for m in masks])
    return out


def noise_sd(image_hu, clean_hu, masks) -> float:
    """Mean over images and organs of the sd of (image - clean) inside the eroded organ."""
    diff = (np.asarray(image_hu, np.float64) - clean_hu)[..., 0]
    values = [diff[i][m[i]].std() for m in masks.values() for i in range(len(diff))
              if m[i].sum() >= 8]
    return float(np.mean(values))


def rows_for(setting, presets, low, routine, clean, labels):
    masks = homogeneous_masks(labels)
    target = hu_to_unit(routine)
    source = hu_to_unit(low)
    reference = hu_to_unit(clean)
    images = [("low-dose input", source), ("routine-dose target", target)]
    for name in presets:
        images.append((f"{name} output", advzoo.load(name).translate(source)))
    rows = []
    for name, image in images:
        hu = unit_to_hu(image)
        row = {"setting": setting, "image": name,
               "noise sd in soft tissue + liver (HU)": round(noise_sd(hu, clean, masks), 2),
               "PSNR vs routine (dB)": (round(psnr(target, image, 2.0), 2)
                                        if name != "routine-dose target" else "-"),
               "MAE vs routine (HU)": (round(mae_hu(target, image, from_unit=True), 2)
                                       if name != "routine-dose target" else "-"),
               "PSNR vs noise-free (dB)": round(psnr(reference, image, 2.0), 2)}
        rows.append(row)
        print(row, flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    two_d = lowdose_ct_arrays("test", size=32)
    three_d = lowdose_ct_3d_arrays("test", size=32)
    rows = rows_for("2D 32x32 (radon + Poisson + FBP)",
                    ["pix2pix_lowdose_ct", "wgan_vgg_lowdose_ct"], two_d["low"],
                    two_d["routine"], two_d["noiseless"], two_d["labels"])
    rows += rows_for("3D 32^3 (image-domain correlated noise)", ["pix2pix_lowdose_ct_3d"],
                     three_d["low"], three_d["routine"], three_d["phantom"], three_d["labels"])
    result = {
        "title": "pix2pix / wgan_vgg low-dose CT presets: noise in homogeneous organs and PSNR "
                 "vs. the low-dose input and the routine-dose target",
        "command": "python benchmarks/pix2pix_lowdose.py",
        "columns": list(rows[0]),
        "rows": rows,
        "note": f"Test split (64 slices / 64 volumes), dose 0.25. Noise sd: sd of image minus "
                f"the noise-free reference inside {' and '.join(ORGANS)} (labels eroded by one "
                "voxel), averaged over images and organs. The wgan_vgg perceptual loss uses the "
                "zoo's phantom feature network, not VGG. The 3D data are CT phantom volumes with "
                "image-domain correlated Gaussian noise of the 2D phantom's sd, not a radon/FBP "
                "simulation.",
    }
    if not args.no_write:
        write_result(RESULT, result)


if __name__ == "__main__":
    main()
