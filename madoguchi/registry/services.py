"""Importing a target list: preview, then apply as a new version, all or nothing.

`import_target_list` is the one entry point (the CLI and the screen call it). It reads and checks
the whole file first, writing nothing; a file with any problem is refused as a whole and leaves
only a `TargetListImport` row (status REFUSED) with its problems. A file without problems is
applied in one transaction: households added, changed in place, or marked removed (never
deleted: cases keep pointing at them). A file whose content equals the current list changes
nothing and gets no version number.

Before the apply transaction an attempt row is committed with status FAILED; the transaction
turns it into APPLIED. A process killed half-way therefore leaves no data and an attempt that
shows it failed (T-FA-03).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.audit.models import Action, AuditEvent, Outcome
from madoguchi.audit.services import record
from madoguchi.ledger.models import LedgerKind
from madoguchi.ledger.services import record_in_ledger
from madoguchi.programs.models import Program
from madoguchi.programs.recording import RecordingClosed, require_recording_open
from madoguchi.registry import hooks
from madoguchi.registry.importing.reader import MAX_PROBLEMS, Problem, Progress, read_file
from madoguchi.registry.importing.versions import Plan, Writer, latest_version, plan_changes
from madoguchi.registry.models import TargetListImport

Status = TargetListImport.Status


class StaleListError(Exception):
    """Another version was applied between the preview and the apply."""


@dataclass
class ImportReport:
    """What a file would do (preview) or did; counts, row numbers and reasons, no values."""

    file_name: str
    status: str = Status.PREVIEWED
    sha256: str = ""
    size_bytes: int = 0
    encoding: str = ""
    row_count: int = 0
    household_count: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    ineligible_rows: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    changed_columns: dict[str, int] = field(default_factory=dict)
    dropped_columns: list[str] = field(default_factory=list)
    target_import: TargetListImport | None = None

    @property
    def refused(self) -> bool:
        return self.problem_count > 0

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.row_count,
            "households": self.household_count,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "ineligible": len(self.ineligible_rows),
            "problems": self.problem_count,
        }

    def stored_problems(self) -> list[dict[str, Any]]:
        stored = [problem.as_dict() for problem in self.problems]
        if self.problem_count > len(self.problems):
            more = self.problem_count - len(self.problems)
            stored.append(
                {"row": None, "column": "", "reason": _("ほかに %(n)d 件の問題があります。") % {"n": more}}
            )
        return stored


def _import_row(report: ImportReport, program: Program, user: Any, status: str) -> TargetListImport:
    return TargetListImport(
        program=program,
        uploaded_by=user if getattr(user, "is_authenticated", False) else None,
        file_name=report.file_name[:255],
        sha256=report.sha256,
        size_bytes=report.size_bytes,
        encoding=report.encoding,
        row_count=report.row_count,
        household_count=report.household_count,
        added=report.added,
        changed=report.changed,
        removed=report.removed,
        unchanged=report.unchanged,
        ineligible=len(report.ineligible_rows),
        status=status,
        problems=report.stored_problems(),
    )


def _audit(
    target_import: TargetListImport, user: Any, report: ImportReport, outcome: str = Outcome.OK
) -> AuditEvent:
    return record(
        action=Action.IMPORT,
        actor=user,
        program_id=target_import.program_id,
        object_type="target_list_import",
        object_id=target_import.pk,
        outcome=outcome,
        details={
            "status": target_import.status,
            "version": target_import.version,
            "counts": report.counts(),
            "encoding": report.encoding,
            "sha256": report.sha256,
        },
    )


def _receipt(target_import: TargetListImport, user: Any, report: ImportReport, event: AuditEvent) -> None:
    """The 情報管理台帳's entry for a received list, in the import's transaction."""
    if target_import.version:
        what = _("対象者名簿 第%(version)d版") % {"version": target_import.version}
    else:
        what = _("対象者名簿（現在の版と同じ内容のため変更なし）")
    record_in_ledger(
        kind=LedgerKind.RECEIPT,
        program=target_import.program,
        actor=user,
        what=what,
        purpose=_("対象者の本人特定のための名簿の受領（区から）"),
        row_count=report.row_count,
        file_name=target_import.file_name,
        sha256=report.sha256,
        audit_event=event,
        details={
            "households": report.household_count,
            "added": report.added,
            "changed": report.changed,
            "removed": report.removed,
        },
    )


@transaction.atomic
def record_refused(*, report: ImportReport, program: Program, user: Any) -> TargetListImport:
    """The REFUSED row and its audit event, in their own transaction."""
    target_import = _import_row(report, program, user, Status.REFUSED)
    target_import.finished_at = timezone.now()
    target_import.full_clean()
    target_import.save()
    _audit(target_import, user, report, Outcome.FAILED)
    report.status = Status.REFUSED
    report.target_import = target_import
    return target_import


def _fill_from_plan(report: ImportReport, plan: Plan) -> None:
    report.household_count = plan.household_count
    report.added = len(plan.added)
    report.changed = len(plan.changed)
    report.removed = len(plan.removed)
    report.unchanged = plan.unchanged
    report.changed_columns = dict(plan.column_counts.most_common())


def import_target_list(
    *,
    program: Program,
    path: Path,
    file_name: str,
    user: Any = None,
    drop_columns: Sequence[str] = (),
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Check `path` and, unless `dry_run` or refused, apply it as the program's next version.

    `dry_run` writes nothing at all (not even a refusal). The report carries the
    `TargetListImport` row written, if any.
    """
    report = ImportReport(file_name=file_name)
    read = read_file(Path(path), program, drop_columns=drop_columns, progress=progress)
    try:
        report.sha256 = read.facts.sha256
        report.size_bytes = read.facts.size_bytes
        report.encoding = read.facts.encoding
        report.row_count = read.row_count
        report.ineligible_rows = read.ineligible_rows
        report.dropped_columns = read.dropped_columns
        plan = Plan()
        if not read.problems and read.staging is not None:
            plan = plan_changes(read.staging, program, read.problems)
            _fill_from_plan(report, plan)
            if plan.has_changes and not program.is_recording_open():
                # A new version (households added, changed or removed) is a change of
                # personal items: refused as a whole outside the recording period.
                read.problems.add(None, "", RecordingClosed().message)
        report.problems = read.problems.items
        report.problem_count = read.problems.total
        if dry_run:
            report.status = Status.REFUSED if report.refused else Status.PREVIEWED
            return report
        if report.refused:
            record_refused(report=report, program=program, user=user)
            return report
        if not plan.has_changes:
            with transaction.atomic():
                target_import = _import_row(report, program, user, Status.UNCHANGED)
                target_import.finished_at = timezone.now()
                target_import.full_clean()
                target_import.save()
                _receipt(target_import, user, report, _audit(target_import, user, report))
            report.status = Status.UNCHANGED
            report.target_import = target_import
            return report
        assert read.staging is not None
        report.target_import = _apply(report, plan, read.staging, program, user, progress)
        report.status = Status.APPLIED
        return report
    finally:
        if read.staging is not None:
            read.staging.close()


def _apply(
    report: ImportReport, plan: Plan, staging: Any, program: Program, user: Any, progress: Progress | None
) -> TargetListImport:
    # Committed before the data, so that an attempt killed half-way stays visible as FAILED.
    attempt = _import_row(report, program, user, Status.FAILED)
    attempt.full_clean()
    attempt.save()
    try:
        with transaction.atomic():
            # NO KEY UPDATE excludes another import, an index rebuild and a recording's close,
            # but not the KEY SHARE lock of a case insert's foreign key: the program's calls
            # are saved while a large list is imported.
            locked = Program.objects.select_for_update(no_key=True).filter(pk=program.pk).first()
            # Checked again under the lock: the period may have been ended since the preview.
            require_recording_open(locked or program)
            if latest_version(program) != plan.base_version:
                raise StaleListError(
                    _("確認の後に別の版が取り込まれました。もう一度ファイルを確認してください。")
                )
            attempt.version = (plan.base_version or 0) + 1
            attempt.status = Status.APPLIED
            attempt.save(update_fields=["version", "status"])
            touched = Writer(program, attempt, plan).write(staging, progress)
            hooks.list_applied(program, attempt, touched)
            attempt.finished_at = timezone.now()
            attempt.save(update_fields=["finished_at"])
            _receipt(attempt, user, report, _audit(attempt, user, report))
    except BaseException as error:
        attempt.status = Status.FAILED
        attempt.version = None
        attempt.finished_at = timezone.now()
        reason = (
            str(error)
            if isinstance(error, (StaleListError, RecordingClosed))
            else _("取込中にエラーが発生したため、何も反映していません。")
        )
        attempt.problems = [{"row": None, "column": "", "reason": reason}]
        # The original error matters more than a failure to note it (a lost connection).
        with contextlib.suppress(Exception):
            attempt.save(update_fields=["status", "version", "finished_at", "problems"])
        raise
    return attempt


__all__ = ["MAX_PROBLEMS", "ImportReport", "StaleListError", "import_target_list", "record_refused"]
