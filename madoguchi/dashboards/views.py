"""Home is a dashboard: the figures of the user's role (`selectors.figures_for`)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from madoguchi.audit.models import Action
from madoguchi.audit.services import record
from madoguchi.core.replica import use_replica
from madoguchi.dashboards.panels import panels_for
from madoguchi.dashboards.selectors import dashboard_for


@login_required
@require_GET
@use_replica()  # counts a few seconds old are fine; the user's own writes pin the primary
def dashboard(request: HttpRequest) -> HttpResponse:
    board = dashboard_for(request.user)
    if board.figures:
        # Counts and receipt numbers only, no personal item; recorded like the queues are.
        record(
            action=Action.VIEW,
            actor=request.user,
            object_type="dashboard",
            details={"count": len(board.ward_waiting)},
        )
    return render(request, "dashboards/home.html", {"board": board, "panels": panels_for(board)})
