"""Disclosure (開示) of one household: PDF and CSV, audited and in the ledger."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time

import pytest
from django.urls import reverse

from madoguchi.accounts.models import Role
from madoguchi.accounts.sessions import AUTH_AT
from madoguchi.accounts.testing import login
from madoguchi.audit.models import Action, AuditEvent
from madoguchi.cases import services
from madoguchi.cases.testing import make_case
from madoguchi.conftest import make_user
from madoguchi.identify.services import open_household
from madoguchi.identify.tests.helpers import add_household
from madoguchi.ledger.models import LedgerEntry, LedgerKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def household(world):
    household = add_household(
        world.program,
        "H777",
        guardian=("髙橋 𠮷子", "たかはし よしこ", "1990-01-02"),
        children=[("髙橋 太郎", "たかはし たろう", "2020-05-03")],
        phone="090-1111-2222",
        email="yoshiko@example.jp",
    )
    case = make_case(
        world.program, world.operator, household=household, inquiry='=HYPERLINK("x") 申請について'
    )
    services.add_note(case=case, actor=world.operator, body="折り返し連絡済み")
    open_household(user=world.operator, program=world.program, public_id=household.public_id)
    return household


def url(household) -> str:
    return reverse("ledger:disclosure", args=[household.public_id])


class DisclosureTests:
    def test_the_screen_shows_what_it_holds(self, client, world, household):
        login(client, world.ward_manager)
        response = client.get(url(household))
        assert response.status_code == 200
        assert "PDF" in response.content.decode() and "CSV" in response.content.decode()

    def test_the_csv_holds_the_list_row_cases_timeline_and_viewers(self, client, world, household):
        login(client, world.ward_manager)
        response = client.post(url(household), {"format": "csv"})
        assert response.status_code == 200
        body = response.content
        assert body.startswith("\ufeff".encode())
        text = body.decode("utf-8-sig")
        for value in (
            "H777",
            "髙橋 𠮷子",
            "髙橋 太郎",
            "090-1111-2222",
            "yoshiko@example.jp",
            "折り返し連絡済み",
        ):
            assert value in text
        assert "'=HYPERLINK" in text  # neutralised
        assert "閲覧・操作の記録" in text and world.operator.display_name in text
        entry = LedgerEntry.objects.get(kind=LedgerKind.DISCLOSURE)
        assert entry.sha256 == hashlib.sha256(body).hexdigest()
        assert entry.row_count == len(text.strip().splitlines()) - 1
        event = AuditEvent.objects.filter(action=Action.EXPORT, object_type="household").latest("seq")
        assert entry.audit_seq == event.seq and event.object_id == str(household.public_id)
        assert "髙橋" not in str(event.details)

    @pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is missing")
    def test_the_pdf_keeps_rare_kanji_and_is_in_the_ledger(self, client, world, household, tmp_path):
        login(client, world.ward_manager)
        response = client.post(url(household), {"format": "pdf"})
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
        pdf = tmp_path / "d.pdf"
        pdf.write_bytes(response.content)
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "髙橋" in text and "𠮷子" in text
        assert "折り返し連絡済み" in text and "H777" in text
        entry = LedgerEntry.objects.get(kind=LedgerKind.DISCLOSURE)
        assert entry.sha256 == hashlib.sha256(response.content).hexdigest()

    def test_an_old_login_must_confirm_a_code_first(self, client, world, household):
        login(client, world.ward_manager)
        session = client.session
        session[AUTH_AT] = time.time() - 6 * 60
        session.save()
        response = client.post(url(household), {"format": "csv"})
        assert response.status_code == 302 and response["Location"].startswith("/accounts/reauth/")
        assert not LedgerEntry.objects.exists()

    @pytest.mark.parametrize("persona", ["operator", "ward_staff", "auditor"])
    def test_other_roles_get_403(self, client, world, household, persona):
        login(client, getattr(world, persona))
        assert client.post(url(household), {"format": "csv"}).status_code == 403
        assert not LedgerEntry.objects.exists()

    def test_another_wards_manager_gets_404(self, client, world, household):
        login(client, make_user("other-manager", Role.WARD_MANAGER, world.other_ward, world.other_program))
        assert client.post(url(household), {"format": "csv"}).status_code == 404
        assert not LedgerEntry.objects.exists()
