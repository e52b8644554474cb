"""advzoo.metrics against scikit-image / scikit-learn references and hand cases."""
import numpy as np
import pytest

from advzoo import metrics as M


@pytest.fixture
def pair():
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, (4, 32, 32, 1)).astype(np.float32)
    from scipy.ndimage import gaussian_filter

    a = gaussian_filter(a, (0, 1.5, 1.5, 0))
    b = np.clip(a + 0.1 * rng.standard_normal(a.shape), -1, 1).astype(np.float32)
    return a, b


def test_psnr_matches_skimage(pair):
    from skimage.metrics import peak_signal_noise_ratio

    a, b = pair
    assert M.psnr(a, b, data_range=2.0) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=2.0), abs=1e-6)
    per = M.psnr(a, b, data_range=2.0, per_image=True)
    assert per.shape == (4,)
    for i in range(4):
        assert per[i] == pytest.approx(peak_signal_noise_ratio(a[i], b[i], data_range=2.0), abs=1e-6)
    ints = (np.arange(64, dtype=np.uint8).reshape(8, 8), np.arange(64, dtype=np.uint8).reshape(8, 8)[::-1])
    assert M.psnr(*ints) == pytest.approx(peak_signal_noise_ratio(*ints), abs=1e-6)
    assert M.psnr(a, a, data_range=2.0) == np.inf


@pytest.mark.parametrize("kind", ["2d", "2d_rgb", "3d", "gaussian"])
def test_ssim_matches_skimage(kind):
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(1)
    shape = {"2d": (40, 36), "2d_rgb": (32, 32, 3), "3d": (16, 18, 20), "gaussian": (40, 40)}[kind]
    a = rng.uniform(0, 1, shape)
    b = np.clip(a + 0.2 * rng.standard_normal(shape), 0, 1)
    kw = {"channel_axis": -1} if kind == "2d_rgb" else {}
    if kind == "gaussian":
        kw["gaussian_weights"] = True
    ref = structural_similarity(a, b, data_range=1.0, **kw)
    assert M.ssim(a, b, data_range=1.0, **kw) == pytest.approx(ref, abs=1e-4)
    assert M.ssim(a.astype(np.float32), b.astype(np.float32), data_range=1.0, **kw) == pytest.approx(ref, abs=1e-4)


def test_ssim_per_image_ms_ssim_and_errors(pair):
    from skimage.metrics import structural_similarity

    a, b = pair
    per = M.ssim(a, b, data_range=2.0, per_image=True)
    for i in range(4):
        assert per[i] == pytest.approx(structural_similarity(a[i, ..., 0], b[i, ..., 0], data_range=2.0), abs=1e-4)
    assert M.ms_ssim(a[0, ..., 0], b[0, ..., 0], data_range=2.0, scales=1) == pytest.approx(
        M.ssim(a[0, ..., 0], b[0, ..., 0], data_range=2.0), abs=1e-12)
    assert M.ms_ssim(a, a, data_range=2.0, per_image=True) == pytest.approx(np.ones(4))
    assert 0 < M.ms_ssim(a[0, ..., 0], b[0, ..., 0], data_range=2.0) < 1
    with pytest.raises(ValueError, match="data_range is needed"):
        M.ssim(a[0, ..., 0], b[0, ..., 0])
    with pytest.raises(ValueError, match="differ in shape"):
        M.ssim(a[0], b[1, :16], data_range=2.0)
    with pytest.raises(ValueError, match="win_size 7"):
        M.ssim(np.zeros((5, 5)), np.zeros((5, 5)), data_range=1.0)


def test_mae_hu_with_mask_and_unit_scale():
    a = np.zeros((2, 4, 4))
    b = np.full((2, 4, 4), 10.0)
    mask = np.zeros((2, 4, 4), bool)
    mask[:, :2] = True
    b[~mask] = 100.0
    assert M.mae_hu(a, b) == pytest.approx(55.0)
    assert M.mae_hu(a, b, mask=mask) == pytest.approx(10.0)
    np.testing.assert_allclose(M.mae_hu(a, b, mask=mask, per_image=True), [10.0, 10.0])
    # [-1, 1] images: 0.1 in unit scale of a [-1024, 1024] window is 102.4 HU
    assert M.mae_hu(np.zeros(4), np.full(4, 0.1), from_unit=True) == pytest.approx(102.4)
    with pytest.raises(ValueError, match="selects no pixel"):
        M.mae_hu(a, b, mask=np.zeros_like(mask))


def test_dice_matches_sklearn_f1():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(2)
    t = rng.random((3, 16, 16)) > 0.6
    p = rng.random((3, 16, 16)) > 0.5
    assert M.dice(t, p) == pytest.approx(f1_score(t.ravel(), p.ravel()))
    assert M.dice(t.astype(np.float32), p.astype(np.float32) * 0.9) == pytest.approx(f1_score(t.ravel(), p.ravel()))
    per = M.dice(t, p, per_image=True)
    np.testing.assert_allclose(per, [f1_score(t[i].ravel(), p[i].ravel()) for i in range(3)])
    lt, lp = rng.integers(0, 4, (32, 32)), rng.integers(0, 4, (32, 32))
    np.testing.assert_allclose(M.dice(lt, lp, labels=[1, 2, 3]),
                               f1_score(lt.ravel(), lp.ravel(), labels=[1, 2, 3], average=None))
    assert M.dice(np.zeros((4, 4)), np.zeros((4, 4))) == 1.0
    assert M.dice(np.ones((4, 4)), np.zeros((4, 4))) == 0.0
    with pytest.raises(ValueError, match="differ in shape"):
        M.dice(t, p[:, :8])


def test_hausdorff95_hand_cases_and_skimage():
    from skimage.metrics import hausdorff_distance

    from advzoo.metrics.segmentation import _surface

    a = np.zeros((32, 32), bool)
    a[8:16, 8:16] = True
    b = np.roll(a, 3, axis=1)
    assert M.hausdorff95(a, b) == pytest.approx(3.0)
    assert M.hausdorff95(a, b, spacing=(1.0, 0.5)) == pytest.approx(1.5)
    assert M.hausdorff95(a, a) == 0.0
    rng = np.random.default_rng(3)
    from scipy.ndimage import binary_opening

    c = binary_opening(rng.random((32, 32)) > 0.4)
    d = binary_opening(rng.random((32, 32)) > 0.4)
    assert M.hausdorff95(c, d, percentile=100) == pytest.approx(hausdorff_distance(_surface(c), _surface(d)))
    assert M.hausdorff95(c, d) <= M.hausdorff95(c, d, percentile=100)
    cube = np.zeros((12, 12, 12), bool)
    cube[3:7, 3:7, 3:7] = True
    assert M.hausdorff95(cube, np.roll(cube, 2, axis=0)) == pytest.approx(2.0)
    assert M.hausdorff95(np.zeros((4, 4)), np.zeros((4, 4))) == 0.0
    assert M.hausdorff95(a, np.zeros_like(a)) == np.inf


def test_connected_components_matches_skimage():
    from skimage.measure import label

    rng = np.random.default_rng(4)
    m = rng.random((40, 40)) > 0.7
    assert M.connected_components(m) == label(m).max()
    assert M.connected_components(m, connectivity=1) == label(m, connectivity=1).max()
    v = rng.random((10, 10, 10)) > 0.8
    assert M.connected_components(v) == label(v).max()
    batch = np.stack([m, np.zeros_like(m)])[..., None]
    np.testing.assert_array_equal(M.connected_components(batch, per_image=True), [label(m).max(), 0])


def test_auc_matches_sklearn_with_ties_and_rejects_one_class():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 200)
    s = np.round(rng.normal(y * 0.8, 1.0), 1)  # rounding makes ties
    assert M.auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert M.auc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert M.auc([0, 1], [0.5, 0.5]) == 0.5
    with pytest.raises(ValueError, match="needs both classes"):
        M.auc([1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="labels must be 0"):
        M.auc([0, 2], [0.1, 0.2])


def test_frechet_distance_zero_on_itself_and_grows_with_shift():
    rng = np.random.default_rng(6)
    f = rng.normal(size=(500, 16)) @ rng.normal(size=(16, 16))
    assert M.frechet_distance(f, f) < 1e-6
    shifts = [0.1, 0.5, 1.0, 2.0]
    fds = [M.frechet_distance(f, f + s) for s in shifts]
    # a pure shift of every feature by s adds exactly 16 s^2
    np.testing.assert_allclose(fds, [16 * s * s for s in shifts], rtol=1e-6)
    scaled = M.frechet_distance(f, 1.5 * f)
    assert scaled > 1.0
    g = rng.normal(size=(500, 16)) @ rng.normal(size=(16, 16))
    assert M.frechet_distance(f, g) > M.frechet_distance(f, f[::-1] + 0.0)
    low_rank = rng.normal(size=(10, 16))  # fewer samples than features: singular covariance
    assert np.isfinite(M.frechet_distance(low_rank, low_rank + 1.0))
    with pytest.raises(ValueError, match="feature sizes differ"):
        M.frechet_distance(f, f[:, :8])
    with pytest.raises(ValueError, match="2D array"):
        M.frechet_distance(f.ravel(), f)


def test_kernel_distance_and_precision_recall():
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(300, 8)), rng.normal(size=(300, 8))
    same = M.kernel_distance(a, b, n_subsets=20, subset_size=200)
    kds = [M.kernel_distance(a, b + s, n_subsets=20, subset_size=200) for s in (0.5, 1.0, 2.0)]
    assert abs(same) < 0.02 and same < kds[0] < kds[1] < kds[2]
    mean, std = M.kernel_distance(a, b, n_subsets=10, subset_size=100, return_std=True)
    assert std > 0
    pr = M.precision_recall(a, a, k=3)
    assert pr == {"precision": 1.0, "recall": 1.0}
    far = M.precision_recall(a, b + 100.0, k=3)
    assert far["precision"] == 0.0 and far["recall"] == 0.0
    collapsed = a[:5] + 0.01 * rng.normal(size=(5, 8))  # a few modes only
    pr = M.precision_recall(a, np.repeat(collapsed, 20, axis=0), k=3)
    assert pr["precision"] > 0.9 and pr["recall"] < 0.3
    with pytest.raises(ValueError, match="k must be"):
        M.precision_recall(a, b, k=0)


def test_ms_ssim_diversity_detects_collapse():
    from advzoo.data import ct_slices_arrays, hu_to_unit

    imgs = hu_to_unit(ct_slices_arrays(n=16, size=32)["images"])
    varied = M.ms_ssim_diversity(imgs, data_range=2.0, n_pairs=32)
    collapsed = M.ms_ssim_diversity(np.repeat(imgs[:1], 16, axis=0), data_range=2.0, n_pairs=32)
    assert collapsed == pytest.approx(1.0) and varied < 0.95
    with pytest.raises(ValueError, match="at least 2 images"):
        M.ms_ssim_diversity(imgs[:1])


def test_keras_metrics_in_evaluate_match_numpy_and_serialize(pair):
    import keras

    a, b = pair
    mask_t = (a > 0).astype(np.float32)
    model = keras.Sequential([keras.Input((32, 32, 1)), keras.layers.Identity()])
    model.compile(loss="mse", metrics=[M.PSNR(data_range=2.0), M.SSIM(data_range=2.0)])
    res = model.evaluate(b, a, batch_size=3, return_dict=True, verbose=0)
    assert res["psnr"] == pytest.approx(M.psnr(a, b, data_range=2.0, per_image=True).mean(), abs=1e-3)
    assert res["ssim"] == pytest.approx(M.ssim(a, b, data_range=2.0, per_image=True).mean(), abs=1e-4)
    seg = keras.Sequential([keras.Input((32, 32, 1)), keras.layers.Identity()])
    seg.compile(loss="mse", metrics=[M.Dice()])
    prob = np.clip(b * 0.5 + 0.5, 0, 1)
    res = seg.evaluate(prob, mask_t, batch_size=4, return_dict=True, verbose=0)
    assert res["dice"] == pytest.approx(M.dice(mask_t, prob > 0.5, per_image=True).mean(), abs=1e-5)
    # multi-class: label map vs 3-class scores
    labels = np.random.default_rng(8).integers(0, 3, (2, 8, 8, 1))
    scores = keras.ops.one_hot(labels[..., 0], 3).numpy()
    dm = M.Dice(num_classes=3)
    dm.update_state(labels, scores)
    assert float(dm.result()) == pytest.approx(1.0)
    for metric in (M.PSNR(data_range=4.0), M.SSIM(data_range=1.0, win_size=5), M.Dice(threshold=0.3, num_classes=3)):
        clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(metric))
        assert type(clone) is type(metric) and clone.get_config() == metric.get_config()
    with pytest.raises(ValueError, match="data_range must be > 0"):
        M.PSNR(data_range=0)


def test_feature_network_loads_offline_and_separates_sets(tmp_path):
    import json
    import shutil

    from advzoo.data import ct_slices_arrays, hu_to_unit, lowdose_ct_arrays
    from advzoo.metrics import features as F

    folder = F.default_folder()
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["sha256"] == F._sha256(folder / F.WEIGHTS_FILE)
    assert (folder / F.WEIGHTS_FILE).stat().st_size < 1_000_000
    assert meta["test_accuracy"] > 0.8 and meta["classes"] == list(F.LIBRARY_CLASSES)
    ct = hu_to_unit(ct_slices_arrays("test", n=96, seed=1)["images"])
    ct2 = hu_to_unit(ct_slices_arrays("val", n=96, seed=2)["images"])
    low = hu_to_unit(lowdose_ct_arrays("test", n=96, dose=0.1, seed=1)["low"])
    fr, fr2, fl = M.phantom_features(ct), M.phantom_features(ct2), M.phantom_features(low)
    assert fr.shape == (96, F.FEATURE_DIM)
    assert M.frechet_distance(fr, fr) < 1e-6
    assert M.frechet_distance(fr, fl) > 3 * M.frechet_distance(fr, fr2)
    small = M.phantom_features(ct[:4, ::2, ::2])  # other sizes are resized
    assert small.shape == (4, F.FEATURE_DIM)
    # a tampered weights file is refused
    bad = tmp_path / "tampered"
    shutil.copytree(folder, bad)
    raw = bytearray((bad / F.WEIGHTS_FILE).read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (bad / F.WEIGHTS_FILE).write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="sha256"):
        F.load_feature_network(bad)
    with pytest.raises(ValueError, match="missing"):
        F.load_feature_network(tmp_path / "nowhere")
