"""Compliance records (R-40, R-41): pledge and training with the login rule, responsible
persons, the incident register with its drill links; screens, CSV, audit."""

from __future__ import annotations

import datetime
import urllib.parse

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from madoguchi.accounts.testing import PERSONA_PASSWORD, login, totp_code, totp_device
from madoguchi.audit.models import Action, AuditEvent
from madoguchi.compliance import services
from madoguchi.compliance.models import Incident, ResponsiblePerson, StaffCompliance, TrainingPolicy

pytestmark = pytest.mark.django_db


def log_in_through_screens(user) -> tuple[Client, object]:
    client = Client()
    totp_device(user)
    client.post("/accounts/login/", {"username": user.username, "password": PERSONA_PASSWORD})
    response = client.post("/accounts/login/verify/", {"otp_token": totp_code(user)})
    return client, response


class LoginRuleTests:
    def test_without_a_policy_nothing_is_enforced(self, world):
        _client, response = log_in_through_screens(world.operator)
        assert response.status_code == 302

    def test_no_login_without_a_pledge_when_a_policy_applies(self, world):
        TrainingPolicy.objects.create(organisation=world.contractor, valid_days=365)
        client, response = log_in_through_screens(world.operator)
        assert response.status_code == 403
        body = response.content.decode()
        assert "秘密保持誓約の記録がないため、ログインできません" in body
        assert "_auth_user_id" not in client.session
        assert client.get("/cases/").status_code == 302  # still logged out
        event = AuditEvent.objects.filter(action=Action.LOGIN_FAILED, actor_id=world.operator.pk).last()
        assert event is not None and event.details["reason"] == "no_pledge"

    def test_no_login_after_the_training_expired(self, world):
        TrainingPolicy.objects.create(program=world.program, valid_days=30)
        today = timezone.localdate()
        StaffCompliance.objects.create(
            user=world.operator,
            pledge_signed_on=today - datetime.timedelta(days=100),
            training_completed_on=today - datetime.timedelta(days=31),
        )
        _client, response = log_in_through_screens(world.operator)
        assert response.status_code == 403
        assert "研修の有効期限" in response.content.decode()

    def test_a_valid_training_logs_in_and_the_strictest_policy_wins(self, world):
        TrainingPolicy.objects.create(organisation=world.contractor, valid_days=365)
        TrainingPolicy.objects.create(program=world.program, valid_days=60)
        today = timezone.localdate()
        StaffCompliance.objects.create(
            user=world.operator,
            pledge_signed_on=today,
            training_completed_on=today - datetime.timedelta(days=59),
        )
        assert services.valid_days_for(world.operator) == 60
        _client, response = log_in_through_screens(world.operator)
        assert response.status_code == 302
        assert services.login_refusal(world.operator, today=today + datetime.timedelta(days=2)) is not None


class StaffScreenTests:
    def test_the_manager_records_pledge_and_training_audited(self, world):
        client = Client()
        login(client, world.ward_manager)
        url = reverse("compliance:staff_edit", args=[world.operator.pk])
        assert client.get(url).status_code == 200
        response = client.post(
            url, {"pledge_signed_on": "2026-04-01", "training_completed_on": "2026-04-10", "note": "年次研修"}
        )
        assert response.status_code == 302
        staff = StaffCompliance.objects.get(user=world.operator)
        assert staff.training_completed_on == datetime.date(2026, 4, 10)
        event = AuditEvent.objects.filter(object_type="staff_compliance", action=Action.UPDATE).get()
        assert event.change.after["training_completed_on"] == "2026-04-10"
        page = client.get(reverse("compliance:staff")).content.decode()
        assert "2026-04-10" in page

    def test_bad_dates_change_nothing(self, world):
        client = Client()
        login(client, world.ward_manager)
        response = client.post(
            reverse("compliance:staff_edit", args=[world.operator.pk]), {"pledge_signed_on": "2026-13-40"}
        )
        assert response.status_code == 400
        assert not StaffCompliance.objects.exists()

    def test_the_auditor_reads_and_exports_but_cannot_edit(self, world):
        client = Client()
        login(client, world.auditor)
        assert client.get(reverse("compliance:staff")).status_code == 200
        assert client.get(reverse("compliance:staff_edit", args=[world.operator.pk])).status_code == 403
        response = client.post(reverse("compliance:staff_export"))
        content = b"".join(response.streaming_content)
        assert content.startswith(b"\xef\xbb\xbf")
        assert "operator" in content.decode("utf-8-sig")
        assert "outsider" not in content.decode("utf-8-sig")  # another ward's contractor
        assert AuditEvent.objects.filter(action=Action.EXPORT, object_type="staff_compliance").exists()

    @pytest.mark.parametrize("persona", ["operator", "supervisor", "ward_staff", "sysadmin"])
    def test_other_roles_are_refused(self, world, persona):
        client = Client()
        login(client, getattr(world, persona))
        assert client.get(reverse("compliance:index")).status_code == 403

    def test_another_wards_staff_answers_404(self, world):
        client = Client()
        login(client, world.ward_manager)
        assert client.get(reverse("compliance:staff_edit", args=[world.outsider.pk])).status_code == 404


class PolicyAndResponsibleTests:
    def test_the_manager_sets_and_removes_a_policy(self, world):
        client = Client()
        login(client, world.ward_manager)
        url = reverse("compliance:policies")
        client.post(url, {"scope": f"program:{world.program.pk}", "valid_days": "180"})
        assert TrainingPolicy.objects.get(program=world.program).valid_days == 180
        client.post(url, {"scope": f"program:{world.program.pk}", "valid_days": ""})
        assert not TrainingPolicy.objects.exists()
        assert (
            AuditEvent.objects.filter(action=Action.SETTINGS_CHANGE, object_type="training_policy").count()
            == 2
        )
        assert (
            client.post(url, {"scope": f"program:{world.other_program.pk}", "valid_days": "5"}).status_code
            == 404
        )

    def test_the_responsible_person_per_organisation(self, world):
        client = Client()
        login(client, world.ward_manager)
        url = reverse("compliance:responsible")
        data = {
            "program": world.program.pk,
            "organisation": world.contractor.pk,
            "user": world.supervisor.pk,
            "title": "センター長",
            "since": "2026-04-01",
        }
        assert client.post(url, data).status_code == 302
        assert ResponsiblePerson.objects.get().user == world.supervisor
        wrong = {**data, "organisation": world.ward.pk}
        assert client.post(url, wrong).status_code == 400
        assert "センター長" in client.get(url).content.decode()
        assert AuditEvent.objects.filter(object_type="responsible_person", action=Action.CREATE).exists()


class IncidentTests:
    def incident_data(self, world, **extra):
        return {
            "program": world.program.pk,
            "summary": "誤送信の疑い",
            "found_at": "2026-05-01T10:00",
            "occurred_from": "2026-04-28T09:00",
            "records": "KJ-000123\n3f0c1b4e-0000-4000-8000-00000000abcd",
            "people_count": "2",
            "told_whom": "区 子ども家庭課",
            "ward_told_at": "2026-05-01T11:00",
            "ppc_told_at": "",
            "actions": "送信先を確認",
            "status": "open",
            **extra,
        }

    def test_register_an_incident_with_drill_links(self, world):
        client = Client()
        login(client, world.ward_manager)
        response = client.post(reverse("compliance:incident_new"), self.incident_data(world))
        assert response.status_code == 302
        incident = Incident.objects.get()
        assert incident.record_ids() == ["KJ-000123", "3f0c1b4e-0000-4000-8000-00000000abcd"]
        page = client.get(response["Location"]).content.decode()
        assert "誤送信の疑い" in page
        links = [urllib.parse.unquote(link) for link in page.split('href="')[1:]]
        drill = [link for link in links if link.startswith("/audit/events?")]
        assert any("object_id=KJ-000123" in link and "at_from=2026-04-28T09:00" in link for link in drill)
        assert any("action=export" in link for link in drill)
        # The links open the audit screen with the filter applied.
        first = next(link.split('"')[0] for link in page.split('href="')[1:] if "object_id=KJ-000123" in link)
        assert client.get(first.replace("&amp;", "&")).status_code == 200
        assert AuditEvent.objects.filter(object_type="incident", action=Action.CREATE).exists()

    def test_a_name_in_the_records_is_refused(self, world):
        client = Client()
        login(client, world.ward_manager)
        response = client.post(
            reverse("compliance:incident_new"), self.incident_data(world, records="山田 太郎")
        )
        assert response.status_code == 400
        assert "氏名・電話番号などは書けません" in response.content.decode()
        assert not Incident.objects.exists()

    def test_update_and_csv(self, world):
        client = Client()
        login(client, world.ward_manager)
        client.post(reverse("compliance:incident_new"), self.incident_data(world))
        incident = Incident.objects.get()
        data = self.incident_data(world, ppc_told_at="2026-05-03T09:00", status="closed")
        assert client.post(reverse("compliance:incident", args=[incident.pk]), data).status_code == 302
        incident.refresh_from_db()
        assert incident.status == "closed" and incident.ppc_told_at is not None
        auditor = Client()
        login(auditor, world.auditor)
        assert auditor.post(reverse("compliance:incident", args=[incident.pk]), data).status_code == 403
        content = b"".join(auditor.post(reverse("compliance:incidents_export")).streaming_content)
        text = content.decode("utf-8-sig")
        assert "INC-" in text and "2026-05-03 09:00" in text

    def test_an_incident_of_another_ward_answers_404(self, world):
        incident = Incident.objects.create(
            program=world.other_program,
            summary="x",
            found_at=timezone.now(),
            created_by=world.outsider,
        )
        client = Client()
        login(client, world.ward_manager)
        assert client.get(reverse("compliance:incident", args=[incident.pk])).status_code == 404


def test_the_inventory_screen_lists_items_and_places(world):
    client = Client()
    login(client, world.auditor)
    page = client.get(reverse("compliance:inventory")).content.decode()
    assert "保護者氏名" in page and "通話者の続柄" in page and "テスト支援事業" in page
    assert AuditEvent.objects.filter(object_type="data_inventory").exists()
