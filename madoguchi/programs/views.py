"""The ward manager's screen that ends a program's recording early."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from madoguchi.core.forms import add_service_errors
from madoguchi.core.navigation import NavItem
from madoguchi.core.navigation import url as nav_url
from madoguchi.programs.forms import CloseRecordingForm
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import can, require, ward_program_or_404, ward_programs
from madoguchi.programs.services import ProgramRefused, close_recording


def _managed(user: object) -> list[Program]:
    return list(ward_programs(user, "manage").order_by("code"))


def nav_items(request: HttpRequest) -> list[NavItem]:
    user = getattr(request, "user", None)
    # Most users manage no program: no query built for them on every page.
    if not can(user, "manage") or not _managed(user):
        return []
    return [NavItem(_("記録の終了・連絡先"), nav_url("programs:index"), order=82)]


def _managed_program(request: HttpRequest, code: str) -> Program:
    """403 for a role that never manages; 404 for a program the manager does not run."""
    return ward_program_or_404(request.user, "manage", code)


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The ward manager's programs: the recording's state, ending it, the contacts' days."""
    require(request.user, "manage")
    programs = _managed(request.user)
    if len(programs) == 1:
        return redirect("programs:close", programs[0].code)
    return render(request, "programs/index.html", {"programs": programs})


@login_required
@require_http_methods(["GET", "POST"])
def close(request: HttpRequest, code: str) -> HttpResponse:
    program = _managed_program(request, code)
    form = CloseRecordingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            close_recording(program=program, actor=request.user, reason=form.cleaned_data["reason"])
        except ProgramRefused as refused:
            form.add_error(None, refused.message)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("記録を終了しました。"))
            return redirect("programs:close", program.code)
    return render(
        request,
        "programs/close.html",
        {"form": form, "program": program, "ended": program.recording_ended()},
        status=400 if form.errors else 200,
    )
