"""benchmarks/verdicts.json, the README's one-row-per-family headlines (issue #18): one entry per
registered family, a verdict from the allowed set, a short headline, an existing result file, and
every number of the headline found in that result file as the README renders it."""
import json
import pathlib
import re
import shutil

import pytest

import advzoo
from advzoo.readme import RESULTS_DIR, results_tables

VERDICTS = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "verdicts.json"
ALLOWED = {"shown", "partly shown", "not shown"}
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
MAX_HEADLINE = 170


def _verdicts() -> dict:
    return json.loads(VERDICTS.read_text())


def test_one_entry_per_family_sorted():
    verdicts = _verdicts()
    assert set(verdicts) == set(advzoo.list_models()), (
        f"missing: {sorted(set(advzoo.list_models()) - set(verdicts))}; "
        f"extra: {sorted(set(verdicts) - set(advzoo.list_models()))}")
    assert list(verdicts) == sorted(verdicts)


@pytest.mark.parametrize("family", sorted(_verdicts()))
def test_entry(family, tmp_path):
    entry = _verdicts()[family]
    assert set(entry) == {"paper", "result", "headline", "verdict"}
    assert isinstance(entry["paper"], str) and entry["paper"].strip()
    assert entry["verdict"] in ALLOWED
    headline = entry["headline"]
    assert isinstance(headline, str) and headline.strip()
    assert len(headline) <= MAX_HEADLINE, f"{family}: headline of {len(headline)} characters"
    numbers = NUMBER.findall(headline)
    if entry["result"] is None:  # no benchmark: nothing a number could be checked against
        assert not numbers, f"{family}: numbers {numbers} without a result file"
        return
    source = RESULTS_DIR / entry["result"]
    assert source.is_file(), f"{family}: no result file {source}"
    shutil.copy(source, tmp_path / source.name)
    rendered = set(NUMBER.findall(results_tables(tmp_path)))
    missing = [n for n in numbers if n not in rendered]
    assert not missing, f"{family}: {missing} not in the rendered {entry['result']}"
