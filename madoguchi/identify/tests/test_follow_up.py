"""One more question when identification abstains on a clear first candidate: which item the
panel asks for, when it asks, and that it never shows the household's own values."""

from __future__ import annotations

import json
import math

from django.urls import reverse

from madoguchi.accounts.testing import login
from madoguchi.audit.models import Action, AuditEvent
from madoguchi.identify.engine import Candidate, Result
from madoguchi.identify.follow_up import (
    CLEAR_GAP,
    CLEAR_PROBABILITY,
    follow_up,
    has_clear_first_candidate,
    settling_item,
)
from madoguchi.identify.scoring import Evidence
from madoguchi.identify.tests.helpers import post_search

EVERY_ITEM = frozenset(
    {"guardian_name", "child_name", "child_dob", "guardian_dob", "address", "phone", "email"}
)
# The twins' household (100003) in `standard_list`: 髙橋 健太, born 1988-03-15, children 蒼 and
# 凪 born 2020-08-29, 桜丘五丁目21番10号, 080-5555-0101. Its whole name with a phone the
# household does not have: the engine abstains, but on that one household.
NAME_AND_WRONG_PHONE = {"guardian_name": "髙橋 健太", "phone": "090-1111-2222"}
TWINS_VALUES = [
    "1988-03-15", "1988年3月15日", "S63", "昭和63",
    "2020-08-29", "2020年8月29日", "8月29日", "R2.8.29", "令和2年",
    "080-5555-0101", "08055550101", "5555",
    "21番10号", "21-10", "五丁目",
    "健太", "ケンタ", "蒼", "凪", "アオイ", "ナギ",
]  # fmt: skip


def result(
    *,
    abstained: bool = True,
    confidence: float | None = 0.7,
    gap: float = 30.0,
    on_file: frozenset[str] = EVERY_ITEM,
    fields: tuple[str, ...] = ("guardian_name", "phone"),
    evidence: tuple[Evidence, ...] = (),
) -> Result:
    first = Candidate(
        household_id=1, number="1", public_id="p", score=0.7, evidence=list(evidence), on_file=on_file
    )
    return Result(
        candidates=[first],
        abstained=abstained,
        fields_used=list(fields),
        features={"gap": gap},
        confidence=confidence,
    )


class SettlingItemTests:
    def test_it_asks_for_the_childs_date_of_birth_first(self):
        assert settling_item(given=["guardian_name", "phone"], on_file=EVERY_ITEM) == "child_dob"

    def test_it_never_asks_for_an_item_the_caller_gave(self):
        given = ["guardian_name", "child_dob"]
        assert settling_item(given=given, on_file=EVERY_ITEM) == "address"
        given += ["address"]
        assert settling_item(given=given, on_file=EVERY_ITEM) == "phone"

    def test_a_reading_counts_as_the_name_it_reads(self):
        given = ["child_kana", "child_dob", "address", "phone", "guardian_dob"]
        assert settling_item(given=given, on_file=EVERY_ITEM) == "guardian_name"

    def test_it_never_asks_for_an_item_the_household_has_not_on_file(self):
        on_file = EVERY_ITEM - {"phone"}
        given = ["guardian_name", "child_dob", "address"]
        assert settling_item(given=given, on_file=on_file) == "guardian_dob"

    def test_it_does_not_ask_another_adult_for_the_registered_guardians_own_items(self):
        # Another adult gives their own date of birth and phone, which settle nothing.
        given = ["guardian_name", "child_dob", "address"]
        assert settling_item(given=given, on_file=EVERY_ITEM, other_adult_calls=True) == "child_name"

    def test_it_never_asks_for_an_e_mail(self):
        given = ["guardian_name", "child_name", "child_dob", "guardian_dob", "address", "phone"]
        assert settling_item(given=given, on_file=EVERY_ITEM) is None


def tie(
    *, second_on_file: frozenset[str] = EVERY_ITEM, fields: tuple[str, ...] = ("guardian_name",)
) -> Result:
    """Two households the words fit equally (the first's probability capped at one half)."""
    first = Candidate(household_id=1, number="1", public_id="p", score=0.5, evidence=[], on_file=EVERY_ITEM)
    second = Candidate(
        household_id=2, number="2", public_id="q", score=0.45, evidence=[], on_file=second_on_file
    )
    return Result(
        candidates=[first, second],
        abstained=True,
        fields_used=list(fields),
        features={"gap": 0.0},
        confidence=0.5,
    )


class CloseSecondTests:
    def test_a_tie_asks_for_an_item_that_tells_the_two_apart(self):
        asked = follow_up(tie())
        assert asked is not None and asked.item == "child_dob" and asked.between_two

    def test_the_item_must_be_on_file_for_both(self):
        asked = follow_up(tie(second_on_file=EVERY_ITEM - {"child_dob"}))
        assert asked is not None and asked.item == "address"

    def test_a_clear_first_candidate_is_not_between_two(self):
        asked = follow_up(result())
        assert asked is not None and not asked.between_two

    def test_no_question_when_the_first_two_are_not_likely(self):
        unlikely = tie()
        unlikely.confidence = CLEAR_PROBABILITY - 0.01
        assert follow_up(unlikely) is None

    def test_a_lone_candidate_without_a_gap_is_not_asked_about(self):
        # The second household scored but fell under the display floor: nothing to tell apart.
        assert follow_up(result(gap=0.0)) is None


class ClearFirstCandidateTests:
    def test_an_abstention_on_a_likely_household_far_ahead_of_the_second_is_clear(self):
        assert has_clear_first_candidate(result(confidence=CLEAR_PROBABILITY, gap=CLEAR_GAP))

    def test_a_first_candidate_less_likely_than_all_else_is_not_clear(self):
        assert not has_clear_first_candidate(result(confidence=CLEAR_PROBABILITY - 0.01))

    def test_a_second_candidate_nearly_as_likely_makes_it_unclear(self):
        assert not has_clear_first_candidate(result(gap=math.log(1.9)))
        assert not has_clear_first_candidate(result(confidence=0.5, gap=0.0))  # a tie

    def test_a_named_household_needs_no_question(self):
        assert not has_clear_first_candidate(result(abstained=False, confidence=0.99))
        assert follow_up(result(abstained=False, confidence=0.99)) is None

    def test_without_a_fitted_model_the_posterior_decides(self):
        assert has_clear_first_candidate(result(confidence=None))  # the candidate's score, 0.7

    def test_the_question_goes_to_the_other_adult_calling(self):
        other_adult = (Evidence("family_name", "exact", 3.0), Evidence("guardian_name", "disagree", -2.0))
        asked = follow_up(result(fields=("guardian_name", "child_dob", "address"), evidence=other_adult))
        assert asked is not None and asked.item == "child_name"
        assert str(asked.question) == "お子さまのお名前を確認してください"


class FollowUpPanelTests:
    def test_an_abstention_on_a_clear_first_candidate_asks_for_one_item_not_given(
        self, client, world, households
    ):
        login(client, world.operator)
        html = post_search(client, world, **NAME_AND_WRONG_PHONE).content.decode()
        assert "data-abstained" in html
        assert html.index(f'data-candidate="{households["twins"].public_id}"') > 0
        assert 'data-follow-up="child_dob"' in html
        assert "お子さまの生年月日を確認してください" in html
        assert html.count("data-follow-up=") == 1

    def test_the_question_names_an_item_the_caller_has_not_given(self, client, world, households):
        # One item alone, the child's date of birth, never names a household: ask the address.
        login(client, world.operator)
        html = post_search(client, world, child_dob="2020-08-30").content.decode()
        assert "data-abstained" in html
        assert 'data-follow-up="address"' in html
        assert "ご住所（番地まで）を確認してください" in html
        assert "生年月日を確認" not in html

    def test_the_question_never_shows_the_households_values(self, client, world, households):
        login(client, world.operator)
        html = post_search(client, world, **NAME_AND_WRONG_PHONE).content.decode()
        assert 'data-follow-up="child_dob"' in html
        for value in TWINS_VALUES:
            assert value not in html, value

    def test_once_the_item_is_given_the_engine_decides_and_asks_nothing(self, client, world, households):
        login(client, world.operator)
        html = post_search(client, world, **NAME_AND_WRONG_PHONE, child_dob="R2.8.29").content.decode()
        assert "data-abstained" not in html
        assert "data-follow-up" not in html
        assert "児童生年月日：一致" in html

    def test_two_households_that_fit_equally_get_a_question_that_tells_them_apart(
        self, client, world, households
    ):
        # Two guardians named 田中 花子 and nothing else: no first household, but the first two
        # together are likely, and the child's date of birth (on file for both) separates them.
        login(client, world.operator)
        html = post_search(client, world, guardian_name="田中 花子").content.decode()
        assert "data-abstained" in html
        assert 'data-follow-up="child_dob"' in html
        assert "候補1と候補2のどちらか" in html
        assert "候補1の可能性が高い" not in html
        for household in (households["tanaka"], households["tanaka2"]):
            for child in household.children.all():
                assert child.dob.isoformat() not in html
        answered = post_search(client, world, guardian_name="田中 花子", child_dob="R2.5.3").content.decode()
        assert "data-abstained" not in answered
        assert households["tanaka"].number in answered

    def test_no_question_when_the_first_candidate_is_unlikely(self, client, world, households):
        # A whole name with a phone that disagrees with the one on file.
        login(client, world.operator)
        html = post_search(client, world, guardian_name="岡本 勇気", phone="080-0000-0000").content.decode()
        assert "data-abstained" in html
        assert "data-follow-up" not in html

    def test_the_panel_says_whether_an_unnamed_caller_is_likely_in_the_list(self, client, world, households):
        # Two households fit equally: in the list, not which. A whole name whose phone
        # disagrees: perhaps not in the list at all (a namesake's pattern), so the operator
        # is told so before taking the hint.
        login(client, world.operator)
        tie = post_search(client, world, guardian_name="田中 花子").content.decode()
        assert "特定できません。確認項目を追加してください（候補は参考）。" in tie
        assert "対象者一覧にいない可能性があります" not in tie
        response = post_search(client, world, guardian_name="岡本 勇気", phone="080-0000-0000")
        stranger = response.content.decode()
        assert "data-abstained" in stranger and "data-candidate=" in stranger
        assert "対象者一覧にいない可能性があります" in stranger

    def test_no_question_when_the_engine_names_the_household(self, client, world, households):
        login(client, world.operator)
        html = post_search(client, world, guardian_name="髙橋 健太").content.decode()
        assert households["twins"].number in html
        assert "data-abstained" not in html
        assert "data-follow-up" not in html

    def test_the_search_is_audited_with_the_item_asked_never_a_value(self, client, world, households):
        login(client, world.operator)
        post_search(client, world, **NAME_AND_WRONG_PHONE)
        event = AuditEvent.objects.filter(action=Action.IDENTIFY).latest("id")
        assert event.actor_id == world.operator.pk
        assert event.details["abstained"] is True
        assert event.details["follow_up"] == "child_dob"
        dumped = json.dumps(event.details, ensure_ascii=False)
        for value in ["髙橋", "健太", "090-1111-2222", "09011112222", *TWINS_VALUES]:
            assert value not in dumped

        post_search(client, world, **NAME_AND_WRONG_PHONE, child_dob="R2.8.29")
        event = AuditEvent.objects.filter(action=Action.IDENTIFY).latest("id")
        assert sorted(event.details["fields"]) == ["child_dob", "guardian_name", "phone"]
        assert event.details["abstained"] is False
        assert "follow_up" not in event.details

    def test_the_question_is_translated_for_an_english_speaking_operator(self, client, world, households):
        login(client, world.operator)
        response = client.post(
            reverse("identify:search"),
            {"program": world.program.code, **NAME_AND_WRONG_PHONE},
            HTTP_HX_REQUEST="true",
            HTTP_ACCEPT_LANGUAGE="en",
        )
        html = response.content.decode()
        assert 'data-follow-up="child_dob"' in html
        assert "Ask for the child&#x27;s date of birth" in html or "Ask for the child's date of birth" in html
