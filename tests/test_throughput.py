"""benchmarks/throughput.py (issue #19): one tiny row measured in-process gives every figure,
the plan covers every family and the GPU rows, and compile(jit_compile=True) warns on CPU."""
import warnings

import pytest
import tensorflow as tf

import advzoo
from tests.conftest import load_script, tiny_gan

NO_ACCELERATOR = not (tf.config.list_physical_devices("GPU")
                      or tf.config.list_physical_devices("TPU"))


@pytest.fixture(scope="module")
def throughput():
    return load_script("benchmarks/throughput.py")


def test_one_tiny_row_fills_every_figure(throughput):
    row = throughput._row("gan", 16, 8)  # the gan_digits_dcgan networks at their preset size
    figures = throughput.measure(row, warmup=1, steps=2)
    assert figures["timed_steps"] == 2 and figures["warmup_steps"] == 1
    for key in ("steps_per_s", "images_per_s", "cpu_s_per_step", "peak_mib", "baseline_mib",
                "first_step_s"):
        assert figures[key] > 0, key
    assert figures["images_per_s"] == pytest.approx(8 * figures["steps_per_s"])
    assert figures["peak_mib"] >= figures["baseline_mib"]
    table = throughput.table_row(row, figures, "measured")
    assert set(throughput.COLUMNS) <= set(table)
    assert all(table[c] not in ("-", None) for c in throughput.COLUMNS), table
    assert table["size"] == "16x16" and table["xla"] == "off" and table["batch"] == 8


def test_synthetic_batches_have_the_row_size(throughput):
    from advzoo import zoo

    row = throughput._row("srgan", 64, 2)  # srgan sizes are the output's: 32x32 -> 64x64
    config = dict(zoo.get_preset(row["preset"]).config)
    source, target = throughput.synthetic_batch(row, zoo.get_family("srgan"), config)
    assert source.shape == (2, 32, 32, 1) and target.shape == (2, 64, 64, 1)
    row = throughput._row("adversarial_segmentation", 64, 2)
    config = dict(zoo.get_preset(row["preset"]).config)
    images, masks = throughput.synthetic_batch(
        row, zoo.get_family("adversarial_segmentation"), config)
    assert images.shape == (2, 64, 64, 3) and masks.shape == (2, 64, 64, 1)
    assert set(masks.ravel().tolist()) <= {0, 1}  # label maps stay label maps


def test_plan_covers_every_family_the_required_rows_and_the_gpu_rows(throughput):
    rows = throughput.plan()
    assert {r["family"] for r in rows} == set(advzoo.list_models())
    has = lambda **kv: any(all(r[k] == v for k, v in kv.items()) for r in rows)
    assert has(family="pix2pix", size=256, batch=1) and has(family="pix2pix", size=256, batch=8)
    assert has(family="pix2pix", size=64, ndim=3, batch=1)
    assert has(family="cyclegan", size=64, ndim=3, batch=1)
    assert has(family="pix2pix", size=128, xla=True) and has(family="gan", size=16, xla=True)
    assert has(family="pix2pix", size=128, policy="mixed_float16", cpu_measured=True)
    for family in ("pix2pix", "cyclegan"):
        for policy in ("float32", "mixed_float16"):
            for xla in (False, True):
                assert has(family=family, size=256, policy=policy, xla=xla, gpu_only=True)
    status, _ = throughput._timeout_status({"phase": "first step", "at": 30.0}, 120.0)
    assert status == ("skipped: one step > 90 s on this CPU (the first, tracing included, "
                      "unfinished when the row's 120 s ran out)")


@pytest.mark.skipif(not NO_ACCELERATOR, reason="the warning is for machines without GPU/TPU")
def test_jit_compile_true_warns_on_cpu():
    model = tiny_gan(generator="mlp", discriminator="mlp")
    with pytest.warns(UserWarning, match=r"XLA.*slower.*jit_compile=\"auto\""):
        model.compile(jit_compile=True)
    assert model.jit_compile is True  # the warning does not change what was asked for
    for setting in ("auto", False):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.compile(jit_compile=setting)
        assert not [w for w in caught if "XLA" in str(w.message)], setting
        assert model.jit_compile is False
