"""Disclosure (開示, APPI §33): everything held about one household, as PDF and as CSV.

What is held: the list row (the household, its guardians and children), its cases with their
timelines, and who viewed or changed any of them and when (the audit events naming the
household or one of its cases). The file is made in memory, its SHA-256 taken, and the act is
an EXPORT audit event plus a DISCLOSURE entry in the ledger, in one transaction, before the
file leaves. The ward manager of the program's own ward produces it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.audit.models import Action, AuditEvent
from madoguchi.audit.services import record
from madoguchi.cases.models import Case, TimelineEntry
from madoguchi.core.pdf import render_pdf
from madoguchi.ledger.models import LedgerKind
from madoguchi.ledger.services import record_in_ledger
from madoguchi.lib.csvsafe import safe_csv_text
from madoguchi.registry.models import Child, Guardian, Household

CSV_HEADER = ["区分", "番号", "日時", "項目", "内容"]
FORMATS = ("pdf", "csv")


@dataclass
class CaseRecord:
    case: Case
    timeline: list[TimelineEntry]


@dataclass
class Holding:
    """What the program holds about one household."""

    household: Household
    guardians: list[Guardian]
    children: list[Child]
    cases: list[CaseRecord]
    events: list[AuditEvent]
    made_at: Any = field(default_factory=timezone.now)


def _local(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def collect(household: Household) -> Holding:
    guardians = list(household.guardians.order_by("pk"))
    cases = list(
        Case.objects.filter(Q(household=household) | Q(caller_person__in=guardians))
        .select_related("category")
        .distinct()
        .order_by("received_at", "pk")
    )
    timelines: dict[int, list[TimelineEntry]] = {case.pk: [] for case in cases}
    for entry in TimelineEntry.objects.filter(case__in=cases).order_by("created_at", "pk"):
        timelines[entry.case_id].append(entry)
    # The household is named by its public id in the trail (older events by its key, mapped).
    household_ids = [str(household.public_id), str(household.pk)]
    events = list(
        AuditEvent.objects.filter(
            Q(object_type="household", object_id__in=household_ids)
            | Q(object_type="case", object_id__in=[str(case.public_id) for case in cases])
        ).order_by("seq")
    )
    return Holding(
        household=household,
        guardians=guardians,
        children=list(household.children.order_by("dob", "pk")),
        cases=[CaseRecord(case=case, timeline=timelines[case.pk]) for case in cases],
        events=events,
    )


def csv_rows(holding: Holding) -> list[list[str]]:
    household = holding.household
    rows: list[list[str]] = [
        ["名簿", household.number, "", "世帯番号", household.number],
        ["名簿", household.number, "", "郵便番号", household.postal_code],
        ["名簿", household.number, "", "住所", household.address],
    ]
    for n, guardian in enumerate(holding.guardians, start=1):
        label = f"保護者{n}"
        rows += [
            [label, household.number, "", "氏名", guardian.name],
            [label, household.number, "", "氏名カナ", guardian.kana],
            [label, household.number, "", "生年月日", guardian.dob.isoformat()],
            [label, household.number, "", "電話番号", guardian.phone],
            [label, household.number, "", "メールアドレス", guardian.email],
        ]
    for n, child in enumerate(holding.children, start=1):
        label = f"児童{n}"
        rows += [
            [label, household.number, "", "氏名", child.name],
            [label, household.number, "", "氏名カナ", child.kana],
            [label, household.number, "", "生年月日", child.dob.isoformat()],
        ]
    if household.suspended_at:
        rows.append(
            ["利用停止", household.number, _local(household.suspended_at), "理由", household.suspended_reason]
        )
    for record_ in holding.cases:
        case = record_.case
        at = _local(case.received_at)
        number = case.receipt_number
        for name, value in (
            ("受付方法", case.get_channel_display()),
            ("状態", case.get_status_display()),
            ("分類", case.category.name if case.category else ""),
            ("架電者氏名", case.caller_name),
            ("架電者氏名カナ", case.caller_kana),
            ("児童氏名", case.child_name),
            ("児童生年月日", case.child_dob.isoformat() if case.child_dob else ""),
            ("連絡先電話番号", case.contact_phone),
            ("連絡先メールアドレス", case.contact_email),
            ("問い合わせ内容", case.inquiry),
            ("対応内容", case.response),
        ):
            rows.append(["問い合わせ", number, at, name, value])
        for entry in record_.timeline:
            who = entry.author_name or ""
            rows.append(
                [
                    "経過",
                    number,
                    _local(entry.created_at),
                    entry.get_kind_display(),
                    f"{entry.body}（{who}）" if who else entry.body,
                ]
            )
    for event in holding.events:
        who = event.actor_name or event.actor_username or _("システム")
        where = f"{who}（{event.actor_organisation}）" if event.actor_organisation else who
        rows.append(["閲覧・操作の記録", str(event.seq), _local(event.at), event.get_action_display(), where])
    return rows


def render_csv(holding: Holding) -> tuple[bytes, int]:
    rows = csv_rows(holding)
    return safe_csv_text(CSV_HEADER, rows).encode("utf-8"), len(rows)


def render_disclosure_pdf(holding: Holding) -> tuple[bytes, int]:
    context = {"h": holding, "made_at": _local(holding.made_at)}
    return render_pdf("ledger/disclosure_pdf.html", context), len(csv_rows(holding))


@dataclass
class Disclosure:
    content: bytes
    file_name: str
    content_type: str
    row_count: int
    sha256: str


@transaction.atomic
def disclose(*, household: Household, actor: Any, fmt: str) -> Disclosure:
    """Make the disclosure file, audit it and write it in the ledger (callers check the role)."""
    if fmt not in FORMATS:
        raise ValueError(fmt)
    holding = collect(household)
    content, row_count = render_disclosure_pdf(holding) if fmt == "pdf" else render_csv(holding)
    digest = hashlib.sha256(content).hexdigest()
    stamp = timezone.localtime(holding.made_at).strftime("%Y%m%d-%H%M%S")
    file_name = f"disclosure-{household.program.code}-{stamp}.{fmt}"
    event = record(
        action=Action.EXPORT,
        actor=actor,
        program_id=household.program_id,
        object_type="household",
        object_id=str(household.public_id),
        details={
            "purpose": "disclosure",
            "format": fmt,
            "count": row_count,
            "cases": len(holding.cases),
            "events": len(holding.events),
            "sha256": digest,
        },
    )
    record_in_ledger(
        kind=LedgerKind.DISCLOSURE,
        program=household.program,
        actor=actor,
        what=_("保有個人情報の開示（1世帯、%(fmt)s）") % {"fmt": fmt.upper()},
        purpose=_("本人からの開示請求への対応"),
        row_count=row_count,
        file_name=file_name,
        sha256=digest,
        audit_event=event,
        details={"cases": len(holding.cases), "events": len(holding.events), "format": fmt},
    )
    content_type = "application/pdf" if fmt == "pdf" else "text/csv; charset=utf-8"
    return Disclosure(content, file_name, content_type, row_count, digest)
