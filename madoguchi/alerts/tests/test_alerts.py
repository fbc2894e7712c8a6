import datetime
import io
import zoneinfo
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from madoguchi.accounts.testing import login
from madoguchi.alerts import services
from madoguchi.alerts.models import Alert, AlertSettings, Kind, Recipient
from madoguchi.audit.models import Action, AuditEvent
from madoguchi.audit.services import record
from madoguchi.cases import callbacks
from madoguchi.cases import services as case_services
from madoguchi.cases.models import CallbackOutcome, Case, Channel
from madoguchi.cases.testing import make_case

JST = zoneinfo.ZoneInfo("Asia/Tokyo")


def at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=JST)


def emails_for(world):
    for user in (world.ward_manager, world.supervisor, world.ward_staff, world.operator):
        user.email = f"{user.username}@example.jp"
        user.save()


def overdue_case(world):
    case = make_case(world.program, world.operator, inquiry="カナリア太郎の住所について")
    case_services.escalate(case=case, actor=world.operator, question="確認", expected_version=1)
    Case.objects.filter(pk=case.pk).update(ward_due_on=timezone.localdate() - datetime.timedelta(days=1))
    return case


def views_at(user, program, moment, households=1):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        for number in range(households):
            record(
                action=Action.VIEW,
                actor=user,
                program_id=program.pk,
                object_type="household",
                object_id=f"h-{number}",
            )


@pytest.mark.django_db
class WardOverdueTests:
    def test_it_fires_once_to_the_ward_manager_and_not_again(self, world):
        emails_for(world)
        case = overdue_case(world)
        mail.outbox.clear()
        first = services.run()
        assert first.raised == {Kind.WARD_OVERDUE: 1}
        alert = Alert.objects.get()
        assert alert.case == case
        assert [r.user for r in alert.recipients.all()] == [world.ward_manager]
        assert len(mail.outbox) == 1 and mail.outbox[0].to == ["manager@example.jp"]
        second = services.run()
        assert second.total == 0 and second.emailed == 0
        assert Alert.objects.count() == 1 and len(mail.outbox) == 1

    def test_a_new_escalation_of_the_same_case_is_a_new_occurrence(self, world):
        case = overdue_case(world)
        services.run()
        case.refresh_from_db()
        Case.objects.filter(pk=case.pk).update(escalated_at=case.escalated_at + datetime.timedelta(days=3))
        assert services.run().raised == {Kind.WARD_OVERDUE: 1}

    def test_the_email_holds_a_link_and_no_personal_item(self, world):
        emails_for(world)
        case = overdue_case(world)
        mail.outbox.clear()
        services.run()
        message = mail.outbox[0]
        text = message.subject + message.body
        alert = Alert.objects.get()
        assert f"/alerts/{alert.public_id}/" in message.body
        for personal in ("カナリア", "試験", case.receipt_number, str(case.public_id)):
            assert personal not in text

    def test_a_failed_mail_is_sent_by_the_next_run(self, world):
        emails_for(world)
        overdue_case(world)
        mail.outbox.clear()
        with mock.patch("madoguchi.alerts.services.send_mail", side_effect=OSError("down")):
            assert services.run().mail_failed == 1
        assert Alert.objects.get().emailed_at is None
        assert services.run().emailed == 1 and len(mail.outbox) == 1

    def test_a_mail_claimed_by_another_run_is_not_sent_again(self, world):
        emails_for(world)
        overdue_case(world)
        with mock.patch("madoguchi.alerts.services.send_pending", return_value=(0, 0)):
            services.run()
        Alert.objects.update(emailed_at=timezone.now())  # the other run claimed it
        mail.outbox.clear()
        assert services.send_pending() == (0, 0) and not mail.outbox


@pytest.mark.django_db
class ContractorAlertTests:
    def test_a_callback_past_its_due_time_goes_to_the_supervisor(self, world):
        case = make_case(world.program, world.operator)
        case_services.escalate(case=case, actor=world.operator, question="確認", expected_version=1)
        case.refresh_from_db()
        case_services.answer(case=case, actor=world.ward_staff, body="回答", expected_version=case.version)
        case.refresh_from_db()
        # An answer from two days ago with no callback day yet: nothing is late.
        Case.objects.filter(pk=case.pk).update(ward_answered_at=timezone.now() - datetime.timedelta(days=2))
        assert services.run().raised == {}
        today = timezone.localdate()
        callbacks.schedule_callback(
            case=case,
            actor=world.operator,
            due_on=today,
            start=datetime.time(9),
            until=datetime.time(11),
            expected_version=case.version,
        )
        ten, noon = (datetime.datetime.combine(today, datetime.time(hour), tzinfo=JST) for hour in (10, 12))
        assert services.run(now=ten).raised == {}  # within its window
        assert services.run(now=noon).raised == {Kind.CALLBACK_OVERDUE: 1}
        assert [r.user for r in Recipient.objects.all()] == [world.supervisor]
        assert services.run(now=noon).raised == {}  # once per occurrence

    def test_a_callback_moved_to_a_new_time_that_passes_too_is_a_new_occurrence(self, world):
        case = make_case(world.program, world.operator)
        callbacks.schedule_callback(
            case=case, actor=world.operator, due_on=timezone.localdate(), expected_version=1
        )
        yesterday = timezone.localdate() - datetime.timedelta(days=1)
        Case.objects.filter(pk=case.pk).update(callback_due_on=yesterday - datetime.timedelta(days=1))
        assert services.run().raised == {Kind.CALLBACK_OVERDUE: 1}
        Case.objects.filter(pk=case.pk).update(callback_due_on=yesterday)
        assert services.run().raised == {Kind.CALLBACK_OVERDUE: 1}
        assert services.run().raised == {}

    def test_a_callback_done_raises_nothing(self, world):
        case = make_case(world.program, world.operator)
        callbacks.schedule_callback(
            case=case, actor=world.operator, due_on=timezone.localdate(), expected_version=1
        )
        case.refresh_from_db()
        callbacks.record_attempt(
            case=case, actor=world.operator, outcome=CallbackOutcome.REACHED, expected_version=case.version
        )
        Case.objects.filter(pk=case.pk).update(
            callback_due_on=timezone.localdate() - datetime.timedelta(days=3)
        )
        assert services.run().raised == {}

    def test_a_web_inquiry_untouched_for_the_programs_hours(self, world):
        AlertSettings.objects.create(program=world.program, web_untouched_hours=3)
        now = timezone.now()
        make_case(world.program, None, channel=Channel.FORM, received_at=now - datetime.timedelta(hours=2))
        old = make_case(
            world.program, None, channel=Channel.FORM, received_at=now - datetime.timedelta(hours=4)
        )
        make_case(world.program, world.operator, received_at=now - datetime.timedelta(hours=5))
        result = services.run(now=now)
        assert result.raised == {Kind.WEB_UNTOUCHED: 1}
        assert Alert.objects.get().case == old
        assert services.run(now=now).raised == {}


@pytest.mark.django_db
class RecordViewAlertTests:
    def test_views_on_a_holiday_are_out_of_hours_and_on_a_business_day_are_not(self, world):
        # Monday 2025-11-24 is a substitute holiday; Tuesday 25 is a business day.
        holiday, workday = datetime.date(2025, 11, 24), datetime.date(2025, 11, 25)
        views_at(world.operator, world.program, at(holiday, 10))
        views_at(world.operator, world.program, at(workday, 10))
        result = services.run(now=at(workday, 12))
        assert result.raised == {Kind.OUT_OF_HOURS: 1}
        alert = Alert.objects.get()
        assert alert.subject == world.operator and alert.hour == at(holiday, 10)
        # Contractor staff: the ward manager and the supervisor are told.
        assert {r.user for r in alert.recipients.all()} == {world.ward_manager, world.supervisor}
        assert services.run(now=at(workday, 12, 5)).raised == {}

    def test_views_after_the_programs_hours_are_out_of_hours(self, world):
        AlertSettings.objects.create(program=world.program, hours_start=9, hours_end=18)
        day = datetime.date(2025, 11, 25)
        views_at(world.ward_staff, world.program, at(day, 18, 30))
        result = services.run(now=at(day, 20))
        assert result.raised == {Kind.OUT_OF_HOURS: 1}
        assert [r.user for r in Recipient.objects.all()] == [world.ward_manager]

    def test_more_households_in_an_hour_than_the_program_allows(self, world):
        AlertSettings.objects.create(program=world.program, households_per_hour=3)
        day = datetime.date(2025, 11, 25)
        views_at(world.operator, world.program, at(day, 10, 5), households=3)
        views_at(world.supervisor, world.program, at(day, 11, 5), households=4)
        result = services.run(now=at(day, 12))
        assert result.raised == {Kind.HOUSEHOLD_BURST: 1}
        alert = Alert.objects.get()
        assert alert.subject == world.supervisor and alert.count == 4
        assert services.run(now=at(day, 12, 10)).raised == {}

    def test_the_dashboard_is_not_a_record_view(self, world):
        day = datetime.date(2025, 11, 24)
        with mock.patch("django.utils.timezone.now", return_value=at(day, 22)):
            record(
                action=Action.VIEW,
                actor=world.ward_staff,
                program_id=world.program.pk,
                object_type="dashboard",
            )
        assert AuditEvent.objects.filter(object_type="dashboard").exists()
        assert services.run(now=at(day, 23)).raised == {}


@pytest.mark.django_db
class ConcurrencyTests:
    def test_an_occurrence_raised_meanwhile_by_another_run_is_skipped(self, world):
        overdue_case(world)
        occurrences = services.ward_overdue([world.program.pk], timezone.localdate())
        programs = {world.program.pk: world.program}
        # The other run inserted it after this run looked for known keys.
        with mock.patch("madoguchi.alerts.services.Alert.objects.filter") as known:
            known.return_value.values_list.return_value = []
            assert services.raise_all(occurrences, programs) == {Kind.WARD_OVERDUE: 1}
            assert services.raise_all(occurrences, programs) == {}
        assert Alert.objects.count() == 1


@pytest.mark.django_db
class CommandTests:
    def test_alerts_run_prints_what_it_did(self, world):
        overdue_case(world)
        out = io.StringIO()
        call_command("alerts", "run", stdout=out)
        assert "区回答の期限超過: 1件" in out.getvalue()
        out = io.StringIO()
        call_command("alerts", "run", stdout=out)
        assert "新しいアラートはありません。" in out.getvalue()


@pytest.mark.django_db
class ScreenTests:
    def test_the_ward_manager_sees_the_alert_and_reads_it(self, world):
        overdue_case(world)
        services.run()
        client = Client()
        login(client, world.ward_manager)
        badges = {item["label"]: item["badge"] for item in client.get("/alerts/").context["nav_items"]}
        assert badges["アラート"] == 1
        alert = Alert.objects.get()
        page = client.get(f"/alerts/{alert.public_id}/")
        assert page.status_code == 200 and "区回答の期限超過" in page.content.decode()
        assert Recipient.objects.get().read_at is not None

    def test_an_operator_or_another_programs_user_may_not_see_alerts(self, world):
        overdue_case(world)
        services.run()
        alert = Alert.objects.get()
        client = Client()
        login(client, world.operator)
        assert client.get("/alerts/").status_code == 403
        client = Client()
        login(client, world.supervisor)
        assert client.get(f"/alerts/{alert.public_id}/").status_code == 404

    def test_the_ward_manager_edits_the_thresholds_and_it_is_audited(self, world):
        client = Client()
        login(client, world.ward_manager)
        url = f"/alerts/settings/{world.program.code}/"
        data = {"web_untouched_hours": 6, "households_per_hour": 30, "hours_start": 9, "hours_end": 8}
        response = client.post(url, data)
        assert response.status_code == 200 and "終了は開始より後" in response.content.decode()
        assert not AlertSettings.objects.exists()
        data["hours_end"] = 19
        assert client.post(url, data).status_code == 302
        saved = AlertSettings.objects.get(program=world.program)
        assert (saved.web_untouched_hours, saved.households_per_hour, saved.weekdays_only) == (6, 30, False)
        event = AuditEvent.objects.filter(action=Action.SETTINGS_CHANGE, object_type="alert_settings").get()
        assert "households_per_hour" in event.details["fields"]

    def test_only_the_ward_manager_of_the_programs_ward_edits_the_thresholds(self, world):
        for user in (world.supervisor, world.ward_staff):
            client = Client()
            login(client, user)
            assert client.get(f"/alerts/settings/{world.program.code}/").status_code == 403
