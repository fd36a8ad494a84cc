"""The ``>>>`` examples in the public docstrings run, so they show what the code does."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = (
    "cift.model.timeframe",
    "cift.model.symbols",
    "cift.features.spec",
    "cift.data.providers",
    "cift.core.calendars",
)


@pytest.mark.parametrize("name", MODULES)
def test_the_examples_in_the_docstrings_hold(name: str) -> None:
    module = importlib.import_module(name)
    failed, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0, f"{name} has no examples"
    assert failed == 0
