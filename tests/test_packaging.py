"""The quick start's commands and the files they read stay in step (README, .ci/run, pyproject.toml)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _requirements(lines):
    return sorted(re.sub(r"\s+", "", line) for line in lines if line.strip() and not line.lstrip().startswith("#"))


def test_test_requirements_equal_the_test_extra():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    listed = (ROOT / "tests" / "requirements.txt").read_text().splitlines()
    assert _requirements(listed) == _requirements(extra)


def test_readme_quick_start_is_two_commands_and_ci_runs_the_second():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", readme, re.S).group(1).strip().splitlines()
    assert len(block) == 2 and block[0].startswith("pip install . ")
    install, run = block[1].split(" && ")
    ci = (ROOT / ".ci" / "run").read_text()
    assert f"python -m {install}" in ci and run in ci
    assert "pip install ." in ci  # the first command's install: the test command does not build ember
