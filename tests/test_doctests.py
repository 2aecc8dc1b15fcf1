"""The docstring examples of the installed package run and give what they show."""

import doctest
import importlib
import pkgutil
import warnings

import pytest

import rfmkit

MODULES = sorted(
    name for _, name, _ in pkgutil.walk_packages(rfmkit.__path__, prefix="rfmkit.") if not name.endswith("._core")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rfmkit.DataQualityWarning)
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.failed == 0
