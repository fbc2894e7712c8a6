"""Callback contacts are erased N days after their case is closed (`madoguchi lifecycle sweep`)."""

from __future__ import annotations

import datetime
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from madoguchi.accounts.models import Role
from madoguchi.accounts.testing import login
from madoguchi.audit.models import Action, AuditEvent
from madoguchi.cases import services
from madoguchi.cases.models import Case, Status
from madoguchi.cases.sweep import sweep
from madoguchi.cases.testing import make_case
from madoguchi.conftest import make_user
from madoguchi.programs.models import Program

pytestmark = pytest.mark.django_db

PHONE, EMAIL = "090-9876-5432", "callback@example.jp"


def closed_case(world, days_ago: float, **kwargs) -> Case:
    case = make_case(world.program, world.operator, contact_phone=PHONE, contact_email=EMAIL, **kwargs)
    services.transition(case=case, to=Status.CLOSED, actor=world.operator, expected_version=case.version)
    Case.objects.filter(pk=case.pk).update(closed_at=timezone.now() - datetime.timedelta(days=days_ago))
    return Case.objects.get(pk=case.pk)


def run_sweep() -> str:
    out = StringIO()
    call_command("lifecycle", "sweep", stdout=out, stderr=StringIO())
    return out.getvalue()


class SweepTests:
    def test_contacts_are_erased_after_the_programs_days_and_kept_before(self, world):
        old = closed_case(world, 31)
        recent = closed_case(world, 29)
        still_open = make_case(world.program, world.operator, contact_phone=PHONE)
        Case.objects.filter(pk=still_open.pk).update(closed_at=timezone.now() - datetime.timedelta(days=90))
        output = run_sweep()
        old.refresh_from_db()
        assert old.contact_phone == "" and old.contact_email == ""
        assert old.inquiry  # only the contact goes
        assert Case.objects.get(pk=recent.pk).contact_phone
        assert Case.objects.get(pk=still_open.pk).contact_phone  # not closed: kept
        assert "1件の問い合わせ" in output and "電話番号1件" in output and "メールアドレス1件" in output
        event = AuditEvent.objects.get(action=Action.PURGE)
        assert event.details["cases"] == 1 and event.details["phones"] == 1 and event.details["emails"] == 1
        assert PHONE not in json.dumps(event.details) and EMAIL not in json.dumps(event.details)

    def test_the_days_are_per_program(self, world):
        world.program.callback_retention_days = 7
        world.program.save()
        case = closed_case(world, 8)
        sweep()
        assert Case.objects.get(pk=case.pk).contact_phone == ""

    def test_a_second_run_erases_nothing_more_and_writes_no_event(self, world):
        closed_case(world, 40)
        run_sweep()
        assert "ありませんでした" in run_sweep()
        assert AuditEvent.objects.filter(action=Action.PURGE).count() == 1

    def test_a_reopened_case_keeps_its_contact(self, world):
        case = closed_case(world, 40)
        services.transition(
            case=case, to=Status.IN_PROGRESS, actor=world.operator, expected_version=case.version
        )
        sweep()
        assert Case.objects.get(pk=case.pk).contact_phone


class RetentionSettingTests:
    def url(self, world):
        return reverse("cases:callback_retention", args=[world.program.code])

    def test_the_ward_manager_sets_the_days_and_it_is_audited(self, client, world):
        login(client, world.ward_manager)
        assert client.get(self.url(world)).status_code == 200
        assert client.post(self.url(world), {"days": "14"}).status_code == 302
        assert Program.objects.get(pk=world.program.pk).callback_retention_days == 14
        event = AuditEvent.objects.filter(action=Action.SETTINGS_CHANGE).latest("seq")
        assert event.details["fields"] == ["callback_retention_days"]

    def test_zero_days_is_refused(self, client, world):
        login(client, world.ward_manager)
        assert client.post(self.url(world), {"days": "0"}).status_code == 400
        assert Program.objects.get(pk=world.program.pk).callback_retention_days == 30

    def test_an_operator_gets_403_and_another_wards_manager_404(self, client, world):
        login(client, world.operator)
        assert client.post(self.url(world), {"days": "3"}).status_code == 403
        login(client, make_user("other-manager", Role.WARD_MANAGER, world.other_ward, world.other_program))
        assert client.post(self.url(world), {"days": "3"}).status_code == 404
        assert Program.objects.get(pk=world.program.pk).callback_retention_days == 30
