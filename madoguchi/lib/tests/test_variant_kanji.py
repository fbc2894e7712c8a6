from __future__ import annotations

import importlib.util
import sys
import unicodedata
from pathlib import Path

import pytest

from madoguchi.lib.variant_kanji import TABLE_PATH, fold_variants, standard_form, variant_pairs

BUILD_SCRIPT = Path(__file__).parents[1] / "data" / "build_variant_kanji.py"


def _build_module():  # the script is data tooling, not an importable package module
    spec = importlib.util.spec_from_file_location("build_variant_kanji", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_variant_kanji"] = module
    spec.loader.exec_module(module)
    return module


class VariantKanjiTableTests:
    def test_it_is_a_maintained_table_not_a_handful_of_literals(self) -> None:
        pairs = variant_pairs()
        assert len(pairs) > 1000
        non_compat = [v for v in pairs if not unicodedata.name(v, "").startswith("CJK COMPATIBILITY")]
        assert len(non_compat) > 300

    @pytest.mark.parametrize(
        ("variant", "standard"),
        [
            ("髙", "高"),
            ("\U00020bb7", "吉"),
            ("\ufa11", "崎"),
            ("邊", "辺"),
            ("邉", "辺"),
            ("齋", "斎"),
            ("齊", "斎"),
            ("濵", "浜"),
            ("濱", "浜"),
            ("澤", "沢"),
            ("嶋", "島"),
            ("嶌", "島"),
            ("槗", "橋"),
            ("國", "国"),
            ("廣", "広"),
            ("櫻", "桜"),
            ("瀧", "滝"),
            ("德", "徳"),
            ("眞", "真"),
            ("篭", "籠"),
            ("\ufa30", "\u4fae"),
        ],
    )
    def test_it_folds_the_name_itaiji(self, variant: str, standard: str) -> None:
        assert standard_form(variant) == standard

    def test_it_keeps_ryu_apart_from_its_simplified_form(self) -> None:
        assert standard_form("龍") == "龍"
        assert "龍" not in variant_pairs()

    def test_every_target_is_final_so_one_pass_suffices(self) -> None:
        pairs = variant_pairs()
        assert not [standard for standard in pairs.values() if standard in pairs]

    def test_every_pair_is_one_character_to_one_character(self) -> None:
        assert all(len(v) == 1 and len(s) == 1 for v, s in variant_pairs().items())

    def test_fold_variants_handles_characters_outside_the_bmp(self) -> None:
        assert fold_variants("\U00020bb7田髙橋") == "吉田高橋"

    def test_fold_variants_changes_nothing_else(self) -> None:
        assert fold_variants("山田 太郎 abc ｶﾅ") == "山田 太郎 abc ｶﾅ"

    def test_the_table_file_has_three_columns_and_a_note_on_every_row(self) -> None:
        for line in TABLE_PATH.read_text(encoding="utf-8").splitlines()[1:]:
            fields = line.split("\t")
            assert len(fields) == 3 and fields[2].strip(), line

    def test_the_hand_kept_pairs_of_the_build_script_are_in_the_table(self) -> None:
        build = _build_module()
        pairs = variant_pairs()
        for variant, _standard, _note in build.HAND:
            assert variant in pairs, variant
        for variant in build.SKIP:
            assert variant not in pairs, variant

    def test_the_compatibility_ideographs_come_from_unicodedata(self) -> None:
        build = _build_module()
        for variant, standard, _note in build.unicode_pairs():
            assert fold_variants(variant) == fold_variants(standard)
