from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.lib.csvsafe import (
    Cp932Problem,
    encode_cp932_or_report,
    safe_csv_text,
    spreadsheet_safe,
    unencodable_in_cp932,
)

FORMULA_STARTS = frozenset("=+-@\t\r\n\x00")


class SpreadsheetSafeTests:
    @pytest.mark.parametrize(
        "cell",
        ["=1+1", "+81", "-2", "@SUM(A1)", "\tx", "\rx", "\x00x", "＝1+1", "＋1", "－1", "＠x", " =1+1"],
    )
    def test_a_cell_that_could_be_a_formula_is_quoted(self, cell: str) -> None:
        assert spreadsheet_safe(cell) == "'" + cell

    @pytest.mark.parametrize("cell", ["山田 花子", "03-1234-5678", "2020-05-03", "", "a=b", "\U00020bb7田"])
    def test_any_other_cell_is_left_untouched(self, cell: str) -> None:
        assert spreadsheet_safe(cell) == cell

    @given(st.text(max_size=20))
    def test_it_only_ever_adds_one_quote(self, cell: str) -> None:
        assert spreadsheet_safe(cell) in (cell, "'" + cell)

    @given(st.text(max_size=12))
    def test_the_fast_path_decides_as_the_nfkc_probe_does(self, cell: str) -> None:
        probe = unicodedata.normalize("NFKC", cell[:8]).lstrip(" ")
        quoted = bool(cell) and (cell[0] in FORMULA_STARTS or bool(probe and probe[0] in FORMULA_STARTS))
        assert spreadsheet_safe(cell) == ("'" + cell if quoted else cell)


class SafeCsvTextTests:
    def test_it_starts_with_a_bom_and_neutralises_every_formula_cell(self) -> None:
        text = safe_csv_text(["名前", "値"], [["＝1+1", "＋1"], ["－1", "＠x"], ["\tx", "\rx"], ["髙", None]])
        assert text.startswith("\ufeff名前,値\r\n")
        rows = text[1:].split("\r\n")
        assert rows[1] == "'＝1+1,'＋1"
        assert rows[2] == "'－1,'＠x"
        assert rows[3] == "'\tx,\"'\rx\""
        assert rows[4] == "髙,"


class Cp932Tests:
    def test_names_that_cp932_holds_are_not_reported(self) -> None:
        assert encode_cp932_or_report([["髙橋", "山﨑", "①", "～"]]) == []
        assert "髙".encode("cp932") == b"\xee\xe0"
        assert "﨑".encode("cp932") == b"\xed\x95"

    def test_a_name_outside_cp932_is_reported_with_its_row_and_column(self) -> None:
        rows = [["世帯番号", "氏名"], ["1", "山田"], ["2", "\U00020bb7田"]]
        assert encode_cp932_or_report(rows) == [Cp932Problem(row=2, column=1, characters=("\U00020bb7",))]

    def test_unencodable_characters_are_listed_once(self) -> None:
        assert unencodable_in_cp932("\U00020bb7\U00020bb7田😀") == ["\U00020bb7", "😀"]
