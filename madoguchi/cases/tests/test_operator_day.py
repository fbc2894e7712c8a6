"""The operator's day (issue 12): nothing typed is lost, identify later, 本人確認 on the server,
callbacks, related cases and merge, the web inquiry queue."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from madoguchi.accounts.testing import login
from madoguchi.audit.models import AuditEvent
from madoguchi.cases import callbacks, relations, selectors, services
from madoguchi.cases.models import (
    CallbackAttempt,
    CaseLink,
    Channel,
    Status,
    TimelineEntry,
    Verification,
)
from madoguchi.cases.testing import make_case, seed_categories
from madoguchi.identify.tests.helpers import add_household

Kind = TimelineEntry.Kind


@pytest.fixture
def household(world):
    return add_household(
        world.program,
        "200001",
        guardian=("試験　花子", "シケン　ハナコ", "1990-01-02"),
        children=[("試験　陽翔", "シケン　ハルト", "2020-05-03")],
        phone="090-1111-2222",
    )


def call(household, **extra):
    data = {
        "channel": "phone",
        "caller_relation": "guardian",
        "inquiry": "カタログが届かない",
        "response": "確認して折り返す",
        "priority": "normal",
        "then": "in_progress",
        "contact_phone": "090-1111-2222",
        "household": str(household.public_id),
        "verification": "verified",
        "verified_items": ["name", "dob", "phone"],
    }
    data.update(extra)
    return data


def hidden_value(page, name):
    import re

    found = re.findall(rf'name="{name}" value="([^"]*)"', page)
    return found


@pytest.mark.django_db
class CallScreenKeepsEverythingTests:
    @pytest.mark.parametrize(
        ("extra", "field"),
        [
            ({"then": "escalate", "question": ""}, "question"),
            ({"inquiry": ""}, "inquiry"),
            ({"contact_phone": "12"}, "contact_phone"),
            ({"contact_email": "not-an-address"}, "contact_email"),
            ({"child_dob": "2020-13-40"}, "child_dob"),
            ({"channel": "fax"}, "channel"),
            ({"verified_items": ["name", "dob", "phone", "passport"]}, "verified_items"),
        ],
    )
    def test_each_validation_error_keeps_the_values_and_the_identification(
        self, client, world, household, extra, field
    ):
        login(client, world.operator)
        response = client.post(reverse("cases:new_for", args=[world.program.code]), call(household, **extra))
        assert response.status_code == 400, field
        page = response.content.decode()
        assert hidden_value(page, "household") == [str(household.public_id)]
        assert hidden_value(page, "verification") == ["verified"]
        assert hidden_value(page, "verified_items") == ["name", "dob", "phone"]
        assert "確認済み" in page and household.number in page
        assert "確認して折り返す" in page  # the response typed
        if field != "inquiry":
            assert "カタログが届かない" in page
        assert "alert--error" in page or "field--error" in page or 'aria-invalid="true"' in page
        from madoguchi.cases.models import Case

        assert not Case.objects.exists()

    def test_the_corrected_save_keeps_the_household_and_verification(self, client, world, household):
        login(client, world.operator)
        url = reverse("cases:new_for", args=[world.program.code])
        client.post(url, call(household, then="escalate", question=""))
        response = client.post(url, call(household, then="escalate", question="区に確認してください"))
        assert response.status_code == 302
        from madoguchi.cases.models import Case

        case = Case.objects.get()
        assert case.household == household and case.verification == Verification.VERIFIED
        assert case.status == Status.ESCALATED and case.assignee == world.operator


@pytest.mark.django_db
class VerificationRuleTests:
    def test_a_posted_verified_label_with_no_item_is_stored_as_not_verified(self, client, world, household):
        login(client, world.operator)
        client.post(
            reverse("cases:new_for", args=[world.program.code]),
            call(household, verification="verified", verified_items=[]),
        )
        from madoguchi.cases.models import Case

        case = Case.objects.get()
        assert case.verification == Verification.NOT_VERIFIED and case.verified_items == []

    def test_the_rule_decides_partial_and_verified(self, world, household):
        partial = make_case(world.program, world.operator, household=household, verified_items=["name"])
        verified = make_case(
            world.program, world.operator, household=household, verified_items=["phone", "name", "dob"]
        )
        assert partial.verification == Verification.PARTIAL
        assert verified.verification == Verification.VERIFIED
        assert verified.verified_items == ["name", "dob", "phone"]

    def test_an_item_outside_the_programs_rule_is_refused(self, world, household):
        from django.core.exceptions import ValidationError

        world.program.verification_rule = {"requires_name": True, "min_other_items": 1, "items": ["dob"]}
        world.program.save()
        with pytest.raises(ValidationError) as refused:
            make_case(world.program, world.operator, household=household, verified_items=["name", "phone"])
        assert "この事業で使わない項目" in str(refused.value)

    def test_the_case_page_shows_the_items_in_japanese(self, client, world, household):
        case = make_case(
            world.program, world.operator, household=household, verified_items=["name", "dob", "phone"]
        )
        login(client, world.operator)
        page = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
        assert "本人確認済（氏名・生年月日・電話番号）" in page
        assert "name・dob" not in page

    def test_a_later_correction_is_a_timeline_entry_and_audited(self, client, world, household):
        case = make_case(world.program, world.operator, household=household, verified_items=["name"])
        login(client, world.operator)
        response = client.post(
            reverse("cases:verify", args=[case.public_id]),
            {"items": ["name", "dob", "address"], "version": case.version},
        )
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.verification == Verification.VERIFIED
        entry = TimelineEntry.objects.get(case=case, kind=Kind.VERIFICATION)
        assert "一部確認（氏名）" in entry.body and "本人確認済（氏名・生年月日・住所）" in entry.body
        event = AuditEvent.objects.filter(object_id=str(case.public_id)).latest("id")
        assert event.details["fields"] == ["verification", "verified_items"]

    def test_a_correction_with_a_foreign_item_is_refused_and_keeps_the_ticks(self, client, world, household):
        case = make_case(world.program, world.operator, household=household, verified_items=["name"])
        login(client, world.operator)
        response = client.post(
            reverse("cases:verify", args=[case.public_id]),
            {"items": ["name", "passport"], "version": case.version},
        )
        assert response.status_code == 400
        assert "この事業で使わない項目" in response.content.decode()
        case.refresh_from_db()
        assert case.verified_items == ["name"] and case.version == 1


@pytest.mark.django_db
class CasePageKeepsEverythingTests:
    def test_an_edit_error_keeps_every_value(self, client, world):
        case = make_case(world.program, world.operator)
        login(client, world.operator)
        response = client.post(
            reverse("cases:edit", args=[case.public_id]),
            {
                "channel": "phone",
                "caller_relation": "guardian",
                "inquiry": "書き直した内容",
                "response": "書き直した対応",
                "priority": "normal",
                "contact_phone": "12",
                "version": case.version,
            },
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert "書き直した内容" in page and "書き直した対応" in page

    @pytest.mark.parametrize(
        ("name", "data", "typed"),
        [
            ("escalate", {"question": "   "}, None),
            ("answer", {"body": ""}, None),
            ("note", {"body": "", "kind": "response"}, None),
            ("schedule_callback", {"due_on": "", "start": "14:00", "note": "平日14時以降"}, "平日14時以降"),
            ("schedule_callback", {"due_on": "2000-01-01", "note": "平日14時以降"}, "平日14時以降"),
            ("unlink", {"reason": ""}, None),
            ("merge", {"receipt_number": "KJ-999999"}, "KJ-999999"),
        ],
    )
    def test_each_validation_error_renders_the_page_with_what_was_typed(
        self, client, world, name, data, typed
    ):
        case = make_case(world.program, world.operator, channel=Channel.FORM)
        user = world.ward_staff if name == "answer" else world.supervisor
        if name == "answer":
            services.escalate(
                case=case, actor=world.operator, question="確認を", expected_version=case.version
            )
        login(client, user)
        response = client.post(
            reverse(f"cases:{name}", args=[case.public_id]), {**data, "version": case.version}
        )
        assert response.status_code == 400, name
        if typed:
            assert typed in response.content.decode()

    def test_a_refused_escalation_keeps_the_question(self, client, world):
        case = make_case(world.program, world.operator)
        login(client, world.operator)
        response = client.post(
            reverse("cases:escalate", args=[case.public_id]),
            {"question": "区に聞きたいこと", "version": case.version + 5},
        )
        assert response.status_code == 409
        assert "区に聞きたいこと" in response.content.decode()

    def test_a_refused_correction_keeps_its_text(self, client, world):
        case = make_case(world.program, world.operator)
        note = services.add_note(case=case, actor=world.operator, body="元の記録")
        world.program.recording_end = timezone.localdate() - datetime.timedelta(days=1)
        world.program.recording_start = timezone.localdate() - datetime.timedelta(days=10)
        world.program.save()
        login(client, world.operator)
        response = client.post(
            reverse("cases:correct", args=[case.public_id, note.pk]), {"body": "訂正したい文"}
        )
        assert response.status_code == 400
        assert "記録期間外" in response.content.decode()


@pytest.mark.django_db
class IdentifyLaterTests:
    def test_a_web_inquiry_shows_the_panel_prefilled_and_the_inquirer(self, client, world):
        case = make_case(
            world.program,
            None,
            channel=Channel.FORM,
            caller=services.CallerDetails(name="試験 花子", kana="シケン ハナコ"),
            contact_phone="090-1111-2222",
        )
        login(client, world.operator)
        page = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
        assert 'id="identify-form"' in page
        assert 'value="試験 花子"' in page and 'value="090-1111-2222"' in page
        assert "<dt>問い合わせ者</dt>" in page and "架電者" not in page

    def test_confirming_a_household_links_it_with_verification_audited_on_the_timeline(
        self, client, world, household
    ):
        case = make_case(world.program, None, channel=Channel.FORM)
        login(client, world.operator)
        response = client.post(
            reverse("cases:identify", args=[case.public_id]),
            {"household": str(household.public_id), "verified_items": ["name", "dob", "phone"], "version": 1},
        )
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.household == household and case.verification == Verification.VERIFIED
        assert TimelineEntry.objects.filter(case=case, kind=Kind.IDENTIFIED, body__contains=household.number)
        event = AuditEvent.objects.filter(object_id=str(case.public_id), action="update").latest("id")
        assert event.details["reason"] == "identified_later"

    def test_linking_without_a_household_is_refused_and_keeps_nothing_changed(self, client, world):
        case = make_case(world.program, None, channel=Channel.FORM)
        login(client, world.operator)
        response = client.post(reverse("cases:identify", args=[case.public_id]), {"version": 1})
        assert response.status_code == 400
        case.refresh_from_db()
        assert case.household is None and case.version == 1

    def test_another_programs_household_is_refused(self, client, world):
        other = add_household(
            world.other_program, "900001", guardian=("別の　人", "ベツノ　ヒト", "1990-01-01"), children=[]
        )
        case = make_case(world.program, None, channel=Channel.FORM)
        login(client, world.operator)
        response = client.post(
            reverse("cases:identify", args=[case.public_id]),
            {"household": str(other.public_id), "verified_items": ["name"], "version": 1},
        )
        assert response.status_code == 400
        case.refresh_from_db()
        assert case.household is None

    def test_only_a_supervisor_unlinks_and_the_reason_is_on_the_timeline(self, client, world, household):
        case = make_case(world.program, world.operator, household=household, verified_items=["name"])
        login(client, world.operator)
        response = client.post(
            reverse("cases:unlink", args=[case.public_id]), {"reason": "別の世帯でした", "version": 1}
        )
        assert response.status_code == 400
        case.refresh_from_db()
        assert case.household == household
        login(client, world.supervisor)
        response = client.post(
            reverse("cases:unlink", args=[case.public_id]), {"reason": "別の世帯でした", "version": 1}
        )
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.household is None and case.verification == Verification.NOT_VERIFIED
        assert TimelineEntry.objects.filter(case=case, kind=Kind.UNLINKED, body="別の世帯でした").exists()
        event = AuditEvent.objects.filter(object_id=str(case.public_id)).latest("id")
        assert event.details["reason"] == "unlinked" and event.change.before == {
            "household": str(household.public_id)
        }

    def test_linking_is_refused_outside_the_recording_period(self, world, household):
        case = make_case(world.program, None, channel=Channel.FORM)
        world.program.recording_start = timezone.localdate() - datetime.timedelta(days=10)
        world.program.recording_end = timezone.localdate() - datetime.timedelta(days=1)
        world.program.save()
        from madoguchi.cases.identification import link_household

        with pytest.raises(services.RecordingClosed):
            link_household(
                case=case, actor=world.operator, household=household, verified_items=[], expected_version=1
            )


@pytest.mark.django_db
class CallbackTests:
    def test_a_callback_is_scheduled_attempted_and_counted(self, client, world):
        case = make_case(world.program, world.operator)
        tomorrow = timezone.localdate() + datetime.timedelta(days=1)
        login(client, world.operator)
        client.post(
            reverse("cases:schedule_callback", args=[case.public_id]),
            {"due_on": tomorrow.isoformat(), "start": "14:00", "until": "17:00", "version": 1},
        )
        case.refresh_from_db()
        assert case.status == Status.CALLBACK and case.callback_due_on == tomorrow
        assert case.callback_from == datetime.time(14) and case.callback_until == datetime.time(17)
        for outcome in ("no_answer", "reached"):
            case.refresh_from_db()
            response = client.post(
                reverse("cases:callback_attempt", args=[case.public_id]),
                {"outcome": outcome, "version": case.version},
            )
            assert response.status_code == 302
        case.refresh_from_db()
        assert list(CallbackAttempt.objects.filter(case=case).values_list("outcome", flat=True)) == [
            "no_answer",
            "reached",
        ]
        assert case.status == Status.IN_PROGRESS
        bodies = list(
            TimelineEntry.objects.filter(case=case, kind=Kind.CALLBACK_CALL).values_list("body", flat=True)
        )
        assert bodies == ["1回目: 不在", "2回目: 通話済"]

    def test_a_window_ending_before_it_starts_is_refused(self, client, world):
        case = make_case(world.program, world.operator)
        login(client, world.operator)
        response = client.post(
            reverse("cases:schedule_callback", args=[case.public_id]),
            {"due_on": timezone.localdate().isoformat(), "start": "17:00", "until": "14:00", "version": 1},
        )
        assert response.status_code == 400
        case.refresh_from_db()
        assert case.callback_due_on is None

    def test_the_queue_is_ordered_by_callback_due_time_with_its_own_overdue_rule(self, client, world):
        today = timezone.localdate()
        late = make_case(world.program, world.operator, inquiry="遅い")
        soon = make_case(world.program, world.operator, inquiry="近い")
        later = make_case(world.program, world.operator, inquiry="後")
        callbacks.schedule_callback(
            case=later, actor=world.operator, due_on=today + datetime.timedelta(days=3), expected_version=1
        )
        callbacks.schedule_callback(
            case=soon, actor=world.operator, due_on=today + datetime.timedelta(days=1), expected_version=1
        )
        callbacks.schedule_callback(case=late, actor=world.operator, due_on=today, expected_version=1)
        # A due time already past: the window closed an hour ago.
        from madoguchi.cases.models import Case

        Case.objects.filter(pk=late.pk).update(
            callback_due_on=today - datetime.timedelta(days=1), ward_due_on=today + datetime.timedelta(days=9)
        )
        rows = selectors.queue(world.operator, Status.CALLBACK)
        assert [row.case.pk for row in rows] == [late.pk, soon.pk, later.pk]
        assert [row.overdue for row in rows] == [True, False, False]
        login(client, world.operator)
        page = client.get(reverse("cases:queue", args=["callback"])).content.decode()
        assert (today + datetime.timedelta(days=3)).isoformat() in page
        assert (today + datetime.timedelta(days=9)).isoformat() not in page  # not the ward's deadline

    def test_the_ward_answer_returns_the_case_to_the_operator_who_took_it(self, world):
        case = make_case(world.program, world.operator)
        services.assign(case=case, actor=world.supervisor, assignee=None, expected_version=case.version)
        services.escalate(case=case, actor=world.operator, question="確認", expected_version=case.version)
        services.answer(case=case, actor=world.ward_staff, body="回答", expected_version=case.version)
        case.refresh_from_db()
        assert case.status == Status.CALLBACK and case.assignee == world.operator

    def test_a_reassigned_case_stays_with_its_new_assignee(self, world):
        case = make_case(world.program, world.operator)
        services.assign(
            case=case, actor=world.supervisor, assignee=world.supervisor, expected_version=case.version
        )
        services.escalate(case=case, actor=world.operator, question="確認", expected_version=case.version)
        services.answer(case=case, actor=world.ward_staff, body="回答", expected_version=case.version)
        case.refresh_from_db()
        assert case.assignee == world.supervisor


@pytest.mark.django_db
class RelatedCasesTests:
    def test_two_cases_of_a_household_are_linked_both_ways(self, client, world, household):
        one = make_case(world.program, world.operator, household=household)
        two = make_case(world.program, world.operator, household=household)
        login(client, world.operator)
        page = client.get(reverse("cases:detail", args=[one.public_id])).content.decode()
        assert two.receipt_number in page and "同じ件として関連付ける" in page
        response = client.post(reverse("cases:link", args=[one.public_id, two.public_id]))
        assert response.status_code == 302
        assert CaseLink.objects.filter(case=one, related=two).exists()
        assert CaseLink.objects.filter(case=two, related=one).exists()
        assert TimelineEntry.objects.filter(case=one, kind=Kind.LINKED).exists()
        assert TimelineEntry.objects.filter(case=two, kind=Kind.LINKED).exists()
        assert AuditEvent.objects.filter(object_id=str(two.public_id), details__fields=["links"]).exists()
        page = client.get(reverse("cases:detail", args=[two.public_id])).content.decode()
        assert one.receipt_number in page

    def test_another_programs_case_cannot_be_linked(self, client, world):
        one = make_case(world.program, world.operator)
        theirs = make_case(world.other_program, world.other_program_operator)
        login(client, world.operator)
        assert client.post(reverse("cases:link", args=[one.public_id, theirs.public_id])).status_code == 404
        assert not CaseLink.objects.exists()

    def test_a_duplicate_web_inquiry_is_merged_keeping_both_timelines(self, client, world):
        target = make_case(world.program, world.operator)
        duplicate = make_case(world.program, None, channel=Channel.FORM, inquiry="二度送信しました")
        login(client, world.operator)
        response = client.post(
            reverse("cases:merge", args=[duplicate.public_id]),
            {"receipt_number": target.receipt_number.lower(), "version": duplicate.version},
        )
        assert response.status_code == 302
        duplicate.refresh_from_db()
        assert duplicate.status == Status.CLOSED and duplicate.merged_into == target
        assert TimelineEntry.objects.filter(case=duplicate, kind=Kind.CREATED).exists()
        assert TimelineEntry.objects.filter(case=duplicate, kind=Kind.MERGED).exists()
        assert TimelineEntry.objects.filter(case=target, kind=Kind.MERGED).exists()
        page = client.get(reverse("cases:detail", args=[target.public_id])).content.decode()
        assert duplicate.receipt_number in page and "統合済" in page

    def test_a_phone_case_is_not_merged(self, world):
        target = make_case(world.program, world.operator)
        phone = make_case(world.program, world.operator)
        with pytest.raises(services.CaseError):
            relations.merge_duplicate(duplicate=phone, into=target, actor=world.operator, expected_version=1)


@pytest.mark.django_db
class WebInquiryQueueTests:
    def test_the_badge_and_the_queue_show_untouched_web_inquiries(self, client, world):
        seed_categories(world.program)
        web = make_case(world.program, None, channel=Channel.FORM)
        started = make_case(world.program, None, channel=Channel.FORM)
        services.transition(case=started, to=Status.IN_PROGRESS, actor=world.operator, expected_version=1)
        phone = make_case(world.program, world.operator)
        login(client, world.operator)
        response = client.get(reverse("cases:web_queue"))
        page = response.content.decode()
        assert web.receipt_number in page
        assert started.receipt_number not in page and phone.receipt_number not in page
        assert "フォーム受付" in page and 'class="count-badge">1<' in page

    def test_a_user_who_cannot_edit_has_no_web_queue(self, client, world):
        login(client, world.auditor)
        assert client.get(reverse("cases:web_queue")).status_code == 403


@pytest.mark.django_db
class EnglishTests:
    def test_the_new_parts_of_the_case_page_and_the_queues_are_in_english(self, client, world, household):
        from django.conf import settings

        from madoguchi.core.tests.test_english_screens import _data_text, untranslated

        web = make_case(world.program, None, channel=Channel.FORM)
        one = make_case(world.program, world.operator, household=household, verified_items=["name", "dob"])
        make_case(world.program, world.operator, household=household)
        callbacks.schedule_callback(
            case=one,
            actor=world.operator,
            due_on=timezone.localdate(),
            start=datetime.time(14),
            until=datetime.time(17),
            expected_version=one.version,
        )
        one.refresh_from_db()
        callbacks.record_attempt(
            case=one, actor=world.operator, outcome="no_answer", expected_version=one.version
        )
        login(client, world.supervisor)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        data = _data_text()
        for url in (
            reverse("cases:detail", args=[web.public_id]),
            reverse("cases:detail", args=[one.public_id]),
            reverse("cases:queue", args=["callback"]),
            reverse("cases:web_queue"),
        ):
            html = client.get(url).content.decode()
            assert untranslated(html, data) == set(), url
