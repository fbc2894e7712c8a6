"""The ward manager's page of one household: its list row, suspension of use, disclosure.

Only a ward manager of the program's own ward reaches it (403 for other roles, 404 for another
ward's household). Opening it is an audited view; a household is found by its number with a
POST, so the number never appears in a URL.
"""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from madoguchi.audit.models import Action
from madoguchi.audit.services import record
from madoguchi.core.forms import add_service_errors
from madoguchi.programs.models import PersonalItem, Program
from madoguchi.programs.scoping import programs_for, require
from madoguchi.registry.forms import HouseholdLookupForm, LiftForm, SuspendForm
from madoguchi.registry.models import Household
from madoguchi.registry.suspension import SuspensionRefused, lift_suspension, suspend_household


def _managed_programs(request: HttpRequest) -> QuerySet[Program]:
    require(request.user, "manage")
    return programs_for(request.user, "manage").filter(ward_id=getattr(request.user, "organisation_id", None))


def _household(request: HttpRequest, public_id: UUID) -> Household:
    programs = _managed_programs(request)
    return get_object_or_404(
        Household.objects.select_related("program").filter(program__in=programs), public_id=public_id
    )


@login_required
@require_http_methods(["GET", "POST"])
def lookup(request: HttpRequest) -> HttpResponse:
    programs = list(_managed_programs(request).order_by("code"))
    form = HouseholdLookupForm(request.POST or None, programs=programs)
    not_found = False
    if request.method == "POST" and form.is_valid():
        program = next((p for p in programs if p.code == form.cleaned_data["program"]), None)
        household = None
        if program is not None:
            household = Household.objects.filter(
                program=program, number=form.cleaned_data["number"].strip()
            ).first()
            record(
                action=Action.SEARCH,
                actor=request.user,
                program_id=program.pk,
                object_type="household",
                details={
                    "fields": [PersonalItem.HOUSEHOLD_NUMBER.value],
                    "count": int(household is not None),
                },
            )
        if household is not None:
            return redirect("registry:household", public_id=household.public_id)
        not_found = True
    return render(
        request,
        "registry/household_lookup.html",
        {"form": form, "programs": programs, "not_found": not_found},
        status=404 if not_found else 400 if form.errors else 200,
    )


@login_required
@require_GET
def detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    household = _household(request, public_id)
    record(
        action=Action.VIEW,
        actor=request.user,
        program_id=household.program_id,
        object_type="household",
        object_id=str(household.public_id),
        details={
            "fields": [item.value for item in PersonalItem if item != PersonalItem.INQUIRY],
            "via": "household",
        },
    )
    return _render(request, household, SuspendForm(), LiftForm())


def _render(
    request: HttpRequest,
    household: Household,
    suspend_form: SuspendForm,
    lift_form: LiftForm,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "registry/household.html",
        {
            "household": household,
            "program": household.program,
            "guardians": list(household.guardians.order_by("pk")),
            "children": list(household.children.order_by("dob", "pk")),
            "suspend_form": suspend_form,
            "lift_form": lift_form,
        },
        status=status,
    )


@login_required
@require_POST
def suspend(request: HttpRequest, public_id: UUID) -> HttpResponse:
    household = _household(request, public_id)
    form = SuspendForm(request.POST)
    if form.is_valid():
        try:
            suspend_household(household=household, actor=request.user, reason=form.cleaned_data["reason"])
        except SuspensionRefused as refused:
            form.add_error(None, refused.message)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("この世帯の利用を停止しました。本人特定の候補に出ず、新しい問い合わせに紐付けできません。"),
            )
            return redirect("registry:household", public_id=household.public_id)
    return _render(request, household, form, LiftForm(), status=400)


@login_required
@require_POST
def lift(request: HttpRequest, public_id: UUID) -> HttpResponse:
    household = _household(request, public_id)
    form = LiftForm(request.POST)
    if form.is_valid():
        try:
            lift_suspension(household=household, actor=request.user, reason=form.cleaned_data["reason"])
        except SuspensionRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("利用停止を解除しました。"))
            return redirect("registry:household", public_id=household.public_id)
    return _render(request, household, SuspendForm(), form, status=400)
