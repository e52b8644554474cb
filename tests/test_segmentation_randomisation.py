"""`randomise=` of the built-in segmentation data (issue #17, point 3) and the domain-randomised
retina preset `adversarial_segmentation_retina_randomised`."""
import json

import numpy as np
import pytest

import advzoo
from advzoo import data as zoo_data
from advzoo.errors import AdvzooError, UnknownNameError
from advzoo.models.adversarial_segmentation import adversarial_segmentation_dataset
from advzoo.models.dan import dan_dataset
from advzoo.data.randomisation import resolve_randomise
from advzoo.models.segmentation import segmentation_arrays

NAME = "adversarial_segmentation_retina_randomised"


@pytest.mark.parametrize("task, shape", [("vessels", (32, 32, 3)), ("organs", (16, 16, 1))])
def test_randomise_changes_appearance_not_labels(task, shape):
    images, masks = segmentation_arrays("test", shape, task, n=4, seed=1)
    r_images, r_masks = segmentation_arrays("test", shape, task, n=4, seed=1, randomise=True)
    d_images, d_masks = segmentation_arrays("test", shape, task, n=4, seed=1,
                                            randomise={"noise": (0.0, 0.0)})
    assert np.array_equal(masks, r_masks) and np.array_equal(masks, d_masks)
    assert r_images.shape == images.shape and r_images.dtype == images.dtype
    assert -1.0 <= r_images.min() and r_images.max() <= 1.0
    assert np.abs(r_images - images).mean() > 0.05
    assert not np.array_equal(r_images, d_images)  # the dict's ranges reach the phantom


def test_default_is_the_unrandomised_phantom_bit_for_bit():
    images, masks = segmentation_arrays("val", (32, 32, 3), n=4, seed=2)
    arrays = zoo_data.retina_arrays("val", n=4, size=32, seed=2)
    assert np.array_equal(images, zoo_data.to_unit(arrays["images"], 0.0, 1.0))
    off, _ = segmentation_arrays("val", (32, 32, 3), n=4, seed=2, randomise=False)
    assert np.array_equal(images, off)


def test_dataset_functions_pass_randomise_through():
    plain = next(iter(adversarial_segmentation_dataset("val", batch_size=4, n=4)))
    randomised = next(iter(adversarial_segmentation_dataset("val", batch_size=4, n=4,
                                                            randomise=True)))
    assert np.array_equal(plain[1].numpy(), randomised[1].numpy())
    assert not np.array_equal(plain[0].numpy(), randomised[0].numpy())
    semi = next(iter(dan_dataset("val", batch_size=4, n=4, randomise=True)))
    assert np.array_equal(semi[0].numpy(), randomised[0].numpy())


@pytest.mark.parametrize("bad, error, words", [
    ({"nosie": (0.0, 0.1)}, UnknownNameError, "Did you mean 'noise'"),
    ({"blur": (0.0, 50.0)}, AdvzooError, "blur"),
    ("yes", AdvzooError, "randomise must be False, True"),
    (1, AdvzooError, "randomise must be False, True"),
])
def test_bad_randomise_refused_before_any_work(bad, error, words, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("a phantom was drawn before the option was checked")

    monkeypatch.setattr(zoo_data, "retina_arrays", never)
    with pytest.raises(error, match=words):
        segmentation_arrays("test", (32, 32, 3), n=2, randomise=bad)
    with pytest.raises(error, match=words):
        adversarial_segmentation_dataset("test", batch_size=2, n=2, randomise=bad)


def check_randomise(randomise):
    return resolve_randomise(randomise, "segmentation data")


def test_check_randomise_forms():
    assert check_randomise(False) is None and check_randomise(None) is None
    assert check_randomise(True) == zoo_data.DomainRandomisation()
    options = check_randomise({"blur": [0.0, 0.5]})  # JSON lists, as metadata.json stores them
    assert options.blur == (0.0, 0.5) and options.noise == zoo_data.DomainRandomisation().noise


def test_randomised_preset_is_its_twin_but_for_the_data():
    preset, twin = advzoo.get_preset(NAME), advzoo.get_preset("adversarial_segmentation_retina")
    assert preset.family == twin.family and preset.config == twin.config
    assert (preset.train_steps, preset.batch_size, preset.seed) == \
        (twin.train_steps, twin.batch_size, twin.seed)
    assert {k: v for k, v in preset.dataset.items() if k != "randomise"} == twin.dataset
    assert check_randomise(preset.dataset["randomise"]) is not None
    json.dumps(preset.dataset)  # stored in metadata.json


def test_randomised_preset_loads_runs_and_matches_its_metadata():
    model = advzoo.load(NAME)
    meta = advzoo.weights.read_metadata(advzoo.weights.resolve_preset(NAME))
    assert meta["trained_on"]["options"]["randomise"] is not None
    labels = model.segment(zoo_data.retina_arrays("test", n=1, size=64, seed=5)["images"][0] * 255,
                           units="physical")
    assert labels.shape == (64, 64, 1) and set(np.unique(labels)) <= {0, 1}
    report = model.sample_report()
    for key in ("dice", "components", "component_excess", "images"):
        assert report[key] == pytest.approx(meta["metrics"][key], abs=1e-4)
