"""The engine finds the caller's household however they say things, and abstains otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from madoguchi.identify.engine import Query, Result, identify
from madoguchi.identify.tests.helpers import add_household, standard_list


@pytest.fixture
def households(world: Any) -> dict[str, Any]:
    return standard_list(world.program)


def run(world: Any, **fields: str) -> Result:
    return identify(world.program.pk, Query(**fields))


def assert_found(result: Result, household: Any) -> None:
    assert not result.abstained, f"abstained: {[(c.number, c.score) for c in result.candidates]}"
    assert result.candidates[0].number == household.number
    assert 0.5 <= result.candidates[0].score <= 1.0


class NameNotationTests:
    def test_it_finds_a_name_written_with_or_without_the_space(self, world, households):
        for name in ("田中　花子", "田中 花子", "田中花子"):
            assert_found(run(world, guardian_name=name, child_dob="2020-05-03"), households["tanaka"])

    def test_it_reads_a_name_given_in_hiragana_in_the_name_field(self, world, households):
        assert_found(run(world, guardian_name="たなか はなこ", child_dob="2020-05-03"), households["tanaka"])

    def test_it_reads_half_width_kana(self, world, households):
        result = run(world, guardian_kana="ﾀﾅｶ ﾊﾅｺ", child_name="陽翔", phone="09012345678")
        assert_found(result, households["tanaka"])

    def test_it_folds_variant_kanji(self, world, households):
        result = run(world, guardian_name="高橋健太", child_dob="2020-08-29")
        assert_found(result, households["twins"])
        assert any(e.field == "guardian_name" and e.how == "exact" for e in result.candidates[0].evidence)

    def test_it_folds_vu_and_bu(self, world, households):
        assert_found(run(world, guardian_name="ワン オリビア", phone="070-4642-9698"), households["olivia"])

    def test_it_folds_zu_and_du(self, world, households):
        result = run(world, guardian_name="斉藤麻美", child_name="ユズキ", child_dob="令和元年7月22日")
        assert_found(result, households["saito"])

    def test_it_weighs_a_written_long_vowel_above_a_dropped_one(self, world, households):
        result = run(world, guardian_kana="オカモト ユーキ", address="喜多見6-8-15")
        assert_found(result, households["yuuki"])
        scores = {c.number: c.score for c in result.candidates}
        assert scores.get(households["yuki"].number, 0.0) < scores[households["yuuki"].number]
        how = {e.field: e.how for e in result.candidates[0].evidence}
        assert how["guardian_name"] == "reading"

    def test_a_short_vowel_is_only_a_loose_match(self, world, households):
        result = run(world, guardian_kana="オカモト ユキ", child_dob="2019-04-21")
        evidence = {e.field: e for e in result.candidates[0].evidence}
        assert result.candidates[0].number == households["yuuki"].number
        assert evidence["guardian_name"].how == "loose"

    def test_it_finds_a_household_from_the_childs_given_name_only(self, world, households):
        result = run(world, guardian_name="長塚 静香", child_name="和奏")
        assert_found(result, households["differs"])

    def test_the_guardians_family_name_may_differ_from_the_childs(self, world, households):
        result = run(world, guardian_name="長塚静香", child_name="北島 和奏", child_dob="R2.8.30")
        assert_found(result, households["differs"])

    def test_a_name_in_katakana_in_the_list_matches_a_hiragana_caller(self, world, households):
        result = run(
            world, guardian_name="ぶらうん そふぃあ", child_name="ブラウンエマ", child_dob="2019/09/10"
        )
        assert_found(result, households["brown"])


class DateNotationTests:
    @pytest.mark.parametrize(
        "said", ["R2.5.3", "令和2年5月3日", "2020/5/3", "20200503", "２０２０－０５－０３"]
    )
    def test_it_reads_every_date_notation(self, world, households, said):
        assert_found(run(world, guardian_name="田中 花子", child_dob=said), households["tanaka"])

    def test_it_reads_an_era_date_across_the_boundary(self, world, households):
        add_household(
            world.program,
            "300001",
            guardian=("森　直子", "モリ　ナオコ", "1992-06-01"),
            children=[("森　翼", "モリ　ツバサ", "2019-04-02")],
        )
        from madoguchi.identify.indexer import reindex_program

        reindex_program(world.program.pk)
        assert_found(
            run(world, guardian_name="森 直子", child_dob="平成31年4月2日"), _number(world, "300001")
        )

    def test_an_unreadable_date_contributes_nothing(self, world, households):
        with_date = run(world, guardian_name="田中 花子", child_name="陽翔", child_dob="そのうち")
        without = run(world, guardian_name="田中 花子", child_name="陽翔")
        assert with_date.candidates[0].score == without.candidates[0].score


def _number(world: Any, number: str) -> Any:
    from madoguchi.registry.models import Household

    return Household.objects.get(program=world.program, number=number)


class AddressAndPhoneTests:
    @pytest.mark.parametrize(
        "said",
        [
            "東京都世田谷区太子堂四丁目1番1号",
            "世田谷区太子堂4-1-1",
            "太子堂４－１－１　太子堂ハイツ101号室",
            "太子堂4丁目1番地1-101",
            "たいしどう4-1-1",
        ],
    )
    def test_it_reads_every_address_notation(self, world, households, said):
        assert_found(run(world, guardian_name="田中 花子", address=said), households["tanaka"])

    @pytest.mark.parametrize(
        "said", ["090-1234-5678", "09012345678", "+81 90 1234 5678", "０９０（１２３４）５６７８"]
    )
    def test_it_reads_every_phone_notation(self, world, households, said):
        assert_found(run(world, guardian_name="田中 花子", phone=said), households["tanaka"])

    def test_it_finds_a_moved_household_from_its_old_address(self, world, households):
        result = run(
            world,
            guardian_name="田中 花子",
            child_name="陽翔",
            child_dob="2020-05-03",
            address="世田谷区砧1-2-3",
        )
        assert_found(result, households["tanaka"])
        assert {e.field: e.how for e in result.candidates[0].evidence}["address"] == "disagree"


class NeverConfusedTests:
    def test_two_households_with_the_same_guardian_name_are_told_apart_by_the_child(self, world, households):
        assert_found(run(world, guardian_name="田中 花子", child_dob="2021-02-14"), households["tanaka2"])
        assert_found(run(world, guardian_name="田中 花子", child_name="陽翔"), households["tanaka"])

    def test_a_shared_guardian_name_alone_is_not_enough_to_choose(self, world, households):
        result = run(world, guardian_name="田中 花子")
        assert result.abstained
        numbers = {c.number for c in result.candidates}
        assert numbers == {households["tanaka"].number, households["tanaka2"].number}

    def test_twins_are_one_household(self, world, households):
        for child in ("蒼", "凪"):
            result = run(world, guardian_name="高橋 健太", child_name=child, child_dob="2020-08-29")
            assert_found(result, households["twins"])
            assert len({c.number for c in result.candidates if c.score > 0.5}) == 1

    def test_a_neighbour_in_the_same_building_is_not_the_caller(self, world, households):
        result = run(
            world,
            guardian_name="田中 美紀",
            address="太子堂4-1-1 太子堂ハイツ305号室",
            child_dob="2020-11-01",
        )
        assert result.abstained


class AbstentionTests:
    def test_a_caller_not_in_the_list_with_a_common_name_gets_no_candidate(self, world, households):
        result = run(world, guardian_name="佐藤 美咲", child_name="佐藤 陽菜", child_dob="2021-06-01")
        assert result.abstained

    def test_a_same_named_caller_whose_other_details_disagree_gets_no_candidate(self, world, households):
        result = run(world, guardian_name="田中 花子", child_dob="2019-12-24", phone="080-0000-1111")
        assert result.abstained

    def test_a_single_weak_field_is_never_enough(self, world, households):
        assert run(world, child_dob="2020-05-03").abstained
        assert run(world, guardian_name="田中").abstained

    def test_a_rare_whole_name_said_alone_is_enough(self, world, households):
        assert_found(
            run(world, guardian_name="長塚 静香", guardian_kana="ナガツカ シズカ"), households["differs"]
        )

    def test_an_item_the_list_cannot_confirm_lowers_the_confidence_in_a_whole_name(self, world, households):
        # The household has no e-mail on file: the e-mail neither confirms nor contradicts, as a
        # namesake's could not either, so the name is trusted less than when said alone.
        # (Whether it is still named is the calibrated model's call: issue 13.)
        alone = run(world, guardian_name="長塚 静香")
        unconfirmed = run(world, guardian_name="長塚 静香", email="someone@example.jp")
        assert unconfirmed.features["unconfirmed_items"] == 1
        assert unconfirmed.candidates[0].number == households["differs"].number
        assert unconfirmed.confidence is not None and alone.confidence is not None
        assert unconfirmed.confidence < alone.confidence

    def test_an_empty_query_abstains(self, world, households):
        result = run(world)
        assert result.abstained and result.candidates == []

    def test_at_most_five_candidates_best_first(self, world, households):
        result = run(world, guardian_kana="ヤマダ タロウ")
        assert len(result.candidates) <= 5
        scores = [c.score for c in result.candidates]
        assert scores == sorted(scores, reverse=True)
        assert result.abstained
