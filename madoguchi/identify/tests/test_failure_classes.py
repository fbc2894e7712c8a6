"""One test per failure class of issue 13: a small list, the call that failed, the right answer
(or an abstention). Every name here is made up."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest

from madoguchi.identify import calibration, engine
from madoguchi.identify.engine import Query, Result, identify
from madoguchi.identify.tests.helpers import add_household

FILLER_FAMILIES = ("青木", "赤井", "石原", "上田", "江口", "大野", "金子", "菊池", "工藤", "小松")
FILLER_GIVENS = (("一郎", "イチロウ"), ("二郎", "ジロウ"), ("三郎", "サブロウ"), ("四郎", "シロウ"))
FILLER_KANA = {
    "青木": "アオキ", "赤井": "アカイ", "石原": "イシハラ", "上田": "ウエダ", "江口": "エグチ",
    "大野": "オオノ", "金子": "カネコ", "菊池": "キクチ", "工藤": "クドウ", "小松": "コマツ",
}  # fmt: skip


def filler(program: Any, count: int = 40) -> None:
    """Households that share nothing with the calls below, so the list has a realistic N."""
    pairs = itertools.product(FILLER_FAMILIES, FILLER_GIVENS)
    for index, (family, (given, kana)) in enumerate(itertools.islice(pairs, count)):
        add_household(
            program,
            f"F{index:03d}",
            guardian=(f"{family}　{given}", f"{FILLER_KANA[family]}　{kana}", "1980-01-01"),
            children=[
                (f"{family}　望", f"{FILLER_KANA[family]}　ノゾミ", f"2019-0{1 + index % 9}-1{index % 9}")
            ],
            address=f"東京都世田谷区砧{1 + index % 8}丁目{1 + index}番{1 + index % 7}号",
            phone=f"03-5000-{index:04d}",
        )


def one_family(program: Any, prefix: str, family: str, family_kana: str, count: int) -> None:
    """`count` households of one family name (given names 一郎, 二郎 …), created in that order:
    the namesakes that compete with the caller's household for the scored places."""
    for index, (given, kana) in enumerate((*FILLER_GIVENS, ("五郎", "ゴロウ"))[:count]):
        add_household(
            program,
            f"{prefix}{index}",
            guardian=(f"{family}　{given}", f"{family_kana}　{kana}", "1980-01-01"),
            children=[(f"{family}　望{index}", f"{family_kana}　ノゾミ", "2020-01-01")],
        )


def run(program: Any, **fields: str) -> Result:
    return identify(program.pk, Query(**fields))


def assert_named(result: Result, household: Any) -> None:
    assert not result.abstained, f"abstained: {[(c.number, c.score) for c in result.candidates]}"
    assert result.in_list
    assert result.candidates[0].number == household.number


def assert_not_in_list(result: Result) -> None:
    """No household named, and the batch answer empty: "not in the target list"."""
    assert result.abstained
    assert not result.in_list, f"in the list with probability {result.listed}"


class CandidatesCutBeforeScoringTests:
    """1. Households tied on a rare key are told apart by the other keys before the cut."""

    def test_the_right_household_is_scored_when_more_than_the_limit_share_its_family_name(
        self, world, monkeypatch
    ):
        monkeypatch.setattr(engine, "KEY_CAP", 6)
        monkeypatch.setattr(engine, "SCORED_CANDIDATES", 3)
        program = world.program
        # Five 佐藤 households first (lower ids: database order would score them first)...
        one_family(program, "S", "佐藤", "サトウ", 5)
        # ...then the caller's, the sixth 佐藤 (f:佐藤 is rare: 6 ≤ KEY_CAP)...
        target = add_household(
            program,
            "TARGET",
            guardian=("佐藤　花子", "サトウ　ハナコ", "1985-05-05"),
            children=[("佐藤　陽翔", "サトウ　ハルト", "2021-04-04")],
        )
        # ...and seven other families with a ハナコ, so the reading is a common key.
        for index, family in enumerate(FILLER_FAMILIES[:7]):
            add_household(
                program,
                f"H{index}",
                guardian=(f"{family}　華子", f"{FILLER_KANA[family]}　ハナコ", "1980-01-01"),
                children=[(f"{family}　望", f"{FILLER_KANA[family]}　ノゾミ", "2020-02-02")],
            )
        result = run(program, guardian_name="佐藤 はなこ")
        assert result.candidates, "the caller's household was never scored"
        assert result.candidates[0].number == target.number

    def test_a_household_listed_without_a_space_is_scored_on_its_unique_whole_name(self, world, monkeypatch):
        # Its only key is the whole name (no family/given split to index); the households that
        # merely share the family name must not take every scored place before it.
        monkeypatch.setattr(engine, "SCORED_CANDIDATES", 3)
        program = world.program
        filler(program, 4)
        one_family(program, "S", "長崎", "ナガサキ", 3)
        target = add_household(
            program,
            "TARGET",
            guardian=("長崎優子", "ナガサキユウコ", "1976-02-01"),
            children=[("長崎実子", "ナガサキミコ", "2021-06-16")],
        )
        result = run(program, guardian_name="長﨑　裕子", guardian_kana="ながさき　ゆうこ")
        assert target.number in [c.number for c in result.candidates], "never scored"
        assert result.candidates[0].number == target.number

    def test_a_family_name_by_its_kanji_and_its_reading_is_one_fact_before_the_cut(self, world, monkeypatch):
        # Three 竹橋 households share the caller's family name by its kanji (f:) and by its
        # reading (fk:); the caller's household (the guardian's surname changed) shares the
        # phone, unique, and the given name's reading ユイタ, too common to fetch alone. Counted
        # twice, the family name outweighed both and the 竹橋 households took every scored place.
        monkeypatch.setattr(engine, "SCORED_CANDIDATES", 2)
        monkeypatch.setattr(engine, "KEY_CAP", 5)
        program = world.program
        filler(program)
        one_family(program, "T", "竹橋", "タケハシ", 3)
        for index in range(11):
            family = FILLER_FAMILIES[index % len(FILLER_FAMILIES)]
            add_household(
                program,
                f"Y{index}",
                guardian=(f"{family}　唯太", f"{FILLER_KANA[family]}　ユイタ", "1981-01-01"),
                children=[(f"{family}　望", f"{FILLER_KANA[family]}　ノゾミ", "2020-03-03")],
            )
        target = add_household(
            program,
            "TARGET",
            guardian=("後藤　唯太", "ゴトウ　ユイタ", "1979-09-06"),
            children=[("後藤　唯人", "ゴトウ　ユイト", "2019-06-12")],
            phone="070-1594-8636",
        )
        result = run(program, guardian_name="竹橋 結太", guardian_kana="タケハシ ユイタ", phone="07015948636")
        assert result.candidates and result.candidates[0].number == target.number, "never scored"
        assert {e.field: e.how for e in result.candidates[0].evidence}["phone"] == "exact"

    def test_a_whole_names_household_has_its_common_facts_before_combinations_compete(
        self, world, monkeypatch
    ):
        # The caller's whole name is rare (two households); the family name, the given name
        # and the 丁目 are common, so households having two of them come in by combination.
        # The whole name's households must be credited the common facts they share too, or
        # those combinations take the scored places from the caller's household.
        monkeypatch.setattr(engine, "SCORED_CANDIDATES", 3)
        monkeypatch.setattr(engine, "KEY_CAP", 3)
        program = world.program
        filler(program)
        ohara = "東京都世田谷区大原二丁目{}番1号"
        target = add_household(
            program,
            "TARGET",
            guardian=("鈴木　美佳", "スズキ　ミカ", "1985-05-05"),
            children=[("鈴木　葵", "スズキ　アオイ", "2020-06-06")],
            address=ohara.format(1),
        )
        add_household(
            program,
            "W2",
            guardian=("鈴木　美佳", "スズキ　ミカ", "1979-09-09"),
            children=[("鈴木　蒼", "スズキ　ソウ", "2021-01-01")],
            address="東京都世田谷区経堂一丁目2番3号",
        )
        for number, guardian, kana, block in (
            ("C1", "鈴木　一郎", "スズキ　イチロウ", 2),
            ("C2", "鈴木　二郎", "スズキ　ジロウ", 3),
            ("C3", "青木　美佳", "アオキ　ミカ", 4),
            ("X1", "鈴木　三郎", "スズキ　サブロウ", 0),
            ("X2", "赤井　美佳", "アカイ　ミカ", 0),
        ):
            add_household(
                program,
                number,
                guardian=(guardian, kana, "1980-01-01"),
                children=[(f"{guardian[:2]}　望", f"{kana.split('　')[0]}　ノゾミ", "2020-02-02")],
                address=ohara.format(block) if block else "東京都世田谷区代沢三丁目4番5号",
            )
        result = run(program, guardian_name="鈴木 美佳", address="世田谷区大原二丁目")
        assert result.candidates and result.candidates[0].number == target.number, "never scored"

    def test_a_misheard_phone_finds_the_household_among_those_sharing_its_other_item(
        self, world, monkeypatch
    ):
        # Six households share the child's date of birth, the caller's only other item (the
        # address said is an old one); the phone, two digits swapped, is what tells the
        # caller's household apart, and it was looked up only as said: which three were scored
        # was decided by household id.
        monkeypatch.setattr(engine, "SCORED_CANDIDATES", 3)
        program = world.program
        filler(program)
        for index in range(5):
            add_household(
                program,
                f"D{index}",
                guardian=(f"上田　{'一二三四五'[index]}郎", "ウエダ　イチロウ", "1980-01-01"),
                children=[(f"上田　望{index}", "ウエダ　ノゾミ", "2021-12-05")],
                phone=f"03-6000-{index:04d}",
            )
        target = add_household(
            program,
            "TARGET",
            guardian=("伊藤　裕太", "イトウ　ユウタ", "1987-06-07"),
            children=[("伊藤　陽一", "イトウ　ヨウイチ", "2021-12-05")],
            address="東京都世田谷区鎌田二丁目32番25号",
            phone="090-3297-2507",
        )
        result = run(
            program, child_dob="20211205", address="東京都世田谷区砧一丁目四番二号", phone="090-3297-2570"
        )
        assert result.candidates and result.candidates[0].number == target.number, "never scored"
        assert {e.field: e.how for e in result.candidates[0].evidence}["phone"] == "fuzzy"


class NamesakeTests:
    """2. A stranger with a listed guardian's exact name: the rest disagrees, so abstain."""

    def test_a_namesake_whose_child_date_and_address_disagree_is_not_named(self, world):
        program = world.program
        filler(program)
        listed = add_household(
            program,
            "N1",
            guardian=("東雲　玲奈", "シノノメ　レイナ", "1988-02-02"),
            children=[("東雲　陽翔", "シノノメ　ハルト", "2020-05-03")],
            address="東京都世田谷区太子堂四丁目1番1号",
            phone="090-1111-2222",
        )
        for index in range(4):  # 陽翔 is a common child's name
            family = FILLER_FAMILIES[index]
            kana = FILLER_KANA[family]
            add_household(
                program,
                f"C{index}",
                guardian=(f"{family}　真一", f"{kana}　シンイチ", "1981-01-01"),
                children=[(f"{family}　陽翔", f"{kana}　ハルト", f"2022-01-0{index + 1}")],
            )
        stranger = run(
            program,
            guardian_name="東雲 玲奈",
            child_name="東雲 陽翔",
            child_dob="2021-11-20",
            address="世田谷区弦巻2-19-6",
        )
        assert_not_in_list(stranger)
        # The listed guardian herself, with one more item that agrees, is named.
        assert_named(run(program, guardian_name="東雲 玲奈", child_dob="令和2年5月3日"), listed)

    def test_a_namesake_listed_without_a_space_does_not_outweigh_one_listed_with_it(self, world):
        # The whole name's rarity is one fact: charged to the family and the given name alike,
        # the household written without a space took the caller's name from its namesake.
        program = world.program
        filler(program)
        spaced = add_household(
            program,
            "W1",
            guardian=("桜谷　健一", "サクラタニ　ケンイチ", "1980-03-03"),
            children=[("桜谷　陽翔", "サクラタニ　ハルト", "2020-05-03")],
        )
        unspaced = add_household(
            program,
            "W2",
            guardian=("桜谷健一", "サクラタニケンイチ", "1982-04-04"),
            children=[("桜谷陽菜", "サクラタニヒナ", "2021-06-06")],
        )
        result = run(program, guardian_name="桜谷健一", guardian_kana="さくらたにけんいち")
        assert result.abstained
        shown = {c.number: c.score for c in result.candidates}
        assert {spaced.number, unspaced.number} <= set(shown)
        assert shown[spaced.number] > 0.25 and shown[unspaced.number] > 0.25

    def test_the_childs_family_name_does_not_bring_back_a_shared_whole_names_weight(self, world):
        # Eight households have a guardian 佐藤 翔太 (a dense namesake group, as at 50,000):
        # agreeing on the whole name weighs 1 in 8, the family name included. The child's
        # family name is the same name again; it used to replace the bounded family weight by
        # its full weight, so saying 「佐藤 陽翔」 for the child counted 佐藤 a second time.
        program = world.program
        filler(program)
        for index in range(8):
            add_household(
                program,
                f"D{index}",
                guardian=("佐藤　翔太", "サトウ　ショウタ", f"198{index}-01-01"),
                children=[
                    (
                        f"佐藤　{('陽翔', '蓮', '湊', '蒼', '樹', '大和', '陸', '悠真')[index]}",
                        "",
                        "2020-01-01",
                    )
                ],
            )
        given_only = run(program, guardian_name="佐藤 翔太", child_name="陽翔")
        with_family = run(program, guardian_name="佐藤 翔太", child_name="佐藤 陽翔")
        assert given_only.candidates[0].number == with_family.candidates[0].number == "D0"
        assert with_family.features["log_odds"] == pytest.approx(given_only.features["log_odds"])

    def test_a_rare_whole_name_weighs_no_more_than_its_namesakes_calling_allow(self, world):
        # 大内 翔菜 is the only such name in the list and both parts are rare, so by the
        # parts' rarity it weighed 7.6 in a list of 41; but callers not in the list have a
        # listed guardian's exact name (a third of them), whichever name it is: the pair
        # weighs log(m N / 0.3). (Whether the stranger below, with a phone the household has
        # not on file, is named is the calibrated decision's call; in a list of 41 it is.)
        from madoguchi.identify.scoring import M_FAMILY, M_GUARDIAN_GIVEN, NAMESAKE_SHARE, Level

        program = world.program
        filler(program)
        listed = add_household(
            program,
            "R1",
            guardian=("大内　翔菜", "オオウチ　ショウナ", "1989-03-03"),
            children=[("大内　結衣", "オオウチ　ユイ", "2021-03-03")],
        )
        stranger = run(program, guardian_name="大内 翔菜", phone="070-8260-5344")
        first = stranger.candidates[0]
        assert first.number == listed.number
        name = sum(e.weight for e in first.evidence if e.field in {"family_name", "guardian_name"})
        m = M_FAMILY[Level.EXACT] * M_GUARDIAN_GIVEN[Level.EXACT]
        assert name == pytest.approx(math.log(m * 41 / NAMESAKE_SHARE))
        # The guardian herself, with her child's date of birth as well, is named.
        assert_named(run(program, guardian_name="大内 翔菜", child_dob="2021-03-03"), listed)

    def test_a_small_list_is_decided_on_what_small_lists_show(self, world):
        # Lists under 300 households were never in the calibration data: in this list of 41 a
        # stranger with the one listed 大内 翔菜's name and a phone the household has not on
        # file was named with probability 0.99, extrapolated. Since the seventh session lists
        # of 50 and 300 households are in the fit and have thresholds of their own, and a list
        # smaller than 50 takes the one fitted for 50. (On those tuning sets a whole name with
        # only an item the household cannot confirm was the household's in 20 of 21 calls at
        # 50 households: the model still names that caller, about 0.97; docs/notes.md.)
        from madoguchi.identify import calibration

        fitted = calibration.model()
        assert fitted is not None and {"50", "300"} <= set(fitted["thresholds"])
        assert calibration.threshold(households=41) == pytest.approx(fitted["thresholds"]["50"])
        program = world.program
        filler(program)
        listed = add_household(
            program,
            "R1",
            guardian=("大内　翔菜", "オオウチ　ショウナ", "1989-03-03"),
            children=[("大内　結衣", "オオウチ　ユイ", "2021-03-03")],
        )
        stranger = run(program, guardian_name="大内 翔菜", phone="070-8260-5344")
        assert stranger.confidence is not None and stranger.confidence < 0.99
        # With her own child's date of birth, which disagrees, she is not named.
        namesake = run(program, guardian_name="大内 翔菜", phone="070-8260-5344", child_dob="2020-11-20")
        assert namesake.candidates and namesake.candidates[0].number == listed.number  # a hint
        assert_not_in_list(namesake)
        # The guardian herself, with her child's name and date of birth, is named.
        assert_named(
            run(program, guardian_name="大内 翔菜", child_name="結衣", child_dob="2021-03-03"), listed
        )


class UnsplitNameTests:
    """A household the list writes without a space (石谷真綾): a given name said on its own."""

    def test_a_childs_given_name_said_alone_agrees_with_a_name_listed_without_a_space(self, world):
        program = world.program
        filler(program)
        listed = add_household(
            program,
            "U1",
            guardian=("石谷実斗", "イシタニミト", "1987-09-22"),
            children=[("石谷真綾", "イシタニマアヤ", "2020-11-16")],
            address="東京都世田谷区太子堂四丁目18番2号",
        )
        # The guardian's whole name and the child's given name: it was compared with 石谷真綾
        # as a whole and counted as a disagreement, so the caller's own household abstained.
        for child in ("真綾", "まあや"):
            result = run(program, guardian_name="石谷 実斗", child_name=child)
            assert_named(result, listed)
            how = {e.field: e.how for e in result.candidates[0].evidence}
            assert how["child_name"] in {"exact", "reading"}
        # Another child's given name still disagrees.
        other = run(program, guardian_name="石谷 実斗", child_name="陽翔")
        assert {e.field: e.how for e in other.candidates[0].evidence}["child_name"] == "disagree"


class OtherFamilyNameTests:
    """3. Another family name is forgiven for one person, not for the guardian and child both."""

    @pytest.fixture
    def listed(self, world: Any) -> Any:
        filler(world.program)
        return add_household(
            world.program,
            "T1",
            guardian=("田中　花子", "タナカ　ハナコ", "1990-01-02"),
            children=[("田中　陽翔", "タナカ　ハルト", "2020-05-03")],
            address="東京都世田谷区太子堂四丁目1番1号",
        )

    def test_a_caller_whose_family_name_differs_for_guardian_and_child_is_not_named(self, world, listed):
        assert_not_in_list(run(world.program, guardian_name="佐藤 花子", child_name="佐藤 陽翔"))

    def test_a_guardian_with_another_family_name_whose_child_agrees_is_still_found(self, world, listed):
        result = run(world.program, guardian_name="佐藤 花子", child_name="田中 陽翔", child_dob="2020-05-03")
        assert_named(result, listed)

    def test_another_adult_naming_the_child_with_its_birth_date_is_found(self, world):
        """The other parent, whose family name is the child's and not the listed guardian's,
        gives the child's given name and date of birth: the child, so the household."""
        filler(world.program)
        listed = add_household(
            world.program,
            "T3",
            guardian=("長塚　静香", "ナガツカ　シズカ", "1988-07-09"),
            children=[("北島　和奏", "キタジマ　ワカナ", "2020-05-03")],
        )
        assert_named(
            run(world.program, guardian_name="北島 健一", child_name="和奏", child_dob="2020-05-03"), listed
        )
        # Without the child's name, the same caller is a stranger whose child shares a birthday.
        assert_not_in_list(run(world.program, guardian_name="北島 健一", child_dob="2020-05-03"))

    def test_another_adult_calling_gives_their_own_date_of_birth_which_is_not_a_second_miss(
        self, world, listed
    ):
        def dob_weight(result: Result) -> float:
            first = result.candidates[0]
            assert first.number == listed.number
            return next(e.weight for e in first.evidence if e.field == "guardian_dob")

        # The father calls: his given name and his date of birth are not the guardian's; that
        # is one fact (another adult), not two independent disagreements.
        father = run(
            world.program, guardian_name="田中 太郎", guardian_dob="1985-03-03", child_name="田中 陽翔"
        )
        assert dob_weight(father) > -0.5
        # The guardian herself with a wrong date of birth is a disagreement as before.
        herself = run(
            world.program, guardian_name="田中 花子", guardian_dob="1985-03-03", child_name="田中 陽翔"
        )
        assert dob_weight(herself) < -2

    def test_another_adult_calling_gives_their_own_phone_and_email_which_are_not_more_misses(self, world):
        filler(world.program)
        listed = add_household(
            world.program,
            "T2",
            guardian=("田中　花子", "タナカ　ハナコ", "1990-01-02"),
            children=[("田中　陽翔", "タナカ　ハルト", "2020-05-03")],
            phone="090-1111-2222",
            email="hanako@example.jp",
        )

        def contact_weights(result: Result) -> dict[str, float]:
            first = result.candidates[0]
            assert first.number == listed.number
            return {e.field: e.weight for e in first.evidence if e.field in {"phone", "email"}}

        # The father calls from his own phone and gives his own e-mail: like his date of
        # birth, they are his, so that they disagree is the one fact of another adult calling.
        father = run(
            world.program,
            guardian_name="田中 太郎",
            child_name="田中 陽翔",
            child_dob="2020-05-03",
            phone="080-3333-4444",
            email="taro@example.jp",
        )
        assert all(weight > -0.5 for weight in contact_weights(father).values())
        assert_named(father, listed)
        # The guardian herself giving another phone and e-mail: disagreements as before.
        herself = run(
            world.program,
            guardian_name="田中 花子",
            child_name="田中 陽翔",
            phone="080-3333-4444",
            email="taro@example.jp",
        )
        assert all(weight < -1 for weight in contact_weights(herself).values())


class SameReadingOtherKanjiTests:
    """4. A name typed in other kanji of the same reading corroborates; a part the list holds in
    kana is compared with the caller's kanji through its reading."""

    def test_a_homophone_of_the_guardians_given_name_corroborates(self, world):
        program = world.program
        filler(program)
        listed = add_household(
            program,
            "K1",
            guardian=("斎藤　加奈子", "サイトウ　カナコ", "1987-07-07"),
            children=[("斎藤　結衣", "サイトウ　ユイ", "2021-03-03")],
            address="東京都世田谷区弦巻二丁目1番1号",
        )
        # Another household teaches the list that 可奈子 reads カナコ.
        add_household(
            program,
            "K2",
            guardian=("山田　可奈子", "ヤマダ　カナコ", "1984-04-04"),
            children=[("山田　蓮", "ヤマダ　レン", "2019-09-09")],
        )
        result = run(program, guardian_name="斎藤 可奈子", child_dob="2021-03-03")
        assert_named(result, listed)
        how = {e.field: e.how for e in result.candidates[0].evidence}
        assert how["guardian_name"] == "homophone"

    def test_a_given_name_listed_in_kana_is_compared_with_the_callers_kanji(self, world):
        program = world.program
        filler(program)
        listed = add_household(
            program,
            "K3",
            guardian=("斎藤　カナ", "", "1987-07-07"),
            children=[("斎藤　結衣", "サイトウ　ユイ", "2021-03-03")],
        )
        add_household(
            program,
            "K4",
            guardian=("山田　香奈", "ヤマダ　カナ", "1984-04-04"),
            children=[("山田　蓮", "ヤマダ　レン", "2019-09-09")],
        )
        result = run(program, guardian_name="斎藤 香奈", child_dob="2021-03-03")
        assert_named(result, listed)
        assert any(e.field == "guardian_name" and e.how == "homophone" for e in result.candidates[0].evidence)


class SwappedDigitsTests:
    """5. Two neighbouring digits swapped are a near match, not a disagreement."""

    def test_a_phone_with_two_neighbouring_digits_swapped_still_corroborates(self, world):
        program = world.program
        filler(program)
        listed = add_household(
            program,
            "P1",
            guardian=("佐々木　美穂", "ササキ　ミホ", "1989-09-09"),
            children=[("佐々木　湊", "ササキ　ミナト", "2020-10-10")],
            phone="090-1234-5678",
        )
        result = run(program, guardian_name="佐々木 美穂", phone="090-1234-5687")
        assert_named(result, listed)
        assert {e.field: e.how for e in result.candidates[0].evidence}["phone"] == "fuzzy"


class StationNameTests:
    """6. A station or area name said instead of the town agrees with the towns it lies in."""

    @pytest.fixture
    def namesakes(self, world: Any) -> tuple[Any, Any]:
        filler(world.program)
        tamagawa = add_household(
            world.program,
            "A1",
            guardian=("山本　恵", "ヤマモト　メグミ", "1986-06-06"),
            children=[("山本　葵", "ヤマモト　アオイ", "2020-06-06")],
            address="東京都世田谷区玉川三丁目10番2号",
        )
        kitazawa = add_household(
            world.program,
            "A2",
            guardian=("山本　恵", "ヤマモト　メグミ", "1983-03-03"),
            children=[("山本　蒼", "ヤマモト　ソウ", "2021-01-01")],
            address="東京都世田谷区北沢二丁目5番3号",
        )
        return tamagawa, kitazawa

    def test_a_station_name_alone_points_to_the_household_in_its_towns(self, world, namesakes):
        tamagawa, _ = namesakes
        assert_named(run(world.program, guardian_name="山本 恵", address="二子玉川駅の近く"), tamagawa)

    def test_a_station_name_with_block_numbers_reads_as_its_town(self, world, namesakes):
        _, kitazawa = namesakes
        assert_named(run(world.program, guardian_name="山本 恵", address="下北沢2-5-3"), kitazawa)


class ExactTieTests:
    """(b) Two households the caller's words fit exactly as well: abstain, never a coin flip."""

    @pytest.fixture
    def twins_of_evidence(self, world: Any) -> tuple[Any, Any]:
        """Two households with the same guardian's name, child's name and date of birth: the
        caller below says nothing that tells them apart (addresses and phones differ)."""
        filler(world.program)
        first = add_household(
            world.program,
            "T1",
            guardian=("村上　沙織", "ムラカミ　サオリ", "1987-07-07"),
            children=[("村上　蓮", "ムラカミ　レン", "2020-05-05")],
            address="東京都世田谷区経堂一丁目2番3号",
            phone="090-1111-2222",
        )
        second = add_household(
            world.program,
            "T2",
            guardian=("村上　沙織", "ムラカミ　サオリ", "1979-09-09"),
            children=[("村上　蓮", "ムラカミ　レン", "2020-05-05")],
            address="東京都世田谷区代沢三丁目4番5号",
            phone="03-3333-4444",
        )
        return first, second

    def test_an_exact_tie_is_not_named_even_at_a_threshold_of_one_half(
        self, world, twins_of_evidence, monkeypatch
    ):
        # A model that is sure of the evidence and names at one half (a size whose tuning sets
        # allow it): the tie bound makes the first exactly 0.5, which used to name it by id.
        sure = {
            "intercept": 30.0,
            "weights": {"log_odds": 0.0},
            "mean": {"log_odds": 0.0},
            "scale": {"log_odds": 1.0},
            "thresholds": {"2000": 0.5},
        }
        monkeypatch.setattr(calibration, "model", lambda: sure)
        result = run(world.program, guardian_name="村上 沙織", child_name="村上 蓮", child_dob="2020-05-05")
        assert {c.number for c in result.candidates[:2]} == {h.number for h in twins_of_evidence}
        assert result.features["gap"] == 0.0
        assert result.abstained

    def test_an_exact_tie_is_not_named_without_a_fitted_model(self, world, twins_of_evidence, monkeypatch):
        monkeypatch.setattr(calibration, "model", lambda: None)
        result = run(world.program, guardian_name="村上 沙織", child_name="村上 蓮", child_dob="2020-05-05")
        assert result.abstained

    def test_an_exact_tie_is_still_a_caller_in_the_list(self, world, twins_of_evidence):
        # The committed model: nothing the caller said disagrees with either household, so
        # the caller is one of the two; the batch answer lists both (formats.md: an empty list
        # says "not in the target list"), and neither is named.
        result = run(world.program, guardian_name="村上 沙織", child_name="村上 蓮", child_dob="2020-05-05")
        assert result.abstained
        assert result.in_list
        assert result.listed is not None and result.listed >= calibration.listed_threshold(households=42)
        assert {c.number for c in result.candidates[:2]} == {h.number for h in twins_of_evidence}
        assert result.candidates[0].score <= 0.5  # one chance in two at most

    def test_one_item_that_tells_them_apart_names_the_household(self, world, twins_of_evidence):
        first, _ = twins_of_evidence
        result = run(
            world.program,
            guardian_name="村上 沙織",
            child_name="村上 蓮",
            child_dob="2020-05-05",
            phone="090-1111-2222",
        )
        assert_named(result, first)
