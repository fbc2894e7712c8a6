"""The two-person erasure of a program: request, approval, and the purge itself.

A ward manager of the program's ward requests the erasure (with a reason, optionally waiving
the return to the ward); a different user, another ward manager or the ward's auditor,
approves it; a ward manager then runs the purge (`purge`). The purge refuses while recording
is open, without approval, and without a return export unless the request waived it.

The purge commits each step of `madoguchi.lifecycle.erasure.STEPS` in its own transaction,
noting it done in `ProgramErasure.steps_done`: killed at any moment, a rerun resumes there.
Then it rewrites the database files (`physical`), scans for every value it erased (`scan`),
and writes the 消去証明書, sealed in the audit chain and in the ledger.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.accounts.models import Role
from madoguchi.audit.services import Action, record
from madoguchi.audit.verify import ERASURE_SEAL_TYPE
from madoguchi.ledger.models import LedgerKind
from madoguchi.ledger.services import record_in_ledger
from madoguchi.lifecycle.context_processors import forget_notices
from madoguchi.lifecycle.erasure import STEPS, Step, touched_tables
from madoguchi.lifecycle.horizon import StillVisible, wait_for_older_transactions
from madoguchi.lifecycle.models import ErasureState, ProgramErasure, ReturnExport
from madoguchi.lifecycle.scan import ScanResult, collect_values, scan, seal_values, unseal_values
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import programs_for

logger = logging.getLogger("madoguchi.lifecycle")


class LifecycleRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# A test hook: called after each step commits (a test raises here to stand for a crash).
after_step: Callable[[Step], None] | None = None
# How long a rewrite on PostgreSQL waits for the transactions that could still read the erased
# rows (`horizon.wait_for_older_transactions`) before the purge refuses; a rerun tries again.
REWRITE_WAIT_SECONDS = 600.0


# The screen runs the erasure inside one web request, which gunicorn ends after
# GUNICORN_TIMEOUT (60 s, deploy/gunicorn.conf.py). The purge benchmark (docs/benchmarks.md,
# "Purge of a program") erased 100,000 households with 1,000,000 cases in 199 s, steps, rewrite,
# scan and certificate included: about 5,500 households and cases a second. A program whose
# estimate exceeds half the timeout is erased with `madoguchi lifecycle purge` instead, which
# has no time limit; the screen says so before the button is pressed.
PURGE_ROWS_PER_SECOND = 5_500
SCREEN_PURGE_SECONDS = 30.0
# What the screen waits for older transactions before it refuses (a rerun tries again).
SCREEN_REWRITE_WAIT_SECONDS = 10.0


def screen_purge_estimate(program: Program) -> float:
    """Seconds an erasure of the program's remaining rows should take, from its households and
    cases (the rows the erasure's time follows)."""
    from madoguchi.cases.models import Case
    from madoguchi.registry.models import Household

    rows = Household.objects.filter(program=program).count() + Case.objects.filter(program=program).count()
    return rows / PURGE_ROWS_PER_SECOND


def purge_by_command_notice(program: Program) -> str:
    """Why and how a program too large for the screen is erased, or "" when the screen can."""
    limit = float(getattr(settings, "LIFECYCLE_SCREEN_PURGE_SECONDS", SCREEN_PURGE_SECONDS))
    if screen_purge_estimate(program) <= limit:
        return ""
    return _(
        "この事業は件数が多く、画面からの消去は応答の制限時間内に終わらないおそれがあります。"
        "サーバーで「madoguchi lifecycle purge --program %(code)s --as 利用者名」を実行してください"
        "（途中で止まっても、再実行すると続きから消去します）。"
    ) % {"code": program.code}


def purge_from_screen(*, program: Program, actor: Any) -> PurgeReport:
    """The screen's run: refused before anything is erased when it could outlast the request."""
    _check_purge(program, actor)
    notice = purge_by_command_notice(program)
    if notice:
        raise LifecycleRefused(notice)
    return purge(program=program, actor=actor, wait_seconds=SCREEN_REWRITE_WAIT_SECONDS)


def _is_ward_manager_of(actor: Any, program: Program) -> bool:
    return (
        getattr(actor, "role", None) == Role.WARD_MANAGER
        and programs_for(actor, "manage").filter(pk=program.pk).exists()
        and actor.organisation_id == program.ward_id
    )


def _may_approve(actor: Any, program: Program) -> bool:
    return (
        getattr(actor, "role", None) in (Role.WARD_MANAGER, Role.AUDITOR)
        and programs_for(actor, "audit").filter(pk=program.pk).exists()
        and actor.organisation_id == program.ward_id
    )


def may_read_certificate(actor: Any, program: Program) -> bool:
    return _may_approve(actor, program)


def require_ward_manager(actor: Any, program: Program) -> None:
    if not _is_ward_manager_of(actor, program):
        raise LifecycleRefused(_("この操作は事業の区の区管理者だけが行えます。"))


def erasure_of(program: Program) -> ProgramErasure | None:
    return ProgramErasure.objects.filter(program=program).first()


def last_return(program: Program) -> ReturnExport | None:
    return ReturnExport.objects.filter(program=program).first()


# --- request and approval -----------------------------------------------------------------


@transaction.atomic
def request_purge(
    *, program: Program, actor: Any, reason: str, waive_return: bool = False, via: str = "command"
) -> ProgramErasure:
    require_ward_manager(actor, program)
    reason = (reason or "").strip()
    if not reason:
        raise LifecycleRefused(_("消去の理由を入力してください。"))
    existing = ProgramErasure.objects.select_for_update().filter(program=program).first()
    if existing is not None and existing.state != ErasureState.REQUESTED:
        raise LifecycleRefused(
            _("この事業の消去はすでに%(state)sです。") % {"state": existing.get_state_display()}
        )
    if waive_return is False and last_return(program) is None:
        # Allowed: the return may still come before the purge; the purge checks it.
        pass
    now = timezone.now()
    erasure = existing or ProgramErasure(program=program)
    erasure.state = ErasureState.REQUESTED
    erasure.reason = reason[:500]
    erasure.waive_return = waive_return
    erasure.requested_by = actor
    erasure.requested_at = now
    erasure.approved_by = None
    erasure.approved_at = None
    erasure.full_clean()
    erasure.save()
    record(
        action=Action.CREATE,
        actor=actor,
        program_id=program.pk,
        object_type="erasure_request",
        object_id=program.code,
        details={"waive_return": waive_return, "via": via, "fields": ["reason"]},
    )
    return erasure


@transaction.atomic
def approve_purge(*, program: Program, actor: Any, via: str = "command") -> ProgramErasure:
    erasure = ProgramErasure.objects.select_for_update().filter(program=program).first()
    if erasure is None:
        raise LifecycleRefused(_("この事業の消去は依頼されていません。"))
    if erasure.state != ErasureState.REQUESTED:
        raise LifecycleRefused(
            _("この事業の消去はすでに%(state)sです。") % {"state": erasure.get_state_display()}
        )
    if not _may_approve(actor, program):
        raise LifecycleRefused(_("消去を承認できるのは事業の区の区管理者または監査担当者です。"))
    if actor.pk == erasure.requested_by_id:
        raise LifecycleRefused(
            _("消去を依頼した本人は承認できません。別の区管理者または監査担当者が承認してください。")
        )
    erasure.state = ErasureState.APPROVED
    erasure.approved_by = actor
    erasure.approved_at = timezone.now()
    erasure.full_clean()
    erasure.save()
    record(
        action=Action.UPDATE,
        actor=actor,
        program_id=program.pk,
        object_type="erasure_request",
        object_id=program.code,
        details={"approved": True, "via": via},
    )
    return erasure


# --- the purge ------------------------------------------------------------------------------


@dataclass
class PurgeReport:
    program: Program
    dry_run: bool = False
    already_done: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    physical: dict[str, Any] = field(default_factory=dict)
    scan: dict[str, Any] = field(default_factory=dict)
    erasure: ProgramErasure | None = None


def _check_purge(program: Program, actor: Any) -> ProgramErasure:
    require_ward_manager(actor, program)
    erasure = erasure_of(program)
    if erasure is None:
        raise LifecycleRefused(
            _("この事業の消去は依頼されていません（request-purge で依頼し、別の利用者が承認します）。")
        )
    if erasure.state == ErasureState.REQUESTED:
        raise LifecycleRefused(
            _("この事業の消去はまだ承認されていません（依頼者とは別の利用者の承認が必要です）。")
        )
    if program.is_recording_open():
        raise LifecycleRefused(_("この事業は記録期間中です。記録を終えてから消去してください。"))
    if not erasure.waive_return and last_return(program) is None:
        raise LifecycleRefused(
            _(
                "この事業のデータはまだ区に返還されていません。"
                "先に return-export を実行するか、返還なしの消去を依頼してください。"
            )
        )
    return erasure


def dry_run(*, program: Program, actor: Any) -> PurgeReport:
    _check_purge(program, actor)
    report = PurgeReport(program=program, dry_run=True)
    for step in STEPS:
        report.counts[step.name] = step.count(program)
    return report


def _start(erasure: ProgramErasure, actor: Any) -> ProgramErasure:
    with transaction.atomic():
        erasure = ProgramErasure.objects.select_for_update().get(pk=erasure.pk)
        if erasure.scan_values_sealed is None and not erasure.steps_done:
            # Read before the first step erases anything: what every scan of this erasure
            # looks for, however many runs it takes.
            erasure.scan_values_sealed = seal_values(collect_values(erasure.program))
        if erasure.state == ErasureState.APPROVED:
            erasure.state = ErasureState.ERASING
            forget_notices()
            erasure.started_at = timezone.now()
            erasure.run_by = actor
            returned = last_return(erasure.program)
            erasure.return_manifest_sha256 = returned.manifest_sha256 if returned else ""
        if erasure.seal_seq is None:
            # Sealed first: the audit changes it empties are those of events before this seal,
            # which `madoguchi audit verify` accepts without their digest.
            seal = record(
                action=Action.PURGE,
                actor=actor,
                program_id=erasure.program_id,
                object_type=ERASURE_SEAL_TYPE,
                object_id=erasure.program.code,
                details={"steps": [step.name for step in STEPS], "waive_return": erasure.waive_return},
            )
            erasure.seal_seq = seal.seq
        erasure.save()
    return erasure


def _run_step(erasure: ProgramErasure, step: Step) -> int:
    with transaction.atomic():
        count = step.run(erasure.program)
        erasure.steps_done = [*erasure.steps_done, step.name]
        erasure.counts = {**erasure.counts, step.name: count}
        ProgramErasure.objects.filter(pk=erasure.pk).update(
            steps_done=erasure.steps_done, counts=erasure.counts
        )
    if after_step is not None:
        after_step(step)
    return count


def database_file() -> Path | None:
    if connection.vendor != "sqlite":
        return None
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
        return None
    return Path(name)


def rewrite_database(wait_seconds: float | None = None) -> dict[str, Any]:
    """Rewrite the files so no erased row survives in a free page, a WAL frame or a dead tuple.
    On PostgreSQL it first waits up to `wait_seconds` (REWRITE_WAIT_SECONDS when None) for older
    transactions (horizon.py)."""
    if connection.in_atomic_block:
        return {"done": False, "reason": "in_transaction"}
    started = timezone.now()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            from madoguchi.cases import sqlite_search

            # Merge the FTS index's segments so no deleted bigram stays in an old segment.
            with contextlib.suppress(DatabaseError):
                table = connection.ops.quote_name(sqlite_search.TABLE)
                cursor.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")  # noqa: S608
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.execute("VACUUM")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            how = "VACUUM, wal_checkpoint(TRUNCATE)"
        elif connection.vendor == "postgresql":
            tables = touched_tables()
            try:
                waited = _rewrite_tables(cursor, tables, wait_seconds)
            except StillVisible as still:
                raise LifecycleRefused(
                    _(
                        "消去前の行をまだ読めるトランザクションが %(seconds)s 秒待っても終わらないため、"
                        "データベースファイルを書き直せません（%(holder)s）。終わってから再実行してください。"
                    )
                    % {"seconds": still.waited, "holder": still.holder}
                ) from still
            # CHECKPOINT needs pg_checkpoint (or superuser); VACUUM FULL did the rewrite anyway.
            with contextlib.suppress(DatabaseError):
                cursor.execute("CHECKPOINT")
            how = "VACUUM FULL " + ", ".join(tables)
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            how = "none"
    seconds = (timezone.now() - started).total_seconds()
    physical = {"done": True, "vendor": connection.vendor, "how": how, "seconds": round(seconds, 1)}
    if connection.vendor == "postgresql":
        physical["waited_seconds"] = waited
    return physical


def _rewrite_tables(cursor: Any, tables: list[str], wait_seconds: float | None = None) -> float:
    """VACUUM FULL each table once nothing older than the erasure can read its rows: then no
    erased version is copied into the new files (horizon.py). The seconds waited."""
    timeout = REWRITE_WAIT_SECONDS if wait_seconds is None else wait_seconds
    waited = wait_for_older_transactions(cursor, timeout=timeout)
    for table in tables:
        cursor.execute(f"VACUUM FULL {connection.ops.quote_name(table)}")
    return waited


def purge(*, program: Program, actor: Any, wait_seconds: float | None = None) -> PurgeReport:
    """Erase the program's personal data, rewrite the files, scan, certify. Resumable: a run
    killed or refused half-way starts again where it stopped. `wait_seconds` bounds the wait
    for older transactions before the rewrite (the screen's request cannot wait ten minutes)."""
    erasure = _check_purge(program, actor)
    report = PurgeReport(program=program, erasure=erasure)
    if erasure.state == ErasureState.ERASED:
        # A run refused at its very end (the seal's rewrite, after the certificate) ends here.
        _drop_sealed_values(erasure, wait_seconds)
        report.already_done = True
        report.counts = dict(erasure.counts)
        report.scan = dict(erasure.scan)
        return report
    erasure = _start(erasure, actor)
    if erasure.scan_values_sealed is None:  # an erasure begun before the values were sealed
        raise LifecycleRefused(
            _("消去前の値が記録されていないため、消去後の検査ができません。証明書は発行しません。")
        )
    for step in STEPS:
        if step.name in erasure.steps_done:
            continue
        _run_step(erasure, step)
    erasure.refresh_from_db()
    physical = rewrite_database(wait_seconds)
    values = unseal_values(erasure.scan_values_sealed)
    result: ScanResult = scan(values, program_id=program.pk, database_file=database_file())
    del values
    erasure.physical = physical
    erasure.scan = result.as_dict()
    ProgramErasure.objects.filter(pk=erasure.pk).update(physical=erasure.physical, scan=erasure.scan)
    report.counts = dict(erasure.counts)
    report.physical = physical
    report.scan = erasure.scan
    if not result.clean:
        where = "、".join(f"{item['table']}.{item['column']}" for item in result.found)
        raise LifecycleRefused(
            _("消去後の検査で個人の値が見つかりました（%(where)s）。証明書は発行しません。")
            % {"where": where}
        )
    from madoguchi.lifecycle.certificate import issue_certificate

    report.erasure = issue_certificate(erasure=erasure, actor=actor)
    _drop_sealed_values(report.erasure, wait_seconds)
    return report


def _drop_sealed_values(erasure: ProgramErasure, wait_seconds: float | None = None) -> None:
    """Overwrite the sealed values where they lay, not only unlink them: on SQLite with
    secure_delete and a truncating checkpoint, on PostgreSQL by rewriting the (small) table."""
    dropped = ProgramErasure.objects.filter(pk=erasure.pk)
    if connection.in_atomic_block:  # a test's transaction: no physical rewrite possible
        dropped.update(scan_values_sealed=None)
        return
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA secure_delete = ON")
            try:
                dropped.update(scan_values_sealed=None)
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                cursor.execute("PRAGMA secure_delete = OFF")
            return
        dropped.update(scan_values_sealed=None)
        if connection.vendor == "postgresql":
            try:
                _rewrite_tables(cursor, [ProgramErasure._meta.db_table], wait_seconds)
            except StillVisible as still:
                raise LifecycleRefused(
                    _(
                        "消去証明書は発行しました。暗号化した検査値の古い版を消すための書き直しは、"
                        "それを読めるトランザクションが %(seconds)s 秒待っても終わらないためできませんでした"
                        "（%(holder)s）。終わってから再実行してください。"
                    )
                    % {"seconds": still.waited, "holder": still.holder}
                ) from still


def backup_retention_days() -> int:
    return int(getattr(settings, "BACKUP_RETENTION_DAYS", 30))


def finish(erasure: ProgramErasure, actor: Any, pdf: bytes, sha256: str) -> ProgramErasure:
    """Store the certificate, seal it in the audit chain and the ledger: one transaction."""
    with transaction.atomic():
        total = sum(int(value) for value in erasure.counts.values())
        event = record(
            action=Action.PURGE,
            actor=actor,
            program_id=erasure.program_id,
            object_type="erasure_certificate",
            object_id=erasure.program.code,
            details={
                "certificate_sha256": sha256,
                "return_manifest_sha256": erasure.return_manifest_sha256 or None,
                "rows": {name: int(count) for name, count in erasure.counts.items()},
                "scan_clean": bool(erasure.scan.get("clean")),
            },
        )
        erasure.certificate_pdf = pdf
        erasure.certificate_sha256 = sha256
        erasure.certificate_seq = event.seq
        erasure.state = ErasureState.ERASED
        erasure.finished_at = timezone.now()
        forget_notices()
        erasure.save()
        record_in_ledger(
            kind=LedgerKind.ERASURE,
            program=erasure.program,
            actor=actor,
            what="事業の個人データ一式（消去証明書）",
            purpose="事業終了に伴う消去",
            row_count=total,
            file_name=f"erasure-certificate-{erasure.program.code}.pdf",
            sha256=sha256,
            audit_event=event,
            details={"return_manifest_sha256": erasure.return_manifest_sha256 or None},
        )
    return erasure
