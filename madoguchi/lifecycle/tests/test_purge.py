from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from madoguchi.audit.models import AuditChange, AuditEvent
from madoguchi.audit.verify import verify_chain
from madoguchi.cases.models import Case, Notification, SavedSearch, TimelineEntry
from madoguchi.identify.models import IdentKey, IdentProfile
from madoguchi.ledger.models import LedgerEntry
from madoguchi.lifecycle import services
from madoguchi.lifecycle.models import ErasureState, ProgramErasure
from madoguchi.lifecycle.returning import return_export
from madoguchi.lifecycle.tests.conftest import (
    CALLER_EMAIL,
    CALLER_NAME,
    CALLER_PHONE,
    Life,
    approved,
    end_recording,
)
from madoguchi.registry.models import Child, Guardian, Household, TargetListChange, TargetListImport

pytestmark = pytest.mark.django_db(transaction=True)


def report_columns() -> list[tuple]:
    return sorted(
        Case.objects.values_list(
            "program_id",
            "receipt_number",
            "channel",
            "received_at",
            "category_id",
            "status",
            "priority",
            "assignee_id",
            "created_by_id",
            "escalated_at",
            "ward_due_on",
            "ward_answered_at",
            "closed_at",
        )
    )


def timeline_columns() -> list[tuple]:
    return sorted(
        TimelineEntry.objects.values_list(
            "case_id", "kind", "from_status", "to_status", "author_id", "created_at"
        )
    )


def test_the_whole_erasure(life: Life, tmp_path: Path) -> None:
    world, program = life.world, life.program
    assert Notification.objects.filter(case__program=program).exists()
    assert AuditChange.objects.filter(event__program_id=program.pk).exclude(before={}).exists()
    other = world.other_program
    end_recording(program)
    return_export(program=program, actor=world.ward_manager, out_dir=tmp_path / "returned")
    approved(life)
    before_reports, before_timeline = report_columns(), timeline_columns()

    report = services.purge(program=program, actor=world.ward_manager)

    erasure = ProgramErasure.objects.get(program=program)
    assert erasure.state == ErasureState.ERASED
    assert report.scan["clean"] is True and report.scan["values"] > 10
    for model, scope in (
        (Household, {"program": program}),
        (Guardian, {"household__program": program}),
        (Child, {"household__program": program}),
        (TargetListImport, {"program": program}),
        (TargetListChange, {"target_import__program": program}),
        (IdentKey, {"program": program}),
        (IdentProfile, {"program": program}),
        (Notification, {"case__program": program}),
    ):
        assert not model.objects.filter(**scope).exists(), model
    assert not SavedSearch.objects.filter(params__q=CALLER_NAME).exists()
    assert report_columns() == before_reports
    assert timeline_columns() == before_timeline
    for case in Case.objects.filter(program=program):
        assert (case.inquiry, case.response, case.caller_name, case.contact_phone, case.contact_email) == (
            "",
        ) * 5
        assert case.household_id is None and case.search_text == ""
    assert not TimelineEntry.objects.filter(case__program=program).exclude(body="").exists()
    changes = AuditChange.objects.filter(event__program_id=program.pk, event__seq__lt=erasure.seal_seq)
    assert changes.exists() and not changes.exclude(before={}, after={}).exists()
    assert not changes.filter(erased_at__isnull=True).exists()
    # The other program is untouched.
    assert other.pk != program.pk
    # The chain still verifies, and the certificate is sealed in it and in the ledger.
    assert verify_chain().ok
    seal = AuditEvent.objects.get(seq=erasure.certificate_seq)
    assert seal.details["certificate_sha256"] == erasure.certificate_sha256
    entry = LedgerEntry.objects.get(program=program, kind="erasure")
    assert entry.sha256 == erasure.certificate_sha256 and entry.audit_seq == seal.seq
    assert erasure.return_manifest_sha256 == LedgerEntry.objects.get(program=program, kind="return").sha256
    # Nothing personal anywhere: every text column of every table.
    from django.db import connection

    with connection.cursor() as cursor:
        for value in (CALLER_NAME, CALLER_PHONE, CALLER_EMAIL, "髙橋　一郎", "090-1111-2222"):
            for model in (Case, TimelineEntry, AuditChange):
                table = model._meta.db_table
                cols = [
                    f.column
                    for f in model._meta.concrete_fields
                    if f.get_internal_type() in ("CharField", "TextField", "JSONField", "EmailField")
                ]
                for column in cols:
                    sql = f"SELECT COUNT(*) FROM {table} WHERE CAST({column} AS TEXT) LIKE %s"  # noqa: S608
                    cursor.execute(sql, [f"%{value}%"])
                    assert cursor.fetchone()[0] == 0, (table, column, value)


def test_certificate_pdf_names_what_was_erased(life: Life, tmp_path: Path) -> None:
    end_recording(life.program)
    approved(life, waive_return=True)
    services.purge(program=life.program, actor=life.world.ward_manager)
    out = tmp_path / "cert.pdf"
    call_command("lifecycle", "certificate", "--program", life.program.code, "--out", str(out))
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "消去証明書" in text
    assert life.program.name in text
    assert "registry_household" in text and "audit_auditchange" in text
    assert "バックアップ" in text
    assert "送信元IPアドレス" in text and "監査記録の保存期間" in text  # what the erasure leaves
    assert "見つかりませんでした" in text
    assert "返還なし" in text


def test_audit_verify_still_catches_edits_of_changes(life: Life) -> None:
    end_recording(life.program)
    approved(life, waive_return=True)
    services.purge(program=life.program, actor=life.world.ward_manager)
    assert verify_chain().ok
    # An emptied change of another program (no seal vouches for it) is caught.
    other = (
        AuditChange.objects.filter(erased_at__isnull=True).exclude(event__program_id=life.program.pk).first()
    )
    if other is None:
        from madoguchi.audit.services import record

        event = record(
            action="update",
            program_id=life.world.other_program.pk,
            object_type="case",
            object_id="1",
            before={"x": "a"},
            after={"x": "b"},
        )
        other = AuditChange.objects.get(event=event)
    from django.utils import timezone

    if _sqlite():
        AuditChange.objects.filter(pk=other.pk).update(before={}, after={}, erased_at=timezone.now())
        assert not verify_chain().ok


def _sqlite() -> bool:
    from django.db import connection

    return connection.vendor == "sqlite"


def test_an_erased_change_with_values_put_back_is_caught(life: Life) -> None:
    end_recording(life.program)
    approved(life, waive_return=True)
    services.purge(program=life.program, actor=life.world.ward_manager)
    if not _sqlite():
        pytest.skip("PostgreSQL's trigger refuses the edit itself (tested in the audit app)")
    change = AuditChange.objects.filter(event__program_id=life.program.pk, erased_at__isnull=False).first()
    assert change is not None
    AuditChange.objects.filter(pk=change.pk).update(before={"x": "forged"})
    report = verify_chain()
    assert not report.ok and report.problem is not None and report.problem.kind == "altered"


class Crash(Exception):
    pass


def test_a_purge_stopped_between_steps_finishes_on_rerun(life: Life) -> None:
    end_recording(life.program)
    approved(life, waive_return=True)

    def crash(step):  # type: ignore[no-untyped-def]
        if step.name == "guardians":
            raise Crash

    services.after_step = crash
    try:
        with pytest.raises(Crash):
            services.purge(program=life.program, actor=life.world.ward_manager)
    finally:
        services.after_step = None
    erasure = ProgramErasure.objects.get(program=life.program)
    assert erasure.state == ErasureState.ERASING
    assert "guardians" in erasure.steps_done and "households" not in erasure.steps_done
    assert not Guardian.objects.filter(household__program=life.program).exists()
    assert Household.objects.filter(program=life.program).exists()
    services.purge(program=life.program, actor=life.world.ward_manager)
    erasure.refresh_from_db()
    assert erasure.state == ErasureState.ERASED
    assert not Household.objects.filter(program=life.program).exists()
    assert verify_chain().ok
    # Exactly one seal of the erasure, however many runs.
    assert AuditEvent.objects.filter(object_type="program_erasure", program_id=life.program.pk).count() == 1


def test_a_purge_killed_inside_a_step_rolls_that_step_back_and_finishes(
    life: Life, monkeypatch: pytest.MonkeyPatch
) -> None:
    from madoguchi.lifecycle import erasure as erasure_module

    end_recording(life.program)
    approved(life, waive_return=True)
    steps = list(erasure_module.STEPS)
    index = next(i for i, step in enumerate(steps) if step.name == "cases")
    original = steps[index]

    def half_then_die(program):  # type: ignore[no-untyped-def]
        Case.objects.filter(program=program).update(inquiry="")
        raise Crash

    import dataclasses

    steps[index] = dataclasses.replace(original, run=half_then_die)
    monkeypatch.setattr(services, "STEPS", tuple(steps))
    with pytest.raises(Crash):
        services.purge(program=life.program, actor=life.world.ward_manager)
    # The step's transaction rolled back: nothing half-done.
    assert Case.objects.filter(program=life.program).exclude(inquiry="").exists()
    monkeypatch.setattr(services, "STEPS", erasure_module.STEPS)
    services.purge(program=life.program, actor=life.world.ward_manager)
    assert not Case.objects.filter(program=life.program).exclude(inquiry="").exists()
    assert ProgramErasure.objects.get(program=life.program).state == ErasureState.ERASED


def test_the_matcher_finds_values_inside_text() -> None:
    from madoguchi.lifecycle.scan import Matcher

    matcher = Matcher({"髙橋　一郎", "090-1111-2222", "abc"})
    assert matcher.hits("電話 090-1111-2222 髙橋　一郎様") == 2
    assert matcher.hits("髙橋 一郎 09011112222 ab") == 0
    assert matcher.hits("abc") == 1 and matcher.hits("") == 0
    # Inside a longer run of letters and digits (a hex digest) it is not the value.
    assert matcher.hits("8409090111122224730e1") == 0
    assert Matcher({"09011112222"}).hits("a909011112222f") == 0
    assert Matcher({"09011112222"}).hits("電話09011112222です") == 1


def test_on_postgresql_a_bulk_step_rebuilds_every_index(life: Life, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db import connection

    from madoguchi.lifecycle import erasure as erasure_module

    if connection.vendor != "postgresql":
        pytest.skip("the index rebuild is PostgreSQL's path")

    def indexes() -> list[tuple[str, str]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE tablename IN ('cases_case', 'cases_timelineentry') ORDER BY indexname"
            )
            return list(cursor.fetchall())

    before = indexes()
    monkeypatch.setattr(erasure_module, "BULK_ROWS", 1)
    end_recording(life.program)
    approved(life, waive_return=True)
    services.purge(program=life.program, actor=life.world.ward_manager)
    assert indexes() == before
    assert not Case.objects.filter(program=life.program).exclude(inquiry="").exists()
    assert not TimelineEntry.objects.filter(case__program=life.program).exclude(body="").exists()


def _share_everything_with_the_other_program(life: Life) -> Case:
    """The other, live program holds the same households (same names, addresses, phones) and a
    case whose free text names this program's web caller: common values are theirs too."""
    from madoguchi.cases import services as cases
    from madoguchi.cases.models import Channel
    from madoguchi.registry.services import import_target_list

    other = life.world.other_program
    report = import_target_list(program=other, path=life.targets, file_name="targets.csv", user=None)
    assert report.status == "applied", report.problems
    return cases.create_case(
        program=other,
        channel=Channel.PHONE,
        actor=life.world.other_program_operator,
        inquiry=f"{CALLER_NAME}様より。{CALLER_PHONE} へ折り返し",
    )


def test_values_another_program_holds_are_its_own_not_residues(life: Life) -> None:
    other_case = _share_everything_with_the_other_program(life)
    end_recording(life.program)
    approved(life, waive_return=True)

    report = services.purge(program=life.program, actor=life.world.ward_manager)

    assert report.scan["clean"] is True, report.scan["found"]
    assert report.scan["held_elsewhere"] > 5
    assert ProgramErasure.objects.get(program=life.program).state == ErasureState.ERASED
    # The other program keeps all of it.
    other = life.world.other_program
    assert Guardian.objects.filter(household__program=other, name="髙橋　一郎").exists()
    other_case.refresh_from_db()
    assert CALLER_NAME in other_case.inquiry


def _leave_in_this_program(value: str) -> None:
    """After the last step, put a personal value back into one of the erased program's kept rows."""

    def put_back(step):  # type: ignore[no-untyped-def]
        if step.name == services.STEPS[-1].name:
            case = Case.objects.filter(program=put_back.program).order_by("pk").first()
            Case.objects.filter(pk=case.pk).update(inquiry=f"残り: {value}")

    return put_back


def test_a_value_another_program_holds_is_still_found_in_this_programs_rows(life: Life) -> None:
    _share_everything_with_the_other_program(life)
    end_recording(life.program)
    approved(life, waive_return=True)
    hook = _leave_in_this_program("髙橋　一郎")
    hook.program = life.program  # type: ignore[attr-defined]
    services.after_step = hook
    try:
        with pytest.raises(services.LifecycleRefused, match=r"cases_case\.inquiry"):
            services.purge(program=life.program, actor=life.world.ward_manager)
    finally:
        services.after_step = None
    assert ProgramErasure.objects.get(program=life.program).state == ErasureState.ERASING


def test_a_refused_scan_stays_refused_on_every_rerun_until_a_scan_of_the_same_values_passes(
    life: Life,
) -> None:
    end_recording(life.program)
    approved(life, waive_return=True)
    hook = _leave_in_this_program(CALLER_EMAIL)
    hook.program = life.program  # type: ignore[attr-defined]
    services.after_step = hook
    try:
        with pytest.raises(services.LifecycleRefused):
            services.purge(program=life.program, actor=life.world.ward_manager)
    finally:
        services.after_step = None
    erasure = ProgramErasure.objects.get(program=life.program)
    first_scan = erasure.scan
    assert first_scan["clean"] is False and first_scan["values"] > 10
    assert erasure.scan_values_sealed is not None
    # Every step is done and nothing personal is left to read: the rerun scans the values
    # read before the first run, and refuses again.
    with pytest.raises(services.LifecycleRefused, match=r"cases_case\.inquiry"):
        services.purge(program=life.program, actor=life.world.ward_manager)
    erasure.refresh_from_db()
    assert erasure.state == ErasureState.ERASING and not erasure.certificate_pdf
    assert erasure.scan["values"] == first_scan["values"]
    # Once the residue is gone, a rerun passes the same scan and issues the certificate.
    Case.objects.filter(program=life.program).update(inquiry="")
    report = services.purge(program=life.program, actor=life.world.ward_manager)
    assert report.scan["clean"] is True and report.scan["values"] == first_scan["values"]
    erasure.refresh_from_db()
    assert erasure.state == ErasureState.ERASED and erasure.certificate_pdf
    assert erasure.scan_values_sealed is None


def test_the_sealed_values_are_not_readable_in_the_database() -> None:
    from madoguchi.lifecycle.scan import Values, seal_values, unseal_values

    values = Values(values={"髙橋　一郎", CALLER_EMAIL}, skipped_short=2)
    token = seal_values(values)
    assert "髙橋".encode() not in token and CALLER_EMAIL.encode() not in token
    back = unseal_values(token)
    assert back.values == values.values and back.skipped_short == 2
