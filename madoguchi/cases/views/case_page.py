"""The case page: the record, its timeline, and every change made from it.

Every case is fetched through `selectors.get_case(user, public_id, action)` (or its lighter
`case_to_change` for a change that redirects), which scope with `restrict(...)`: another
program's case answers 404 for GET and POST alike. Every view of a
case and every change leaves an audit event.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from madoguchi.audit.models import Action
from madoguchi.audit.services import record
from madoguchi.cases import selectors, services
from madoguchi.cases.forms import (
    AnswerForm,
    AssignForm,
    AttemptForm,
    CallbackForm,
    CaseEditForm,
    CorrectionForm,
    EscalateForm,
    MergeForm,
    NoteForm,
    TransitionForm,
    UnlinkForm,
    VerificationForm,
)
from madoguchi.cases.identification import can_unlink
from madoguchi.cases.models import (
    CallerRelation,
    Case,
    Channel,
    Notification,
    Status,
    TimelineEntry,
    Verification,
)
from madoguchi.cases.rows_html import case_url, translated
from madoguchi.cases.verification import item_label, program_items
from madoguchi.cases.views._common import (
    _audit_view,
    _expected_version,
    _uid,
)
from madoguchi.core.forms import LazyForm, add_service_errors
from madoguchi.programs.scoping import can, require

# --- the case page ------------------------------------------------------------------------------


def _prefill(case: Case) -> dict[str, str]:
    """What the caller or the web form gave, as the identify panel's search inputs."""
    return {
        "guardian_name": case.caller_name,
        "guardian_kana": case.caller_kana,
        "child_name": case.child_name,
        "child_dob": case.child_dob.strftime("%Y/%m/%d") if case.child_dob else "",
        "phone": case.contact_phone,
        "email": case.contact_email,
    }


def _labelled(entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """Each entry with its kind's and statuses' labels (`kind_label`, `from_status_label`,
    `to_status_label`) and its author's (`author_label`), translated once per page: a
    `get_*_display` call translates every choice of its field each time. `corrected`: a later
    entry corrects it."""
    kinds, statuses = translated(TimelineEntry.Kind), translated(Status)
    web_form = _("問い合わせフォーム")
    corrected = {entry.corrects_id for entry in entries if entry.corrects_id}
    for entry in entries:
        entry.kind_label = kinds.get(entry.kind, entry.kind)  # type: ignore[attr-defined]
        entry.from_status_label = statuses.get(entry.from_status, entry.from_status)  # type: ignore[attr-defined]
        entry.to_status_label = statuses.get(entry.to_status, entry.to_status)  # type: ignore[attr-defined]
        entry.author_label = entry.author_name or web_form  # type: ignore[attr-defined]
        entry.corrected = entry.pk in corrected  # type: ignore[attr-defined]
    return entries


def _labels(case: Case) -> dict[str, str]:
    """The summary's `get_<field>_display()`, one translation each: Django's hashes every
    choice of the field, translating them all, at every call."""
    fields: dict[str, Any] = {
        "status": Status,
        "channel": Channel,
        "verification": Verification,
        "caller_relation": CallerRelation,
    }
    return {
        name: str(translated(choices).get(getattr(case, name), getattr(case, name)))
        for name, choices in fields.items()
    }


def _labelled_related(case: Case, related: selectors.RelatedCases) -> None:
    """The related cases' status labels and links, made once per page: a household with ten
    cases cost a `get_status_display` (which translates every status), two `{% url %}` and a
    `{% blocktranslate %}` per row."""
    statuses = translated(Status)
    detail, link = case_url("cases:detail"), case_url("cases:link", case.public_id)
    for other in [*related.linked, *related.household]:
        other.status_label = statuses.get(other.status, other.status)
        other.url = detail(other.public_id)
        other.link_url = link(other.public_id)
        other.link_label = _("%(number)s を同じ件として関連付ける") % {"number": other.receipt_number}


# Entries whose body is the system's own record (a status, the assignee): not corrected by hand.
UNCORRECTABLE = frozenset(
    {TimelineEntry.Kind.CREATED, TimelineEntry.Kind.STATUS_CHANGE, TimelineEntry.Kind.ASSIGNMENT}
)
# Stand-ins in the correction form rendered once per page: letters and digits (escaping leaves
# them as they are), new in every process, so nothing on the page can be mistaken for them.
_ENTRY_ID = "mdgentry" + secrets.token_hex(8)
_ACTION = "mdgaction" + secrets.token_hex(8)


def _with_corrections(
    request: HttpRequest, case: Case, entries: list[TimelineEntry], correcting_id: int | None, body: str
) -> None:
    """Each correctable entry's correction form (`correction_form`): rendered once with
    stand-ins for the entry and copied, a template render per page instead of one per entry.
    The entry whose correction was refused gets its own, open, with what was typed."""
    correctable = [e for e in entries if e.body and e.kind not in UNCORRECTABLE]
    if not correctable:
        return
    action = reverse("cases:correct", args=[case.public_id, 0])[: -len("0/correct/")]
    # Without the request: a RequestContext would run every context processor again (the
    # navigation's badges, the erasure banner: queries); the form needs only its CSRF token.
    template = get_template("cases/_correction.html")
    token = get_token(request)
    kept = template.render({"entry_id": _ENTRY_ID, "action": _ACTION, "csrf_token": token})
    for entry in correctable:
        if entry.pk == correcting_id:
            html = template.render(
                {
                    "entry_id": entry.pk,
                    "action": f"{action}{entry.pk}/correct/",
                    "body": body,
                    "open": True,
                    "csrf_token": token,
                }
            )
        else:
            html = kept.replace(_ACTION, f"{action}{entry.pk}/correct/").replace(_ENTRY_ID, str(entry.pk))
        entry.correction_form = mark_safe(html)  # type: ignore[attr-defined]  # noqa: S308 - rendered


def _detail_context(request: HttpRequest, case: Case, **extra: Any) -> dict[str, Any]:
    """What the case page shows. The forms are built only when the page shows them (a closed
    case shows none): each is a `LazyForm`, made on the template's first use."""
    entries = _labelled(selectors.timeline(case))
    user: Any = request.user
    editable = can(user, "edit") and not case.is_closed
    recording_open = case.program.is_recording_open()
    edit_form = extra.pop("edit_form", None)
    correcting_id = extra.pop("correcting_id", None)
    correcting_body = extra.pop("correcting_body", "")
    if editable and recording_open:
        _with_corrections(request, case, entries, correcting_id, correcting_body)
    related = selectors.related_cases(case, user)
    _labelled_related(case, related)
    linked_ids = {row.pk for row in related.linked}

    def form(name: str, make: Any) -> Any:
        given = extra.pop(name, None)
        return given or LazyForm(make)

    def verification_form() -> VerificationForm:
        choices = [(code, item_label(code)) for code in program_items(case.program.verification_rule)]
        return VerificationForm(initial={"items": case.verified_items}, choices=choices)

    def callback_form() -> CallbackForm:
        return CallbackForm(
            initial={
                "due_on": case.callback_due_on,
                "start": case.callback_from,
                "until": case.callback_until,
            }
        )

    return {
        "case": case,
        "labels": _labels(case),
        "entries": entries,
        # The edit and assign forms are loaded when opened (`on_demand`); a refused edit is
        # shown again in the page, with what was typed.
        "edit_form": edit_form,
        "edit_fragment": "cases/_case_edit.html" if edit_form else "",
        "note_form": form("note_form", NoteForm),
        "escalate_form": form("escalate_form", EscalateForm),
        "answer_form": form("answer_form", AnswerForm),
        "targets": [(to, Status(to).label) for to in services.allowed_targets(case, user)],
        "can_edit": editable,
        "can_escalate": services.can_transition(case, Status.ESCALATED, user),
        "can_answer": services.can_transition(case, Status.WARD_ANSWERED, user),
        "overdue": selectors.is_overdue(case),
        "recording_open": recording_open,
        "person_label": _("問い合わせ者") if case.is_web else _("架電者"),
        # identify later
        "identify_panel": editable and can(user, "identify") and case.household_id is None,
        "prefill": _prefill(case),
        "kept": extra.pop("kept", None),
        "identify_errors": extra.pop("identify_errors", []),
        "verification_form": form("verification_form", verification_form),
        "unlink_form": form("unlink_form", UnlinkForm),
        "can_unlink": editable and can_unlink(user) and case.household_id is not None,
        # callbacks
        "callback_form": form("callback_form", callback_form),
        "attempt_form": form("attempt_form", AttemptForm),
        # A case read by `case_for_page` says whether it has any.
        "attempts": list(case.callback_attempts.all()) if getattr(case, "has_attempts", True) else [],
        "can_schedule": editable
        and (case.status == Status.CALLBACK or services.can_transition(case, Status.CALLBACK, user)),
        "callback_overdue": selectors.callback_overdue(case),
        # related cases
        "linked": related.linked,
        "household_others": [row for row in related.household if row.pk not in linked_ids],
        "merge_form": form("merge_form", MergeForm),
        "can_merge": editable and case.is_web and case.merged_into_id is None,
        **extra,
    }


def render_detail(request: HttpRequest, case: Case, *, status: int = 400, **forms: Any) -> HttpResponse:
    """The case page again, with what was typed still in its forms (any error, any form)."""
    return render(request, "cases/detail.html", _detail_context(request, case, **forms), status=status)


def refuse(
    request: HttpRequest,
    case: Case,
    error: services.CaseError | ValidationError,
    form: Any = None,
    **forms: Any,
) -> HttpResponse:
    """A refused change: the message, and the page with every typed value kept (never a
    redirect that would drop them). A version conflict shows the current record."""
    status = 400
    if isinstance(error, services.VersionConflict):
        case = selectors.get_case(request.user, case.public_id)
        status = 409
    if isinstance(error, services.CaseError):
        messages.error(request, error.message)
    else:
        for field, problems in error.message_dict.items():
            for problem in problems:
                if form is not None and field in form.fields:
                    form.add_error(field, problem)
                else:
                    messages.error(request, problem)
    return render_detail(request, case, status=status, **forms)


@login_required
@require_GET
def detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = selectors.case_for_page(request.user, public_id)
    _audit_view(request, case)
    if case.has_unread:  # type: ignore[attr-defined]
        Notification.objects.filter(user_id=_uid(request), case=case, read_at__isnull=True).update(
            read_at=timezone.now()
        )
    return render(request, "cases/detail.html", _detail_context(request, case))


def on_demand(
    request: HttpRequest,
    case: Case,
    fragment: str,
    make_context: Callable[[], dict[str, Any]],
    *,
    title: str,
    audit_screen: str = "",
) -> HttpResponse:
    """A form the case page loads only when the user opens it (`cases/_on_demand.html`): the
    fragment for htmx, else a page of its own with the same form, so it works without
    JavaScript. A case that can no longer be changed sends the user back to its page.
    `audit_screen`: the form shows personal items the case page does not, so opening it is
    recorded as a view of its own."""
    user: Any = request.user
    htmx = bool(request.headers.get("HX-Request"))
    if case.is_closed or not can(user, "edit") or not case.program.is_recording_open():
        if htmx:
            response = HttpResponse(status=204)
            response["HX-Redirect"] = reverse("cases:detail", args=[case.public_id])
            return response
        return redirect("cases:detail", case.public_id)
    if audit_screen:
        _audit_view(request, case, audit_screen)
    context = {"case": case, **make_context()}
    if htmx:
        response = render(request, fragment, context)
    else:
        context.update(fragment=fragment, title=title)
        response = render(request, "cases/on_demand_page.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = selectors.get_case(request.user, public_id, "edit")
    if request.method == "GET":
        return on_demand(
            request,
            case,
            "cases/_case_edit.html",
            lambda: {"edit_form": CaseEditForm(instance=case)},
            title=_("問い合わせ内容を編集"),
            audit_screen="edit",  # kana, the child's name and date of birth
        )
    expected = _expected_version(request)
    form = CaseEditForm(request.POST, instance=Case.objects.get(pk=case.pk))
    if not form.is_valid():
        return render(
            request, "cases/detail.html", _detail_context(request, case, edit_form=form), status=400
        )
    try:
        services.update_case(case=case, actor=request.user, expected_version=expected, changes=form.changes())
    except services.VersionConflict as conflict:
        return _conflict(request, case, conflict.current, form)
    except ValidationError as error:
        add_service_errors(form, error)
        return render(
            request, "cases/detail.html", _detail_context(request, case, edit_form=form), status=400
        )
    except services.CaseError as error:
        return refuse(request, case, error, form, edit_form=form)
    messages.success(request, _("保存しました。"))
    return redirect("cases:detail", case.public_id)


def _conflict(request: HttpRequest, case: Case, current: Case, form: CaseEditForm) -> HttpResponse:
    """Show what they typed beside what is saved now; nothing either person typed is lost."""
    record(
        action=Action.UPDATE,
        actor=request.user,
        program_id=case.program_id,
        object_type="case",
        object_id=str(case.public_id),
        outcome="failed",
        details={"reason": "version_conflict"},
    )
    rows = []
    for name in CaseEditForm.Meta.fields:
        field = form.fields[name]
        theirs = form.cleaned_data.get(name)
        saved = getattr(current, name)
        rows.append(
            {
                "label": field.label,
                "theirs": "" if theirs is None else theirs,
                "saved": "" if saved is None else saved,
                "changed": (theirs or "") != (saved or ""),
            }
        )
    # Their text, re-bound on the current version: one click saves it over the new state.
    retry = CaseEditForm(request.POST, instance=current)
    retry.is_valid()
    return render(
        request,
        "cases/conflict.html",
        {"case": current, "rows": rows, "retry_form": retry, "current_version": current.version},
        status=409,
    )


@login_required
@require_POST
def note(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = selectors.case_to_change(request.user, public_id, "edit")
    form = NoteForm(request.POST)
    if not form.is_valid():
        return render_detail(request, case, note_form=form)
    try:
        services.add_note(
            case=case, actor=request.user, body=form.cleaned_data["body"], kind=form.cleaned_data["kind"]
        )
    except (services.CaseError, ValidationError) as error:
        return refuse(request, case, error, form, note_form=form)
    return redirect("cases:detail", case.public_id)


@login_required
@require_POST
def correct(request: HttpRequest, public_id: UUID, entry_id: int) -> HttpResponse:
    case = selectors.case_to_change(request.user, public_id, "edit")
    entry = get_object_or_404(TimelineEntry, case=case, pk=entry_id)
    form = CorrectionForm(request.POST)
    kept: dict[str, Any] = {"correcting_id": entry.pk, "correcting_body": request.POST.get("body", "")}
    if not form.is_valid():
        messages.error(request, _("訂正内容を入力してください。"))
        return render_detail(request, case, **kept)
    try:
        services.correct_entry(entry=entry, actor=request.user, body=form.cleaned_data["body"])
    except (services.CaseError, ValidationError) as error:
        return refuse(request, case, error, **kept)
    return redirect("cases:detail", case.public_id)


@login_required
@require_POST
def transition(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = selectors.case_to_change(request.user, public_id, "edit")
    form = TransitionForm(request.POST)
    if not form.is_valid():
        raise PermissionDenied
    try:
        services.transition(
            case=case,
            to=form.cleaned_data["to"],
            actor=request.user,
            note=form.cleaned_data["note"],
            expected_version=_expected_version(request),
        )
    except (services.CaseError, ValidationError) as error:
        return refuse(request, case, error)
    messages.success(request, _("状態を「%(status)s」にしました。") % {"status": case.get_status_display()})
    return redirect("cases:detail", case.public_id)


@login_required
@require_POST
def escalate(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require(request.user, "escalate")
    case = selectors.case_to_change(request.user, public_id, "escalate")
    form = EscalateForm(request.POST)
    if not form.is_valid():
        return render_detail(request, case, escalate_form=form)
    try:
        services.escalate(
            case=case,
            actor=request.user,
            question=form.cleaned_data["question"],
            expected_version=_expected_version(request),
        )
    except (services.CaseError, ValidationError) as error:
        return refuse(request, case, error, form, escalate_form=form)
    messages.success(request, _("区へ確認を依頼しました。"))
    return redirect("cases:detail", case.public_id)


@login_required
@require_POST
def answer(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require(request.user, "answer")
    case = selectors.case_to_change(request.user, public_id, "answer", "assignee")
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return render_detail(request, case, answer_form=form)
    try:
        services.answer(
            case=case,
            actor=request.user,
            body=form.cleaned_data["body"],
            expected_version=_expected_version(request),
        )
    except (services.CaseError, ValidationError) as error:
        return refuse(request, case, error, form, answer_form=form)
    messages.success(request, _("回答しました。委託先に折り返しを依頼しました。"))
    return redirect("cases:queue", "escalated")


@login_required
@require_http_methods(["GET", "POST"])
def assign(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = selectors.get_case(request.user, public_id, "edit")
    if request.method == "GET":
        return on_demand(
            request,
            case,
            "cases/_case_assign.html",
            lambda: {"assignees": selectors.assignee_choices(request.user)},
            title=_("担当者を変更"),
        )
    form = AssignForm(request.POST)
    if not form.is_valid():
        raise PermissionDenied
    assignee = None
    if form.cleaned_data["assignee"]:
        assignee = get_object_or_404(selectors.assignees_for(request.user), pk=form.cleaned_data["assignee"])
    try:
        services.assign(
            case=case, actor=request.user, assignee=assignee, expected_version=_expected_version(request)
        )
    except (services.CaseError, ValidationError) as error:
        return refuse(request, case, error)
    return redirect("cases:detail", case.public_id)
