"""File downloads the screens share: CSV as UTF-8 with a BOM (Excel opens it as UTF-8), CRLF,
every cell spreadsheet-safe (no formulas)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.http import HttpResponse, StreamingHttpResponse

from madoguchi.lib.csvsafe import safe_csv_lines, safe_csv_text

CSV_TYPE = "text/csv; charset=utf-8"


def csv_download(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> StreamingHttpResponse:
    """A streamed CSV attachment: `rows` is consumed while the response is sent."""
    response = StreamingHttpResponse(safe_csv_lines(header, rows), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_attachment(filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> HttpResponse:
    """A small CSV attachment written at once."""
    response = HttpResponse(safe_csv_text(header, rows).encode("utf-8"), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
