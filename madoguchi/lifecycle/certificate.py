"""The 消去証明書: a PDF stored with the erasure, its SHA-256 sealed in the audit chain and the ledger."""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

from django.conf import settings
from django.utils import timezone

from madoguchi.core.pdf import render_pdf
from madoguchi.lifecycle.erasure import STEPS
from madoguchi.lifecycle.models import ProgramErasure


def certificate_pdf(erasure: ProgramErasure, finished_at: datetime.datetime) -> bytes:
    from madoguchi.lifecycle.services import backup_retention_days

    rows = [
        {"table": step.table, "label": step.label, "count": int(erasure.counts.get(step.name, 0))}
        for step in STEPS
    ]
    days = backup_retention_days()
    context = {
        "program": erasure.program,
        "erasure": erasure,
        "rows": rows,
        "physical": erasure.physical,
        "scan": erasure.scan,
        "backup_days": days,
        "backups_until": timezone.localdate(finished_at) + datetime.timedelta(days=days),
        "finished_at": finished_at,
        # Residents' client addresses are hash-chained in the audit events (an approved item,
        # for investigating abuse of the public form): they go with the audit retention.
        "audit_days": settings.AUDIT_RETENTION_DAYS,
        "audit_until": timezone.localdate(finished_at)
        + datetime.timedelta(days=settings.AUDIT_RETENTION_DAYS),
    }
    return render_pdf("lifecycle/certificate_pdf.html", context)


def issue_certificate(*, erasure: ProgramErasure, actor: Any) -> ProgramErasure:
    from madoguchi.lifecycle.services import finish

    pdf = certificate_pdf(erasure, timezone.now())
    return finish(erasure, actor, pdf, hashlib.sha256(pdf).hexdigest())
