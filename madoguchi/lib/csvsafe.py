"""Writing CSV that a spreadsheet opens safely, and CP932 exports that lose nothing.

* A cell that a spreadsheet would evaluate as a formula (``=``, ``+``, ``-``, ``@``, TAB,
  CR, LF, NUL at its start; full-width ``＝`` too, since Excel folds it) gets a leading
  ``'`` (OWASP CSV injection). Only the check uses NFKC; the value itself is unchanged.
* CP932 cannot encode every name (𠮷 is outside every legacy Japanese codec). An export
  must list the affected cells and never write ``?`` in their place (T-IN-19).
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

__all__ = [
    "Cp932Problem",
    "encode_cp932_or_report",
    "safe_csv_lines",
    "safe_csv_text",
    "spreadsheet_safe",
    "unencodable_in_cp932",
]

_FORMULA_STARTS = frozenset("=+-@\t\r\n\x00")


def spreadsheet_safe(cell: str) -> str:
    """``'=1+1`` for ``=1+1`` (and ``＝1+1``, `` =1``); any other value is returned as is."""
    if not cell:
        return cell
    first = cell[0]
    # Fast path (an export calls this for every cell): an ASCII first character other than a
    # space is its own NFKC form and is not stripped, so it alone decides.
    if first.isascii() and first != " ":
        return "'" + cell if first in _FORMULA_STARTS else cell
    probe = unicodedata.normalize("NFKC", cell[:8]).lstrip(" ")
    if cell and (cell[0] in _FORMULA_STARTS or (probe and probe[0] in _FORMULA_STARTS)):
        return "'" + cell
    return cell


class _Line:
    """A file for csv.writer that hands back what was written (one row at a time)."""

    def write(self, value: str) -> str:
        return value


def safe_csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """A CSV file line by line, for streaming: UTF-8 BOM first (Excel then reads UTF-8), CRLF,
    every cell made safe, None as an empty cell."""
    writer = csv.writer(_Line(), lineterminator="\r\n")
    yield "\ufeff" + writer.writerow([spreadsheet_safe(str(cell)) for cell in header])
    for row in rows:
        yield writer.writerow([spreadsheet_safe("" if cell is None else str(cell)) for cell in row])


def safe_csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A whole CSV file, as `safe_csv_lines` writes it."""
    return "".join(safe_csv_lines(header, rows))


def unencodable_in_cp932(value: str) -> list[str]:
    """The characters of ``value`` that CP932 cannot encode, in order, without repeats."""
    found: dict[str, None] = {}
    for ch in value:
        if not ch.isascii():
            try:
                ch.encode("cp932")
            except UnicodeEncodeError:
                found[ch] = None
    return list(found)


@dataclass(frozen=True)
class Cp932Problem:
    row: int  # 0-based index in the rows given
    column: int  # 0-based
    characters: tuple[str, ...]


def encode_cp932_or_report(rows: Iterable[Sequence[str]]) -> list[Cp932Problem]:
    """Every cell that CP932 cannot hold; an empty list means the export can be CP932."""
    problems = []
    for row_index, row in enumerate(rows):
        for column_index, cell in enumerate(row):
            if not cell.isascii():
                characters = unencodable_in_cp932(cell)
                if characters:
                    problems.append(Cp932Problem(row_index, column_index, tuple(characters)))
    return problems
