"""Fixtures shared by identification's tests."""

from __future__ import annotations

from typing import Any

import pytest

from madoguchi.identify.tests.helpers import standard_list


@pytest.fixture
def households(world: Any) -> dict[str, Any]:
    """The standard synthetic list (helpers.standard_list) in the test world's program."""
    return standard_list(world.program)
