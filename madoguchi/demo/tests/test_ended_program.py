"""The demo's already-ended program (for the return and the erasure)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from madoguchi.audit.models import Action, AuditEvent
from madoguchi.audit.verify import verify_chain
from madoguchi.cases.models import Case, Channel, Status, TimelineEntry
from madoguchi.demo import ended_program
from madoguchi.demo.ended_program import ENDED_PROGRAM_CODE, seed_ended_program
from madoguchi.demo.services import seed_demo
from madoguchi.ledger.models import LedgerEntry, LedgerKind
from madoguchi.programs.models import Program
from madoguchi.registry.models import Household

pytestmark = pytest.mark.django_db


class EndedProgramTests:
    def test_it_has_ended_and_holds_households_cases_notes_escalations_and_views(self):
        seed_demo()
        result = seed_ended_program(households=30, cases=20)
        program = Program.objects.get(code=ENDED_PROGRAM_CODE)
        assert result.created and result.program == program
        assert not program.is_recording_open() and program.recording_ended()
        assert program.correction_allowed_until is None
        assert Household.objects.filter(program=program).count() == 30
        cases = Case.objects.filter(program=program)
        assert cases.count() == 20
        assert {Channel.FORM, Channel.PHONE} <= set(cases.values_list("channel", flat=True))
        assert set(cases.values_list("status", flat=True)) == {Status.CLOSED}
        assert all(case.received_at.year == 2022 for case in cases)
        assert TimelineEntry.objects.filter(case__program=program, kind="call_note").exists()
        assert cases.filter(escalated_at__isnull=False).exists()
        assert AuditEvent.objects.filter(program_id=program.pk, action=Action.VIEW).exists()
        assert LedgerEntry.objects.filter(program=program, kind=LedgerKind.RECEIPT).count() == 1
        assert verify_chain().ok

    def test_the_demo_erasure_can_be_requested_by_the_manager_and_approved_by_the_auditor(self):
        from madoguchi.accounts.models import User
        from madoguchi.lifecycle import services

        seed_demo()
        program = seed_ended_program(households=12, cases=8).program
        manager, auditor = User.objects.get(username="manager"), User.objects.get(username="auditor")
        services.request_purge(program=program, actor=manager, reason="事業終了", waive_return=True)
        services.approve_purge(program=program, actor=auditor)  # the demo's second person

    def test_it_is_idempotent(self):
        seed_demo()
        seed_ended_program(households=12, cases=8)
        again = seed_ended_program(households=12, cases=8)
        assert not again.created
        assert Case.objects.filter(program=again.program).count() == 8
        assert Household.objects.filter(program=again.program).count() == 12

    def test_seed_demo_prints_its_code(self, monkeypatch):
        monkeypatch.setattr(ended_program, "HOUSEHOLDS", 10)
        monkeypatch.setattr(ended_program, "CASES", 5)
        out = StringIO()
        call_command("seed_demo", stdout=out)
        assert ENDED_PROGRAM_CODE in out.getvalue() and "終了済みの事業" in out.getvalue()
