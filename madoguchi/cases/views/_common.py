"""Helpers shared by the case screens."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from madoguchi.audit.models import Action
from madoguchi.audit.services import record
from madoguchi.cases import services
from madoguchi.cases.models import (
    Case,
)
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import member_program, programs_for

# --- helpers ----------------------------------------------------------------------------------


def _audit_view(request: HttpRequest, case: Case, what: str = "case") -> None:
    record(
        action=Action.VIEW,
        actor=request.user,
        program_id=case.program_id,
        object_type="case",
        object_id=str(case.public_id),
        details={"screen": what},
    )


def _uid(request: HttpRequest) -> int:
    return int(request.user.pk or 0)


def _identify_panel_available() -> bool:
    try:
        get_template("identify/_panel.html")
    except TemplateDoesNotExist:
        return False
    return True


def _expected_version(request: HttpRequest) -> int:
    try:
        return int(request.POST.get("version", ""))
    except ValueError as exc:
        raise PermissionDenied from exc


def _refusal(request: HttpRequest, case: Case, error: services.CaseError | ValidationError) -> HttpResponse:
    if isinstance(error, services.CaseError):
        messages.error(request, error.message)
    else:
        for problems in error.message_dict.values():
            for problem in problems:
                messages.error(request, problem)
    return redirect("cases:detail", case.public_id)


def _program_for_new(request: HttpRequest, code: str | None) -> Program:
    if code is None:
        only = list(programs_for(request.user, "edit")[:2])
        if len(only) != 1:
            raise Http404
        return only[0]
    # The case form and its save (every call): one written statement, whose ids the save's
    # membership checks then reuse, rather than a compiled queryset and a second lookup.
    return member_program(request.user, "edit", code)
