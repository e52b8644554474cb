"""The low-dose CT presets on REAL CT slices at native resolution, through `advzoo apply`.

`pix2pix_lowdose_ct` and `wgan_vgg_lowdose_ct` were trained on 32x32 phantom slices; here they are
run with `advzoo apply PRESET quarter_dose.dcm --out out.dcm` (so through the preset's own input
contract: HU in the [-1024, 1024] window) on real CT slices that pydicom ships as test files, each
given a simulated quarter-dose scan at the slice's own size and pixel spacing:

- `CT_small.dcm` (128 x 128, 0.661 mm pixels, a crop of a body slice around the spine);
- `693_J2KI.dcm` and `J2K_pixelrep_mismatch.dcm` (512 x 512 heads, JPEG 2000; used when their
  pixel data decodes here, else skipped and said so in the result's note).

Simulation (per slice, at its native resolution; the phantom data's convention in
`advzoo.data.lowdose_ct_arrays`, scaled to the slice):

1. HU (RescaleSlope/Intercept applied) -> linear attenuation mu = 0.2/cm * (1 + HU/1000),
   clipped at 0 (values below -1000 HU, such as the -2000 / -3000 HU padding outside a scanner's
   field of view, become air).
2. The slice is PADDED with air (mu = 0) to a square of side P = ceil(sqrt(2) * S) + 4, centred,
   so that the whole original square lies inside the inscribed circle of the padded image and
   `skimage.transform.radon(..., circle=True)` sees every pixel. Masking the slice outside its own
   inscribed circle instead would cut off the corners, where `CT_small.dcm`'s body reaches the
   image border; padding simulates exactly the object in the image, surrounded by air.
3. Line integrals p = radon(mu) * pixel size in cm (PixelSpacing), over n_angles = ceil(pi/2 * P)
   views in [0, 180) degrees: the angular sampling that matches P detector bins (the phantoms use
   1.5 x size, about the same ratio; pi/2 x bins is the usual sampling criterion).
4. Transmitted counts I = Poisson(I0 * exp(-p)) with I0 = 5e5 * dose photons per detector bin
   (5e5 at routine dose as in the phantom data; dose 0.25: a quarter-dose scan), numpy
   `default_rng(seed)`; p_noisy = -log(max(I, 1) / I0).
5. Filtered back-projection with the ramp filter (`skimage.transform.iradon`, circle=True), divided
   by the pixel size in cm, cropped back to S x S and converted back to HU.
The REFERENCE is the FBP of the noiseless p: it has the same FBP blur and sampling as the input, so
`input - reference` is photon noise only. A detector bin is one pixel wide; the photons per bin
follow the phantom convention, not a calibrated clinical dose (the resulting quarter-dose noise,
about 18 HU in CT_small's soft tissue and 35-40 HU in the heads' brain, is in the result's rows).
Steps 1-5 are `advzoo.data.simulate_low_dose(hu, dose, pixel_mm=..., flux=5e5, pad=True,
backend="skimage", seed=seed)`, the simulation the clinical-resolution phantoms
(`advzoo.data.lowdose_ct_clinical_arrays`) share. `backend="skimage"` keeps scikit-image's
radon/iradon for every slice (the figures are those of this benchmark's earlier copy of the
simulation, bit for bit): `advzoo.data.ct`'s sparse operators would agree to ~1e-9 HU at 128 x 128
but not bit for bit, and at P = 729 and 1146 views the projector alone would hold about
4 x P^2 x n_angles = 2.4e9 non-zeros.

The quarter-dose slice is written as a DICOM with the original's geometry
(`advzoo.scan_io.write_scan(read_scan(original), hu[..., None], path, kind="image")`), each preset
is run on it with `advzoo.cli.main(["apply", PRESET, path, "--out", out, "--quiet"])`, and its
output DICOM is read back (`scan_io.read_scan`) in HU. Two classical denoisers with scikit-image's
untuned defaults are context rows: non-local means (sigma from `estimate_sigma`, h = 0.8 sigma,
patch 5, distance 6, fast mode) and TV (Chambolle, weight 0.05), both on the image scaled to [0, 1]
over the [-1024, 1024] window. Nothing is tuned on these slices.

Measures against the noiseless reference, all images and the reference clipped to the
[-1024, 1024] window (the presets' outputs live there):
- body mask: reference > -500 HU, largest connected component, holes filled;
- PSNR (dB, data range 2048 HU) over body pixels; SSIM (skimage, data range 2048, full map)
  averaged over the body mask;
- noise sd in soft tissue (HU): sd of (image - reference) over reference pixels in [-100, 100] HU
  inside the body, that mask eroded by 2 pixels;
and their means over slices.

    python benchmarks/real_ct_lowdose.py [--seed 0] [--no-write] [--files CT_small.dcm ...]
"""
from __future__ import annotations

import argparse
import math
import pathlib
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from _baselines import estimate_sigma  # noqa: E402  (skimage's estimator, also without pywt)

RESULT = pathlib.Path(__file__).parent / "results" / "real_ct_lowdose.json"
FILES = ("CT_small.dcm", "693_J2KI.dcm", "J2K_pixelrep_mismatch.dcm")
PRESETS = ("pix2pix_lowdose_ct", "wgan_vgg_lowdose_ct")
PHOTONS = 5e5  # incident photons per detector bin at routine dose, as in the phantom data
DOSE = 0.25
WINDOW = (-1024.0, 1024.0)
DATA_RANGE = WINDOW[1] - WINDOW[0]
COLUMNS = ("slice", "image", "PSNR in body (dB)", "SSIM in body", "noise sd in soft tissue (HU)")


def padded_size(size: int) -> int:
    """Side of the air-padded square whose inscribed circle holds the whole size x size slice."""
    from advzoo.data.lowdose import padded_side

    return padded_side(size)


def default_n_angles(size: int) -> int:
    """ceil(pi/2 * P) views for a slice of side `size` (P = padded_size(size) detector bins)."""
    from advzoo.data.lowdose import default_n_angles as views

    return views(size, pad=True)


def simulate_lowdose(hu, pixel_mm: float, dose: float = DOSE, photons: float = PHOTONS,
                     n_angles: int | None = None, seed: int = 0) -> dict:
    """Simulate a `dose` scan of one real CT slice at its own resolution (module docstring), with
    the shared `advzoo.data.simulate_low_dose` (scikit-image operators, air padding).

    Args:
        hu: square 2D slice in HU.
        pixel_mm: pixel size in mm (PixelSpacing; square pixels).
        dose: dose fraction; the incident photons per detector bin are photons * dose.
        n_angles: views over [0, 180) degrees (default ceil(pi/2 * padded size)).
        seed: numpy default_rng seed of the Poisson noise.

    Returns:
        dict(low=the noisy reconstruction (HU), noiseless=the FBP of the noiseless line integrals
        (HU), both float64 (S, S); n_angles, padded_size, photons_per_bin).
    """
    from advzoo.data import simulate_low_dose

    hu = np.asarray(hu, np.float64)
    if hu.ndim != 2 or hu.shape[0] != hu.shape[1]:
        raise ValueError(f"expected a square 2D slice, got shape {hu.shape}")
    size = hu.shape[0]
    n_angles = default_n_angles(size) if n_angles is None else int(n_angles)
    low, noiseless = simulate_low_dose(hu, dose, pixel_mm=float(pixel_mm), flux=float(photons),
                                       filter_name="ramp", n_angles=n_angles, pad=True,
                                       backend="skimage", seed=seed)
    return {"low": low, "noiseless": noiseless, "n_angles": n_angles,
            "padded_size": padded_size(size), "photons_per_bin": float(photons) * float(dose)}


def body_mask(reference_hu):
    """Reference > -500 HU, largest connected component, holes filled."""
    from scipy import ndimage

    mask = np.asarray(reference_hu) > -500
    labels, n = ndimage.label(mask)
    if n == 0:
        return mask
    sizes = ndimage.sum(mask, labels, index=np.arange(1, n + 1))
    return ndimage.binary_fill_holes(labels == 1 + int(np.argmax(sizes)))


def soft_tissue_mask(reference_hu, body):
    """Reference in [-100, 100] HU inside the body, eroded by 2 pixels."""
    from scipy.ndimage import binary_erosion

    ref = np.asarray(reference_hu)
    return binary_erosion((ref >= -100) & (ref <= 100) & body, iterations=2)


def _window(x):
    return np.clip(np.asarray(x, np.float64), *WINDOW)


def measures(image_hu, reference_hu, body, soft) -> dict:
    """PSNR and SSIM in the body, noise sd in soft tissue; both images clipped to the window."""
    from skimage.metrics import structural_similarity

    image, reference = _window(image_hu), _window(reference_hu)
    mse = float(np.mean((image[body] - reference[body]) ** 2))
    psnr = float("inf") if mse == 0 else 10.0 * math.log10(DATA_RANGE ** 2 / mse)
    _, ssim_map = structural_similarity(reference, image, data_range=DATA_RANGE, full=True)
    return {"PSNR in body (dB)": psnr, "SSIM in body": float(ssim_map[body].mean()),
            "noise sd in soft tissue (HU)": float((image - reference)[soft].std())}


def _to_unit(hu):
    return (_window(hu) - WINDOW[0]) / DATA_RANGE


def _from_unit(u):
    return np.asarray(u, np.float64) * DATA_RANGE + WINDOW[0]


def nl_means(hu):
    """scikit-image non-local means, untuned defaults (module docstring), in HU."""
    from skimage.restoration import denoise_nl_means

    u = _to_unit(hu)
    sigma = estimate_sigma(u)
    return _from_unit(denoise_nl_means(u, h=0.8 * sigma, sigma=sigma, patch_size=5,
                                       patch_distance=6, fast_mode=True))


def tv(hu):
    """scikit-image TV denoising (Chambolle, weight 0.05) on the [0, 1]-scaled window, in HU."""
    from skimage.restoration import denoise_tv_chambolle

    return _from_unit(denoise_tv_chambolle(_to_unit(hu), weight=0.05))


def apply_preset(preset, input_path, out_path):
    """`advzoo apply PRESET input --out out --quiet`; the output slice in HU."""
    from advzoo import cli, scan_io

    code = cli.main(["apply", preset, str(input_path), "--out", str(out_path), "--quiet"])
    if code != 0:
        raise RuntimeError(f"advzoo apply {preset} {input_path} exited with {code}")
    return scan_io.read_scan(out_path).array[..., 0].astype(np.float64)


def quarter_dose_slice(name, seed):
    """pydicom's test file `name` with its simulated quarter-dose scan and the masks the measures
    use: (dict(ds, scan, hu, spacing, stem, sim, sim_seconds, reference, body, soft), None), or
    (None, why it is skipped) for a file that is missing, does not decode or has non-square
    pixels. Shared with benchmarks/real_ct_clinical.py."""
    import pydicom
    from pydicom.data import get_testdata_file

    from advzoo import scan_io

    path = get_testdata_file(name)
    if path is None:
        return None, f"{name}: not among pydicom's test files here, skipped"
    ds = pydicom.dcmread(path)
    try:
        ds.pixel_array
    except Exception as err:  # e.g. JPEG 2000 without a decoder
        return None, f"{name}: pixel data does not decode here ({type(err).__name__}: {err}), skipped"
    scan = scan_io.read_scan(path)  # HU with RescaleSlope/Intercept
    hu = scan.array[..., 0].astype(np.float64)
    spacing = [float(v) for v in ds.PixelSpacing]
    if abs(spacing[0] - spacing[1]) > 1e-6 * max(spacing):
        return None, f"{name}: non-square pixels {spacing}, skipped"
    start = time.perf_counter()
    sim = simulate_lowdose(hu, spacing[0], seed=seed)
    sim_seconds = time.perf_counter() - start
    reference = sim["noiseless"]
    body = body_mask(reference)
    return {"ds": ds, "scan": scan, "hu": hu, "spacing": spacing[0],
            "stem": pathlib.Path(name).stem, "sim": sim, "sim_seconds": sim_seconds,
            "reference": reference, "body": body, "soft": soft_tissue_mask(reference, body)}, None


def run_slice(name, seed, tmp):
    """Rows for one pydicom test file, and what the note says about it."""
    from advzoo import scan_io

    sl, skipped = quarter_dose_slice(name, seed)
    if sl is None:
        return [], skipped
    ds, scan, hu, sim, stem = sl["ds"], sl["scan"], sl["hu"], sl["sim"], sl["stem"]
    reference, body, soft = sl["reference"], sl["body"], sl["soft"]
    low_path = tmp / f"{stem}_quarter_dose.dcm"
    scan_io.write_scan(scan, sim["low"][..., None], low_path, kind="image")
    low_stored = scan_io.read_scan(low_path).array[..., 0].astype(np.float64)  # rounded to 1 HU
    images = [("quarter-dose input", low_stored)]
    for preset in PRESETS:
        images.append((f"{preset} (advzoo apply)",
                       apply_preset(preset, low_path, tmp / f"{stem}_{preset}.dcm")))
    images += [("non-local means (skimage, untuned defaults)", nl_means(low_stored)),
               ("TV Chambolle 0.05 (skimage, untuned defaults)", tv(low_stored))]
    rows = []
    for label, image in images:
        row = {"slice": stem, "image": label, **measures(image, reference, body, soft)}
        rows.append(row)
        print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    lossy = (f", lossy compression ratio {float(ds.get('LossyImageCompressionRatio', 0)):.0f}: "
             "already smoothed" if str(ds.get("LossyImageCompression", "")) == "01" else "")
    info = (f"{name} ({hu.shape[0]}x{hu.shape[1]}, {sl['spacing']:.3g} mm pixels, "
            f"{ds.file_meta.TransferSyntaxUID.name}{lossy}; padded to {sim['padded_size']}, "
            f"{sim['n_angles']} views, simulation {sl['sim_seconds']:.0f} s; body "
            f"{100 * body.mean():.0f} % of the slice, soft tissue {int(soft.sum())} pixels)")
    return rows, info


def mean_rows(rows, column: str = "slice", label: str = "mean") -> list:
    """One row per image of `rows`, in order: each measure's mean over its rows (NaN, as a
    slice without soft tissue would give, left out), with `column` set to `label`."""
    out = []
    for image in dict.fromkeys(r["image"] for r in rows):
        same = [r for r in rows if r["image"] == image]
        out.append({column: label, "image": image,
                    **{c: float(np.nanmean([r[c] for r in same])) for c in COLUMNS[2:]}})
    return out


BASELINES = ("non-local means (skimage, untuned defaults)",
             "TV Chambolle 0.05 (skimage, untuned defaults)")
_BETTER = {"PSNR in body (dB)": 1, "SSIM in body": 1, "noise sd in soft tissue (HU)": -1}


def _verdict(rows, slices):
    """Plain words, from the rows: does each preset improve on the input on every slice, and how
    does it compare with the classical baselines?"""
    def get(stem, label):
        return next(r for r in rows if r["slice"] == stem and r["image"] == label)

    def better(stem, label, other):
        """The measures in which `label` is better than `other` on slice `stem`."""
        return [c for c, sign in _BETTER.items()
                if sign * (get(stem, label)[c] - get(stem, other)[c]) > 0]

    n, parts = len(slices), []
    for preset in PRESETS:
        label = f"{preset} (advzoo apply)"
        wins = {s: better(s, label, "quarter-dose input") for s in slices}
        every = all(len(w) == 3 for w in wins.values())
        groups = {"better than the input in all three measures on":
                  [s for s in slices if len(wins[s]) == 3],
                  "worse in all three on": [s for s in slices if not wins[s]],
                  "mixed on": [f"{s} (better in {', '.join(wins[s])} only)" for s in slices
                               if 0 < len(wins[s]) < 3]}
        text = "; ".join(f"{k} {', '.join(v)}" for k, v in groups.items() if v)
        vs = []
        for base in BASELINES:
            count = sum(len(better(s, label, base)) for s in slices)
            vs.append(f"{base.split(' (')[0]} in {count} of {3 * n} (slice, measure) pairs")
        parts.append(f"{preset} does {'' if every else 'NOT '}improve on the quarter-dose input on "
                     f"every slice: {text}. It beats " + " and ".join(vs))
    return ". ".join(parts) + "."


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0, help="numpy default_rng seed of the noise")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--files", nargs="+", default=list(FILES),
                        help="pydicom test file names (default: %(default)s)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows, infos = [], []
    with tempfile.TemporaryDirectory(prefix="real_ct_lowdose.") as tmp:
        for name in args.files:
            slice_rows, info = run_slice(name, args.seed, pathlib.Path(tmp))
            rows += slice_rows
            infos.append(info)
            print(info, flush=True)
    if not rows:
        print("no slice could be used", file=sys.stderr)
        return 1
    slices = list(dict.fromkeys(r["slice"] for r in rows))
    rows += mean_rows(rows)
    for row in rows:
        for col in COLUMNS[2:]:
            row[col] = round(row[col], 4 if col == "SSIM in body" else 2)
    seconds = time.perf_counter() - start
    print(f"total {seconds:.0f} s")
    command = "python benchmarks/real_ct_lowdose.py" + (f" --seed {args.seed}" if args.seed else "")
    result = {
        "title": "Low-dose CT presets on real CT slices at native resolution (advzoo apply on a "
                 "simulated quarter-dose scan): PSNR/SSIM in the body and soft-tissue noise vs. "
                 "the noiseless reconstruction",
        "command": command,
        "columns": list(COLUMNS),
        "rows": rows,
        "note": "Slices (pydicom's test files): " + "; ".join(infos) + ". "
                f"Quarter-dose simulation at each slice's own size and pixel spacing (module "
                f"docstring): HU -> mu (0.2/cm water), air padding so the whole slice is inside "
                f"the scan circle, radon over ceil(pi/2 x padded size) views, Poisson counts with "
                f"{PHOTONS * DOSE:.3g} photons per detector bin (5e5 at routine dose, dose "
                f"{DOSE}), ramp-filter FBP; seed {args.seed}. Reference: FBP of the noiseless "
                f"line integrals (same blur). The quarter-dose slice is written as a DICOM with "
                f"the original's geometry and each preset run on it by `advzoo apply` (its input "
                f"contract: HU window [-1024, 1024]); both presets were trained on 32x32 phantom "
                f"slices only. "
                f"Non-local means (h = 0.8 x estimate_sigma, patch 5, distance 6, fast mode) and "
                f"TV (Chambolle, weight 0.05) are scikit-image with UNTUNED settings fixed before "
                f"the run (context only; nothing was tuned on these slices, for them or for the "
                f"presets). estimate_sigma is reimplemented (PyWavelets is not installed; it "
                f"agrees with skimage's to 1e-12). All images and the reference "
                f"clipped to [-1024, 1024] HU; PSNR (data range 2048 HU) and mean SSIM over the "
                f"body (reference > -500 HU, largest component, holes filled); noise sd: "
                f"sd of image - reference over reference in [-100, 100] HU inside the body, "
                f"eroded by 2 pixels. " + _verdict(rows, slices)
                + f" Run time {seconds:.0f} s on 2 CPU cores.",
    }
    if not args.no_write:
        from advzoo.readme import write_result

        write_result(RESULT, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
