from __future__ import annotations

from openpyxl import load_workbook

from madoguchi.exports import xlsx


def test_the_sheet_reads_back_with_a_bold_frozen_header_widths_and_exact_text(tmp_path):
    path = tmp_path / "x.xlsx"
    rows = [
        ["KJ-000001", "  先頭の空白", "<script>&amp;</script>"],
        ["KJ-000002", "\U00020bb7野家 髙橋", "改行\nあり"],
        ["KJ-000003", "制御\x01文字", ""],
    ]
    count = xlsx.write(
        path,
        sheet_name="問い合わせ",
        header=["受付番号", "氏名", "内容"],
        rows=iter(rows),
        widths=[18, 40, 40],
    )
    assert count == 3
    book = load_workbook(path)
    assert book.sheetnames == ["問い合わせ"]
    sheet = book["問い合わせ"]
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.bold and sheet["A1"].value == "受付番号"
    assert sheet.column_dimensions["B"].width == 40
    values = [list(row) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert values[0] == ["KJ-000001", "  先頭の空白", "<script>&amp;</script>"]
    assert values[1] == ["KJ-000002", "\U00020bb7野家 髙橋", "改行\nあり"]
    assert values[2][1] == "制御\ufffd文字"


def test_an_empty_export_is_a_valid_file_with_its_header(tmp_path):
    path = tmp_path / "x.xlsx"
    assert xlsx.write(path, sheet_name="問い合わせ", header=["受付番号"], rows=iter([]), widths=[18]) == 0
    assert [c.value for c in load_workbook(path)["問い合わせ"][1]] == ["受付番号"]
