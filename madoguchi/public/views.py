"""The public inquiry form: input → confirmation → completion (POST/redirect/GET at each step).

The session carries the draft (what the resident typed, as typed) between the steps, the
idempotency token made when the confirmation is shown, and the receipt numbers already
given. Nothing personal is ever put in a URL: the completion page is addressed by an opaque
value derived from the token.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from madoguchi.cases.services import RecordingClosed
from madoguchi.lib.dates import format_date_ja
from madoguchi.programs.models import Program
from madoguchi.public import ratelimit
from madoguchi.public.forms import InquiryForm
from madoguchi.public.selectors import is_accepting, open_programs
from madoguchi.public.services import send_receipt_mail, submit_inquiry

logger = logging.getLogger(__name__)

DRAFT = "public_inquiry_draft"
DONE = "public_inquiry_done"
HONEYPOT = "website"
# Receipts a session remembers (a resident may send a few inquiries in one visit).
KEEP_RECEIPTS = 5

View = Callable[..., HttpResponse]


def database_guard(view: View) -> View:
    """A database failure becomes a calm 503 page with the request id, never a half record.

    `create_case` runs in one transaction, so a failure leaves nothing behind; the page is
    rendered without the session, the user or any query, because the database is what failed.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DatabaseError as error:
            # Class and SQLSTATE only: a PostgreSQL message can quote the failing row
            # ("Failing row contains (...)"), which holds the resident's personal items.
            sqlstate = getattr(error.__cause__, "sqlstate", None) or "-"
            logger.error(
                "public form: database unavailable (%s, SQLSTATE %s)", type(error).__name__, sqlstate
            )
            body = render_to_string(
                "public/unavailable.html",
                {"request_id": getattr(request, "request_id", ""), "LANGUAGE_CODE": get_language()},
            )
            response = HttpResponse(body, status=503)
            response["Retry-After"] = "120"
            return response

    return wrapper


def _program(code: str, *, with_organisations: bool = False) -> Program:
    # Only the input page names the ward and the contractor (the purpose of use); the other
    # steps skip the join, which costs more to build than to run.
    queryset = Program.objects.all()
    if with_organisations:
        queryset = queryset.select_related("ward", "contractor")
    try:
        return queryset.get(code=code)
    except Program.DoesNotExist:
        raise Http404 from None


def _closed(request: HttpRequest, program: Program) -> HttpResponse:
    today = timezone.localdate()
    context = {"program": program, "not_yet": today < program.recording_start}
    return render(request, "public/closed.html", context, status=200)


def _too_many(request: HttpRequest, limit: ratelimit.Limit) -> HttpResponse:
    response = render(request, "public/too_many.html", {"minutes": max(1, limit.window // 60)}, status=429)
    response["Retry-After"] = str(ratelimit.retry_after(limit))
    return response


def _draft(request: HttpRequest, program: Program) -> dict[str, Any] | None:
    draft = request.session.get(DRAFT)
    if not isinstance(draft, dict) or draft.get("program") != program.code:
        return None
    return draft


def _done_key(token: str) -> str:
    # Both requests of a double click derive the same page address from the same token.
    return salted_hmac("madoguchi.public.done", token).hexdigest()[:32]


def _display_date(day: Any) -> str:
    if (get_language() or "ja").startswith("ja"):
        return format_date_ja(day)
    return date_format(day, "DATE_FORMAT")


@require_GET
@database_guard
def index(request: HttpRequest) -> HttpResponse:
    programs = open_programs()
    if len(programs) == 1:
        return redirect("public:form", code=programs[0].code)
    return render(request, "public/index.html", {"programs": programs})


@require_http_methods(["GET", "POST"])
@database_guard
def inquiry_form(request: HttpRequest, code: str) -> HttpResponse:
    program = _program(code, with_organisations=True)
    if not is_accepting(program):
        return _closed(request, program)
    if request.method == "POST":
        if not ratelimit.hit(ratelimit.post_limit(), request.client_ip):  # type: ignore[attr-defined]
            return _too_many(request, ratelimit.post_limit())
        if request.POST.get(HONEYPOT):
            # Only a program fills a field nobody can see or reach: answer politely, keep nothing.
            return render(request, "public/neutral.html", {"program": program})
        form = InquiryForm(request.POST, program=program)
        if form.is_valid():
            fields = [name for name in form.fields if name != "consent"]
            data = {name: request.POST.get(name, "") for name in fields}
            data["consent"] = "on"
            request.session[DRAFT] = {"program": program.code, "data": data, "token": None}
            return redirect("public:confirm", code=program.code)
    else:
        draft = _draft(request, program)
        form = InquiryForm(initial=draft["data"] if draft else None, program=program)
    return render(request, "public/form.html", {"program": program, "form": form, "honeypot": HONEYPOT})


@require_GET
@database_guard
def confirm(request: HttpRequest, code: str) -> HttpResponse:
    program = _program(code)
    if not is_accepting(program):
        return _closed(request, program)
    draft = _draft(request, program)
    if draft is None:
        return redirect("public:form", code=program.code)
    form = InquiryForm(draft["data"], program=program)
    if not form.is_valid():
        # Something changed since (a category withdrawn, a day passed): back to the form.
        return render(request, "public/form.html", {"program": program, "form": form, "honeypot": HONEYPOT})
    if not draft.get("token"):
        draft["token"] = secrets.token_urlsafe(32)
        request.session.modified = True
    return render(
        request,
        "public/confirm.html",
        {
            "program": program,
            "form": form,
            "token": draft["token"],
            "dob": _display_date(form.cleaned_data["child_dob"]),
        },
    )


@require_POST
@database_guard
def submit(request: HttpRequest, code: str) -> HttpResponse:
    program = _program(code)
    token = request.POST.get("token", "")
    done: dict[str, Any] = request.session.get(DONE) or {}
    key = _done_key(token) if token else ""
    if key and key in done:
        # The second request of a double click, or the confirmation page sent again.
        return redirect("public:done", code=program.code, key=key)
    if not is_accepting(program):
        return _closed(request, program)
    draft = _draft(request, program)
    if draft is None:
        return render(request, "public/expired.html", {"program": program}, status=400)
    if not token or not secrets.compare_digest(token, draft.get("token") or ""):
        # A stale confirmation tab: show the confirmation of what the session holds now.
        return redirect("public:confirm", code=program.code)
    limit = ratelimit.submission_limit()
    if not ratelimit.hit(limit, request.client_ip):  # type: ignore[attr-defined]
        return _too_many(request, limit)
    form = InquiryForm(draft["data"], program=program)
    if not form.is_valid():
        return render(request, "public/form.html", {"program": program, "form": form, "honeypot": HONEYPOT})
    try:
        case = submit_inquiry(program=program, cleaned=form.cleaned_data, idempotency_key=token)
    except RecordingClosed:
        return _closed(request, program)
    # The case is committed: only now is the number shown (and mailed).
    mailed = False
    if form.cleaned_data.get("email"):
        mailed = send_receipt_mail(
            program=program, receipt_number=case.receipt_number, address=form.cleaned_data["email"]
        )
    done[key] = {"receipt": case.receipt_number, "program": program.code, "mailed": mailed}
    while len(done) > KEEP_RECEIPTS:
        done.pop(next(iter(done)))
    request.session[DONE] = done
    request.session.pop(DRAFT, None)
    return redirect("public:done", code=program.code, key=key)


@require_GET
@database_guard
def done_page(request: HttpRequest, code: str, key: str) -> HttpResponse:
    program = _program(code)
    done = (request.session.get(DONE) or {}).get(key)
    if not done or done.get("program") != program.code:
        raise Http404
    return render(
        request,
        "public/done.html",
        {"program": program, "receipt_number": done["receipt"], "mailed": done["mailed"]},
    )
