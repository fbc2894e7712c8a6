from __future__ import annotations

import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from madoguchi.accounts.testing import login
from madoguchi.audit.models import Action, AuditEvent
from madoguchi.cases.models import Category
from madoguchi.reports.tests.factories import at, case
from madoguchi.reports.tests.test_selectors import november

D = datetime.date
MONTH = {"program": "test-program", "kind": "monthly", "day": "2025-11-15"}


def client_for(client, user):
    login(client, user)
    return client


@pytest.mark.django_db
class ReportScreenTests:
    def test_the_supervisor_sees_the_month_with_the_operator_section(self, client, world):
        november(world)
        response = client_for(client, world.supervisor).get(reverse("reports:index"), MONTH)
        assert response.status_code == 200
        body = response.content.decode()
        assert "問い合わせ月報" in body and "担当者別" in body
        assert 'id="report-operators"' in body
        event = AuditEvent.objects.filter(action=Action.VIEW, object_type="report").get()
        assert event.details["cases"] == 11 and event.details["operator_section"] is True

    def test_ward_staff_do_not_get_the_operator_section_at_all(self, client, world):
        november(world)
        body = client_for(client, world.ward_staff).get(reverse("reports:index"), MONTH).content.decode()
        assert "問い合わせ月報" in body
        assert "担当者別" not in body and "テスト operator" not in body
        response = client.post(reverse("reports:download"), {**MONTH, "format": "xlsx"})
        assert "担当者別" not in load_workbook(io.BytesIO(response.content)).sheetnames

    def test_the_ward_manager_gets_the_operator_section(self, client, world):
        november(world)
        body = client_for(client, world.ward_manager).get(reverse("reports:index"), MONTH).content.decode()
        assert 'id="report-operators"' in body

    @pytest.mark.parametrize("who", ["operator", "auditor", "sysadmin"])
    def test_other_roles_are_refused(self, client, world, who):
        response = client_for(client, getattr(world, who)).get(reverse("reports:index"))
        assert response.status_code == 403

    def test_another_programs_report_answers_404(self, client, world):
        client_for(client, world.supervisor)
        assert client.get(reverse("reports:index"), {**MONTH, "program": "other-program"}).status_code == 404
        download = client.post(
            reverse("reports:download"), {**MONTH, "program": "other-program", "format": "csv"}
        )
        assert download.status_code == 404

    def test_a_range_needs_both_dates_in_order(self, client, world):
        client_for(client, world.supervisor)
        response = client.get(
            reverse("reports:index"),
            {"program": "test-program", "kind": "range", "date_from": "2025-11-30", "date_to": "2025-11-01"},
        )
        assert response.status_code == 400
        assert "終了日は開始日以降" in response.content.decode()

    def test_downloads_are_post_only_audited_and_not_cached(self, client, world):
        november(world)
        client_for(client, world.supervisor)
        assert client.get(reverse("reports:download"), {**MONTH, "format": "csv"}).status_code == 405
        for fmt, start in (("xlsx", b"PK"), ("pdf", b"%PDF"), ("csv", b"\xef\xbb\xbf")):
            response = client.post(reverse("reports:download"), {**MONTH, "format": fmt})
            assert response.status_code == 200
            assert response.content.startswith(start)
            assert (
                response["Content-Disposition"]
                == f'attachment; filename="report-test-program-20251101-20251130.{fmt}"'
            )
            assert "no-store" in response["Cache-Control"]
        events = AuditEvent.objects.filter(action=Action.EXPORT, object_type="report").order_by("seq")
        assert [e.details["format"] for e in events] == ["xlsx", "pdf", "csv"]

    def test_cp932_refusal_lists_the_cells_on_the_screen(self, client, world):
        november(world)
        Category.objects.filter(name="その他").update(name="\U00020bb7野家")
        case(world.program, at(D(2025, 11, 10)), category=Category.objects.get(name="\U00020bb7野家"))
        client_for(client, world.supervisor)
        response = client.post(reverse("reports:download"), {**MONTH, "format": "csv", "encoding": "cp932"})
        assert response.status_code == 400
        body = response.content.decode()
        assert "CP932" in body and "「分類別」5行目 B列（B5）" in body
        assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


@pytest.mark.django_db
def test_the_report_in_english(client, world, settings):
    november(world)
    client_for(client, world.supervisor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = client.get(reverse("reports:index"), MONTH).content.decode()
    assert "monthly report" in body and "Business days to the ward&#x27;s answer (median)" in body
    assert "区回答までの営業日数" not in body
