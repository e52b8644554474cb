"""Registry, presets and weights: lookups, close-match errors, hash checks, safe names."""
import json
import pathlib
import shutil

import numpy as np
import pytest

import advzoo
from advzoo import weights
from advzoo.errors import UnknownNameError, WeightsError


def test_registry_lists_and_builds():
    assert "gan" in advzoo.list_models()
    assert "gan_digits_dcgan" in advzoo.list_presets()
    assert advzoo.list_presets("gan") == [p for p in advzoo.list_presets()
                                          if advzoo.get_preset(p).family == "gan"]
    model = advzoo.build("gan", image_shape=(8, 8, 1), generator_filters=4, discriminator_filters=4)
    assert model.family_name == "gan" and model.compiled


@pytest.mark.parametrize("call, match", [
    (lambda: advzoo.build("gna"), r"Unknown family 'gna'\. Did you mean 'gan'[,?]"),
    (lambda: advzoo.load("gan_digits_dcgn"), r"Unknown preset 'gan_digits_dcgn'\. Did you mean 'gan_digits_dcgan'"),
    (lambda: advzoo.list_presets("cyclegna"), r"Unknown family 'cyclegna'"),
])
def test_unknown_names_suggest_closest(call, match):
    with pytest.raises(UnknownNameError, match=match):
        call()


def test_every_family_declares_a_default_dataset_that_fits_it():
    for name in advzoo.list_models():
        family = advzoo.get_family(name)
        model = family.cls()  # default configuration
        batch = next(iter(family.dataset(model, batch_size=4)))
        x = batch[0] if isinstance(batch, tuple) else batch
        assert tuple(x.shape[1:]) == tuple(model.image_shape), name


def test_load_preset_offline_and_it_generates_digits():
    model = advzoo.load("gan_digits_dcgan")
    samples = model.sample(200, seed=0)
    assert samples.shape == (200, 16, 16, 1)
    assert samples.min() >= -1.0 and samples.max() <= 1.0
    meta = weights.read_metadata(weights.resolve_preset("gan_digits_dcgan"))
    assert meta["train_steps"] > 0 and meta["train_seconds"] > 0
    assert meta["metrics"]["classes_covered"] == 10
    # the shipped numbers are what this model really does: re-measure a part of them
    report = advzoo.metrics.digit_sample_report(samples)
    assert report["classes_covered"] >= 8
    assert report["recognisable"] > 0.3  # an untrained generator scores ~0


@pytest.fixture
def preset_copy(tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(weights.resolve_preset("gan_digits_dcgan"), folder)
    return folder


def test_load_from_folder_path(preset_copy):
    z = np.random.default_rng(0).standard_normal((2, 32)).astype(np.float32)
    np.testing.assert_array_equal(advzoo.load(str(preset_copy)).generate(z),
                                  advzoo.load("gan_digits_dcgan").generate(z))


def test_corrupt_weights_are_refused_before_building(preset_copy):
    path = preset_copy / weights.WEIGHTS_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="does not match its metadata: sha256"):
        advzoo.load(preset_copy)


def test_truncated_weights_are_refused(preset_copy):
    path = preset_copy / weights.WEIGHTS_FILE
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(WeightsError, match="corrupt"):
        advzoo.load(preset_copy)


def test_weights_of_another_architecture_are_refused(preset_copy):
    config = json.loads((preset_copy / "config.json").read_text())
    config["config"]["generator_filters"] = 16  # the weights were trained with 32
    (preset_copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(WeightsError, match="config.json does not match its metadata"):
        advzoo.load(preset_copy)
    metadata = json.loads((preset_copy / "metadata.json").read_text())
    metadata["config_sha256"] = weights.config_sha256(config)  # a consistent but wrong preset
    (preset_copy / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(WeightsError, match="Could not load"):
        advzoo.load(preset_copy)


def test_an_edited_config_is_refused_even_when_the_weights_still_load(preset_copy):
    config = json.loads((preset_copy / "config.json").read_text())
    config["config"]["output_activation"] = "linear"  # same weights, other outputs
    (preset_copy / "config.json").write_text(json.dumps(config, indent=4))
    with pytest.raises(WeightsError, match="was edited or replaced"):
        advzoo.load(preset_copy)


@pytest.mark.parametrize("key", ["sha256", "config_sha256"])
def test_a_missing_hash_has_its_own_message(preset_copy, key):
    metadata = json.loads((preset_copy / "metadata.json").read_text())
    del metadata[key]
    (preset_copy / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(WeightsError, match=f"has no '{key}'.*cannot be verified"):
        advzoo.load(preset_copy)


def test_a_trailing_newline_is_not_a_preset_name():
    with pytest.raises(ValueError, match="Invalid preset name"):
        weights.check_preset_name("gan_digits_dcgan\n")


def test_bad_metadata_and_config_are_clear(preset_copy):
    (preset_copy / "metadata.json").write_text("{not json")
    with pytest.raises(WeightsError, match="metadata.json is not valid JSON"):
        advzoo.load(preset_copy)
    (preset_copy / "config.json").write_text('{"config": {}}')
    with pytest.raises(WeightsError, match=r'must hold \{"family"'):
        advzoo.load(preset_copy)


@pytest.mark.parametrize("name", ["../gan_digits_dcgan", "..", "/etc/passwd", "a/../../b",
                                  "gan..x", "", "~root"])
def test_preset_names_cannot_escape_zoo_weights(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in weights.zoo_weights_dir().iterdir())
    with pytest.raises((WeightsError, ValueError)):
        advzoo.load(name) if "/" not in name else weights.check_preset_name(name)
    assert sorted(p.name for p in weights.zoo_weights_dir().iterdir()) == before
    assert not any(tmp_path.iterdir())


def test_save_preset_round_trip_and_refuses_to_clobber(tmp_path, tiny_digits):
    from conftest import tiny_gan

    model = tiny_gan()
    model.fit(tiny_digits[0], batch_size=16, epochs=1, verbose=0)
    folder = weights.save_preset(model, tmp_path / "p", {"metrics": {"x": 1.0}})
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "metadata.json", "model.weights.h5"]
    loaded = advzoo.load(folder)
    z = np.ones((2, model.latent_dim), np.float32)
    np.testing.assert_array_equal(loaded.generate(z), model.generate(z))
    stamp = (folder / "model.weights.h5").read_bytes()
    with pytest.raises(ValueError, match="exists; pass overwrite=True"):
        weights.save_preset(model, folder)
    assert (folder / "model.weights.h5").read_bytes() == stamp
    assert [p.name for p in tmp_path.iterdir()] == ["p"]  # no temporary folders left behind


def test_missing_weights_of_registered_preset(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVZOO_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(WeightsError, match="registered but its weights are missing"):
        advzoo.load("gan_digits_dcgan")


def test_readme_and_docs_tables_are_current():
    from advzoo.readme import DOCS_PATH, render_docs, render_real_ct, render_speed, render_tables

    readme = (pathlib.Path(__file__).parents[1] / "README.md").read_text()
    stale = "stale: run `python scripts/update_readme.py`"
    assert render_tables() in readme, f"README tables are {stale}"
    assert render_speed() in readme, f"README's speed table is {stale}"
    assert render_real_ct() in readme, f"README's real-CT table is {stale}"
    assert DOCS_PATH.read_text() == render_docs(), f"docs/benchmarks.md is {stale}"
    assert len(readme.splitlines()) <= 300, "the README is a newcomer's page: 300 lines at most"


def test_benchmark_result_written_and_rendered_as_a_readme_table(tmp_path, capsys):
    from advzoo.readme import results_tables, write_result

    rows = [{"variant": "baseline", "score": 0.5}, {"variant": "ours", "score": 0.75}]
    write_result(tmp_path / "demo.json", {"title": "Demo", "command": "python benchmarks/demo.py",
                                          "columns": ["variant", "score"], "rows": rows,
                                          "note": "two rows"})
    assert "wrote" in capsys.readouterr().out
    table = results_tables(tmp_path)
    assert "**Demo** (`python benchmarks/demo.py`, " in table and "CPU, 2 cores)" in table
    assert "| ours | 0.75 |" in table and "two rows" in table
    with pytest.raises(ValueError, match=r"needs \['columns'\]"):
        write_result(tmp_path / "bad.json", {"title": "x", "command": "y", "rows": []})
    assert not (tmp_path / "bad.json").exists()


def test_standard_error_text_of_per_seed_gains():
    from advzoo.readme import standard_error_text

    # sd (ddof=1) of [0.1, 0.2, 0.3] is 0.1; / sqrt(3)
    assert standard_error_text([0.1, 0.2, 0.3]) == " ± 0.058 s.e."
    assert standard_error_text([0.5]) == ""


def test_gain_by_fraction_text_counts_seeds_with_a_gain():
    import numpy as np

    from advzoo.readme import gain_by_fraction_text

    text = gain_by_fraction_text({0.05: np.array([0.1, 0.2, 0.3]), 0.5: [-0.1, 0.0]})
    assert text == ("0.05: +0.200 ± 0.058 s.e. mean (3/3 seeds up); "
                    "0.5: -0.050 ± 0.050 s.e. mean (0/2 seeds up)")


def test_record_comparison_only_for_the_preset_recipe(tmp_path, monkeypatch):
    import json

    from advzoo import weights
    from advzoo.readme import record_comparison

    folder = tmp_path / "dann_domain_shift"
    folder.mkdir()
    (folder / "metadata.json").write_text(json.dumps({"sha256": "abc"}))
    monkeypatch.setattr(weights, "zoo_weights_dir", lambda: tmp_path)
    steps = advzoo.get_preset("dann_domain_shift").train_steps
    assert record_comparison("dann_domain_shift", steps + 1, "w", "c", {"a": [0.5]}) is None
    assert json.loads((folder / "metadata.json").read_text()) == {"sha256": "abc"}
    record_comparison("dann_domain_shift", steps, "Dice", "python x.py", {"a": [0.12345, 0.5]})
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta == {"sha256": "abc", "comparison": {"what": "Dice", "command": "python x.py",
                                                    "a": [0.1235, 0.5]}}
    assert sorted(p.name for p in folder.iterdir()) == ["metadata.json"]

    from advzoo.readme import write_domain_shift_result

    result = {"title": "t", "command": "c", "columns": ["a"], "rows": [{"a": 1}]}
    write_domain_shift_result(tmp_path / "r.json", result, "dann_domain_shift", steps, [0, 2],
                              "dann_domain_shift.py", {"source only": [0.25, 0.5]})
    assert json.loads((tmp_path / "r.json").read_text())["rows"] == [{"a": 1}]
    comparison = json.loads((folder / "metadata.json").read_text())["comparison"]
    assert comparison == {"what": "test-split target-scanner Dice, same recipe and steps, per "
                                  "seed [0, 2]",
                          "command": "python benchmarks/dann_domain_shift.py",
                          "source only": [0.25, 0.5]}


def test_every_registered_preset_ships_verified_weights_of_its_recipe():
    """Each preset folder matches its registered recipe: hash, family and config, steps."""
    for name in advzoo.list_presets():
        preset = advzoo.get_preset(name)
        folder = weights.resolve_preset(name)
        metadata = weights.verify(folder)
        assert metadata["preset"] == name
        config = weights.read_config(folder)
        assert config["family"] == preset.family, name
        steps = preset.train_steps
        assert metadata["train_steps"] == (sum(steps.values()) if isinstance(steps, dict)
                                           else steps), name
        assert (folder / weights.WEIGHTS_FILE).stat().st_size < 5 * 2 ** 20, name


def test_every_preset_says_whether_it_was_validated_on_real_data():
    """metadata.json's "validated_on_real_data" is the registry's statement (a preset checked on
    real scans names the data, the benchmark and the result)."""
    from advzoo import weights

    checked = []
    for name in advzoo.list_presets():
        preset = advzoo.get_preset(name)
        meta = weights.read_metadata(weights.resolve_preset(name))
        assert meta["validated_on_real_data"] == preset.real_data_statement(), name
        if meta["validated_on_real_data"]["validated"]:
            assert {"data", "benchmark", "result"} <= set(meta["validated_on_real_data"])
            checked.append(name)
    assert sorted(checked) == ["pix2pix_lowdose_ct", "pix2pix_lowdose_ct_clinical",
                               "simgan_lowdose_ct_clinical", "wgan_vgg_lowdose_ct",
                               "wgan_vgg_lowdose_ct_clinical"]
