"""Fixtures shared by the test files."""

import importlib

import pytest


@pytest.fixture(params=["ember", "torch"])
def lib(request):
    """The library a dual test runs on: ember, then PyTorch where it is importable (its behaviour is the
    expected one)."""
    if request.param == "torch":
        return pytest.importorskip("torch")
    return importlib.import_module("ember")
