"""The alerts in the app (supervisor and ward manager) and the ward manager's thresholds."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from madoguchi.alerts import selectors, services
from madoguchi.alerts.forms import AlertSettingsForm
from madoguchi.alerts.models import AlertSettings
from madoguchi.core.forms import add_service_errors
from madoguchi.programs.scoping import can, require


@login_required
@require_http_methods(["GET", "POST"])
def alert_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "supervise")
    rows = selectors.alerts_for(request.user)
    if request.method == "POST":
        rows.filter(read_at__isnull=True).update(read_at=timezone.now())
        return redirect("alerts:list")
    return render(request, "alerts/list.html", {"rows": list(rows[:100])})


@login_required
@require_GET
def detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require(request.user, "supervise")
    row = get_object_or_404(selectors.alerts_for(request.user), alert__public_id=public_id)
    if row.read_at is None:
        row.read_at = timezone.now()
        row.save(update_fields=["read_at"])
    return render(
        request,
        "alerts/detail.html",
        {"row": row, "alert": row.alert, "can_audit": can(request.user, "audit")},
    )


@login_required
@require_GET
def settings_index(request: HttpRequest) -> HttpResponse:
    require(request.user, "manage")
    programs = list(selectors.managed_programs(request.user))
    if len(programs) == 1:
        return redirect("alerts:settings", programs[0].code)
    return render(request, "alerts/settings_index.html", {"programs": programs})


@login_required
@require_http_methods(["GET", "POST"])
def alert_settings(request: HttpRequest, code: str) -> HttpResponse:
    require(request.user, "manage")
    program = get_object_or_404(selectors.managed_programs(request.user), code=code)
    current = services.settings_for([program])[program.pk]
    form = AlertSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_settings(program=program, actor=request.user, changes=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("アラートの設定を保存しました。"))
            return redirect("alerts:settings", program.code)
    return render(
        request,
        "alerts/settings.html",
        {"program": program, "form": form, "saved": isinstance(current, AlertSettings) and current.pk},
    )
