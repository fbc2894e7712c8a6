from __future__ import annotations

import time
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from madoguchi.lib.errors import InputError
from madoguchi.lib.text import (
    clean_name,
    clean_text,
    hiragana_to_katakana,
    kana_key,
    kana_loose_key,
    name_key,
    normalize_kana,
    split_name,
    strip_spaces,
)

YOSHI = "\U00020bb7"  # 𠮷, outside the BMP
HASHIGO_TAKA = "\u9ad9"  # 髙
TATSU_SAKI = "\ufa11"  # 﨑, a unified ideograph in the compatibility block
COMPAT_FA30 = "\ufa30"  # NFC turns it into U+4FAE
IVS_NAME = "葛\U000e0100飾"

_JAPANESE = "あいうえおかがきぎゃゅょっーアイウエオカガキギャュョッヴヅヂヲ高橋髙﨑崎邊辺齋斎澤沢山田花子"
japanese_text = st.text(
    alphabet=st.sampled_from([*_JAPANESE, YOSHI, COMPAT_FA30, " ", "\u3000", "・"]),
    max_size=20,
)


class CleanNameTests:
    def test_it_keeps_an_outside_the_bmp_kanji_as_one_code_point(self) -> None:
        assert clean_name(f"{YOSHI}田") == f"{YOSHI}田"
        assert len(clean_name(f"{YOSHI}田")) == 2

    def test_it_never_normalises_compatibility_ideographs(self) -> None:
        value = f"山{TATSU_SAKI}{COMPAT_FA30}{HASHIGO_TAKA}"
        assert clean_name(value) == value
        assert clean_name(value).encode("utf-8") == value.encode("utf-8")
        assert unicodedata.normalize("NFC", COMPAT_FA30) != COMPAT_FA30  # what it must not do

    def test_it_keeps_an_ivs_sequence_byte_for_byte(self) -> None:
        assert clean_name(IVS_NAME).encode("utf-8") == IVS_NAME.encode("utf-8")

    def test_it_removes_zero_width_characters_anywhere(self) -> None:
        assert clean_name("\ufeff山\u200b田\u200c\u200d\u2060") == "山田"

    def test_it_trims_ascii_and_ideographic_spaces_at_the_ends_only(self) -> None:
        assert clean_name(" \u3000山田\u3000花子 \u3000") == "山田\u3000花子"
        assert clean_name("山田  花子") == "山田  花子"

    @pytest.mark.parametrize("bad", ["\x00", "\t", "\n", "\r", "\x1b", "\x7f", "\x85", "\x9f"])
    def test_it_refuses_control_characters(self, bad: str) -> None:
        with pytest.raises(InputError) as caught:
            clean_name(f"山{bad}田")
        assert caught.value.code == "control_character"

    def test_it_refuses_a_forged_log_line(self) -> None:
        with pytest.raises(InputError):
            clean_name("山田\r\nFAKE LOG ENTRY user=admin")

    @pytest.mark.parametrize("bidi", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2069"])
    def test_it_refuses_bidi_controls(self, bidi: str) -> None:
        with pytest.raises(InputError) as caught:
            clean_name(f"山田{bidi}花子")
        assert caught.value.code == "bidi_control"

    def test_it_refuses_an_unpaired_surrogate(self) -> None:
        with pytest.raises(InputError) as caught:
            clean_name("山\ud842田")
        assert caught.value.code == "surrogate"

    def test_max_length_counts_code_points_not_utf16_units(self) -> None:
        assert clean_name(YOSHI * 10, max_length=10) == YOSHI * 10
        with pytest.raises(InputError) as caught:
            clean_name(YOSHI * 11, max_length=10)
        assert caught.value.code == "max_length"
        assert "10文字以内" in caught.value.message

    def test_the_error_message_never_repeats_the_value(self) -> None:
        with pytest.raises(InputError) as caught:
            clean_name("秘密の名前\x00")
        assert "秘密" not in str(caught.value)

    def test_a_very_long_value_is_refused_quickly(self) -> None:
        started = time.perf_counter()
        for size in (1_000_000, 10_000_000):
            with pytest.raises(InputError) as caught:
                clean_name("あ" * size, max_length=100)
            assert caught.value.code == "max_length"
        assert time.perf_counter() - started < 1.0

    def test_a_long_value_without_a_limit_is_still_cleaned_in_reasonable_time(self) -> None:
        started = time.perf_counter()
        assert len(clean_name("あ" * 1_000_000 + "\u200b")) == 1_000_000
        assert time.perf_counter() - started < 2.0

    @given(japanese_text)
    def test_a_clean_value_is_returned_unchanged_apart_from_the_ends(self, value: str) -> None:
        assert clean_name(value) == value.strip(" \u3000")
        assert clean_name(clean_name(value)) == clean_name(value)


class CleanTextTests:
    def test_it_allows_line_breaks_and_tabs(self) -> None:
        assert clean_text("一行目\n\t二行目") == "一行目\n\t二行目"

    def test_it_turns_crlf_and_cr_into_lf(self) -> None:
        assert clean_text("一\r\n二\r三") == "一\n二\n三"

    def test_it_still_refuses_nul_and_other_controls(self) -> None:
        for bad in ("\x00", "\x0b", "\x1b", "\u202e"):
            with pytest.raises(InputError):
                clean_text(f"メモ{bad}")

    def test_it_limits_long_notes(self) -> None:
        with pytest.raises(InputError):
            clean_text("x" * 100_001, max_length=100_000)


class NameKeyTests:
    @pytest.mark.parametrize(
        ("variant", "standard"),
        [
            ("髙橋　花子", "高橋花子"),
            (f"{YOSHI}田", "吉田"),
            (f"山{TATSU_SAKI}", "山崎"),
            ("渡邊", "渡辺"),
            ("渡邉", "渡辺"),
            ("齋藤", "斎藤"),
            ("齊藤", "斎藤"),
            ("斉藤", "斎藤"),
            ("瀧澤", "滝沢"),
            ("濱田", "浜田"),
            ("廣瀬", "広瀬"),
            ("櫻井", "桜井"),
            ("國分", "国分"),
            ("德永", "徳永"),
            ("眞由美", "真由美"),
            ("長嶋", "長島"),
            ("佐々木", "佐佐木"),
        ],
    )
    def test_variant_spellings_share_a_key(self, variant: str, standard: str) -> None:
        assert name_key(variant) == name_key(standard)

    def test_it_does_not_fold_ryu_into_the_simplified_form(self) -> None:
        assert name_key("龍之介") != name_key("竜之介")

    def test_an_ivs_sequence_matches_its_base_character(self) -> None:
        assert name_key(IVS_NAME) == name_key("葛飾")

    def test_a_compatibility_ideograph_matches_its_unified_form(self) -> None:
        assert name_key(COMPAT_FA30) == name_key("\u4fae")

    def test_spaces_and_middle_dots_do_not_matter(self) -> None:
        assert name_key("ブラウン・ソフィア") == name_key("ブラウン ソフィア") == name_key("ブラウンソフィア")

    def test_hiragana_half_width_and_full_width_katakana_share_a_key(self) -> None:
        assert name_key("さとう はなこ") == name_key("ｻﾄｳ ﾊﾅｺ") == name_key("サトウ　ハナコ")

    def test_a_dash_typed_in_a_katakana_name_is_a_long_vowel(self) -> None:
        assert name_key("ユ－キ") == name_key("ユーキ") == name_key("ゆーき")

    def test_latin_names_are_case_and_width_insensitive(self) -> None:
        assert name_key("Ｓｍｉｔｈ Anna") == name_key("smith anna")

    def test_different_names_keep_different_keys(self) -> None:
        assert name_key("高橋") != name_key("高畑")

    @given(japanese_text)
    def test_it_is_idempotent(self, value: str) -> None:
        assert name_key(name_key(value)) == name_key(value)


class NormalizeKanaTests:
    def test_half_width_kana_with_dakuten_become_full_width(self) -> None:
        assert normalize_kana("ﾔﾏﾀﾞ ﾀﾛｳ") == "ヤマダ タロウ"
        assert normalize_kana("ｶﾞｷﾞｸﾞｹﾞｺﾞ ﾊﾟﾋﾟ") == "ガギグゲゴ パピ"

    def test_hiragana_become_katakana(self) -> None:
        assert normalize_kana("やまだ　たろう") == "ヤマダ タロウ"
        assert normalize_kana("ゔぁいおりん") == "ヴァイオリン"

    def test_one_ascii_space_separates_family_and_given_names(self) -> None:
        assert normalize_kana("  ヤマダ\u3000\u3000タロウ ") == "ヤマダ タロウ"
        assert normalize_kana("ヤマダタロウ") == "ヤマダタロウ"

    def test_a_dash_typed_after_kana_is_a_long_vowel(self) -> None:
        assert normalize_kana("ユ－キ") == normalize_kana("ユ-キ") == normalize_kana("ﾕｰｷ") == "ユーキ"

    @pytest.mark.parametrize("bad", ["abc", "山田", "ヤマダ1", "ヤマダ\x00"])
    def test_it_refuses_what_is_not_a_reading(self, bad: str) -> None:
        with pytest.raises(InputError):
            normalize_kana(bad)

    def test_middle_dots_are_kept_for_foreign_names(self) -> None:
        assert normalize_kana("ﾌﾞﾗｳﾝ･ｿﾌｨｱ") == "ブラウン・ソフィア"


class KanaKeyTests:
    def test_it_removes_spaces_and_dots_but_keeps_small_kana_and_long_vowels(self) -> None:
        assert kana_key("きょう こ") == "キョウコ"
        assert kana_key("ユーキ") == "ユーキ"
        assert kana_key("ﾌﾞﾗｳﾝ･ｿﾌｨｱ") == "ブラウンソフィア"

    def test_it_never_raises(self) -> None:
        assert kana_key("abc") == "abc"


class KanaLooseKeyTests:
    @pytest.mark.parametrize(
        "group",
        [
            ("ユウキ", "ユーキ", "ユキ", "ゆうき"),
            ("ヴァイオリン", "バイオリン"),
            ("ミヅキ", "ミズキ"),
            ("チヂミ", "チジミ"),
            ("キョウコ", "キョーコ", "キヨコ"),
            ("オオノ", "オーノ", "オノ"),
            ("コウヘイ", "コーヘー"),
            ("ヲノ", "オノ"),
            ("サトウ", "サトー"),
        ],
    )
    def test_confusable_readings_share_a_loose_key(self, group: tuple[str, ...]) -> None:
        assert len({kana_loose_key(reading) for reading in group}) == 1

    def test_the_exact_key_still_tells_them_apart(self) -> None:
        assert len({kana_key(reading) for reading in ("ユウキ", "ユーキ", "ユキ")}) == 3

    def test_different_names_keep_different_loose_keys(self) -> None:
        assert kana_loose_key("タナカ") != kana_loose_key("タカナ")
        assert kana_loose_key("ハルト") != kana_loose_key("ハルキ")

    @given(japanese_text)
    def test_it_is_stable_under_the_exact_key(self, value: str) -> None:
        assert kana_loose_key(kana_key(value)) == kana_loose_key(value)
        assert kana_loose_key(kana_loose_key(value)) == kana_loose_key(value)


class SplitNameTests:
    def test_it_splits_on_the_first_space_of_either_width(self) -> None:
        assert split_name("田中 花子") == ("田中", "花子")
        assert split_name("田中\u3000花子") == ("田中", "花子")
        assert split_name("ブラウン　ソフィア　エマ") == ("ブラウン", "ソフィア　エマ")

    def test_an_unsplittable_name_is_returned_whole_as_the_family_part(self) -> None:
        assert split_name("田中花子") == ("田中花子", "")
        assert split_name("  田中花子 ") == ("田中花子", "")


class SmallHelpersTests:
    def test_strip_spaces_removes_every_kind_of_space(self) -> None:
        assert strip_spaces(" 山\u3000田\t花 子\n") == "山田花子"

    def test_hiragana_to_katakana_covers_vu_and_iteration_marks(self) -> None:
        assert hiragana_to_katakana("ゔゝゞぁゖ") == "ヴヽヾァヶ"
