"""The calibration sets' generator (`bench/identify_synth.py`) draws calls shaped like the
development sets' population; the held-out figures are only as good as that likeness."""

from __future__ import annotations

from typing import Any

import pytest

from bench.identify_synth import make_calls, make_list


@pytest.fixture(scope="module")
def calls() -> list[tuple[dict[str, str], dict[str, Any]]]:
    """3,000 calls to a list of 300 households, drawn once for the module."""
    return make_calls(3, make_list(3, 300), 3000)


def test_someone_not_the_registered_guardian_always_says_which_child(calls) -> None:
    """The development sets: all 119 callers who are not the registered guardian gave the
    child's name and date of birth."""
    other_adults = [query for query, truth in calls if "caller_not_registered_guardian" in truth["tags"]]
    assert len(other_adults) > 50
    assert all("child_name" in query and "child_dob" in query for query in other_adults)


def test_the_registered_guardian_still_leaves_the_child_out_sometimes(calls) -> None:
    guardians = [
        query
        for query, truth in calls
        if truth["household_id"] and "caller_not_registered_guardian" not in truth["tags"]
    ]
    without_child = sum(1 for query in guardians if "child_name" not in query)
    assert 0.2 < without_child / len(guardians) < 0.6
