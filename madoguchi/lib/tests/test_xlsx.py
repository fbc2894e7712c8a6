from __future__ import annotations

import datetime
import io

from openpyxl import load_workbook

from madoguchi.lib import xlsx


class XlsxTests:
    def test_sheets_read_back_with_numbers_dates_text_and_their_header(self):
        buffer = io.BytesIO()
        counts = xlsx.write(
            buffer,
            [
                xlsx.Sheet(
                    "日別",
                    ["日付", "件数", "割合（％）", "メモ"],
                    iter([[datetime.date(2025, 11, 3), 12, 16.7, "<a>&"], ["合計", 0, 0.0, None]]),
                    [16, 10, 10, 20],
                    header_style=xlsx.DARK_HEADER,
                ),
                xlsx.Sheet("空", ["項目"], iter([]), [12]),
            ],
            title="テスト 月報",
            creator="Madoguchi",
        )
        assert counts == [2, 0]
        book = load_workbook(io.BytesIO(buffer.getvalue()))
        assert book.sheetnames == ["日別", "空"]
        assert book.properties.title == "テスト 月報"
        daily = book["日別"]
        assert daily.freeze_panes == "A2"
        assert daily["A1"].font.bold and daily["A1"].fill.fgColor.rgb.endswith("1A5276")
        assert daily.column_dimensions["D"].width == 20
        rows = [list(row) for row in daily.iter_rows(min_row=2, values_only=True)]
        assert rows[0] == [datetime.datetime(2025, 11, 3), 12, 16.7, "<a>&"]
        assert rows[1] == ["合計", 0, 0, None]
        assert daily["A2"].number_format == "yyyy-mm-dd"
        assert [cell.value for cell in book["空"][1]] == ["項目"]
