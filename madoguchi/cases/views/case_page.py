"""The case page: the record, its timeline, and every change made from it.

Every case is fetched through `selectors.get_case(user, public_id, action)`, which scopes with
`restrict(...)`: another program's case answers 404 for GET and POST alike. Every view of a
case and every change leaves an audit event.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

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
    Case,
    Notification,
    Status,
    TimelineEntry,
)
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
    `to_status_label`), translated once per page: a `get_*_display` call translates every
    choice of its field each time."""
    kinds = {value: str(label) for value, label in TimelineEntry.Kind.choices}
    statuses = {value: str(label) for value, label in Status.choices}
    for entry in entries:
        entry.kind_label = kinds.get(entry.kind, entry.kind)  # type: ignore[attr-defined]
        entry.from_status_label = statuses.get(entry.from_status, entry.from_status)  # type: ignore[attr-defined]
        entry.to_status_label = statuses.get(entry.to_status, entry.to_status)  # type: ignore[attr-defined]
    return entries


def _detail_context(request: HttpRequest, case: Case, **extra: Any) -> dict[str, Any]:
    """What the case page shows. The forms are built only when the page shows them (a closed
    case shows none): each is a `LazyForm`, made on the template's first use."""
    entries = _labelled(selectors.timeline(case))
    corrected = {entry.corrects_id for entry in entries if entry.corrects_id}
    user: Any = request.user
    editable = can(user, "edit") and not case.is_closed
    recording_open = case.program.is_recording_open()
    related = selectors.related_cases(case, user)
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
        "entries": entries,
        "corrected_ids": corrected,
        "edit_form": form("edit_form", lambda: CaseEditForm(instance=case)),
        "note_form": form("note_form", NoteForm),
        "escalate_form": form("escalate_form", EscalateForm),
        "answer_form": form("answer_form", AnswerForm),
        "targets": [(to, Status(to).label) for to in services.allowed_targets(case, user)],
        "can_edit": editable,
        "can_escalate": services.can_transition(case, Status.ESCALATED, user),
        "can_answer": services.can_transition(case, Status.WARD_ANSWERED, user),
        "overdue": selectors.is_overdue(case),
        # Only the assign form shows them.
        "assignees": selectors.assignee_choices(user) if editable and recording_open else [],
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


@login_required
@require_POST
def edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = selectors.get_case(request.user, public_id, "edit")
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
    case = selectors.get_case(request.user, public_id, "edit")
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
    case = selectors.get_case(request.user, public_id, "edit")
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
    case = selectors.get_case(request.user, public_id, "edit")
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
    case = selectors.get_case(request.user, public_id, "escalate")
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
    case = selectors.get_case(request.user, public_id, "answer")
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
@require_POST
def assign(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = selectors.get_case(request.user, public_id, "edit")
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
