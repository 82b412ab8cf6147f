"""docs/api-coverage.md stays true: regenerated and compared where PyTorch is importable; a name it lists as
covered never disappears from ember, and a keyword it lists as accepted stays accepted."""

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import api_coverage  # noqa: E402

COMMITTED = api_coverage.parse(api_coverage.OUT.read_text())
HAS_TORCH = importlib.util.find_spec("torch") is not None


def test_covered_names_are_still_in_ember():
    """Works without PyTorch: every yes-row of the committed table is still an attribute of ember."""
    assert COMMITTED, "docs/api-coverage.md has no tables: the parser or the file is broken"
    missing = []
    for title, _, ember_spec in api_coverage.NAMESPACES:
        ns = api_coverage.resolve(ember_spec)
        for name, status, _, _ in COMMITTED[title]:
            if status == "yes" and (ns is None or not hasattr(ns, name)):
                missing.append(f"{title}.{name}")
    assert not missing, f"names docs/api-coverage.md lists as covered are gone from ember: {missing}"


@pytest.fixture(scope="module")
def fresh():
    if not HAS_TORCH:
        pytest.skip("PyTorch is not importable")
    return api_coverage.survey()


def test_accepted_keywords_still_accepted(fresh):
    """The keyword check, rerun: a keyword the committed table says ember accepts is still accepted."""
    lost = []
    for title, rows in COMMITTED.items():
        now = {r[0]: r for r in fresh.get(title, [])}
        for name, status, keywords, _ in rows:
            if status == "yes" and name in now:
                lost += [f"{title}.{name}({k}=)" for k in keywords if k not in now[name][2]]
    assert not lost, f"keywords ember accepted and no longer does: {lost}"


def test_table_is_current(fresh):
    """docs/api-coverage.md is what `python tools/api_coverage.py` writes now."""
    text = api_coverage.render(fresh)
    if text != api_coverage.OUT.read_text():
        pytest.fail("docs/api-coverage.md is stale: run `python tools/api_coverage.py` (--check shows the diff)")


def test_readme_shows_the_summary(fresh):
    readme = (ROOT / "README.md").read_text()
    assert "docs/api-coverage.md" in readme
    assert " ".join(api_coverage.summary_line(fresh).split()) in " ".join(readme.split())
