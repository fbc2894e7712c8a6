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
)
from madoguchi.cases.views._common import (
    _identify_panel_available,
    _program_for_new,
)
from madoguchi.cases.views._identification import Identified, kept_context, read_identification
from madoguchi.core.forms import add_service_errors
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import programs_for, require, restrict
from madoguchi.registry.models import Household

# --- the call screen ----------------------------------------------------------------------------


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
    found = Identified()
    if request.method == "POST":
        found = read_identification(request, program)
        if form.is_valid() and not found.errors:
            data = form.cleaned_data
            try:
                case = _create_from_form(request, program, data, found)
            except services.CaseError as error:
                form.add_error(None, error.message)
            except ValidationError as error:
                add_service_errors(form, error)
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
            "household_errors": found.errors,
            "kept": kept_context(found, program),
            "earlier": selectors.earlier_cases(found.household, request.user) if found.household else [],
            "recording_open": program.is_recording_open(),
        },
        status=400 if request.method == "POST" else 200,
    )


@transaction.atomic
def _create_from_form(
    request: HttpRequest,
    program: Program,
    data: dict[str, Any],
    found: Identified,
) -> Case:
    case = services.create_case(
        program=program,
        channel=data["channel"],
        actor=request.user,
        inquiry=data["inquiry"],
        category=data["category"],
        household=found.household,
        caller=services.CallerDetails(
            name=data["caller_name"],
            kana=data["caller_kana"],
            child_name=data["child_name"],
            child_dob=data["child_dob"],
        ),
        contact_phone=data["contact_phone"],
        contact_email=data["contact_email"],
        response=data["response"],
        verified_items=found.decision.items,
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
    # Only what the fragment and its audit event use (a household row holds the address, the
    # postal code and their search keys).
    household = get_object_or_404(
        restrict(Household.objects.only("id", "public_id", "program_id"), request.user, "identify"),
        public_id=household_id,
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
