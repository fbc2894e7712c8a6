"""`--name=value` options of the benchmarks that take them, checked against their defaults."""

from __future__ import annotations

from typing import Any


def parse_options(argv: list[str], defaults: dict[str, Any]) -> dict[str, Any]:
    """The defaults with each `--name=value` of argv applied, converted to the default's type.

    An unknown name stops the run with the list of known ones (a misspelt option must not
    silently measure something else).
    """
    values = dict(defaults)
    for arg in argv:
        name, _, value = arg.lstrip("-").partition("=")
        if name not in values:
            raise SystemExit(f"unknown option --{name}; known: {', '.join(values)}")
        values[name] = type(defaults[name])(value)
    return values
