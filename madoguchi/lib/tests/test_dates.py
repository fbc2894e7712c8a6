from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.lib.dates import format_date_ja, format_wareki, parse_birth_date, parse_date, to_wareki
from madoguchi.lib.errors import InputError

D = datetime.date


class ParseDateTests:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("2020-05-03", D(2020, 5, 3)),
            ("2020/5/3", D(2020, 5, 3)),
            ("2020/05/3", D(2020, 5, 3)),
            ("2020.5.3", D(2020, 5, 3)),
            ("20200503", D(2020, 5, 3)),
            ("2020年5月3日", D(2020, 5, 3)),
            ("令和2年5月3日", D(2020, 5, 3)),
            ("令和2年4月1日", D(2020, 4, 1)),
            ("R2.5.3", D(2020, 5, 3)),
            ("R02/05/03", D(2020, 5, 3)),
            ("R02/04/01", D(2020, 4, 1)),
            ("r2-5-3", D(2020, 5, 3)),
            ("R020503", D(2020, 5, 3)),
            ("平成31年4月2日", D(2019, 4, 2)),
            ("H31.4.2", D(2019, 4, 2)),
            ("h31.4.30", D(2019, 4, 30)),
            ("令和元年5月1日", D(2019, 5, 1)),
            ("平成元年1月8日", D(1989, 1, 8)),
            ("S63.1.2", D(1988, 1, 2)),
            ("s58/07/18", D(1983, 7, 18)),
            ("昭和64年1月7日", D(1989, 1, 7)),
            ("大正15年12月24日", D(1926, 12, 24)),
            ("T1.7.30", D(1912, 7, 30)),
            ("明治45年7月29日", D(1912, 7, 29)),
        ],
    )
    def test_it_reads_every_notation_of_the_formats(self, value: str, expected: datetime.date) -> None:
        assert parse_date(value) == expected

    @pytest.mark.parametrize(
        "value",
        [
            "２０２０／５／３",
            "２０２０－０５－０３",
            "２０２０年５月３日",
            "Ｒ２．５．３",
            "令和２年５月３日",
            " 2020 / 5 / 3 ",
        ],
    )
    def test_full_width_digits_separators_and_spaces_are_accepted(self, value: str) -> None:
        assert parse_date(value) == D(2020, 5, 3)

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("令和二年五月三日", D(2020, 5, 3)),
            ("平成三十一年四月十九日", D(2019, 4, 19)),
            ("昭和五十八年七月十八日", D(1983, 7, 18)),
            ("令和元年十月十四日", D(2019, 10, 14)),
            ("二〇二〇年五月三日", D(2020, 5, 3)),
        ],
    )
    def test_kanji_numerals_are_accepted(self, value: str, expected: datetime.date) -> None:
        assert parse_date(value) == expected

    def test_era_squares_are_accepted(self) -> None:
        assert parse_date("㋿2年5月3日") == D(2020, 5, 3)
        assert parse_date("㍻31年4月2日") == D(2019, 4, 2)

    @pytest.mark.parametrize(
        "value", ["平成31年5月1日", "H31.5.1", "令和元年4月30日", "R1.4.30", "昭和64年1月8日"]
    )
    def test_dates_outside_their_era_are_refused(self, value: str) -> None:
        with pytest.raises(InputError) as caught:
            parse_date(value)
        assert caught.value.code == "outside_era"

    def test_a_caller_saying_an_ended_era_year_can_be_read_leniently(self) -> None:
        assert parse_date("平成31年7月3日", strict_era=False) == D(2019, 7, 3)
        assert parse_date("R1.4.30", strict_era=False) == D(2019, 4, 30)

    def test_an_impossible_date_is_refused_with_the_reason(self) -> None:
        with pytest.raises(InputError) as caught:
            parse_date("2023-02-30")
        assert caught.value.code == "invalid_date"
        assert "2月は28日まで" in caught.value.message
        assert parse_date("2020-02-29") == D(2020, 2, 29)

    @pytest.mark.parametrize(
        ("value", "code"),
        [
            ("2020-13-01", "invalid_month"),
            ("令和0年1月1日", "invalid_era_year"),
            ("昭和63年", "incomplete_date"),
            ("大正", "incomplete_date"),
            ("2020年5月", "incomplete_date"),
            ("abc", "invalid_format"),
            ("20-5-3", "invalid_format"),
            ("", "required"),
            ("   ", "required"),
        ],
    )
    def test_malformed_dates_are_refused(self, value: str, code: str) -> None:
        with pytest.raises(InputError) as caught:
            parse_date(value)
        assert caught.value.code == code

    @given(st.dates(min_value=D(1868, 10, 23), max_value=D(2100, 12, 31)))
    def test_every_formatted_date_reads_back(self, day: datetime.date) -> None:
        assert parse_date(format_wareki(day)) == day
        assert parse_date(day.isoformat()) == day
        assert parse_date(f"{day.year}/{day.month}/{day.day}") == day
        assert parse_date(day.strftime("%Y%m%d")) == day
        era, year = to_wareki(day)
        assert parse_date(f"{era.letter}{year}.{day.month}.{day.day}") == day


class ParseBirthDateTests:
    def test_it_refuses_a_future_date(self) -> None:
        with pytest.raises(InputError) as caught:
            parse_birth_date("2099-01-01", today=D(2023, 3, 1))
        assert caught.value.code == "future_date"

    def test_it_refuses_an_implausibly_old_date(self) -> None:
        with pytest.raises(InputError):
            parse_birth_date("1899-12-31", today=D(2023, 3, 1))

    def test_it_accepts_a_plausible_date(self) -> None:
        assert parse_birth_date("R5.2.3", today=D(2023, 3, 1)) == D(2023, 2, 3)


class FormatTests:
    def test_format_wareki_writes_the_era_date(self) -> None:
        assert format_wareki(D(2020, 5, 3)) == "令和2年5月3日"
        assert format_wareki(D(2019, 4, 30)) == "平成31年4月30日"
        assert format_wareki(D(1989, 1, 7)) == "昭和64年1月7日"

    def test_the_first_year_of_an_era_is_gannen(self) -> None:
        assert format_wareki(D(2019, 5, 1)) == "令和元年5月1日"
        assert format_wareki(D(1989, 1, 8)) == "平成元年1月8日"

    def test_format_date_ja_gives_both_calendars(self) -> None:
        assert format_date_ja(D(2020, 5, 3)) == "2020年5月3日（令和2年）"
        assert format_date_ja(D(2019, 5, 1)) == "2019年5月1日（令和元年）"

    def test_a_date_before_meiji_has_no_era(self) -> None:
        assert format_date_ja(D(1850, 1, 1)) == "1850年1月1日"
        with pytest.raises(InputError):
            format_wareki(D(1850, 1, 1))
