from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.lib.csvsafe import Cp932Problem, encode_cp932_or_report, spreadsheet_safe, unencodable_in_cp932


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
