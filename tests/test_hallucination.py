"""The hallucination check (Cohen et al. 2018) and the hidden-information check (Chu et al. 2017)
on translators with known answers."""
import keras
import numpy as np
import pytest

import advzoo
from advzoo.data import CT_LABELS, hu_to_unit, mr_to_unit
from advzoo.metrics import hallucination_report, hidden_information_report


@pytest.fixture(scope="module")
def pairs():
    arr = advzoo.data.lesion_pairs_arrays("test", n=32, size=32)
    liver = arr["organ_labels"] == CT_LABELS.index("liver")
    return mr_to_unit(arr["mr"]), hu_to_unit(arr["ct"]), arr["masks"], liver, arr["labels"]


def identity_network(shape=(32, 32, 1)):
    inputs = keras.Input(shape)
    return keras.Model(inputs, keras.layers.Identity()(inputs))


def test_lesion_pairs_carry_the_same_lesion_in_both_modalities(pairs):
    mr, ct, masks, liver, labels = pairs
    lesion = masks[..., 0] > 0
    assert lesion[labels == 1].any(axis=(1, 2)).all() and not lesion[labels == 0].any()
    assert np.all(lesion <= liver[..., 0]) and 0.4 <= labels.mean() <= 0.6
    for image, sign in ((mr, -1), (ct, -1)):  # hypointense T1, hypodense CT
        contrast = [image[i, ..., 0][lesion[i]].mean() - image[i, ..., 0][liver[i, ..., 0]
                                                                          & ~lesion[i]].mean()
                    for i in np.where(labels == 1)[0]]
        assert sign * np.median(contrast) > 0.02


def test_identity_keeps_every_lesion_and_invents_none(pairs):
    _, ct, masks, liver, _ = pairs
    report = hallucination_report(identity_network(), ct, ct, masks, liver)
    assert report["lesion_contrast_kept"] == pytest.approx(1.0)
    assert report["lesions_kept"] == 1.0
    assert report["invented_fraction"] == 0.0 and report["false_positive_area"] == 0.0
    assert report["lesion_images"] == 16 and report["lesion_free_images"] == 16


def test_a_translator_that_adds_a_blob_invents_and_one_that_erases_loses(pairs):
    _, ct, masks, liver, _ = pairs
    yy, xx = np.mgrid[:32, :32]
    centres = [np.argwhere(l[..., 0]).mean(axis=0) for l in liver]
    blobs = np.stack([((yy - cy) ** 2 + (xx - cx) ** 2 <= 6.0) for cy, cx in centres])[..., None]

    def add_blob(x):  # a bright 'lesion' at the centre of every liver
        return x + 0.2 * blobs

    report = hallucination_report(add_blob, ct, ct, masks, liver)
    assert report["invented_fraction"] == 1.0 and report["false_positive_area"] > 0.02

    def erase(x):  # every lesion filled with the liver's mean value
        out = x.copy()
        for i in range(len(x)):
            lesion = masks[i, ..., 0] > 0
            out[i, ..., 0][lesion] = x[i, ..., 0][liver[i, ..., 0] & ~lesion].mean()
        return out

    report = hallucination_report(erase, ct, ct, masks, liver)
    assert abs(report["lesion_contrast_kept"]) < 0.35 and report["lesions_kept"] < 0.2


def test_default_lesion_data_and_two_way_models(pairs):
    report = hallucination_report(identity_network(), n=16)  # MR read as CT, at the model's size
    assert report["lesion_images"] == 8 and np.isfinite(report["lesion_contrast_kept"])
    model = advzoo.get_family("cyclegan").cls(image_shape=(32, 32, 1), generator_filters=4,
                                              discriminator_filters=4, n_blocks=1, n_layers=1)
    report = hallucination_report(model, n=8, direction="a_to_b")
    assert set(report) >= {"lesion_contrast_kept", "invented_fraction"}
    with pytest.raises(ValueError, match="pass targets, masks and organ_masks"):
        hallucination_report(identity_network(), pairs[0])


def test_hidden_information_of_identity_and_of_a_steganographic_pair():
    images = np.random.default_rng(0).uniform(-0.9, 0.9, (8, 16, 16, 1)).astype(np.float32)
    identity = identity_network((16, 16, 1))
    report = hidden_information_report(forward=identity, backward=identity, images=images,
                                       amplitudes=(0.01, 0.05))
    assert report["cycle_error"] == 0.0
    for row in report["rows"]:
        assert row["intermediate_gain"] == pytest.approx(1.0, rel=1e-5)
        assert row["sensitivity_ratio"] == pytest.approx(1.0, rel=1e-5)
        assert row["error_growth"] == pytest.approx(row["amplitude"], rel=1e-5)
    # the source hidden at 1 % amplitude in the intermediate image, amplified back
    report = hidden_information_report((lambda x: 0.01 * x, lambda y: 100.0 * y), images,
                                       amplitudes=0.02)
    row = report["rows"][0]
    assert report["cycle_error"] < 1e-5
    assert row["intermediate_gain"] == pytest.approx(100.0, rel=1e-3)
    assert row["sensitivity_ratio"] == pytest.approx(100.0, rel=1e-3)
    model = advzoo.get_family("cyclegan").cls(image_shape=(16, 16, 1), generator_filters=4,
                                              discriminator_filters=4, n_blocks=1, n_layers=1)
    assert len(hidden_information_report(model, n=4)["rows"]) == 3
    with pytest.raises(ValueError, match="amplitudes must be positive"):
        hidden_information_report(model, images, amplitudes=(0.0,))
    with pytest.raises(ValueError, match="both forward"):
        hidden_information_report(forward=identity, images=images)
