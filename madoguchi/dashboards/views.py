"""Home is a dashboard: the figures of the user's role (`selectors.figures_for`)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from madoguchi.audit.models import Action
from madoguchi.audit.services import record
from madoguchi.core.replica import use_replica, wrote_recently
from madoguchi.dashboards.panels import panels_for, panels_html
from madoguchi.dashboards.selectors import shared_dashboard
from madoguchi.lib.lazy import LazyList


@login_required
@require_GET
@use_replica()  # counts a few seconds old are fine; the user's own writes pin the primary
def dashboard(request: HttpRequest) -> HttpResponse:
    # A board of aggregate figures may be a few seconds old (selectors.FIGURES_MAX_AGE; the
    # page says when it was counted), except just after the user's own write.
    board = shared_dashboard(request.user, fresh=wrote_recently(request))
    if board.figures:
        # Counts and receipt numbers only, no personal item; recorded like the queues are.
        record(
            action=Action.VIEW,
            actor=request.user,
            object_type="dashboard",
            details={"count": len(board.ward_waiting)},
        )
    # The panels as HTML, made once per shared board in this process (`panels_html`); the
    # `panels` themselves only for whoever looks at them (tests).
    return render(
        request,
        "dashboards/home.html",
        {"board": board, "panels_html": panels_html(board), "panels": LazyList(lambda: panels_for(board))},
    )
