"""The case export's one sheet, through `madoguchi.lib.xlsx` (row by row into the zip entry:
constant memory; see there why not openpyxl)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from madoguchi.lib import xlsx


def write(
    path: Path,
    *,
    sheet_name: str,
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    widths: Sequence[int],
) -> int:
    """Write the sheet; returns the number of data rows."""
    sheet = xlsx.Sheet(sheet_name, header, rows, widths, header_style=xlsx.LIGHT_HEADER, text_only=True)
    return xlsx.write(path, [sheet])[0]
