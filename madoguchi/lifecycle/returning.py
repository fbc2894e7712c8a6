"""The return of a program's data to its ward (返還).

Written to one directory:
- `targets.csv`: the current target list in the import format of shared/formats.md §1 (one
  row per child, UTF-8 with BOM), so `import-targets` reads it again unchanged;
- `cases.csv`, `timeline.csv`: the cases and their timelines (UTF-8 with BOM);
- `return.xlsx`: the same three tables as sheets of one workbook;
- `manifest.json`: each file's name, row count, size and SHA-256;
- `return-inventory.pdf`: the printable 返還目録.
Every text cell passes `madoguchi.lib.csvsafe.spreadsheet_safe` (a cell a spreadsheet would
run as a formula gets a leading `'`). Audited (`export` on `program_return`), recorded in the
ledger (RETURN, with the manifest's SHA-256) and in `ReturnExport`, in one transaction.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from madoguchi.audit.services import Action, record
from madoguchi.cases.models import Case, TimelineEntry
from madoguchi.core.pdf import render_pdf
from madoguchi.ledger.models import LedgerKind
from madoguchi.ledger.services import record_in_ledger
from madoguchi.lib.csvsafe import spreadsheet_safe
from madoguchi.lifecycle.models import ProgramErasure, ReturnExport
from madoguchi.programs.models import Program
from madoguchi.registry.importing.fields import TARGET_LIST_HEADER
from madoguchi.registry.models import Child, Guardian, Household

TARGET_COLUMNS = TARGET_LIST_HEADER
CASE_COLUMNS = (
    "受付番号",
    "受付方法",
    "受付日時",
    "世帯番号",
    "架電者氏名",
    "架電者氏名カナ",
    "架電者の続柄",
    "児童氏名",
    "児童生年月日",
    "連絡先電話番号",
    "連絡先メールアドレス",
    "本人確認",
    "分類",
    "問い合わせ内容",
    "対応内容",
    "状態",
    "優先度",
    "担当者",
    "区確認依頼日時",
    "区回答期限",
    "区回答日時",
    "完了日時",
)
TIMELINE_COLUMNS = (
    "受付番号",
    "日時",
    "種別",
    "本文",
    "変更前の状態",
    "変更後の状態",
    "記入者",
    "所属",
    "訂正対象",
)

# An XLSX sheet holds 1,048,576 rows: longer tables continue on further sheets.
SHEET_ROWS = 1_000_000


def _date(value: datetime.date | None) -> str:
    return value.isoformat() if value else ""


def _moment(value: datetime.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def target_rows(program: Program) -> Iterator[list[str]]:
    households = Household.objects.filter(program=program, removed_by_import__isnull=True).order_by("number")
    for household in households.iterator(chunk_size=2000):
        guardian = Guardian.objects.filter(household=household).order_by("id").first()
        for child in Child.objects.filter(household=household).order_by("id"):
            yield [
                household.number,
                child.name,
                child.kana,
                _date(child.dob),
                guardian.name if guardian else "",
                guardian.kana if guardian else "",
                _date(guardian.dob) if guardian else "",
                household.postal_code,
                household.address,
                guardian.phone if guardian else "",
                guardian.email if guardian else "",
            ]


def case_rows(program: Program) -> Iterator[list[str]]:
    cases = (
        Case.objects.filter(program=program)
        .select_related("household", "category", "assignee")
        .order_by("received_at", "id")
    )
    for case in cases.iterator(chunk_size=2000):
        yield [
            case.receipt_number,
            case.get_channel_display(),
            _moment(case.received_at),
            case.household.number if case.household else "",
            case.caller_name,
            case.caller_kana,
            case.get_caller_relation_display(),
            case.child_name,
            _date(case.child_dob),
            case.contact_phone,
            case.contact_email,
            case.get_verification_display(),
            case.category.name if case.category else "",
            case.inquiry,
            case.response,
            case.get_status_display(),
            case.get_priority_display(),
            str(case.assignee) if case.assignee else "",
            _moment(case.escalated_at),
            _date(case.ward_due_on),
            _moment(case.ward_answered_at),
            _moment(case.closed_at),
        ]


def timeline_rows(program: Program) -> Iterator[list[str]]:
    entries = (
        TimelineEntry.objects.filter(case__program=program)
        .select_related("case")
        .order_by("case__received_at", "case_id", "created_at", "id")
    )
    for entry in entries.iterator(chunk_size=5000):
        yield [
            entry.case.receipt_number,
            _moment(entry.created_at),
            entry.get_kind_display(),
            entry.body,
            entry.get_from_status_display() if entry.from_status else "",
            entry.get_to_status_display() if entry.to_status else "",
            entry.author_name,
            entry.author_organisation,
            str(entry.corrects_id or ""),
        ]


@dataclass
class ReturnFile:
    name: str
    rows: int
    size: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "rows": self.rows, "bytes": self.size, "sha256": self.sha256}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _safe(row: Sequence[str]) -> list[str]:
    return [spreadsheet_safe(cell) if isinstance(cell, str) else cell for cell in row]


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> ReturnFile:
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(_safe(row))
            count += 1
    return ReturnFile(path.name, count, path.stat().st_size, _sha256(path))


def write_xlsx(
    path: Path, program: Program, tables: Sequence[tuple[str, Sequence[str], Iterable[Sequence[str]]]]
) -> ReturnFile:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    total = 0
    for title, columns, rows in tables:
        sheet = workbook.create_sheet(title)
        sheet.append(list(columns))
        in_sheet, part = 0, 1
        for row in rows:
            if in_sheet >= SHEET_ROWS:
                part += 1
                sheet = workbook.create_sheet(f"{title}{part}")
                sheet.append(list(columns))
                in_sheet = 0
            sheet.append(_safe(row))
            in_sheet += 1
            total += 1
    workbook.save(path)
    return ReturnFile(path.name, total, path.stat().st_size, _sha256(path))


@dataclass
class ReturnResult:
    directory: Path
    files: list[ReturnFile]
    manifest_sha256: str
    export: ReturnExport

    @property
    def rows(self) -> int:
        return sum(item.rows for item in self.files if item.name.endswith(".csv"))


def return_export(*, program: Program, actor: Any, out_dir: Path, via: str = "command") -> ReturnResult:
    """Write the return files into `out_dir` (created if need be) and record the return."""
    from madoguchi.lifecycle.services import LifecycleRefused, require_ward_manager

    require_ward_manager(actor, program)
    erasure = ProgramErasure.objects.filter(program=program).first()
    if erasure is not None and erasure.is_under_way:
        raise LifecycleRefused("この事業のデータは消去中または消去済みのため、返還できません。")
    out_dir.mkdir(parents=True, exist_ok=True)
    now = timezone.now()
    # One read transaction, so the files agree with each other (a snapshot on PostgreSQL).
    with transaction.atomic():
        files = [
            write_csv(out_dir / "targets.csv", TARGET_COLUMNS, target_rows(program)),
            write_csv(out_dir / "cases.csv", CASE_COLUMNS, case_rows(program)),
            write_csv(out_dir / "timeline.csv", TIMELINE_COLUMNS, timeline_rows(program)),
        ]
        files.append(
            write_xlsx(
                out_dir / "return.xlsx",
                program,
                [
                    ("対象者一覧", TARGET_COLUMNS, target_rows(program)),
                    ("問い合わせ", CASE_COLUMNS, case_rows(program)),
                    ("対応記録", TIMELINE_COLUMNS, timeline_rows(program)),
                ],
            )
        )
    context = {
        "program": program,
        "actor": actor,
        "at": now,
        "files": files,
    }
    pdf = render_pdf("lifecycle/return_inventory_pdf.html", context)
    inventory = out_dir / "return-inventory.pdf"
    inventory.write_bytes(pdf)
    files.append(ReturnFile(inventory.name, 0, len(pdf), hashlib.sha256(pdf).hexdigest()))
    manifest = {
        "program": program.code,
        "program_name": program.name,
        "recording_period": [program.recording_start.isoformat(), program.recording_end.isoformat()],
        "generated_at": now.astimezone(datetime.UTC).isoformat(),
        "format": "madoguchi-return/1",
        "files": [item.as_dict() for item in files],
    }
    manifest_bytes = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
    (out_dir / "manifest.json").write_bytes(manifest_bytes)
    manifest_sha256 = hashlib.sha256(manifest_bytes).hexdigest()
    rows = {item.name: item.rows for item in files}
    with transaction.atomic():
        event = record(
            action=Action.EXPORT,
            actor=actor,
            program_id=program.pk,
            object_type="program_return",
            object_id=program.code,
            details={
                "via": via,
                "rows": {
                    "target_list": rows["targets.csv"],
                    "case_list": rows["cases.csv"],
                    "timeline_list": rows["timeline.csv"],
                },
                "files": len(files),
                "manifest_sha256": manifest_sha256,
            },
        )
        export = ReturnExport(
            program=program,
            created_at=now,
            actor=actor,
            manifest=manifest,
            manifest_sha256=manifest_sha256,
            via=via,
        )
        export.full_clean()
        export.save()
        record_in_ledger(
            kind=LedgerKind.RETURN,
            program=program,
            actor=actor,
            what="対象者名簿・問い合わせ・対応記録（返還）",
            purpose="事業終了に伴う区への返還",
            row_count=sum(rows[name] for name in ("targets.csv", "cases.csv", "timeline.csv")),
            file_name="manifest.json",
            sha256=manifest_sha256,
            audit_event=event,
            details={"files": len(files)},
        )
    return ReturnResult(out_dir, files, manifest_sha256, export)
