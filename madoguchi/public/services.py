"""What the public form writes: one case through `cases.services.create_case`, then the receipt mail."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.template.loader import render_to_string

from madoguchi.cases.models import Case, Channel
from madoguchi.cases.services import CallerDetails, create_case
from madoguchi.programs.models import Program

logger = logging.getLogger(__name__)

MAIL_TIMEOUT_SECONDS = 10


def submit_inquiry(*, program: Program, cleaned: dict[str, Any], idempotency_key: str) -> Case:
    """Create the resident's case (committed when this returns) and nothing else.

    `actor=None` marks the public form. No household is linked: the identification engine
    proposes candidates and an operator confirms one. A repeated `idempotency_key` returns
    the case already created, so a double click or a reload makes one case.
    """
    return create_case(
        program=program,
        channel=Channel.FORM,
        actor=None,
        inquiry=cleaned["message"],
        category=cleaned.get("category"),
        caller=CallerDetails(
            name=cleaned["guardian_name"],
            kana=cleaned["guardian_kana"],
            child_name=cleaned["child_name"],
            child_dob=cleaned["child_dob"],
        ),
        contact_phone=cleaned.get("phone") or "",
        contact_email=cleaned.get("email") or "",
        idempotency_key=idempotency_key,
    )


def send_receipt_mail(*, program: Program, receipt_number: str, address: str) -> bool:
    """Mail the receipt number (and nothing personal) to the address the resident gave.

    Called after the case is committed. A failure is logged without the address and does
    not undo anything: the number is on the resident's screen already.
    """
    context = {"program_name": program.name, "receipt_number": receipt_number}
    subject = render_to_string("public/mail/receipt_subject.txt", context).strip()
    body = render_to_string("public/mail/receipt_body.txt", context)
    try:
        # A bounded wait: the resident is looking at a spinner until the mail server answers.
        connection = get_connection(timeout=MAIL_TIMEOUT_SECONDS)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address], connection=connection)
    except Exception:
        logger.warning("receipt mail not sent for %s", receipt_number, exc_info=True)
        return False
    return True
