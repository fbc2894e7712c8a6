"""Run the benchmarks: `python -m bench [NAME ...]` (all when no name is given).

Each benchmark is a module `bench/<name>.py` with a `main(argv: list[str]) -> None` that prints
its figures and updates its own section of docs/benchmarks.md through `bench.report`.
Benchmarks are never part of `make test`: they take minutes and need the whole machine.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name not in {"report", "common"})


def split(args: list[str]) -> tuple[list[str], list[str]]:
    """The benchmarks named before the first option, and everything from it on, as given: an
    option's value may stand apart (`--only tuning`), so it is not read as a name."""
    first_option = next((i for i, arg in enumerate(args) if arg.startswith("-")), len(args))
    return args[:first_option] or available(), args[first_option:]


def main() -> None:
    names, extra = split(sys.argv[1:])
    for name in names:
        if name not in available():
            raise SystemExit(f"unknown benchmark {name!r}; available: {', '.join(available())}")
        print(f"=== bench {name} ===", flush=True)
        importlib.import_module(f"bench.{name}").main(extra)


if __name__ == "__main__":
    main()
