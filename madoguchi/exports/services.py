"""The ward manager's export of cases (R-06): chosen columns, the case list's filters, CSV or XLSX.

An export is a reproduction of personal data, so it is recorded twice: in the audit trail
(EXPORT) and in the 情報管理台帳 (ledger, kind EXPORT), both with the row count and the SHA-256
of the whole file. The file is streamed, so its hash is known only once the last byte is out:

1. `start_export` checks the role and the program, and writes an EXPORT event "started"
   (columns, names of the filters used, the purpose) before the first byte: if the audit
   cannot be written, nothing is exported (fail closed).
2. The rows are read with `.iterator(chunk_size=…)` (server-side cursor on PostgreSQL) and
   written through a hash as they go; memory stays flat whatever the number of rows. An
   XLSX is first written row by row to a temporary file (`exports.xlsx`), then streamed.
3. `finish_export` writes the EXPORT event "completed" with the row count, size and SHA-256,
   and the ledger entry pointing at it, in one transaction.
4. A stream that stops half way (client gone, error) writes an EXPORT event with outcome
   "failed" and the rows sent so far: the trail then says a partial file may exist.

Every cell goes through `madoguchi.lib.csvsafe.spreadsheet_safe` (= + - @, their full-width
forms, TAB, CR at the start get a leading ').
"""

from __future__ import annotations

import csv
import datetime
import functools
import hashlib
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from madoguchi.audit.models import Action, AuditEvent, Outcome
from madoguchi.audit.services import record
from madoguchi.cases.models import CallerRelation, Case, Channel, Priority, Status, Verification
from madoguchi.cases.selectors import CaseFilter, apply_filters
from madoguchi.ledger.models import LedgerEntry, LedgerKind
from madoguchi.ledger.services import record_in_ledger
from madoguchi.lib.csvsafe import spreadsheet_safe
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import can, programs_for, restrict

FORMATS = ("csv", "xlsx")
CHUNK_SIZE = 2000
STREAM_BYTES = 64 * 1024
PURPOSE_MAX = 500
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _label(choices: Any) -> Callable[[Any], str]:
    labels = {str(value): str(label) for value, label in choices}
    return lambda value: labels.get(value or "", value or "")


def _when(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        # The project's one time zone (never activated per user), looked up once rather than
        # through the per-request current zone; isoformat is several times faster than
        # strftime, and an export calls this for every date of every row.
        local = value.astimezone(timezone.get_default_timezone())
        return local.replace(microsecond=0, tzinfo=None).isoformat(sep=" ")
    return str(value.isoformat())


def _text(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # lazy translation
    source: str  # the values() path
    render: Callable[[Any], str] = _text
    personal: bool = False


COLUMNS: list[Column] = [
    Column("receipt_number", gettext_lazy("受付番号"), "receipt_number"),
    Column("received_at", gettext_lazy("受付日時"), "received_at", _when),
    Column("channel", gettext_lazy("受付方法"), "channel", _label(Channel.choices)),
    Column("category", gettext_lazy("分類"), "category__name"),
    Column("status", gettext_lazy("状態"), "status", _label(Status.choices)),
    Column("priority", gettext_lazy("優先度"), "priority", _label(Priority.choices)),
    Column("assignee", gettext_lazy("担当者"), "assignee__display_name"),
    Column("household_number", gettext_lazy("世帯番号"), "household__number", personal=True),
    Column(
        "caller_relation", gettext_lazy("架電者の続柄"), "caller_relation", _label(CallerRelation.choices)
    ),
    Column("caller_name", gettext_lazy("架電者氏名"), "caller_name", personal=True),
    Column("caller_kana", gettext_lazy("架電者氏名カナ"), "caller_kana", personal=True),
    Column("child_name", gettext_lazy("児童氏名"), "child_name", personal=True),
    Column("child_dob", gettext_lazy("児童生年月日"), "child_dob", _when, personal=True),
    Column("contact_phone", gettext_lazy("連絡先電話番号"), "contact_phone", personal=True),
    Column("contact_email", gettext_lazy("連絡先メールアドレス"), "contact_email", personal=True),
    Column("verification", gettext_lazy("本人確認"), "verification", _label(Verification.choices)),
    Column("inquiry", gettext_lazy("問い合わせ内容"), "inquiry", personal=True),
    Column("response", gettext_lazy("対応内容"), "response", personal=True),
    Column("escalated_at", gettext_lazy("区確認依頼日時"), "escalated_at", _when),
    Column("ward_due_on", gettext_lazy("区回答期限"), "ward_due_on", _when),
    Column("ward_answered_at", gettext_lazy("区回答日時"), "ward_answered_at", _when),
    Column("closed_at", gettext_lazy("完了日時"), "closed_at", _when),
]
BY_KEY = {column.key: column for column in COLUMNS}
DEFAULT_COLUMNS = [
    "receipt_number",
    "received_at",
    "channel",
    "category",
    "status",
    "assignee",
    "escalated_at",
    "ward_due_on",
    "ward_answered_at",
]


@dataclass
class ExportRequest:
    program: Program
    actor: Any
    filters: CaseFilter
    columns: list[str]
    fmt: str
    purpose: str
    via: str = "screen"
    client_ip: str | None = None
    request_id: str | None = None
    started: AuditEvent | None = field(default=None, init=False)
    ledger_entry: LedgerEntry | None = field(default=None, init=False)

    @functools.cached_property
    def file_name(self) -> str:
        return f"cases-{self.program.code}-{timezone.localtime():%Y%m%d-%H%M%S}.{self.fmt}"

    def audit(self, **kwargs: Any) -> AuditEvent:
        return record(
            action=Action.EXPORT,
            actor=self.actor,
            program_id=self.program.pk,
            object_type="case_export",
            object_id=self.program.code,
            client_ip=self.client_ip,
            request_id=self.request_id,
            **kwargs,
        )

    def filter_names(self) -> list[str]:
        return sorted(name for name, value in vars(self.filters).items() if value not in (None, "", False))


def exportable_programs(user: Any) -> QuerySet[Program]:
    return programs_for(user, "export").order_by("code")


def check(request: ExportRequest) -> None:
    if not can(request.actor, "export"):
        raise ExportRefused(_("問い合わせの出力は区管理者だけができます。"))
    if not exportable_programs(request.actor).filter(pk=request.program.pk).exists():
        raise ExportRefused(_("この事業の問い合わせは出力できません。"))
    if not request.purpose.strip():
        raise ExportRefused(_("出力の目的を入力してください。"))
    if len(request.purpose) > PURPOSE_MAX:
        raise ExportRefused(_("出力の目的は500文字以内で入力してください。"))
    unknown = [key for key in request.columns if key not in BY_KEY]
    if unknown or not request.columns:
        raise ExportRefused(_("出力する項目を選んでください。"))
    if request.fmt not in FORMATS:
        raise ExportRefused(_("形式は csv か xlsx を指定してください。"))


@transaction.atomic
def start_export(request: ExportRequest) -> AuditEvent:
    """Refuse, or write the 'started' event before any byte leaves."""
    check(request)
    request.started = request.audit(
        details={
            "stage": "started",
            "format": request.fmt,
            "columns": list(request.columns),
            "filters": request.filter_names(),
            "via": request.via,
        },
        after={"purpose": request.purpose},
    )
    return request.started


@transaction.atomic
def finish_export(
    request: ExportRequest, *, rows: int, size: int, sha256: str, file_name: str
) -> LedgerEntry:
    event = request.audit(
        details={
            "stage": "completed",
            "format": request.fmt,
            "rows": rows,
            "bytes": size,
            "sha256": sha256,
            "started_seq": request.started.seq if request.started else None,
            "via": request.via,
        },
    )
    personal = [key for key in request.columns if BY_KEY[key].personal]
    request.ledger_entry = record_in_ledger(
        kind=LedgerKind.EXPORT,
        program=request.program,
        actor=request.actor,
        what=_("問い合わせ %(rows)d 件（%(format)s、%(columns)d 項目）")
        % {"rows": rows, "format": request.fmt.upper(), "columns": len(request.columns)},
        purpose=request.purpose,
        row_count=rows,
        file_name=file_name,
        sha256=sha256,
        audit_event=event,
        details={
            "columns": list(request.columns),
            "personal_columns": personal,
            "filters": request.filter_names(),
        },
    )
    return request.ledger_entry


def last_entry(request: ExportRequest) -> LedgerEntry:
    if request.ledger_entry is None:
        raise ExportRefused(_("出力を完了できませんでした。"))
    return request.ledger_entry


@transaction.atomic
def fail_export(request: ExportRequest, *, rows: int) -> AuditEvent:
    return request.audit(
        outcome=Outcome.FAILED,
        details={"stage": "interrupted", "format": request.fmt, "rows": rows, "via": request.via},
    )


# --- rows ------------------------------------------------------------------------------------------


def header(request: ExportRequest) -> list[str]:
    return [str(BY_KEY[key].label) for key in request.columns]


def rows(request: ExportRequest) -> Iterator[list[str]]:
    """The chosen columns of the cases the list's filters select, oldest first, spreadsheet-safe."""
    chosen = [BY_KEY[key] for key in request.columns]
    cases = apply_filters(
        restrict(Case.objects.all(), request.actor, "export"), request.filters, request.actor
    )
    cases = cases.filter(program_id=request.program.pk).order_by("received_at", "id")
    for values in cases.values_list(*[column.source for column in chosen]).iterator(chunk_size=CHUNK_SIZE):
        yield [spreadsheet_safe(column.render(value)) for column, value in zip(chosen, values, strict=True)]


class _Line:
    """A file-like object for csv.writer that hands back what was written."""

    def write(self, value: str) -> str:
        return value


def write_xlsx(request: ExportRequest, path: Path) -> int:
    """One sheet, written row by row (`exports.xlsx`: constant memory). Returns the row count."""
    from madoguchi.exports import xlsx

    return xlsx.write(
        path,
        sheet_name=_("問い合わせ"),
        header=header(request),
        rows=rows(request),
        widths=[40 if BY_KEY[key].personal else 18 for key in request.columns],
    )


class Tally:
    """Counts rows and hashes bytes as they pass."""

    def __init__(self) -> None:
        self.sha = hashlib.sha256()
        self.size = 0
        self.rows = 0

    def feed(self, chunk: bytes) -> bytes:
        self.sha.update(chunk)
        self.size += len(chunk)
        return chunk


def stream(request: ExportRequest) -> Iterator[bytes]:
    """The file's bytes, recording the export once the last byte is out (see the module doc).
    `start_export` must have been called."""
    tally = Tally()
    file_name = request.file_name
    finished = False
    try:
        if request.fmt == "csv":
            for chunk in _counting_csv(request, tally):
                yield tally.feed(chunk)
        else:
            handle, temporary = tempfile.mkstemp(prefix="mdg-export-", suffix=".xlsx")
            os.close(handle)
            path = Path(temporary)
            try:
                tally.rows = write_xlsx(request, path)
                with path.open("rb") as source:
                    while chunk := source.read(STREAM_BYTES):
                        yield tally.feed(chunk)
            finally:
                path.unlink(missing_ok=True)
        finish_export(
            request, rows=tally.rows, size=tally.size, sha256=tally.sha.hexdigest(), file_name=file_name
        )
        finished = True
    finally:
        if not finished:
            fail_export(request, rows=tally.rows)


def _counting_csv(request: ExportRequest, tally: Tally) -> Iterator[bytes]:
    writer = csv.writer(_Line(), lineterminator="\r\n")
    buffer = io.StringIO()
    buffer.write("\ufeff" + writer.writerow(header(request)))
    for row in rows(request):
        buffer.write(writer.writerow(row))
        tally.rows += 1
        if buffer.tell() >= STREAM_BYTES:
            yield buffer.getvalue().encode("utf-8")
            buffer = io.StringIO()
    yield buffer.getvalue().encode("utf-8")
