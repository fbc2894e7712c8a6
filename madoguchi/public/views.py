"""The public inquiry form: input → confirmation → receipt, in three requests.

The input is posted and answered with the confirmation page itself (no redirect: one request
less per inquiry); the draft is stored in the session as before, and `confirm/`, the
confirmation's own address, renders the same page from it for the language switch, the back
button and a reload. A small script (`public/inquiry.js`) puts that address in the address
bar, so a reload asks for `confirm/` instead of posting the input again. The confirmation is
sent with its idempotency token and answered with the receipt itself. The resident's session
carries the draft (what was typed, as typed) between the steps, the idempotency token made
with each draft, and the receipts already given (by an opaque value derived from the token).
Nothing personal is ever put in a URL.
"""

from __future__ import annotations

import datetime
import functools
import logging
import secrets
from collections.abc import Callable
from typing import Any, Literal

from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext
from django.views.decorators.http import require_GET, require_http_methods

from madoguchi.cases.models import Category
from madoguchi.cases.services import RecordingClosed
from madoguchi.lib.dates import format_date_ja
from madoguchi.programs.models import Program
from madoguchi.public import ratelimit
from madoguchi.public.forms import InquiryForm, still_valid, storable
from madoguchi.public.pages import render_page
from madoguchi.public.selectors import (
    FormProgram,
    form_program,
    is_accepting,
    open_programs,
    program_for_write,
)
from madoguchi.public.services import send_receipt_mail, submit_inquiry
from madoguchi.public.sessions import StorageUnavailable

logger = logging.getLogger(__name__)

DRAFT = "public_inquiry_draft"
DONE = "public_inquiry_done"
HONEYPOT = "website"
# Receipts a session remembers (a resident may send a few inquiries in one visit).
KEEP_RECEIPTS = 5

View = Callable[..., HttpResponse]


def unavailable(request: HttpRequest) -> HttpResponse:
    """The calm 503 page: rendered without the session, the user or any query."""
    body = render_to_string(
        "public/unavailable.html",
        {"request_id": getattr(request, "request_id", ""), "LANGUAGE_CODE": get_language()},
    )
    response = HttpResponse(body, status=503)
    response["Retry-After"] = "120"
    return response


def database_guard(view: View) -> View:
    """A database failure becomes a calm 503 page with the request id, never a half record.

    `create_case` runs in one transaction, so a failure leaves nothing behind; the page is
    rendered without the session, the user or any query, because the database is what failed.
    The residents' session store (Redis) not answering gets the same page.
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
            return unavailable(request)
        except StorageUnavailable as error:
            logger.error("public form: session store unavailable (%s)", type(error.__cause__).__name__)
            return unavailable(request)

    return wrapper


def _form_program(code: str) -> FormProgram:
    entry = form_program(code)
    if entry is None:
        raise Http404
    return entry


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


def _category(entry: FormProgram, cleaned: Any) -> Category | Literal[False] | None:
    """The stored draft's category (None: "not sure"); False when it cannot be shown as is."""
    if not isinstance(cleaned, dict):
        return False
    if not cleaned.get("category"):
        return None
    for category in entry.categories:
        if str(category.pk) == cleaned["category"]:
            return category
    return False


def _done_key(token: str) -> str:
    # The session remembers a receipt under this key: both requests of a double click, or a
    # reload of the receipt, find it from the token they send.
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


def _form_page(request: HttpRequest, entry: FormProgram, form: InquiryForm) -> HttpResponse:
    context = {"program": entry.program, "form": form, "honeypot": HONEYPOT}
    return render(request, "public/form.html", context)


def _empty_form_page(request: HttpRequest, entry: FormProgram) -> HttpResponse:
    """The input page as every new resident gets it: the program's, not the resident's (a page
    with the resident's values, a draft or errors, is always rendered afresh)."""

    def context() -> dict[str, Any]:
        form = InquiryForm(program=entry.program, categories=entry.categories)
        return {"program": entry.program, "form": form, "honeypot": HONEYPOT}

    return render_page(request, entry, "public/form.html", context)


def _switch_language(request: HttpRequest, program: Program, language: str) -> HttpResponse:
    """Keep what the resident typed (unchecked, as typed) and show the form in `language`.

    The values become the draft the form page is filled from; nothing is checked or stored
    beyond the resident's own session, and the confirmation checks the draft as usual.
    """
    response = redirect("public:form", code=program.code)
    if language not in dict(settings.LANGUAGES):
        return response
    fields = [name for name in InquiryForm.base_fields if name != "consent"]
    data = {name: request.POST.get(name, "")[:MAX_TYPED_LENGTH] for name in fields}
    if request.POST.get("consent"):
        data["consent"] = "on"
    request.session[DRAFT] = {"program": program.code, "data": data}
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


# A switch keeps what was typed without checking it; a value longer than any field allows is
# cut rather than kept whole in the session.
MAX_TYPED_LENGTH = 4000


@require_http_methods(["GET", "POST"])
@database_guard
def inquiry_form(request: HttpRequest, code: str) -> HttpResponse:
    entry = _form_program(code)
    program = entry.program
    if not is_accepting(program):
        return _closed(request, program)
    if request.method == "POST":
        if not ratelimit.hit(ratelimit.post_limit(), request.client_ip):  # type: ignore[attr-defined]
            return _too_many(request, ratelimit.post_limit())
        if request.POST.get(HONEYPOT):
            # Only a program fills a field nobody can see or reach: answer politely, keep nothing.
            return render(request, "public/neutral.html", {"program": program})
        if request.POST.get("switch_language"):
            return _switch_language(request, program, request.POST["switch_language"])
        form = InquiryForm(request.POST, program=program, categories=entry.categories)
        if form.is_valid():
            fields = [name for name in form.fields if name != "consent"]
            data = {name: request.POST.get(name, "") for name in fields}
            data["consent"] = "on"
            stored = request.session[DRAFT] = {
                "program": program.code,
                "data": data,  # as typed, for the form if the resident goes back to it
                "cleaned": storable(form.cleaned_data),  # as checked, for the confirmation
                # The idempotency token of this draft: each new draft has its own, so a
                # confirmation tab of an older draft can no longer send.
                "token": secrets.token_urlsafe(32),
            }
            # The answer is the confirmation itself (no redirect to `confirm/`).
            return _confirmation(request, entry, stored)
        return _form_page(request, entry, form)
    draft = _draft(request, program)
    if draft is None and not request.META.get("QUERY_STRING"):
        return _empty_form_page(request, entry)
    form = InquiryForm(initial=draft["data"] if draft else None, program=program, categories=entry.categories)
    return _form_page(request, entry, form)


@require_GET
@database_guard
def confirm(request: HttpRequest, code: str) -> HttpResponse:
    entry = _form_program(code)
    program = entry.program
    if not is_accepting(program):
        return _closed(request, program)
    draft = _draft(request, program)
    if draft is None:
        return redirect("public:form", code=program.code)
    return _confirmation(request, entry, draft)


def _confirmation(request: HttpRequest, entry: FormProgram, draft: dict[str, Any]) -> HttpResponse:
    """The confirmation of `draft`: the answer to the input's POST, and the page of `confirm/`.

    Whichever request it answers, the page is the same and says `confirm/` is its address (the
    language switch returns there; the script shows it in the address bar).
    """
    program = entry.program
    cleaned = draft.get("cleaned")
    category = _category(entry, cleaned)
    if category is False:
        # The category was withdrawn since (or the draft predates the checked copy): check the
        # draft again and show the form with what to fix.
        form = InquiryForm(draft["data"], program=program, categories=entry.categories)
        if not form.is_valid():
            return _form_page(request, entry, form)
        cleaned = draft["cleaned"] = storable(form.cleaned_data)
        category = form.cleaned_data.get("category")
        request.session.modified = True
    assert isinstance(cleaned, dict)
    if not draft.get("token"):
        draft["token"] = secrets.token_urlsafe(32)
        request.session.modified = True
    # The draft was checked when it was posted and is checked again when it is sent; in
    # between it is only shown.
    none = gettext("（入力なし）")
    shown = {
        "guardian_name": cleaned["guardian_name"],
        "guardian_kana": cleaned["guardian_kana"],
        "child_name": cleaned["child_name"],
        "dob": _display_date(datetime.date.fromisoformat(cleaned["child_dob"])),
        "phone": cleaned["phone"] or none,
        "email": cleaned["email"] or none,
        "category": category.name if category else gettext("わからない・その他"),
        "message": cleaned["message"],
        "token": draft["token"],
    }
    labels = {name: field.label for name, field in InquiryForm.base_fields.items()}
    return render_page(
        request,
        entry,
        "public/confirm.html",
        {"program": program, "labels": labels},
        values=shown,
        address=reverse("public:confirm", kwargs={"code": program.code}),
    )


@require_http_methods(["GET", "POST"])
@database_guard
def submit(request: HttpRequest, code: str) -> HttpResponse:
    entry = _form_program(code)
    if request.method == "GET":
        # The receipt page's own address (its language switch comes back here, and so does
        # a reload from the address bar): this session's latest receipt, else the form.
        latest = [item for item in (request.session.get(DONE) or {}).values() if item.get("program") == code]
        if not latest:
            return redirect("public:form", code=code)
        return _receipt(request, entry, latest[-1])
    token = request.POST.get("token", "")
    done: dict[str, Any] = request.session.get(DONE) or {}
    key = _done_key(token) if token else ""
    if key and key in done and done[key].get("program") == code:
        # The second request of a double click, a reload of the receipt page, or the
        # confirmation page sent again: the same receipt, nothing new.
        return _receipt(request, entry, done[key])
    # The write checks the period on the program as the database holds it now, not on this
    # process's copy (which may be a few seconds old).
    checked = program_for_write(code)
    if checked is None:
        raise Http404
    entry, program = checked, checked.program
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
    cleaned = still_valid(draft.get("cleaned"), program=program, categories=entry.categories)
    if cleaned is None:
        form = InquiryForm(draft["data"], program=program, categories=entry.categories)
        if not form.is_valid():
            return _form_page(request, entry, form)
        cleaned = form.cleaned_data
    try:
        case = submit_inquiry(program=program, cleaned=cleaned, idempotency_key=token)
    except RecordingClosed:
        return _closed(request, program)
    # The case is committed: only now is the number shown (and mailed).
    mailed = False
    if cleaned.get("email"):
        mailed = send_receipt_mail(
            program=program, receipt_number=case.receipt_number, address=cleaned["email"]
        )
    done[key] = {"receipt": case.receipt_number, "program": program.code, "mailed": mailed}
    while len(done) > KEEP_RECEIPTS:
        done.pop(next(iter(done)))
    request.session[DONE] = done
    request.session.pop(DRAFT, None)
    # The receipt is the answer to this POST (no redirect to a page of its own: one request
    # less per submission). A reload sends the same token again and gets the same receipt.
    request.public_case_committed = True  # type: ignore[attr-defined]
    return _receipt(request, entry, done[key])


def _receipt(request: HttpRequest, entry: FormProgram, done: dict[str, Any]) -> HttpResponse:
    mailed = bool(done["mailed"])
    return render_page(
        request,
        entry,
        "public/done.html",
        {"program": entry.program, "mailed": mailed},
        values={"receipt_number": done["receipt"]},
        variant=f"mailed={mailed}",
    )
