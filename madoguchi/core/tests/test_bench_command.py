"""`python -m bench NAME … [OPTIONS]`: which benchmarks run and what each is given."""

from __future__ import annotations

from bench.__main__ import available, split


def test_an_option_s_value_given_apart_stays_with_its_option() -> None:
    names, extra = split(["identify_calibration", "--record", "--only", "tuning", "--seeds=1"])
    assert names == ["identify_calibration"]
    assert extra == ["--record", "--only", "tuning", "--seeds=1"]


def test_several_names_then_their_options() -> None:
    assert split(["cases", "identify", "--runs=3"]) == (["cases", "identify"], ["--runs=3"])


def test_no_name_runs_every_benchmark() -> None:
    names, extra = split(["--runs=3"])
    assert names == available() and "identify" in names
    assert extra == ["--runs=3"]
