"""Reading a target-list file: encodings, columns, and every row checked (T-IN-15..18)."""

from __future__ import annotations

import datetime
import os
import time

import pytest

from madoguchi.registry.models import Child, Guardian, Household, TargetListImport
from madoguchi.registry.services import import_target_list
from madoguchi.registry.tests.csvdata import HEADER, csv_bytes, csv_text, row, write

pytestmark = pytest.mark.django_db


def run(world, tmp_path, data: bytes, **options):
    path = write(tmp_path, data)
    return import_target_list(
        program=world.program, path=path, file_name="targets.csv", user=world.ward_staff, **options
    )


def reasons(report) -> list[tuple[int | None, str]]:
    return [(problem.row, problem.column) for problem in report.problems]


class EncodingTests:
    def test_it_imports_utf8_with_bom_holding_variant_kanji_exactly(self, world, tmp_path):
        data = csv_bytes([row(児童氏名="𠮷田　一郎", 保護者氏名="髙橋　花子")], encoding="utf-8-sig")
        report = run(world, tmp_path, data)
        assert report.status == TargetListImport.Status.APPLIED, report.problems
        assert report.encoding == "utf-8-sig"
        child = Child.objects.get()
        assert child.name == "𠮷田　一郎"
        assert child.name_key == "吉田一郎"
        guardian = Guardian.objects.get()
        assert guardian.name == "髙橋　花子"
        assert guardian.name_key == "高橋花子"

    def test_the_bom_is_not_part_of_the_first_header(self, world, tmp_path):
        # With the BOM kept, the first header would read "\ufeff世帯番号" and be missing.
        report = run(world, tmp_path, csv_bytes([row()], encoding="utf-8-sig"))
        assert not report.refused
        assert Household.objects.get().number == "H001"

    def test_it_decodes_cp932_with_cp932_not_shift_jis(self, world, tmp_path):
        data = csv_bytes(
            [row(保護者氏名="髙橋　花子", 住所="世田谷区太子堂4-1-1 コーポ①～")], encoding="cp932"
        )
        assert "～".encode("cp932") == b"\x81\x60"
        report = run(world, tmp_path, data)
        assert report.encoding == "cp932"
        assert not report.refused, report.problems
        household = Household.objects.get()
        assert household.address.endswith("コーポ①\uff5e")
        assert Guardian.objects.get().name == "髙橋　花子"

    def test_it_refuses_a_cp932_file_with_utf8_lines_and_commits_nothing(self, world, tmp_path):
        good = csv_bytes([row("H001", 児童氏名="試験　一郎")], encoding="cp932")
        utf8_line = csv_text([row("H002", 児童氏名="試験　二郎")]).split("\r\n")[1].encode("utf-8")
        report = run(world, tmp_path, good + utf8_line + b"\r\n")
        assert report.refused
        assert report.problems[0].row == 3
        assert "混在" in report.problems[0].reason
        assert Household.objects.count() == 0
        assert TargetListImport.objects.get().status == TargetListImport.Status.REFUSED

    def test_it_refuses_utf16(self, world, tmp_path):
        report = run(world, tmp_path, csv_text([row()]).encode("utf-16"))
        assert report.refused
        assert "UTF-16" in report.problems[0].reason
        assert Household.objects.count() == 0

    def test_it_refuses_utf16_without_a_bom(self, world, tmp_path):
        report = run(world, tmp_path, csv_text([row()]).encode("utf-16-le"))
        assert report.refused
        assert "UTF-16" in report.problems[0].reason

    def test_it_refuses_binary_data(self, world, tmp_path):
        report = run(world, tmp_path, os.urandom(4096))
        assert report.refused
        assert Household.objects.count() == 0

    def test_it_refuses_a_zip_named_csv(self, world, tmp_path):
        report = run(world, tmp_path, b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + os.urandom(200))
        assert report.refused
        assert Household.objects.count() == 0

    def test_it_refuses_a_nul_character(self, world, tmp_path):
        data = csv_bytes([row(児童氏名="試験\x00太郎")], encoding="utf-8")
        report = run(world, tmp_path, data)
        assert report.refused
        assert report.problems[0].row == 2
        assert Household.objects.count() == 0


class ColumnTests:
    def test_it_refuses_a_header_missing_a_required_column(self, world, tmp_path):
        header = [name for name in HEADER if name != "児童生年月日"]
        report = run(world, tmp_path, csv_bytes([row()], header=header))
        assert report.refused
        assert (1, "児童生年月日") in reasons(report)
        assert "必須" in report.problems[0].reason

    def test_it_refuses_an_unknown_column_by_name(self, world, tmp_path):
        report = run(
            world, tmp_path, csv_bytes([row(マイナンバー="123456789012")], header=[*HEADER, "マイナンバー"])
        )
        assert report.refused
        assert reasons(report) == [(1, "マイナンバー")]
        assert "123456789012" not in str(report.stored_problems())
        assert Household.objects.count() == 0

    def test_it_imports_when_the_unknown_column_is_dropped_explicitly(self, world, tmp_path):
        data = csv_bytes([row(マイナンバー="123456789012")], header=[*HEADER, "マイナンバー"])
        report = run(world, tmp_path, data, drop_columns=["マイナンバー"])
        assert not report.refused
        assert report.dropped_columns == ["マイナンバー"]
        assert Household.objects.count() == 1

    def test_it_refuses_a_known_column_the_program_has_not_approved(self, world, tmp_path):
        world.program.approved_items = [
            item for item in world.program.approved_items if item != "guardian.email"
        ]
        world.program.save()
        report = run(world, tmp_path, csv_bytes([row()]))
        assert reasons(report) == [(1, "メールアドレス")]
        dropped = run(world, tmp_path, csv_bytes([row()]), drop_columns=["メールアドレス"])
        assert not dropped.refused
        assert Guardian.objects.get().email == ""

    def test_column_order_is_free(self, world, tmp_path):
        report = run(world, tmp_path, csv_bytes([row()], header=list(reversed(HEADER))))
        assert not report.refused
        assert Child.objects.get().name == "試験　太郎"


class RowTests:
    def test_quoted_commas_and_line_breaks_are_read(self, world, tmp_path):
        data = csv_bytes([row(住所="世田谷区太子堂4-1-1,\r\nコーポ試験 101", 保護者氏名="試験, 花子")])
        report = run(world, tmp_path, data)
        assert not report.refused, report.problems
        assert Household.objects.get().address == "世田谷区太子堂4-1-1, コーポ試験 101"
        assert Guardian.objects.get().name == "試験, 花子"

    def test_a_line_break_inside_a_name_is_refused(self, world, tmp_path):
        report = run(world, tmp_path, csv_bytes([row(児童氏名="試験\n太郎")]))
        assert reasons(report) == [(2, "児童氏名")]

    def test_a_ten_megabyte_name_is_refused_quickly(self, world, tmp_path):
        started = time.monotonic()
        report = run(world, tmp_path, csv_bytes([row(児童氏名="あ" * (10 * 1024 * 1024 // 3))]))
        assert time.monotonic() - started < 5
        assert report.refused
        assert "長すぎ" in report.problems[0].reason
        assert report.problems[0].row == 2

    def test_a_name_over_the_field_limit_is_refused_by_column(self, world, tmp_path):
        report = run(world, tmp_path, csv_bytes([row(児童氏名="試" * 101)]))
        assert reasons(report) == [(2, "児童氏名")]
        assert "100文字" in report.problems[0].reason

    def test_an_impossible_date_is_refused(self, world, tmp_path):
        report = run(world, tmp_path, csv_bytes([row(児童生年月日="2023-02-30")]))
        assert reasons(report) == [(2, "児童生年月日")]
        assert "2023-02-30" not in report.problems[0].reason

    @pytest.mark.parametrize(
        ("written", "expected"),
        [
            ("2020-04-01", datetime.date(2020, 4, 1)),
            ("2020/4/1", datetime.date(2020, 4, 1)),
            ("20200401", datetime.date(2020, 4, 1)),
            ("令和2年4月1日", datetime.date(2020, 4, 1)),
            ("R2.4.1", datetime.date(2020, 4, 1)),
            ("R02/04/01", datetime.date(2020, 4, 1)),
            ("平成31年4月2日", datetime.date(2019, 4, 2)),
            ("令和元年5月1日", datetime.date(2019, 5, 1)),
            ("２０２０－０４－０１", datetime.date(2020, 4, 1)),
        ],
    )
    def test_every_date_notation_is_read(self, world, tmp_path, written, expected):
        report = run(world, tmp_path, csv_bytes([row(児童生年月日=written, 保護者生年月日="昭和60年1月2日")]))
        assert not report.refused, report.problems
        assert Child.objects.get().dob == expected
        assert Guardian.objects.get().dob == datetime.date(1985, 1, 2)

    def test_full_width_digits_and_hyphen_likes_in_phones_and_addresses(self, world, tmp_path):
        rows = [
            row("H001", 電話番号="０９０－１２３４－５６７８", 住所="世田谷区太子堂４－１－１"),
            row("H002", 電話番号="090‐1234‐5679", 住所="世田谷区太子堂4‐1‐2"),
            row("H003", 電話番号="090−1234−5670", 住所="世田谷区太子堂4−1−3"),
            row("H004", 電話番号="090ー1234ー5671", 住所="世田谷区太子堂4ー1ー4"),
            row(
                "H005",
                電話番号="+81 90 1234 5672",
                住所="世田谷区太子堂四丁目1番5号",
                郵便番号="〒１５４－０００４",
            ),
        ]
        report = run(world, tmp_path, csv_bytes(rows))
        assert not report.refused, report.problems
        phones = dict(Guardian.objects.values_list("household__number", "phone"))
        assert phones == {
            "H001": "090-1234-5678",
            "H002": "090-1234-5679",
            "H003": "090-1234-5670",
            "H004": "090-1234-5671",
            "H005": "090-1234-5672",
        }
        blocks = dict(Household.objects.values_list("number", "address_block_key"))
        assert blocks == {f"H00{n}": f"太子堂4-1-{n}" for n in range(1, 6)}
        assert Household.objects.get(number="H005").postal_code == "154-0004"
        assert Guardian.objects.get(household__number="H001").phone_digits == "09012345678"

    def test_half_width_kana_readings_are_stored_full_width(self, world, tmp_path):
        report = run(
            world, tmp_path, csv_bytes([row(児童氏名カナ="ｼｹﾝ ﾀﾛｳ", 保護者氏名カナ="しけん　はなこ")])
        )
        assert not report.refused, report.problems
        child = Child.objects.get()
        assert child.kana == "シケン タロウ"
        assert child.kana_key == "シケンタロウ"
        assert Guardian.objects.get().kana == "シケン ハナコ"

    def test_an_ivs_sequence_is_kept_byte_for_byte(self, world, tmp_path):
        name = "葛\U000e0100城　花子"
        report = run(world, tmp_path, csv_bytes([row(保護者氏名=name)]))
        assert not report.refused, report.problems
        stored = Guardian.objects.get()
        assert stored.name.encode("utf-8") == name.encode("utf-8")
        assert stored.name_key == "葛城花子"

    def test_zero_width_characters_are_removed_and_bidi_controls_refused(self, world, tmp_path):
        report = run(
            world,
            tmp_path,
            csv_bytes([row("H001", 児童氏名="試験\u200b　太郎"), row("H002", 児童氏名="試験\u202e太郎")]),
        )
        assert reasons(report) == [(3, "児童氏名")]
        report = run(world, tmp_path, csv_bytes([row("H001", 児童氏名="試験\u200b　太郎")]))
        assert Child.objects.get().name == "試験　太郎"

    def test_children_outside_the_window_are_listed_not_imported(self, world, tmp_path):
        rows = [
            row("H001", 児童氏名="試験　一郎", 児童生年月日="2019-04-01"),
            row("H001", 児童氏名="試験　二郎", 児童生年月日="2020-04-01"),
            row("H002", 児童氏名="試験　三郎", 児童生年月日="2022-04-02"),
        ]
        report = run(world, tmp_path, csv_bytes(rows))
        assert not report.refused
        assert report.ineligible_rows == [2, 4]
        assert list(Child.objects.values_list("name", flat=True)) == ["試験　二郎"]
        assert list(Household.objects.values_list("number", flat=True)) == ["H001"]
        assert report.target_import.ineligible == 2

    def test_rows_of_one_household_must_agree_on_guardian_and_address(self, world, tmp_path):
        rows = [
            row("H001", 児童氏名="試験　一郎"),
            row("H001", 児童氏名="試験　二郎", 住所="世田谷区弦巻1-1-1"),
        ]
        report = run(world, tmp_path, csv_bytes(rows))
        assert reasons(report) == [(3, "住所")]
        assert "2行目" in report.problems[0].reason

    def test_siblings_make_one_household_and_full_width_numbers_are_one(self, world, tmp_path):
        rows = [
            row("H001", 児童氏名="試験　一郎"),
            row("Ｈ００１", 児童氏名="試験　二郎", 児童生年月日="2021-06-01"),
        ]
        report = run(world, tmp_path, csv_bytes(rows))
        assert not report.refused, report.problems
        household = Household.objects.get()
        assert household.children.count() == 2
        assert report.household_count == 1

    def test_every_problem_is_listed_by_row_and_column_without_values(self, world, tmp_path):
        rows = [
            row("H001", 児童生年月日="2020-13-01", 電話番号="12"),
            row("H002", 保護者氏名="", メールアドレス="not-an-address"),
        ]
        report = run(world, tmp_path, csv_bytes(rows))
        assert sorted(reasons(report)) == [
            (2, "児童生年月日"),
            (2, "電話番号"),
            (3, "メールアドレス"),
            (3, "保護者氏名"),
        ]
        stored = str(TargetListImport.objects.get().problems)
        assert "not-an-address" not in stored
        assert Household.objects.count() == 0

    def test_a_blank_line_at_the_end_is_ignored(self, world, tmp_path):
        report = run(world, tmp_path, csv_bytes([row()]) + b",,,,,,,,,,\r\n\r\n")
        assert not report.refused, report.problems
        assert report.row_count == 1
