from __future__ import annotations

import csv
import datetime
import io
import subprocess

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from madoguchi.audit.models import Action, AuditEvent
from madoguchi.cases.models import Category
from madoguchi.reports import formats
from madoguchi.reports.selectors import build_report
from madoguchi.reports.tables import pdf_tables
from madoguchi.reports.tests.factories import at, case
from madoguchi.reports.tests.test_selectors import NOV, TODAY, november

D = datetime.date


def report(world, with_operators=True):
    return build_report(world.program, *NOV, with_operators=with_operators, today=TODAY)


@pytest.mark.django_db
class XlsxTests:
    def test_sheets_header_frozen_widths_and_figures(self, world):
        november(world)
        book = load_workbook(io.BytesIO(formats.to_xlsx(report(world))))
        assert book.sheetnames == [
            "概要",
            "日別",
            "状態別",
            "分類別",
            "区回答日数",
            "担当者別",
            "明細（日・受付方法・分類・状態）",
        ]
        for sheet in book.worksheets:
            assert sheet.freeze_panes == "A2"
            assert sheet["A1"].font.bold
        daily = book["日別"]
        assert [c.value for c in daily[1]][:3] == ["日付", "受付件数", "電話"]
        assert daily.column_dimensions["A"].width == 16
        rows = {row[0]: row for row in daily.iter_rows(min_row=2, values_only=True)}
        assert rows["2025-11-03（月）"][1:4] == (2, 1, 1)
        assert rows["合計"][1] == 11
        summary = dict(book["概要"].iter_rows(min_row=2, values_only=True))
        assert summary["区回答までの営業日数（中央値）"] == 2
        assert summary["区回答までの営業日数（90パーセンタイル）"] == 6
        assert summary["区回答期限超過（未回答）"] == 1

    def test_no_operator_sheet_for_those_who_may_not_see_it(self, world):
        november(world)
        book = load_workbook(io.BytesIO(formats.to_xlsx(report(world, with_operators=False))))
        assert "担当者別" not in book.sheetnames


@pytest.mark.django_db
class PdfTests:
    def test_the_pdf_reads_back_with_the_title_block_and_figures(self, world, tmp_path):
        november(world)
        data = formats.to_pdf(report(world))
        assert data.startswith(b"%PDF")
        path = tmp_path / "r.pdf"
        path.write_bytes(data)
        text = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
        ).stdout
        assert "テスト区 子ども家庭課" in text
        assert "問い合わせ月報" in text
        assert "2025年11月1日 〜 2025年11月30日" in text
        assert "区回答までの営業日数（中央値）" in text
        assert "担当者別" in text and "テスト operator" in text
        # The channels as their own table, not as columns of the daily one (fewer cells).
        assert "受付方法別" in text and "問い合わせフォーム" in text
        fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout
        assert "Noto-Sans-CJK-JP" in fonts or "NotoSansCJK" in fonts
        # A4 landscape: 842 x 595 points
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True).stdout
        assert "841.89 x 595.276 pts (A4)" in info

    def test_the_pdf_keeps_every_total_with_fewer_cells(self, world):
        november(world)
        tables = {table.key: table for table in pdf_tables(report(world))}
        assert tables["daily"].headers == [
            "日付",
            "受付件数",
            "区確認依頼",
            "区回答",
            "折り返し依頼",
            "折り返し完了",
        ]
        channels = {row[0]: row[1] for row in tables["channels"].rows}
        assert sum(channels.values()) == tables["daily"].rows[-1][1] == 11  # type: ignore[arg-type]


@pytest.mark.django_db
class CsvTests:
    def test_utf8_with_bom_sections_and_formula_neutralised(self, world):
        november(world)
        Category.objects.filter(name="その他").update(name='=HYPERLINK("x")')
        Category.objects.filter(name="申請方法").update(name="＋申請")
        case(world.program, at(D(2025, 11, 10)), category=Category.objects.get(name__startswith="=HYP"))
        data = formats.to_csv(report(world))
        assert data.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        assert rows[0] == ["概要"]
        names = [row[1] for row in rows if len(row) > 4 and row[0].isdigit()]
        assert '\'=HYPERLINK("x")' in names and "'＋申請" in names

    def test_cp932_is_written_when_every_character_fits(self, world):
        november(world)
        Category.objects.filter(name="その他").update(name="髙橋さんの件")
        case(world.program, at(D(2025, 11, 10)), category=Category.objects.get(name="髙橋さんの件"))
        data = formats.to_csv(report(world), "cp932")
        assert not data.startswith(b"\xef\xbb\xbf")
        assert "髙橋さんの件".encode("cp932") in data

    def test_cp932_is_refused_with_the_cells_listed_never_a_question_mark(self, world):
        november(world)
        Category.objects.filter(name="その他").update(name="\U00020bb7野家")
        case(world.program, at(D(2025, 11, 10)), category=Category.objects.get(name="\U00020bb7野家"))
        with pytest.raises(formats.Cp932Refused) as refused:
            formats.to_csv(report(world), "cp932")
        cells = [(c.sheet, c.row, c.column, c.characters) for c in refused.value.cells]
        assert ("分類別", 5, 2, ("\U00020bb7",)) in cells
        assert any(sheet.startswith("明細") and column == 3 for sheet, _row, column, _ch in cells)
        assert "「分類別」5行目 B列（B5）: \U00020bb7（U+20BB7）" in refused.value.lines()


@pytest.mark.django_db
class CommandTests:
    def test_each_format_from_the_command_line(self, world, tmp_path):
        november(world)
        for fmt in ("xlsx", "pdf", "csv"):
            out = tmp_path / f"r.{fmt}"
            stdout = io.StringIO()
            call_command(
                "report",
                "--program",
                "test-program",
                "--from",
                "2025-11-01",
                "--to",
                "2025-11-30",
                "--format",
                fmt,
                "--out",
                str(out),
                stdout=stdout,
            )
            assert "書き出しました" in stdout.getvalue() and "月報" in stdout.getvalue()
            assert out.stat().st_size > 100
        assert "担当者別" in load_workbook(out.with_suffix(".xlsx")).sheetnames
        events = AuditEvent.objects.filter(action=Action.EXPORT, object_type="report")
        assert events.count() == 3
        assert events.first().details["cases"] == 11

    def test_cp932_refusal_exits_non_zero_with_the_cells(self, world, tmp_path):
        november(world)
        Category.objects.filter(name="その他").update(name="\U00020bb7野家")
        case(world.program, at(D(2025, 11, 10)), category=Category.objects.get(name="\U00020bb7野家"))
        out = tmp_path / "r.csv"
        with pytest.raises(CommandError) as error:
            call_command(
                "report",
                "--program",
                "test-program",
                "--from",
                "2025-11-01",
                "--to",
                "2025-11-30",
                "--format",
                "csv",
                "--encoding",
                "cp932",
                "--out",
                str(out),
            )
        assert "CP932" in str(error.value) and "B5" in str(error.value)
        assert not out.exists()

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--program", "nope", "--from", "2025-11-01", "--to", "2025-11-30"], "事業はありません"),
            (["--program", "test-program", "--from", "2025-11-31", "--to", "2025-11-30"], "日付で指定"),
            (["--program", "test-program", "--from", "2025-11-30", "--to", "2025-11-01"], "以降の日付"),
        ],
    )
    def test_refusals(self, world, tmp_path, args, message):
        with pytest.raises(CommandError, match=message):
            call_command("report", *args, "--format", "csv", "--out", str(tmp_path / "x.csv"))

    def test_as_a_ward_staff_member_there_is_no_operator_section(self, world, tmp_path):
        november(world)
        out = tmp_path / "r.xlsx"
        call_command(
            "report",
            "--program",
            "test-program",
            "--from",
            "2025-11-01",
            "--to",
            "2025-11-30",
            "--format",
            "xlsx",
            "--out",
            str(out),
            "--as",
            "ward",
            stdout=io.StringIO(),
        )
        assert "担当者別" not in load_workbook(out).sheetnames
        with pytest.raises(CommandError, match="見られません"):
            call_command(
                "report",
                "--program",
                "test-program",
                "--from",
                "2025-11-01",
                "--to",
                "2025-11-30",
                "--format",
                "xlsx",
                "--out",
                str(out),
                "--as",
                "operator",
            )
