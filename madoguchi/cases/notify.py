"""Notifications: a row in the app and an e-mail that holds only the receipt number and a link.

The e-mail leaves after the transaction commits; a mail failure is logged (without personal
items) and never undoes the case change (T-FA-10).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse

from madoguchi.accounts.models import Role
from madoguchi.cases.models import Case, Notification, TimelineEntry

logger = logging.getLogger(__name__)

SUBJECTS = {
    Notification.Kind.ESCALATED: "区確認依頼",
    Notification.Kind.ANSWERED: "区回答あり",
    Notification.Kind.ASSIGNED: "担当割当",
}


def ward_recipients(case: Case) -> list[Any]:
    return list(
        case.program.members.filter(
            organisation_id=case.program.ward_id,
            role__in=[Role.WARD_STAFF, Role.WARD_MANAGER],
            is_active=True,
        )
    )


def contractor_recipients(case: Case) -> list[Any]:
    """Who waits for the answer: the assignee, else whoever asked the question."""
    if case.assignee_id and case.assignee is not None and case.assignee.is_active:
        return [case.assignee]
    asked = (
        TimelineEntry.objects.filter(case=case, kind=TimelineEntry.Kind.ESCALATION, author__isnull=False)
        .select_related("author")
        .order_by("-created_at", "-id")
        .first()
    )
    return [asked.author] if asked is not None and asked.author is not None else []


def case_url(case: Case) -> str:
    return (settings.SITE_URL or "").rstrip("/") + reverse("cases:detail", args=[case.public_id])


def email_text(case: Case, kind: str) -> tuple[str, str]:
    what = SUBJECTS[Notification.Kind(kind)]
    subject = f"[窓口] {what} {case.receipt_number}"
    body = (
        f"受付番号 {case.receipt_number} の問い合わせについてお知らせがあります（{what}）。\n"
        "内容はシステムにログインして確認してください。\n\n"
        f"{case_url(case)}\n"
    )
    return subject, body


def notify(*, case: Case, users: Iterable[Any], kind: str) -> None:
    recipients = [user for user in users if user is not None]
    Notification.objects.bulk_create(Notification(user=user, case=case, kind=kind) for user in recipients)
    addresses = [user.email for user in recipients if user.email]
    if not addresses:
        return
    subject, body = email_text(case, kind)

    def send() -> None:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, addresses)
        except Exception:
            # Only the receipt number: the address list is personal data of staff.
            logger.exception("notification mail failed for case %s", case.receipt_number)

    transaction.on_commit(send)
