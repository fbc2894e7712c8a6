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
    CaseEditForm,
    CorrectionForm,
    EscalateForm,
    NoteForm,
    TransitionForm,
)
from madoguchi.cases.models import (
    Case,
    Notification,
    Status,
    TimelineEntry,
)
from madoguchi.cases.views._common import (
    _audit_view,
    _expected_version,
    _refusal,
    _uid,
)
from madoguchi.programs.scoping import can, require

# --- the case page ------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, case: Case, **extra: Any) -> dict[str, Any]:
    entries = selectors.timeline(case)
    corrected = {entry.corrects_id for entry in entries if entry.corrects_id}
    user: Any = request.user
    return {
        "case": case,
        "entries": entries,
        "corrected_ids": corrected,
        "earlier": selectors.earlier_cases(case, user, exclude=case) if case.household_id else [],
        "edit_form": extra.pop("edit_form", None) or CaseEditForm(instance=case),
        "note_form": NoteForm(),
        "escalate_form": EscalateForm(),
        "answer_form": AnswerForm(),
        "targets": [(to, Status(to).label) for to in services.allowed_targets(case, user)],
        "can_edit": can(user, "edit") and not case.is_closed,
        "can_escalate": services.can_transition(case, Status.ESCALATED, user),
        "can_answer": services.can_transition(case, Status.WARD_ANSWERED, user),
        "overdue": selectors.is_overdue(case),
        "assignees": list(selectors.assignees_for(user)) if can(user, "edit") else [],
        "recording_open": case.program.is_recording_open(),
        **extra,
    }


@login_required
@require_GET
def detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = selectors.get_case(request.user, public_id)
    _audit_view(request, case)
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
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
        return render(
            request, "cases/detail.html", _detail_context(request, case, edit_form=form), status=400
        )
    except services.CaseError as error:
        return _refusal(request, case, error)
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
        messages.error(request, _("記録の内容を入力してください。"))
        return redirect("cases:detail", case.public_id)
    try:
        services.add_note(
            case=case, actor=request.user, body=form.cleaned_data["body"], kind=form.cleaned_data["kind"]
        )
    except (services.CaseError, ValidationError) as error:
        return _refusal(request, case, error)
    return redirect("cases:detail", case.public_id)


@login_required
@require_POST
def correct(request: HttpRequest, public_id: UUID, entry_id: int) -> HttpResponse:
    case = selectors.get_case(request.user, public_id, "edit")
    entry = get_object_or_404(TimelineEntry, case=case, pk=entry_id)
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("訂正内容を入力してください。"))
        return redirect("cases:detail", case.public_id)
    try:
        services.correct_entry(entry=entry, actor=request.user, body=form.cleaned_data["body"])
    except (services.CaseError, ValidationError) as error:
        return _refusal(request, case, error)
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
        return _refusal(request, case, error)
    messages.success(request, _("状態を「%(status)s」にしました。") % {"status": case.get_status_display()})
    return redirect("cases:detail", case.public_id)


@login_required
@require_POST
def escalate(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require(request.user, "escalate")
    case = selectors.get_case(request.user, public_id, "escalate")
    form = EscalateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("区への確認内容を入力してください。"))
        return redirect("cases:detail", case.public_id)
    try:
        services.escalate(
            case=case,
            actor=request.user,
            question=form.cleaned_data["question"],
            expected_version=_expected_version(request),
        )
    except (services.CaseError, ValidationError) as error:
        return _refusal(request, case, error)
    messages.success(request, _("区へ確認を依頼しました。"))
    return redirect("cases:detail", case.public_id)


@login_required
@require_POST
def answer(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require(request.user, "answer")
    case = selectors.get_case(request.user, public_id, "answer")
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("回答を入力してください。"))
        return redirect("cases:detail", case.public_id)
    try:
        services.answer(
            case=case,
            actor=request.user,
            body=form.cleaned_data["body"],
            expected_version=_expected_version(request),
        )
    except (services.CaseError, ValidationError) as error:
        return _refusal(request, case, error)
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
        return _refusal(request, case, error)
    return redirect("cases:detail", case.public_id)
