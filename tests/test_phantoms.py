"""Phantoms of advzoo.data: determinism, ground truth, scaling, tf.data forms and bad arguments."""

import numpy as np
import pytest

from advzoo import data as D
from advzoo.data import ct as CT
from advzoo.data import phantoms as P

# (function, small keyword arguments) for every phantom's numpy form
SMALL = {
    "ct_slices": (D.ct_slices_arrays, dict(size=32)),
    "ct_volumes": (D.ct_slices_arrays, dict(size=16, ndim=3)),
    "mr_slices": (D.mr_slices_arrays, dict(size=32)),
    "lowdose_ct": (D.lowdose_ct_arrays, dict(size=32)),
    "undersampled_mr": (D.undersampled_mr_arrays, dict(size=32)),
    "multi_contrast_sr": (D.multi_contrast_sr_arrays, dict(size=32)),
    "lesions": (D.lesions_arrays, dict(size=32)),
    "nodules": (D.nodules_arrays, dict(size=32)),
    "domain_shift": (D.domain_shift_arrays, dict(size=32)),
    "retina": (D.retina_arrays, dict(size=32)),
    "centerlines": (D.centerlines_arrays, dict(points=16)),
    "stain_shift": (D.stain_shift_arrays, dict(size=32)),
    "sketch_xray": (D.sketch_xray_arrays, dict(size=32)),
}


def _body(mask_like):
    return mask_like > 0


@pytest.mark.parametrize("name", sorted(SMALL))
def test_same_seed_identical_other_seed_or_split_differs(name):
    fn, kw = SMALL[name]
    a = fn("train", n=4, seed=3, **kw)
    D.clear_cache()  # regenerate instead of reading the cache
    b = fn("train", n=4, seed=3, **kw)
    c = fn("train", n=4, seed=4, **kw)
    v = fn("val", n=4, seed=3, **kw)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=f"{name}[{k}] not deterministic")
    first = next(iter(a))
    assert a[first].shape[0] == 4
    assert not np.array_equal(a[first], c[first]), f"{name}: seeds 3 and 4 gave the same data"
    assert not np.array_equal(a[first], v[first]), f"{name}: train and val gave the same data"


def test_cache_returns_copies_and_prefix_is_stable():
    a = D.ct_slices_arrays(n=3, size=32)
    a["images"][:] = 0.0  # mutating a result must not touch the cache
    b = D.ct_slices_arrays(n=3, size=32)
    assert b["images"].min() == -1000.0
    many = D.ct_slices_arrays(n=40, size=32)  # two chunks
    np.testing.assert_array_equal(many["images"][:3], b["images"])
    assert not np.array_equal(many["images"][0], many["images"][35])


@pytest.mark.parametrize("ndim,size", [(2, 48), (3, 16)])
def test_ct_hu_ranges_hold_within_labels(ndim, size):
    arr = D.ct_slices_arrays(n=8, size=size, ndim=ndim)
    img, lab = arr["images"][..., 0], arr["labels"][..., 0]
    assert img.dtype == np.float32 and lab.dtype == np.int32
    assert img.shape == (8,) + (size,) * ndim
    seen = set(np.unique(lab))
    assert {0, 1, 2, 6, 7} <= seen  # air, fat, soft tissue, bone, vessels in every subject set
    for i, name in enumerate(D.CT_LABELS):
        if i in seen:
            lo, hi = D.CT_HU_RANGES[name]
            vals = img[lab == i]
            assert vals.min() >= lo and vals.max() <= hi, (name, vals.min(), vals.max())
    means = {n: img[lab == i].mean() for i, n in enumerate(D.CT_LABELS) if i in seen}
    assert means["background"] < means["fat"] < means["soft_tissue"] < means["vessel"] < means["bone"]
    # anatomy: organs inside the body, air only outside
    body = lab > 0
    assert body[:, ].mean() > 0.2 and (~body).mean() > 0.1


def test_ct_noise_option_adds_noise_only():
    clean = D.ct_slices_arrays(n=4, size=32)
    noisy = D.ct_slices_arrays(n=4, size=32, noise_hu=20.0)
    np.testing.assert_array_equal(clean["labels"], noisy["labels"])
    assert 15.0 < np.std(noisy["images"] - clean["images"]) < 25.0


def test_ct_operators_match_scikit_image():
    from skimage.transform import iradon, radon

    img = D.ct_slices_arrays(n=1, size=32)["images"][0, ..., 0]
    mu = P.hu_to_mu(img)
    theta = CT.default_angles(32)
    sino = CT.radon(mu[None])[0]
    np.testing.assert_allclose(sino, radon(mu, theta), atol=1e-9)
    np.testing.assert_allclose(CT.fbp(sino), iradon(sino, theta), atol=1e-9)
    np.testing.assert_allclose(CT.fbp(sino, filter_name="hann"), iradon(sino, theta, filter_name="hann"), atol=1e-9)


def test_lowdose_noise_grows_as_dose_falls():
    stds = []
    for dose in (1.0, 0.5, 0.25, 0.1):
        arr = D.lowdose_ct_arrays(n=8, size=32, dose=dose)
        inside = arr["labels"][..., 0] == P.SOFT
        stds.append(float(np.std((arr["low"] - arr["noiseless"])[..., 0][inside])))
    assert all(a < b for a, b in zip(stds, stds[1:])), stds
    # Poisson noise: sd ~ 1 / sqrt(dose), so a quarter dose about doubles it
    assert 1.6 < stds[2] / stds[0] < 2.4, stds
    arr = D.lowdose_ct_arrays(n=8, size=32, dose=0.1)
    err_low = np.abs(arr["low"] - arr["phantom"]).mean()
    err_routine = np.abs(arr["routine"] - arr["phantom"]).mean()
    assert err_routine < err_low
    # the same subjects at every dose
    np.testing.assert_array_equal(arr["phantom"], D.lowdose_ct_arrays(n=8, size=32, dose=1.0)["phantom"])


def test_zero_filled_error_grows_with_acceleration():
    errs, fractions = [], []
    for acc in (1.0, 2.0, 4.0, 8.0):
        arr = D.undersampled_mr_arrays(n=8, size=32, acceleration=acc)
        errs.append(float(np.abs(arr["zero_filled"] - arr["full"]).mean()))
        fractions.append(float(arr["mask"][:, :, 0, 0].mean()))
    assert errs[0] < 1e-5  # acceleration 1 keeps every line
    assert all(a < b for a, b in zip(errs, errs[1:])), errs
    np.testing.assert_allclose(fractions, [1.0, 0.5, 0.25, 0.125], atol=1 / 32)
    a4 = D.undersampled_mr_arrays(n=8, size=32, acceleration=4.0)["mask"]
    a8 = D.undersampled_mr_arrays(n=8, size=32, acceleration=8.0)["mask"]
    assert np.all(a8 <= a4)  # nested masks
    k = D.undersampled_mr_arrays(n=2, size=32, acceleration=4.0)["kspace"]
    unsampled = np.fft.ifftshift(a4[:2, :, 0, 0], axes=1) == 0
    assert np.all(k[unsampled] == 0)


def test_paired_mr_ct_share_labels_and_unpaired_do_not():
    paired = D.mr_slices_arrays(n=8, size=32, contrast="both")
    np.testing.assert_array_equal(paired["mr_labels"], paired["ct_labels"])
    assert paired["mr"].shape == (8, 32, 32, 2)
    lab = paired["mr_labels"][..., 0]
    t1, t2 = paired["mr"][..., 0], paired["mr"][..., 1]
    assert t1[lab == P.FAT].mean() > t1[lab == P.SOFT].mean() + 0.3  # fat bright on T1
    assert t2[lab == P.KIDNEY].mean() > t2[lab == P.LIVER].mean() + 0.2  # fluid-rich bright on T2
    assert 0.0 <= paired["mr"].min() and paired["mr"].max() <= 1.5
    assert 0.7 - 1e-6 <= paired["bias_field"].min() and paired["bias_field"].max() <= 1.3 + 1e-6
    # Rician noise: the background is not zero but ~ sigma * sqrt(pi / 2)
    assert 0.015 < t1[lab == 0].mean() < 0.035
    unpaired = D.mr_slices_arrays(n=8, size=32, paired=False)
    assert not np.array_equal(unpaired["mr_labels"], unpaired["ct_labels"])
    flat = D.mr_slices_arrays(n=8, size=32, bias=False, noise=0.0)
    assert np.all(flat["bias_field"] == 1.0) and flat["mr"][flat["mr_labels"] == 0].max() == 0.0


def test_lesions_normal_set_has_no_lesion():
    arr = D.lesions_arrays(n=32, size=48)
    normal, abnormal = arr["labels"] == 0, arr["labels"] == 1
    assert normal.sum() == 16 and abnormal.sum() == 16
    masks = arr["masks"][..., 0]
    assert masks[normal].sum() == 0
    assert np.all(masks[abnormal].reshape(16, -1).sum(1) > 0)
    liver = arr["organ_labels"][..., 0] == P.LIVER
    assert np.all(liver[masks > 0])  # lesions lie in the liver
    img = arr["images"][..., 0]
    assert img[masks > 0].mean() < img[liver & (masks == 0)].mean() - 25.0  # hypodense


def test_domain_shift_domains_differ_measurably():
    arr = D.domain_shift_arrays(n=16, size=32)
    src, tgt = arr["source_images"][..., 0], arr["target_images"][..., 0]
    ms, mt = arr["source_masks"][..., 0] > 0, arr["target_masks"][..., 0] > 0
    # same task: liver masks of similar size in both domains
    assert 0.5 < ms.mean() / mt.mean() < 2.0
    # different appearance: liver intensity, noise and sharpness differ
    assert abs(src[ms].mean() - tgt[mt].mean()) > 0.1
    hf = lambda x: np.abs(np.diff(x, axis=2)).mean()  # noqa: E731
    assert abs(hf(src) - hf(tgt)) > 0.01
    hist_s = np.histogram(src, bins=20, range=(0, 1))[0] / src.size
    hist_t = np.histogram(tgt, bins=20, range=(0, 1))[0] / tgt.size
    assert 0.5 * np.abs(hist_s - hist_t).sum() > 0.2  # total-variation distance of intensities


def test_nodules_masks_match_labels_2d_and_3d():
    for ndim, size in ((2, 32), (3, 16)):
        arr = D.nodules_arrays(n=8, size=size, ndim=ndim)
        assert arr["images"].shape == (8,) + (size,) * ndim + (1,)
        has = arr["masks"].reshape(8, -1).sum(1) > 0
        np.testing.assert_array_equal(has, arr["labels"] == 1)
        img = arr["images"][..., 0]
        m = arr["masks"][..., 0] > 0
        assert np.median(img[m]) > -300 and np.median(img[~m]) < -700


def test_retina_stain_sketch_and_centerline_ground_truth():
    r = D.retina_arrays(n=4, size=48)
    vessel, fov = r["masks"][..., 0] > 0, r["fov"][..., 0] > 0
    assert vessel.any() and np.all(fov[vessel])
    green = r["images"][..., 1]
    assert green[vessel].mean() < green[fov & ~vessel].mean() - 0.05
    assert np.all(r["images"][~fov] == 0)

    s = D.stain_shift_arrays(n=4, size=32, stain="both")
    nuc = s["masks"][..., 0] > 0
    assert nuc.any()
    for key in ("images_a", "images_b"):
        assert s[key][nuc].mean() < s[key][~nuc].mean()  # nuclei darker
    assert np.abs(s["images_a"].mean((0, 1, 2)) - s["images_b"].mean((0, 1, 2))).max() > 0.05

    k = D.sketch_xray_arrays(n=4, size=32)
    lines, bone = k["sketches"][..., 0] > 0, k["masks"][..., 0] > 0
    assert lines.any() and np.all(bone[lines])  # the sketch outlines the bones
    assert k["xrays"][..., 0][bone].mean() > k["xrays"][..., 0][~bone].mean() + 0.2

    c = D.centerlines_arrays(n=64, points=16)
    pts = c["points"]
    assert pts.shape == (64, 16, 4) and np.all(pts[..., 3] > 0)
    steps = np.linalg.norm(np.diff(pts[..., :3], axis=1), axis=-1).sum(1)
    np.testing.assert_allclose(steps, c["length_mm"], rtol=1e-3)
    long = c["long"] == 1
    assert c["length_mm"][long].min() >= 100 and c["length_mm"][~long].max() <= 70
    assert np.all(pts[:, 0, 3] > pts[:, -1, 3])  # tapering


def test_centerline_classes_are_learnable():
    from sklearn.linear_model import LogisticRegression

    tr, te = D.centerlines_arrays("train", n=128, points=16), D.centerlines_arrays("test", n=64, points=16)
    flat = lambda a: D.centerlines_to_unit(a["points"]).reshape(len(a["points"]), -1)  # noqa: E731
    for key in ("side", "long"):
        clf = LogisticRegression(max_iter=2000).fit(flat(tr), tr[key])
        assert clf.score(flat(te), te[key]) > 0.95, key


def test_multi_contrast_sr_low_resolution_is_block_mean():
    arr = D.multi_contrast_sr_arrays(n=4, size=32, factor=2)
    assert arr["t2_low"].shape == (4, 16, 16, 1) and arr["t1"].shape == (4, 32, 32, 1)
    block = arr["t2"][..., 0].reshape(4, 16, 2, 16, 2).mean(axis=(2, 4))
    np.testing.assert_allclose(arr["t2_low"][..., 0], block, atol=1e-6)
    assert not np.allclose(arr["t1"], arr["t2"])


def test_scaling_helpers_round_trip():
    hu = np.array([-1024.0, -1000.0, 0.0, 40.0, 1024.0, 3000.0], np.float32)
    unit = D.hu_to_unit(hu)
    assert unit.min() == -1.0 and unit.max() == 1.0
    np.testing.assert_allclose(D.unit_to_hu(unit)[:5], hu[:5], atol=1e-3)
    assert D.unit_to_hu(unit)[5] == 1024.0  # clipped to the window
    mr = np.linspace(0, 1.5, 7)
    np.testing.assert_allclose(D.unit_to_mr(D.mr_to_unit(mr)), mr, atol=1e-6)
    pts = D.centerlines_arrays(n=4, points=16)["points"]
    np.testing.assert_allclose(D.unit_to_centerlines(D.centerlines_to_unit(pts)), pts, atol=1e-4)
    assert np.abs(D.centerlines_to_unit(pts)).max() < 1.5
    with pytest.raises(ValueError, match="lo < hi"):
        D.to_unit(hu, 5.0, 5.0)


def test_tf_data_forms_are_scaled_and_shaped():
    ds = D.ct_slices(n=6, size=32, labels=True, batch_size=4)
    img, lab = next(iter(ds))
    assert tuple(img.shape) == (4, 32, 32, 1) and tuple(lab.shape) == (4, 32, 32, 1)
    assert float(img.numpy().min()) >= -1.0 and float(img.numpy().max()) <= 1.0
    low, routine = next(iter(D.lowdose_ct(n=4, size=32, batch_size=4)))
    assert low.shape == routine.shape == (4, 32, 32, 1)
    (lr, t1), hr = next(iter(D.multi_contrast_sr(n=2, size=32, batch_size=2)))
    assert lr.shape == (2, 16, 16, 1) and t1.shape == hr.shape == (2, 32, 32, 1)
    normal = list(D.lesions(n=8, size=32, subset="normal", target="mask"))
    assert len(normal) == 4 and all(float(m.numpy().sum()) == 0 for _, m in normal)
    seq = next(iter(D.centerlines(n=4, points=16, batch_size=4)))
    assert seq.shape == (4, 16, 4)
    for ds in (D.mr_slices(n=2, size=32), D.undersampled_mr(n=2, size=32), D.retina(n=2, size=32),
               D.stain_shift(n=2, size=32, stain="b"), D.sketch_xray(n=2, size=32),
               D.domain_shift(n=2, size=32, domain="target"), D.nodules(n=2, size=32)):
        a, b = next(iter(ds))
        assert a.dtype.name == "float32" and float(a.numpy().max()) <= 1.0 and float(a.numpy().min()) >= -1.0


@pytest.mark.parametrize("call,match", [
    (lambda: D.ct_slices_arrays("training"), "Unknown split 'training'.*'train'"),
    (lambda: D.ct_slices_arrays(size=8), "side must be >= 16"),
    (lambda: D.ct_slices_arrays(ndim=4), "ndim must be 2 or 3"),
    (lambda: D.ct_slices_arrays(n=0), "n must be an int >= 1, got 0"),
    (lambda: D.ct_slices_arrays(seed=-1), "seed must be a non-negative int"),
    (lambda: D.lowdose_ct_arrays(dose=0.0), r"dose must be in \(0.0, 1.0\], got 0.0"),
    (lambda: D.lowdose_ct_arrays(filter_name="ram"), "filter_name must be one of"),
    (lambda: D.mr_slices_arrays(contrast="pd"), "contrast must be one of.*'t1'.*got 'pd'"),
    (lambda: D.undersampled_mr_arrays(acceleration=0.5), "acceleration must be in"),
    (lambda: D.multi_contrast_sr_arrays(size=30, factor=4), "multiple of factor"),
    (lambda: D.domain_shift_arrays(organ="heart"), "organ must be one of.*'liver'.*got 'heart'"),
    (lambda: D.stain_shift_arrays(stain="c"), "stain must be one of"),
    (lambda: D.lesions(target="box"), "target must be one of"),
    (lambda: D.retina_arrays(channels=2), "channels must be one of"),
    (lambda: D.sketch_xray_arrays(vertebrae=20), "vertebrae must be <= 12"),
    (lambda: CT.radon(np.zeros((4, 8))), "square images"),
])
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


