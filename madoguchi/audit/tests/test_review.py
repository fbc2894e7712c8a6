from __future__ import annotations

import csv
import datetime
import io
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone

from madoguchi.accounts.testing import login
from madoguchi.audit.models import Action, AuditEvent
from madoguchi.audit.review import access_review, policy_for
from madoguchi.audit.services import record

JST = zoneinfo.ZoneInfo("Asia/Tokyo")
# A Wednesday that is not a holiday, and a Sunday.
WEDNESDAY_NOON = datetime.datetime(2026, 11, 18, 12, 10, tzinfo=JST)
WEDNESDAY_NIGHT = datetime.datetime(2026, 11, 18, 22, 30, tzinfo=JST)
SUNDAY_NOON = datetime.datetime(2026, 11, 22, 12, 0, tzinfo=JST)
WINDOW = (datetime.datetime(2026, 11, 1, tzinfo=JST), datetime.datetime(2026, 12, 1, tzinfo=JST))


def _at(monkeypatch, moment, **kwargs):
    monkeypatch.setattr(timezone, "now", lambda: moment.astimezone(datetime.UTC))
    event = record(**kwargs)
    monkeypatch.undo()
    return event


@pytest.mark.django_db
class AccessReviewTests:
    def test_it_lists_every_account_in_scope_with_organisation_role_and_status(self, world):
        world.supervisor.is_active = False
        world.supervisor.save()
        report = access_review(world.auditor, at_from=WINDOW[0], at_to=WINDOW[1])
        usernames = {row.user.username: row for row in report.accounts}
        assert {"operator", "supervisor", "ward", "manager", "auditor", "sysadmin"} <= set(usernames)
        assert "outsider" not in usernames and "other-op" not in usernames
        assert usernames["supervisor"].user.is_active is False
        assert usernames["operator"].programs == ["test-program"]

    def test_it_flags_a_user_who_opened_more_households_in_an_hour_than_the_threshold(
        self, world, settings, monkeypatch
    ):
        settings.AUDIT_REVIEW_HOUSEHOLDS_PER_HOUR = 3
        for number in range(4):
            _at(
                monkeypatch,
                WEDNESDAY_NOON + datetime.timedelta(minutes=number),
                action=Action.VIEW,
                actor=world.operator,
                program_id=world.program.pk,
                object_type="household",
                object_id=number,
            )
        for number in range(3):
            _at(
                monkeypatch,
                WEDNESDAY_NOON,
                action=Action.VIEW,
                actor=world.supervisor,
                program_id=world.program.pk,
                object_type="household",
                object_id=number,
            )
        report = access_review(world.auditor, at_from=WINDOW[0], at_to=WINDOW[1])
        assert [(row.actor_id, row.households) for row in report.bursts] == [(world.operator.pk, 4)]
        assert report.out_of_hours == []

    def test_a_program_may_set_its_own_threshold_and_hours(self, world, settings, monkeypatch):
        settings.AUDIT_REVIEW_PROGRAMS = {"test-program": {"households_per_hour": 10, "hours": "07:00-23:00"}}
        for number in range(4):
            _at(
                monkeypatch,
                WEDNESDAY_NIGHT,
                action=Action.VIEW,
                actor=world.operator,
                program_id=world.program.pk,
                object_type="household",
                object_id=number,
            )
        report = access_review(world.auditor, at_from=WINDOW[0], at_to=WINDOW[1])
        assert report.bursts == [] and report.out_of_hours == []
        assert policy_for("test-program").end_hour == 23

    def test_it_flags_access_at_night_and_on_a_sunday(self, world, monkeypatch):
        _at(
            monkeypatch,
            WEDNESDAY_NIGHT,
            action=Action.VIEW,
            actor=world.operator,
            program_id=world.program.pk,
            object_type="household",
            object_id=1,
        )
        _at(
            monkeypatch,
            SUNDAY_NOON,
            action=Action.SEARCH,
            actor=world.ward_staff,
            program_id=world.program.pk,
        )
        _at(
            monkeypatch,
            WEDNESDAY_NOON,
            action=Action.VIEW,
            actor=world.operator,
            program_id=world.program.pk,
            object_type="household",
            object_id=2,
        )
        report = access_review(world.auditor, at_from=WINDOW[0], at_to=WINDOW[1])
        flagged = sorted(
            (row.actor_id, row.hour.astimezone(JST).strftime("%a %H")) for row in report.out_of_hours
        )
        assert flagged == sorted([(world.operator.pk, "Wed 22"), (world.ward_staff.pk, "Sun 12")])

    def test_it_reports_lockout_bursts_and_refused_addresses(self, world, settings, monkeypatch):
        settings.AUDIT_REVIEW_LOCKOUTS_PER_HOUR = 2
        _at(monkeypatch, WEDNESDAY_NOON, action=Action.LOCKOUT, actor=world.operator, outcome="denied")
        _at(monkeypatch, WEDNESDAY_NOON, action=Action.LOCKOUT, actor=world.supervisor, outcome="denied")
        for _n in range(3):
            _at(
                monkeypatch,
                WEDNESDAY_NOON,
                action=Action.ADDRESS_REFUSED,
                outcome="denied",
                client_ip="198.51.100.9",
            )
        report = access_review(world.auditor, at_from=WINDOW[0], at_to=WINDOW[1])
        assert report.lockouts == 2
        assert [(burst.count, burst.users) for burst in report.lockout_bursts] == [(2, 2)]
        assert [(row.client_ip, row.count) for row in report.refused_addresses] == [("198.51.100.9", 3)]

    def test_the_other_wards_events_are_not_in_our_review(self, world, settings, monkeypatch):
        settings.AUDIT_REVIEW_HOUSEHOLDS_PER_HOUR = 0
        _at(
            monkeypatch,
            WEDNESDAY_NIGHT,
            action=Action.VIEW,
            actor=world.outsider,
            program_id=world.other_program.pk,
            object_type="household",
            object_id=1,
        )
        report = access_review(world.auditor, at_from=WINDOW[0], at_to=WINDOW[1])
        assert report.bursts == [] and report.out_of_hours == []


@pytest.mark.django_db
class AccessReviewScreenTests:
    def test_the_screen_shows_the_accounts_and_is_recorded(self, client, world):
        login(client, world.auditor)
        response = client.get(reverse("audit:review"))
        assert response.status_code == 200
        assert "テスト supervisor" in response.content.decode()
        assert AuditEvent.objects.filter(action=Action.VIEW, object_type="access_review").count() == 1

    def test_the_csv_download_is_formula_safe_and_recorded(self, client, world):
        world.operator.display_name = "+SUM(A1:A9)"
        world.operator.save()
        login(client, world.ward_manager)
        response = client.post(reverse("audit:review_export"), {})
        body = b"".join(response.streaming_content)
        assert body.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        assert any(row[3] == "'+SUM(A1:A9)" for row in rows)
        assert AuditEvent.objects.filter(action=Action.EXPORT, object_type="access_review").count() == 1

    def test_an_operator_is_refused(self, client, world):
        login(client, world.operator)
        assert client.get(reverse("audit:review")).status_code == 403
        assert client.post(reverse("audit:review_export")).status_code == 403
