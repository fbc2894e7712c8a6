"""The call screen (新規受付): a new case, with the identification panel beside it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from madoguchi.audit.models import Action
from madoguchi.audit.services import record
from madoguchi.cases import selectors, services
from madoguchi.cases.forms import (
    CaseCreateForm,
)
from madoguchi.cases.models import (
    Case,
    Status,
    Verification,
)
from madoguchi.cases.views._common import (
    _identify_panel_available,
    _program_for_new,
)
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import programs_for, require, restrict
from madoguchi.registry.models import Household

# --- the call screen ----------------------------------------------------------------------------


def _identified(request: HttpRequest, program: Program) -> tuple[Household | None, str, list[str], str]:
    """Read the identify panel's hidden inputs and check them again on the server."""
    household = None
    error = ""
    public_id = (request.POST.get("household") or "").strip()
    if public_id:
        try:
            household = (
                restrict(Household.objects.all(), request.user, "identify")
                .filter(program=program, public_id=UUID(public_id))
                .first()
            )
        except ValueError:
            household = None
        if household is None:
            error = _("特定した世帯がこの事業に見つかりません。もう一度特定してください。")
    verification = request.POST.get("verification") or Verification.NOT_VERIFIED
    if verification not in Verification.values:
        verification = Verification.NOT_VERIFIED
    items: list[str] = []
    for value in request.POST.getlist("verified_items"):
        items.extend(part.strip() for part in value.split(",") if part.strip())
    return household, verification, items[:20], error


@login_required
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest, code: str | None = None) -> HttpResponse:
    require(request.user, "edit")
    if code is None:
        programs = list(programs_for(request.user, "edit"))
        if len(programs) > 1:
            return render(request, "cases/choose_program.html", {"programs": programs})
    program = _program_for_new(request, code)
    form = CaseCreateForm(request.POST or None, program=program)
    household_error = ""
    household = None
    if request.method == "POST":
        household, verification, verified_items, household_error = _identified(request, program)
        if form.is_valid() and not household_error:
            data = form.cleaned_data
            try:
                case = _create_from_form(request, program, data, household, verification, verified_items)
            except services.CaseError as error:
                form.add_error(None, error.message)
            except ValidationError as error:
                for field, problems in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, problems)
            else:
                messages.success(
                    request, _("受付番号 %(number)s で記録しました。") % {"number": case.receipt_number}
                )
                return redirect("cases:detail", case.public_id)
    return render(
        request,
        "cases/new.html",
        {
            "form": form,
            "program": program,
            "identify_panel": _identify_panel_available(),
            "household_error": household_error,
            "earlier": selectors.earlier_cases(household, request.user) if household else [],
            "recording_open": program.is_recording_open(),
        },
        status=400 if request.method == "POST" else 200,
    )


@transaction.atomic
def _create_from_form(
    request: HttpRequest,
    program: Program,
    data: dict[str, Any],
    household: Household | None,
    verification: str,
    verified_items: list[str],
) -> Case:
    case = services.create_case(
        program=program,
        channel=data["channel"],
        actor=request.user,
        inquiry=data["inquiry"],
        category=data["category"],
        household=household,
        caller=services.CallerDetails(
            name=data["caller_name"],
            kana=data["caller_kana"],
            child_name=data["child_name"],
            child_dob=data["child_dob"],
        ),
        contact_phone=data["contact_phone"],
        contact_email=data["contact_email"],
        response=data["response"],
        verification=verification,
        verified_items=verified_items,
        idempotency_key=data["idempotency_key"] or None,
        caller_relation=data["caller_relation"],
        priority=data["priority"],
    )
    if case.status != Status.NEW:
        return case  # a repeated submission: the first one already did the rest
    then = data["then"]
    if then == "escalate":
        services.escalate(
            case=case, actor=request.user, question=data["question"], expected_version=case.version
        )
    elif then == "closed":
        services.transition(case=case, to=Status.CLOSED, actor=request.user, expected_version=case.version)
    elif then == "callback":
        services.transition(case=case, to=Status.CALLBACK, actor=request.user, expected_version=case.version)
    else:
        services.transition(
            case=case, to=Status.IN_PROGRESS, actor=request.user, expected_version=case.version
        )
    return case


@login_required
@require_GET
def household_cases(request: HttpRequest, household_id: UUID) -> HttpResponse:
    """Fragment for the call screen: the identified household's earlier cases."""
    require(request.user, "identify")
    household = get_object_or_404(
        restrict(Household.objects.all(), request.user, "identify"), public_id=household_id
    )
    earlier = selectors.earlier_cases(household, request.user)
    record(
        action=Action.VIEW,
        actor=request.user,
        program_id=household.program_id,
        object_type="household",
        object_id=str(household.public_id),
        details={"screen": "earlier_cases", "count": len(earlier)},
    )
    return render(request, "cases/_earlier.html", {"earlier": earlier})
