"""The ledger's screen and CSV, and the RECEIPT entry every target-list import writes."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from madoguchi.accounts.models import Role
from madoguchi.accounts.testing import login
from madoguchi.audit.models import Action, AuditEvent
from madoguchi.conftest import make_user
from madoguchi.ledger.models import LedgerEntry, LedgerKind
from madoguchi.ledger.services import record_in_ledger
from madoguchi.registry.tests.csvdata import csv_bytes, row, write

pytestmark = pytest.mark.django_db


def entry(world, what="問い合わせ一覧（CSV）", kind=LedgerKind.EXPORT):
    return record_in_ledger(
        kind=kind, program=world.program, actor=world.ward_manager, what=what, row_count=3, sha256="a" * 64
    )


class LedgerScreenTests:
    @pytest.mark.parametrize("persona", ["ward_manager", "auditor"])
    def test_the_ward_manager_and_the_auditor_read_it_and_it_is_audited(self, client, world, persona):
        entry(world)
        login(client, getattr(world, persona))
        response = client.get(reverse("ledger:program", args=[world.program.code]))
        assert response.status_code == 200
        text = response.content.decode()
        assert "問い合わせ一覧（CSV）" in text and "a" * 64 in text
        event = AuditEvent.objects.filter(action=Action.VIEW, object_type="ledger").latest("seq")
        assert event.actor_id == getattr(world, persona).pk

    def test_the_index_leads_to_the_only_program(self, client, world):
        login(client, world.auditor)
        response = client.get(reverse("ledger:index"))
        assert response["Location"] == reverse("ledger:program", args=[world.program.code])

    @pytest.mark.parametrize("persona", ["operator", "supervisor", "ward_staff", "sysadmin"])
    def test_other_roles_get_403(self, client, world, persona):
        login(client, getattr(world, persona))
        assert client.get(reverse("ledger:program", args=[world.program.code])).status_code == 403
        assert client.get(reverse("ledger:csv", args=[world.program.code])).status_code == 403

    @pytest.mark.parametrize("role", [Role.WARD_MANAGER, Role.AUDITOR])
    def test_another_wards_manager_or_auditor_gets_404(self, client, world, role):
        other = make_user("other-ward-user", role, world.other_ward, world.other_program)
        login(client, other)
        assert client.get(reverse("ledger:program", args=[world.program.code])).status_code == 404
        assert client.get(reverse("ledger:csv", args=[world.program.code])).status_code == 404

    def test_the_nav_offers_it_to_the_auditor_and_not_to_an_operator(self, client, world):
        login(client, world.auditor)
        assert reverse("ledger:index") in client.get(reverse("cases:list")).content.decode()
        login(client, world.operator)
        assert reverse("ledger:index") not in client.get(reverse("cases:list")).content.decode()


class LedgerCsvTests:
    def test_the_csv_has_a_bom_neutralised_cells_and_is_audited(self, client, world):
        entry(world, what="=HYPERLINK(1)")
        entry(world, what="＋1")
        login(client, world.ward_manager)
        response = client.get(reverse("ledger:csv", args=[world.program.code]))
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        body = response.content
        assert body.startswith("\ufeff".encode())
        text = body.decode("utf-8-sig")
        assert "'=HYPERLINK(1)" in text and "'＋1" in text
        assert text.splitlines()[0].startswith("日時,種別")
        event = AuditEvent.objects.filter(action=Action.EXPORT, object_type="ledger").latest("seq")
        assert event.details["count"] == 2


class ReceiptTests:
    def test_every_import_writes_a_receipt_with_row_count_and_sha256(self, world, tmp_path):
        data = csv_bytes([row("H001"), row("H002")])
        path = write(tmp_path, data)
        call_command(
            "import_targets",
            "--program",
            world.program.code,
            str(path),
            "--user",
            "manager",
            stdout=StringIO(),
        )
        receipt = LedgerEntry.objects.get(kind=LedgerKind.RECEIPT)
        assert receipt.row_count == 2
        assert receipt.sha256 == hashlib.sha256(data).hexdigest()
        assert receipt.file_name == "targets.csv"
        assert "第1版" in receipt.what
        assert receipt.actor_username == "manager"
        import_event = AuditEvent.objects.filter(action=Action.IMPORT).latest("seq")
        assert receipt.audit_seq == import_event.seq
        # The same file again is received too (and says nothing changed).
        call_command("import_targets", "--program", world.program.code, str(path), stdout=StringIO())
        assert LedgerEntry.objects.filter(kind=LedgerKind.RECEIPT).count() == 2

    def test_a_refused_or_dry_run_file_writes_no_receipt(self, world, tmp_path):
        path = write(tmp_path, csv_bytes([row("H001")]))
        call_command(
            "import_targets", "--program", world.program.code, str(path), "--dry-run", stdout=StringIO()
        )
        assert not LedgerEntry.objects.exists()

    def test_an_import_that_fails_writes_no_receipt(self, world, tmp_path, monkeypatch):
        from madoguchi.registry import hooks

        def fail(*args, **kwargs):
            raise RuntimeError("disk full")

        monkeypatch.setattr(hooks, "list_applied", fail)
        with pytest.raises(RuntimeError):
            call_command(
                "import_targets",
                "--program",
                world.program.code,
                str(write(tmp_path, csv_bytes([row("H001")]))),
                stdout=StringIO(),
            )
        assert not LedgerEntry.objects.exists()
